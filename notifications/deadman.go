package notifications

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/heraldhq/herald/models"
)

// The dead-man switch proves paging works end to end. On a schedule, one
// replica pages a configured route through the engine's out-of-band path
// and records when a vendor accepted the page; every replica whose engine
// is healthy also pings an outside heartbeat URL (healthchecks.io style),
// so the outside world notices when Herald stops paging.

// DeadManStore is the storage the dead-man switch needs; *models.Store
// implements it.
type DeadManStore interface {
	TakePeriodicLease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error)
	ClaimDeadManRun(ctx context.Context, period time.Time, owner string) (bool, error)
	SetDeadManRunMessages(ctx context.Context, period time.Time, ids []int64, detail string) error
	PendingDeadManRuns(ctx context.Context) ([]models.DeadManRun, error)
	MessagesByID(ctx context.Context, ids []int64) ([]models.Message, error)
	FinishDeadManRun(ctx context.Context, period time.Time, outcome, detail string, succeededAt *time.Time) error
	DeadManSummary(ctx context.Context) (models.DeadManSummary, error)
	PruneDeadManRuns(ctx context.Context, before time.Time) (int64, error)
	QueueStats(ctx context.Context) (models.QueueStats, error)
}

// DeadManMetrics counts what the dead-man switch does; nil counts nothing.
type DeadManMetrics interface {
	// DeadManPing is one ping decision: DeadManPingOK, DeadManPingFailed
	// or DeadManPingSkipped (the engine was unhealthy).
	DeadManPing(outcome string)
	// DeadManRun is a test page's outcome: models.DeadManSucceeded or
	// models.DeadManFailed.
	DeadManRun(outcome string)
}

// Ping outcomes.
const (
	DeadManPingOK      = "ok"
	DeadManPingFailed  = "failed"
	DeadManPingSkipped = "skipped_unhealthy"
)

// Defaults of DeadManConfig, and the switch's own timings.
const (
	DefaultDeadManSchedule     = "@every 1h"
	DefaultDeadManPingInterval = time.Minute
	DefaultDeadManMaxLag       = 2 * time.Minute
	// DeadManCheckInterval is how often the lease holder looks for a due
	// test page and follows the pending ones.
	DeadManCheckInterval = 30 * time.Second
	// deadManQueueGrace is how long a claimed period may have no message
	// (its claimer died before queueing) before it counts as failed.
	deadManQueueGrace = 5 * time.Minute
	// deadManKeep is how long runs are kept (the latest success always).
	deadManKeep  = 30 * 24 * time.Hour
	deadManLease = "deadman"
)

// DeadManConfig configures the switch. Either half may be off: no Target,
// no test pages; no PingURL, no pings.
type DeadManConfig struct {
	// Role and Target are the route test pages go to (a Roles role:
	// "user" and a person's name, "slack-channel" and a channel id…).
	Role, Target string
	// Mode forces the mode; empty uses the people's low-priority modes.
	Mode Mode
	// Schedule is a robfig/cron spec (standard fields or @every; default
	// DefaultDeadManSchedule). Periods are the same on every replica.
	Schedule string
	// PingURL is fetched (GET) every PingInterval while this replica's
	// engine is healthy. It may hold a token: it is never logged.
	PingURL      string
	PingInterval time.Duration
	// MaxLag is what healthy allows: both engine loops finished a pass
	// within it and no due message has waited longer.
	MaxLag     time.Duration
	Owner      string       // this replica, on the lease and the runs it claims
	HTTPClient *http.Client // for pings (default: a 10 s timeout)
	Log        *slog.Logger
	Metrics    DeadManMetrics
}

// DeadMan is the dead-man switch of one replica.
type DeadMan struct {
	engine *Engine
	store  DeadManStore
	clock  models.Clock
	cfg    DeadManConfig
	sched  cron.Schedule // nil: no test pages

	mu       sync.Mutex
	lastPing pingRecord
}

type pingRecord struct {
	at      time.Time
	outcome string
}

