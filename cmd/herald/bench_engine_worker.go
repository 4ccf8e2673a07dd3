package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
	"github.com/heraldhq/herald/notifications/schedule"
)

// benchEngineWorker is `herald bench engine-worker` (hidden): one herald
// process that runs only the paging engine, against the benchmark's
// database, with a webhook vendor pointed at the benchmark's sink. The
// field key comes from ENCRYPTED_FIELD_KEY. It runs until SIGTERM.
func benchEngineWorker(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench engine-worker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbURL := fs.String("database-url", "", "the benchmark database")
	sinkURL := fs.String("sink", "", "the sink's URL")
	statusURL := fs.String("sink-status", "", "the sink's webhook status lookup URL (empty: taken-over pages are re-sent unasked)")
	owner := fs.String("owner", "", "lease owner name")
	sendConc := fs.Int("send-concurrency", 0, "EngineOptions.SendConcurrency (0: the engine's default)")
	checkConc := fs.Int("check-concurrency", 0, "EngineOptions.CheckConcurrency (0: the engine's default)")
	conns := fs.Int("max-conns", 0, "database connections (0: the store's default)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile here")
	rolesFrom := fs.String("roles", benchRolesUser, "user: roles from the directory only; schedule: Herald's schedules first, as herald serve")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *dbURL == "" || *sinkURL == "" {
		return usageError{"bench engine-worker needs --database-url and --sink"}
	}
	if *owner == "" {
		*owner = fmt.Sprintf("bench-%d", os.Getpid())
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer func() { pprof.StopCPUProfile(); _ = f.Close() }()
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	cipher, err := models.NewFieldCipher(os.Getenv("ENCRYPTED_FIELD_KEY"))
	if err != nil {
		return fmt.Errorf("ENCRYPTED_FIELD_KEY: %w", err)
	}
	db, err := models.Open(ctx, models.OpenOptions{PostgresURL: *dbURL, Cipher: cipher, Logger: log, MaxOpenConns: *conns})
	if err != nil {
		return err
	}
	defer models.Close(db)
	store := models.NewStore(db, models.SystemClock{})
	wh, err := notifications.NewWebhook(notifications.WebhookConfig{
		Name: "sink", URL: *sinkURL, StatusURL: *statusURL, Secret: benchWebhookSecret, Log: log,
		HTTPClient: &http.Client{
			Timeout:   30 * time.Second,
			Transport: &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024, IdleConnTimeout: time.Minute},
		},
	})
	if err != nil {
		return err
	}
	vendors := notifications.NewVendors()
	if err := vendors.Register(wh); err != nil {
		return err
	}
	var roles notifications.RoleResolver = notifications.DirectoryRoles{Dir: store}
	if *rolesFrom == benchRolesSchedule {
		roles = notifications.ScheduleRoles{Schedules: schedule.NewResolver(store, models.SystemClock{}, schedule.ResolverOptions{}), Next: roles}
	}
	engine := notifications.NewEngine(store, vendors, roles, benchAlerter{log}, models.SystemClock{}, log,
		notifications.EngineOptions{Owner: *owner, SendConcurrency: *sendConc, CheckConcurrency: *checkConc})
	go engine.ListenForWork(ctx, *dbURL)
	engine.Run(ctx)
	if err := ctx.Err(); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// benchAlerter logs alerts; the benchmark's plans should raise none.
type benchAlerter struct{ log *slog.Logger }

func (a benchAlerter) Alert(ctx context.Context, incidentID int64, text string) {
	a.log.ErrorContext(ctx, "paging alert", "incident_id", incidentID, "text", strings.TrimSpace(text))
}
