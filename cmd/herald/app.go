package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/slack-go/slack"
	"gorm.io/gorm"

	"github.com/heraldhq/herald/bot"
	"github.com/heraldhq/herald/config"
	"github.com/heraldhq/herald/handlers"
	"github.com/heraldhq/herald/migrations"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
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
}

// BuildOptions are the seams tests use; production passes the zero value.
type BuildOptions struct {
	Clock           models.Clock
	SlackHTTPClient *http.Client
	Metrics         *prometheus.Registry
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
	if err := app.wire(ctx, clock, o); err != nil {
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
	metrics, err := bot.NewMetrics(promReg)
	if err != nil {
		return fmt.Errorf("registering metrics: %w", err)
	}
	a.Slack = bot.NewSlackClient(bot.SlackClientOptions{Token: cfg.SlackBotToken, APIURL: cfg.SlackAPIURL, Logger: log, HTTPClient: o.SlackHTTPClient})
	botUserID := a.botUserID(ctx)

	a.Registries = bot.NewRegistries()
	hostname, _ := os.Hostname()
	// Unique per process and instance: containers share pid 1 and
	// sometimes hostnames, and a lease must name exactly one holder.
	owner := fmt.Sprintf("%s-%d-%s", hostname, os.Getpid(), uuid.NewString()[:8])
	a.Worker = bot.NewWorker(a.Store, a.Registries.Jobs, clock, log, metrics, bot.WorkerOptions{
		Owner: owner, Concurrency: cfg.Workers, Lease: cfg.JobLease,
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
	a.Engine = notifications.NewEngine(a.Store, vendors, notifications.DirectoryRoles{Dir: a.Store},
		handlers.PagingAlerts{Queue: a.Store, Log: log}, clock, log, notifications.EngineOptions{Owner: owner, DefaultModes: engineModes(cfg.DefaultModes), RateLimits: rateLimits, Throttle: engineThrottle(cfg.Throttle)})
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
	intake.Creator = a.creations
	noise := a.wireNoise(deps, intake, owner)
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
		Admin: adminAPI{store: a.Store, engine: a.Engine, forget: forget}, AdminAPIKey: cfg.AdminAPIKey, Incidents: a.Store,
		Maintenance: noise.Maintenance, Heartbeats: noise.Heartbeats,
		Claims: a.claimPages(a.claimLinks, deps), Twilio: a.twilioWeb(deps),
		Iris:   &web.IrisOptions{Store: a.Store, Intake: intake, Pager: a.Engine},
		Intake: intake, IntegrationAuth: keys, IntakeStore: a.Store,
		Webhooks: &web.WebhookOptions{Auth: keys, Groups: handlers.NewAlertGroups(intake, a.Store)},
	})
	return nil
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
	wh, err := notifications.NewWebhook(notifications.WebhookConfig{Name: "webhook", URL: a.cfg.Webhook.URL, Secret: a.cfg.Webhook.Secret, Modes: modes, Log: log})
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

// Close releases the database.
func (a *App) Close() error { return models.Close(a.db) }

type readiness struct{ db *gorm.DB }

func (r readiness) Ready(ctx context.Context) error {
	sqlDB, err := r.db.DB()
	if err != nil {
		return err
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		return fmt.Errorf("database unreachable: %w", err)
	}
	pending, err := migrations.Pending(ctx, sqlDB, migrations.Dialect(r.db.Dialector.Name()))
	if err != nil {
		return err
	}
	if pending {
		return errors.New("database schema is behind this binary (run herald migrate)")
	}
	return nil
}

// Serve runs the HTTP server and the worker until ctx ends, then shuts down
// gracefully: stop taking requests, let running jobs finish.
func (a *App) Serve(ctx context.Context) error {
	srv := &http.Server{Addr: a.cfg.Addr, Handler: a.Echo, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second}
	workerDone := make(chan struct{})
	workerCtx, stopWorker := context.WithCancel(context.WithoutCancel(ctx))
	go func() { defer close(workerDone); a.Worker.Run(workerCtx) }()
	go a.pruneReceipts(workerCtx)
	go a.pruneClaimTokens(workerCtx)
	go a.Reminders.Run(workerCtx)
	go a.Engine.Run(workerCtx)
	go a.creations.Run(workerCtx)
	go a.noise.Run(workerCtx)
	if a.cfg.PprofAddr != "" {
		go servePprof(workerCtx, a.cfg.PprofAddr, a.log)
	}
	if !a.cfg.Embedded() {
		go a.Engine.ListenForWork(workerCtx, a.cfg.DatabaseURL)
	}
	if a.cfg.SlackAppToken != "" {
		// Socket Mode: Slack reaches us over a websocket we open, so no
		// public URL is needed; the same dispatcher handles what arrives.
		client := slack.New(a.cfg.SlackBotToken, slack.OptionAppLevelToken(a.cfg.SlackAppToken), slack.OptionAPIURL(a.cfg.SlackAPIURL))
		go func() {
			if err := bot.NewSocketMode(client, a.Dispatcher, a.log).Run(workerCtx); err != nil {
				a.log.Error("Socket Mode stopped; Slack events now arrive only over HTTP", "err", err)
			}
		}()
	}

	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	a.log.Info("herald listening", "addr", a.cfg.Addr, "base_url", a.cfg.BaseURL, "store", a.db.Dialector.Name(), "slack_dry_run", a.cfg.DryRunSlack())

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		a.log.Warn("HTTP shutdown", "err", err)
	}
	stopWorker()
	select {
	case <-workerDone:
	case <-shutdownCtx.Done():
		a.log.Warn("jobs still running at shutdown; their leases will expire and another replica will retry them")
	}
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