// NewDeadMan checks cfg and builds the switch.
func NewDeadMan(engine *Engine, store DeadManStore, clock models.Clock, cfg DeadManConfig) (*DeadMan, error) {
	if cfg.Schedule == "" {
		cfg.Schedule = DefaultDeadManSchedule
	}
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = DefaultDeadManPingInterval
	}
	if cfg.MaxLag <= 0 {
		cfg.MaxLag = DefaultDeadManMaxLag
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	d := &DeadMan{engine: engine, store: store, clock: clock, cfg: cfg}
	if cfg.Target == "" {
		return d, nil
	}
	probe := OutOfBand{Role: cfg.Role, Target: cfg.Target, Mode: cfg.Mode, Priority: d.priority(), Body: "probe"}
	if err := probe.validate(); err != nil {
		return nil, fmt.Errorf("dead-man route: %w", err)
	}
	sched, err := cron.ParseStandard(cfg.Schedule)
	if err != nil {
		return nil, fmt.Errorf("dead-man schedule %q: %w", cfg.Schedule, err)
	}
	d.sched = sched
	return d, nil
}

// Enabled reports whether either half of the switch is on.
func (d *DeadMan) Enabled() bool { return d.sched != nil || d.cfg.PingURL != "" }

func (d *DeadMan) priority() string {
	if d.cfg.Mode == "" {
		return "low"
	}
	return ""
}

// Run pings and sends test pages until ctx ends.
func (d *DeadMan) Run(ctx context.Context) {
	if !d.Enabled() {
		return
	}
	var pings, checks <-chan time.Time
	if d.cfg.PingURL != "" {
		t := time.NewTicker(d.cfg.PingInterval)
		defer t.Stop()
		pings = t.C
	}
	if d.sched != nil {
		t := time.NewTicker(DeadManCheckInterval)
		defer t.Stop()
		checks = t.C
		d.tick(ctx)
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-checks:
			d.tick(ctx)
		case <-pings:
			if _, err := d.Ping(ctx); err != nil && ctx.Err() == nil {
				d.cfg.Log.WarnContext(ctx, "dead-man switch: ping", "err", err)
			}
		}
	}
}

func (d *DeadMan) tick(ctx context.Context) {
	if _, err := d.Tick(ctx); err != nil && ctx.Err() == nil {
		d.cfg.Log.ErrorContext(ctx, "dead-man switch: test page", "err", err)
	}
}

// Tick does the test-page half once, on the one replica holding the
// dead-man lease: it sends the current period's test page unless a
// replica already did, then records the outcome of the pending ones. It
// reports whether it sent a page.
func (d *DeadMan) Tick(ctx context.Context) (bool, error) {
	if d.sched == nil {
		return false, nil
	}
	held, err := d.store.TakePeriodicLease(ctx, deadManLease, d.cfg.Owner, 2*DeadManCheckInterval)
	if err != nil || !held {
		return false, err
	}
	sent, err := d.selfTest(ctx)
	return sent, errors.Join(err, d.follow(ctx))
}

// selfTest claims the current period and queues its test page.
func (d *DeadMan) selfTest(ctx context.Context) (bool, error) {
	period := periodStart(d.sched, d.clock.Now().UTC())
	if period.IsZero() {
		return false, nil
	}
	claimed, err := d.store.ClaimDeadManRun(ctx, period, d.cfg.Owner)
	if err != nil || !claimed {
		return false, err
	}
	ids, err := d.engine.NotifyTracked(ctx, OutOfBand{
		Role: d.cfg.Role, Target: d.cfg.Target, Mode: d.cfg.Mode, Priority: d.priority(),
		Subject: "Herald self-test (dead-man switch)",
		Body: fmt.Sprintf("Scheduled test page of Herald's dead-man switch (period %s). It proves paging works end to end; no action needed.",
			period.Format(time.RFC3339)),
	})
	detail := fmt.Sprintf("queued %d test message(s)", len(ids))
	if err != nil {
		detail = "queueing the test page: " + err.Error()
		d.cfg.Log.ErrorContext(ctx, "dead-man switch: the test page could not be queued", "err", err)
	}
	if err := d.store.SetDeadManRunMessages(ctx, period, ids, detail); err != nil {
		return len(ids) > 0, err
	}
	if len(ids) == 0 {
		d.countRun(models.DeadManFailed)
	}
	return len(ids) > 0, nil
}

