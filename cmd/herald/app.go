package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/slack-go/slack"
	"go.opentelemetry.io/otel/trace"
	"gorm.io/gorm"

	"github.com/heraldhq/herald/bot"
	"github.com/heraldhq/herald/config"
	"github.com/heraldhq/herald/handlers"
	"github.com/heraldhq/herald/migrations"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
	"github.com/heraldhq/herald/notifications/schedule"
	"github.com/heraldhq/herald/observability"
	"github.com/heraldhq/herald/web"
)

// App is one assembled Herald process: the only place that knows every
// concrete type.
type App struct {
	cfg        config.Config
	log        *slog.Logger
	db         *gorm.DB
	Store      *models.Store
	Registries *bot.Registries
	Worker     *bot.Worker
	Reminders  *bot.Reminders
	Engine     *notifications.Engine
	Dispatcher *bot.Dispatcher
	Slack      *slack.Client
	Echo       *echo.Echo

	claimLinks *notifications.ClaimLinks // nil without SMTP_HOST
	noise      *handlers.NoiseControl    // maintenance windows and heartbeats (noise.go)
	creations  *models.IncidentBatcher   // group-commits the alert intake's new incidents
	obs        *observability.Metrics    // paging, outside APIs, dead-man switch (observability.go)
	deadman    *notifications.DeadMan    // HERALD_DEADMAN_* (off: reports enabled false)
	oncall     *handlers.OncallAnnouncer // on-call handoff posts and summaries (oncall_announce.go)
	synced     *models.SyncedClock       // the database's clock (PostgreSQL, no test clock); nil otherwise
	tracing    *tracing                  // HERALD_OTEL_* (tracing.go)
}

// BuildOptions are the seams tests use; production passes the zero value.
type BuildOptions struct {
	Clock           models.Clock
	SlackHTTPClient *http.Client
	Metrics         *prometheus.Registry
	// Tracer replaces the HERALD_OTEL_* tracer provider (tests).
	Tracer trace.TracerProvider
}