// follow records the outcome of the pending runs: succeeded once a vendor
// accepted one of a run's messages, failed when none can be sent.
func (d *DeadMan) follow(ctx context.Context) error {
	runs, err := d.store.PendingDeadManRuns(ctx)
	if err != nil {
		return err
	}
	now := d.clock.Now().UTC()
	var errs []error
	for i := range runs {
		r := &runs[i]
		outcome, detail, at, err := d.outcomeOf(ctx, r, now)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if outcome == models.DeadManPending {
			continue
		}
		if err := d.store.FinishDeadManRun(ctx, r.PeriodStart, outcome, detail, at); err != nil {
			errs = append(errs, err)
			continue
		}
		d.countRun(outcome)
		if outcome == models.DeadManFailed {
			d.cfg.Log.ErrorContext(ctx, "dead-man switch: the test page failed; paging may be broken", "period", r.PeriodStart, "detail", detail)
		}
	}
	if _, err := d.store.PruneDeadManRuns(ctx, now.Add(-deadManKeep)); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (d *DeadMan) outcomeOf(ctx context.Context, r *models.DeadManRun, now time.Time) (outcome, detail string, at *time.Time, err error) {
	ids, err := r.Messages()
	if err != nil {
		return "", "", nil, err
	}
	if len(ids) == 0 {
		if now.Sub(r.CreatedAt) > deadManQueueGrace {
			return models.DeadManFailed, "no test page was queued (the replica that claimed the period stopped?)", nil, nil
		}
		return models.DeadManPending, "", nil, nil
	}
	msgs, err := d.store.MessagesByID(ctx, ids)
	if err != nil {
		return "", "", nil, err
	}
	failed := len(ids) - len(msgs) // a message gone is not coming back
	var problems []string
	for _, m := range msgs {
		switch m.Status {
		case models.MessageSent, models.MessageDelivered:
			if m.SentAt != nil && (at == nil || m.SentAt.Before(*at)) {
				t, vendor := m.SentAt.UTC(), m.Vendor
				at, detail = &t, fmt.Sprintf("%s test page accepted by %s", m.Mode, vendor)
			}
		case models.MessageFailed, models.MessageSuppressed:
			failed++
			problems = append(problems, m.Mode+": "+m.Error)
		}
	}
	switch {
	case at != nil:
		return models.DeadManSucceeded, detail, at, nil
	case failed == len(ids):
		return models.DeadManFailed, "every test message failed: " + strings.Join(problems, "; "), nil, nil
	}
	return models.DeadManPending, "", nil, nil
}

func (d *DeadMan) countRun(outcome string) {
	if d.cfg.Metrics != nil {
		d.cfg.Metrics.DeadManRun(outcome)
	}
}

// periodStart is the latest time of sched at or before now: the period now
// falls in, the same on every replica. @every schedules are aligned to
// multiples of their interval since the Unix epoch; others are searched
// backwards a widening window at a time. Zero when sched never fired in
// the last five years.
func periodStart(sched cron.Schedule, now time.Time) time.Time {
	now = now.Truncate(time.Second)
	if every, ok := sched.(cron.ConstantDelaySchedule); ok {
		secs, delay := now.Unix(), int64(every.Delay/time.Second) // robfig: whole seconds, at least one
		return time.Unix(secs-secs%delay, 0).UTC()
	}
	for _, back := range []time.Duration{time.Minute, time.Hour, 24 * time.Hour, 31 * 24 * time.Hour, 5 * 366 * 24 * time.Hour} {
		t := sched.Next(now.Add(-back))
		if t.IsZero() || t.After(now) {
			continue
		}
		for {
			next := sched.Next(t)
			if next.IsZero() || next.After(now) {
				return t
			}
			t = next
		}
	}
	return time.Time{}
}

// nextPeriod is when the period after now's starts.
func nextPeriod(sched cron.Schedule, now time.Time) time.Time {
	if every, ok := sched.(cron.ConstantDelaySchedule); ok {
		return periodStart(sched, now).Add(every.Delay).UTC()
	}
	return sched.Next(now).UTC()
}