// Build opens the database, migrates it, and wires every registry, handler
// and endpoint.
func Build(ctx context.Context, cfg config.Config, log *slog.Logger, o BuildOptions) (*App, error) {
	clock := o.Clock
	if clock == nil {
		clock = models.SystemClock{}
	}
	db, err := openDatabase(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	app := &App{cfg: cfg, log: log, db: db}
	if o.Clock == nil && db.Dialector.Name() == models.DialectPostgres {
		// Replicas compare times they each stored: one clock for all, the
		// database's, so a skewed host neither pages early nor steals leases.
		if app.synced, err = models.NewSyncedClock(ctx, clock, models.NewStore(db, clock).DatabaseNow); err != nil {
			_ = models.Close(db)
			return nil, err
		}
		clock = app.synced
	}
	if err := app.setUpTracing(ctx, o); err != nil {
		_ = models.Close(db)
		return nil, err
	}
	if err := app.wire(ctx, clock, o); err != nil {
		app.closeTracing()
		_ = models.Close(db)
		return nil, err
	}
	return app, nil
}

func openDatabase(ctx context.Context, cfg config.Config, log *slog.Logger) (*gorm.DB, error) {
	keys, err := fieldKey(cfg, log)
	if err != nil {
		return nil, err
	}
	cipher, err := models.NewFieldCipher(keys)
	if err != nil {
		return nil, fmt.Errorf("ENCRYPTED_FIELD_KEY: %w", err)
	}
	opts := models.OpenOptions{PostgresURL: cfg.DatabaseURL, Cipher: cipher, Logger: log}
	if cfg.Embedded() {
		opts.SQLitePath = filepath.Join(cfg.DataDir, "herald.db")
	}
	db, err := models.Open(ctx, opts)
	if err != nil {
		return nil, err
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	n, err := migrations.Up(ctx, sqlDB, migrations.Dialect(db.Dialector.Name()), nil)
	if err != nil {
		_ = models.Close(db)
		return nil, err
	}
	if n > 0 {
		log.Info("database migrated", "applied", n, "dialect", db.Dialector.Name())
	}
	return db, nil
}

// fieldKey returns ENCRYPTED_FIELD_KEY; embedded mode generates one into
// the data directory on first run, Postgres mode insists on it.
func fieldKey(cfg config.Config, log *slog.Logger) (string, error) {
	if cfg.EncryptedFieldKey != "" {
		return cfg.EncryptedFieldKey, nil
	}
	if !cfg.Embedded() {
		return "", errors.New("ENCRYPTED_FIELD_KEY is required with DATABASE_URL: create one with `herald keygen` and keep it safe; without it the encrypted fields cannot be read")
	}
	path := filepath.Join(cfg.DataDir, "encrypted_field_key")
	if b, err := os.ReadFile(path); err == nil {
		return string(b), nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("reading %s: %w", path, err)
	}
	keys, err := models.GenerateKeyset()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return "", fmt.Errorf("creating data directory: %w", err)
	}
	if err := os.WriteFile(path, []byte(keys), 0o600); err != nil {
		return "", fmt.Errorf("writing %s: %w", path, err)
	}
	log.Warn("no ENCRYPTED_FIELD_KEY set: generated one for the embedded store; back it up, or set ENCRYPTED_FIELD_KEY for anything beyond a trial", "path", path)
	return keys, nil
}

func (a *App) wire(ctx context.Context, clock models.Clock, o BuildOptions) error {
	cfg, log := a.cfg, a.log
	a.Store = models.NewStore(a.db, clock)
	promReg := o.Metrics
	if promReg == nil {
		promReg = prometheus.NewRegistry()
		promReg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	metrics, obs, err := registerMetrics(promReg)
	if err != nil {
		return err
	}
	a.obs = obs
	a.Slack = bot.NewSlackClient(bot.SlackClientOptions{Token: cfg.SlackBotToken, APIURL: cfg.SlackAPIURL, Logger: log, HTTPClient: a.slackHTTPClient(o.SlackHTTPClient), Observer: obs})
	botUserID := a.botUserID(ctx)

	a.Registries = bot.NewRegistries()
	hostname, _ := os.Hostname()
	// Unique per process and instance: containers share pid 1 and
	// sometimes hostnames, and a lease must name exactly one holder.
	owner := fmt.Sprintf("%s-%d-%s", hostname, os.Getpid(), uuid.NewString()[:8])
	a.Worker = bot.NewWorker(a.Store, a.Registries.Jobs, clock, log, metrics, bot.WorkerOptions{
		Owner: owner, Concurrency: cfg.Workers, Lease: cfg.JobLease, Yield: a.pagingBusy,
	})
	a.Reminders = bot.NewReminders(a.Store, a.Registries.Notifications, clock, log, owner, 15*time.Second)
	a.Dispatcher, err = bot.NewDispatcher(a.Registries, a.Store, a.Worker, log, metrics)
	if err != nil {
		return err
	}
	if a.claimLinks, err = newClaimLinks(cfg, log); err != nil {
		return err
	}
	vendors, err := a.vendors(log)
	if err != nil {
		return err
	}
	rateLimits, err := engineRateLimits(os.Getenv("HERALD_RATE_LIMITS"))
	if err != nil {
		return err
	}
	// On-call roles: Herald's schedules first, then the external Oncall
	// (HERALD_ONCALL_TEAMS), then static assignments.
	afterSchedules, err := onCallAfterSchedules(cfg, a.Store, clock, log)
	if err != nil {
		return err
	}
	onCallCache := schedule.NewResolver(a.Store, clock, schedule.ResolverOptions{}) // /oncall cover drops it
	roles := notifications.ScheduleRoles{Schedules: onCallCache, Next: afterSchedules}
	sqlDB, err := a.db.DB()
	if err != nil {
		return err
	}
	gate := newSchemaGate(sqlDB, migrations.Dialect(a.db.Dialector.Name()), clock)
	a.Engine = notifications.NewEngine(a.Store, vendors, roles,
		handlers.PagingAlerts{Queue: a.Store, Log: log}, clock, log, notifications.EngineOptions{Owner: owner, DefaultModes: engineModes(cfg.DefaultModes), RateLimits: rateLimits, Throttle: engineThrottle(cfg.Throttle), Metrics: obs, Gate: gate, Tracer: a.tracing.provider})
	if err := a.wireObservability(promReg, clock, owner); err != nil {
		return err
	}
	commsTemplate, err := handlers.NewChannelNameTemplate(cfg.CommsChannelTemplate)
	if err != nil {
		return err
	}
	var keywords []handlers.KeywordConfig
	if cfg.KeywordsFile != "" {
		if keywords, err = handlers.LoadKeywords(cfg.KeywordsFile); err != nil {
			return fmt.Errorf("HERALD_KEYWORDS_FILE: %w", err)
		}
		log.Info("keyword replies loaded", "file", cfg.KeywordsFile, "keywords", len(keywords))
	}
	deps := handlers.Deps{
		Store: a.Store, Slack: a.Slack, Clock: clock, Log: log, Pager: a.Engine, Intake: a.Store, Directory: a.Store, PlanOwners: a.Store, Keywords: keywords,
		OnCall: a.Store, OnCallCache: onCallCache, LoginLinks: a.loginLinks(),
		Settings: handlers.Settings{
			BaseURL: cfg.BaseURL, IncidentChannelName: cfg.IncidentChannelName, IncidentChannelID: cfg.IncidentChannelID,
			ReportsChannelName: cfg.ReportsChannelName, BotName: cfg.IncidentBotName, BotUserID: botUserID,
			CommsTemplate: commsTemplate, CommsPrivate: cfg.CommsChannelPrivate, AutoCommsSeverity: cfg.AutoCommsSeverity,
			ArchiveAfter: cfg.ArchiveAfter, RestrictClose: cfg.RestrictClose, PinEmoji: cfg.PinEmoji,
			Roles: cfg.IncidentRoles, KeywordCooldown: cfg.KeywordCooldown, WorkingHours: cfg.WorkingHours,
			StatusIntervals: cfg.StatusIntervals,
		},
	}
	deps.Reminders = a.Registries.Notifications // the intake's incidents get reminders too
	if err := handlers.RegisterBuiltins(a.Registries, deps); err != nil {
		return fmt.Errorf("registering handlers: %w", err)
	}
	intake := handlers.NewIntake(deps)
	intake.DeferLowUrgency, intake.Zones = true, a.Store
	a.creations = models.NewIncidentBatcher(a.Store, log, 128, 2)
	intake.Creator = traceCreations(a.creations, a.tracing.provider)
	noise := a.wireNoise(deps, intake, owner)
	if err := a.wireOncallAnnouncer(owner); err != nil {
		return err
	}
	keys := web.NewKeyCache(a.Store, clock)
	forget := func() { // after the admin API changed configuration
		keys.Forget()
		intake.ForgetCached()
		if noise.Maintenance != nil {
			noise.Maintenance.ForgetCached()
		}
	}
	a.Echo = web.New(web.Options{
		Verifier: bot.NewVerifier(cfg.SlackSigningSecret, clock), Dispatcher: a.Dispatcher,
		Ready: readiness{db: a.db}, Gatherer: promReg, Metrics: metrics, Log: log, Clock: clock,
		Admin: adminAPI{store: a.Store, engine: a.Engine, forget: forget}, AdminAPIKey: cfg.AdminAPIKey,
		Maintenance: noise.Maintenance, Heartbeats: noise.Heartbeats,
		Claims: a.claimPages(a.claimLinks, deps), Twilio: a.twilioWeb(deps),
		Iris:   &web.IrisOptions{Store: a.Store, Intake: intake, Pager: a.Engine},
		Intake: intake, IntegrationAuth: keys, IntakeStore: a.Store,
		Webhooks: &web.WebhookOptions{Auth: keys, Groups: handlers.NewAlertGroups(intake, a.Store)},
		DeadMan:  a.deadman,
		OnCall:   notifications.OnCallViews{Store: a.Store},
		Tracer:   a.tracing.provider,
	})
	webUI, err := a.webUI(webUIDeps{app: a, clock: clock, Forget: forget, OnCallCache: onCallCache, Handlers: deps})
	if err != nil {
		return err
	}
	return webUI.Register(a.Echo)
}

// pagingBusy reports whether the engine or the alert intake did work in
// the last second: the job worker then runs one job at a time, leaving the
// database to paging (an alert storm's Slack posts wait a little).
func (a *App) pagingBusy() bool {
	if a.Engine == nil || a.creations == nil {
		return false
	}
	now := a.Store.Clock().Now()
	return now.Sub(a.Engine.LastBusy()) < time.Second || now.Sub(a.creations.LastFlush()) < time.Second
}

// vendors registers who delivers each mode. Without a Slack token (the
// demo) the console vendor "delivers" every mode to the log; with one,
// Slack DMs go to Slack, and modes with no vendor fail loudly (an alert
// in the incident channel) rather than pretend.
func (a *App) vendors(log *slog.Logger) (*notifications.Vendors, error) {
	v := notifications.NewVendors()
	if a.cfg.SMTPHost != "" { // e-mail first: the console below takes every mode
		email, err := emailVendor(a.cfg, a.claimLinks, a.Store.Clock())
		if err != nil {
			return nil, err
		}
		if err := v.Register(email); err != nil {
			return nil, err
		}
	}
	if a.cfg.Twilio() { // SMS and calls before the console too
		if err := a.registerTwilio(v, log); err != nil {
			return nil, err
		}
	}
	var last notifications.Vendor = notifications.SlackDM{Client: a.Slack}
	if a.cfg.DryRunSlack() {
		last = notifications.Console{Log: log}
	}
	if err := v.Register(last); err != nil {
		return nil, err
	}
	if a.cfg.Webhook.URL == "" {
		return v, nil
	}
	// The webhook comes after each mode's own vendors: a failover route
	// (or the only one, for a mode nobody else serves).
	modes := make([]notifications.Mode, len(a.cfg.Webhook.Modes))
	for i, m := range a.cfg.Webhook.Modes {
		modes[i] = notifications.Mode(m)
	}
	wh, err := notifications.NewWebhook(notifications.WebhookConfig{Name: "webhook", URL: a.cfg.Webhook.URL, Secret: a.cfg.Webhook.Secret,
		StatusURL: a.cfg.Webhook.StatusURL, Modes: modes, Log: log, HTTP: a.vendorHTTP()})
	if err != nil {
		return nil, fmt.Errorf("HERALD_WEBHOOK_URL: %w", err)
	}
	return v, v.Register(wh)
}

// botUserID asks Slack who the bot is, so mentions of it can be told from
// mentions of people. Slack being unreachable at start-up is not fatal.
func (a *App) botUserID(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	resp, err := a.Slack.AuthTestContext(ctx)
	if err != nil {
		a.log.Warn("Slack auth.test failed; mentions will be matched loosely until restart", "err", err)
		return ""
	}
	return resp.UserID
}

// Close flushes the traces Serve did not and releases the database.
func (a *App) Close() error { a.closeTracing(); return models.Close(a.db) }

type readiness struct{ db *gorm.DB }

func (r readiness) Ready(ctx context.Context) error {
	sqlDB, err := r.db.DB()
	if err != nil {
		return err
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		return fmt.Errorf("database unreachable: %w", err)
	}
	d := migrations.Dialect(r.db.Dialector.Name())
	pending, err := migrations.Pending(ctx, sqlDB, d)
	if err != nil {
		return err
	}
	if pending {
		return errors.New("database schema is behind this binary (run herald migrate)")
	}
	current, known, err := migrations.Version(ctx, sqlDB, d)
	if err != nil {
		return err
	}
	if current > known {
		// A rolling upgrade: the new binaries take the traffic and the
		// paging (schemaGate); this one should be replaced.
		return errors.New(schemaNewerText(current, known))
	}
	return nil
}

// Serve runs the HTTP server and the background work until ctx ends (SIGTERM),
// then shuts down within HERALD_SHUTDOWN_TIMEOUT: no new work is leased
// (jobs, reminders, escalation checks, sends), the work in flight finishes
// and is recorded, and the HTTP server answers the requests it has. Work
// that outlasts the timeout keeps its lease until it runs out; then
// another replica, or this one after a restart, takes it over.
func (a *App) Serve(ctx context.Context) error {
	srv := &http.Server{Addr: a.cfg.Addr, Handler: a.Echo, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second}
	// workCtx ends the loops that lease work; requestCtx what requests
	// still use until the last one is answered.
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	requestCtx, stopRequests := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRequests()
	var leasing sync.WaitGroup // awaited at shutdown: they return once their work in flight is done
	for _, run := range []func(context.Context){a.Worker.Run, a.Reminders.Run, a.Engine.Run, a.noise.Run, a.oncall.Run} {
		leasing.Add(1)
		go func() { defer leasing.Done(); run(workCtx) }()
	}
	go a.pruneReceipts(workCtx)
	go a.deadman.Run(workCtx)
	go a.pruneClaimTokens(workCtx)
	go a.pruneWebSessions(workCtx)
	if a.synced != nil {
		go a.synced.Run(workCtx, time.Minute, a.log)
	}
	go a.creations.Run(requestCtx)
	if a.cfg.PprofAddr != "" {
		go servePprof(requestCtx, a.cfg.PprofAddr, a.log)
	}
	if !a.cfg.Embedded() {
		go a.Engine.ListenForWork(workCtx, a.cfg.DatabaseURL)
	}
	if a.cfg.SlackAppToken != "" {
		// Socket Mode: Slack reaches us over a websocket we open, so no
		// public URL is needed; the same dispatcher handles what arrives.
		client := slack.New(a.cfg.SlackBotToken, slack.OptionAppLevelToken(a.cfg.SlackAppToken), slack.OptionAPIURL(a.cfg.SlackAPIURL))
		go func() {
			if err := bot.NewSocketMode(client, a.Dispatcher, a.log).Run(workCtx); err != nil {
				a.log.Error("Socket Mode stopped; Slack events now arrive only over HTTP", "err", err)
			}
		}()
	}

	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	a.log.Info("herald listening", "addr", a.cfg.Addr, "base_url", a.cfg.BaseURL, "store", a.db.Dialector.Name(), "slack_dry_run", a.cfg.DryRunSlack())
	a.printStartLoginLink(requestCtx)

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	a.log.Info("shutting down: leasing no new work, finishing the work and requests in flight", "timeout", a.cfg.ShutdownTimeout)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
	defer cancel()
	stopWork() // the work in flight drains meanwhile, on contexts of its own
	if err := srv.Shutdown(shutdownCtx); err != nil {
		a.log.Warn("HTTP shutdown", "err", err)
	}
	stopRequests()
	drained := make(chan struct{})
	go func() { leasing.Wait(); close(drained) }()
	select {
	case <-drained:
		a.log.Info("shutdown complete: the work in flight finished")
	case <-shutdownCtx.Done():
		a.log.Warn("work still in flight at HERALD_SHUTDOWN_TIMEOUT; its leases will run out and another replica (or this one after a restart) will take it over")
	}
	a.flushTraces(shutdownCtx)
	if errors.Is(serveErr, http.ErrServerClosed) {
		return nil
	}
	return serveErr
}

// pruneReceipts forgets Slack event ids older than a day, hourly.
func (a *App) pruneReceipts(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if n, err := a.Store.PruneSlackEventReceipts(ctx, a.Store.Clock().Now().Add(-24*time.Hour)); err != nil && ctx.Err() == nil {
			a.log.Warn("pruning Slack event receipts", "err", err)
		} else if n > 0 {
			a.log.Debug("pruned Slack event receipts", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
