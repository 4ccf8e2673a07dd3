package observability_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/heraldhq/herald/bot"
	"github.com/heraldhq/herald/internal/apimetrics"
	"github.com/heraldhq/herald/internal/fakeclock"
	"github.com/heraldhq/herald/internal/promtest"
	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/internal/testlog"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
	"github.com/heraldhq/herald/observability"
)

// The implementations cmd/herald wires must fit the interfaces.
var (
	_ notifications.Metrics        = (*observability.Metrics)(nil)
	_ apimetrics.Observer          = (*observability.Metrics)(nil)
	_ notifications.DeadManMetrics = (*observability.Metrics)(nil)
	_ bot.APIObserver              = (*observability.Metrics)(nil)
	_ observability.Stats          = (*models.Store)(nil)
	_ observability.EnginePasses   = (*notifications.Engine)(nil)
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

type fixedPasses struct{ escalated, sent time.Time }

func (p fixedPasses) LastPasses() (time.Time, time.Time) { return p.escalated, p.sent }

// countingStats counts the reads and can fail the queue's.
type countingStats struct {
	observability.Stats
	reads     atomic.Int32
	failQueue atomic.Bool
}

func (c *countingStats) IncidentCountsByStatus(ctx context.Context) (map[models.Status]int64, error) {
	c.reads.Add(1)
	return c.Stats.IncidentCountsByStatus(ctx)
}

func (c *countingStats) QueueStats(ctx context.Context) (models.QueueStats, error) {
	if c.failQueue.Load() {
		return models.QueueStats{}, errors.New("database is gone")
	}
	return c.Stats.QueueStats(ctx)
}

func register(t *testing.T, o observability.StatsOptions) *prometheus.Registry {
	t.Helper()
	reg := prometheus.NewRegistry()
	if _, err := observability.New(reg); err != nil {
		t.Fatal(err)
	}
	if err := observability.RegisterStats(reg, o); err != nil {
		t.Fatal(err)
	}
	return reg
}

// TestScrapeGauges reads the scrape-time gauges from a real database: one
// set of reads per TTL however many scrapes, failures left out.
func TestScrapeGauges(t *testing.T) {
	t.Parallel()
	clock := fakeclock.New(t0)
	testdb.ForEachDialect(t, clock, func(t *testing.T, db *testdb.DB) {
		ctx := context.Background()
		clock := fakeclock.New(t0) // this dialect's own
		store := models.NewStore(db.Gorm, clock)
		for i, st := range []models.Status{models.StatusInvestigating, models.StatusInvestigating, models.StatusIdentified, models.StatusResolved} {
			inc, _, err := store.CreateIncident(ctx, models.NewIncident{Title: "incident " + string(rune('a'+i))})
			if err != nil {
				t.Fatal(err)
			}
			if err := db.Gorm.Model(&models.Incident{}).Where("id = ?", inc.ID).Update("status", st).Error; err != nil {
				t.Fatal(err)
			}
		}
		msg := func(status string, notBefore time.Time) models.Message {
			return models.Message{Role: "slack-channel", Target: "C1", Mode: "slack", Priority: "low", Body: "x", OutOfBand: true,
				Status: status, NotBefore: notBefore, CreatedAt: notBefore}
		}
		if err := store.QueueMessages(ctx, []models.Message{
			msg(models.MessageQueued, t0.Add(-90*time.Second)), // due: the oldest
			msg(models.MessageQueued, t0.Add(-30*time.Second)), // due
			msg(models.MessageQueued, t0.Add(time.Hour)),       // not due yet
			msg(models.MessageSent, t0.Add(-time.Hour)),        // sent
			msg(models.MessageSending, t0.Add(-time.Hour)),     // in flight
		}); err != nil {
			t.Fatal(err)
		}
		success := t0.Add(-20 * time.Minute)
		if _, err := store.ClaimDeadManRun(ctx, t0.Add(-time.Hour), "a"); err != nil {
			t.Fatal(err)
		}
		if err := store.FinishDeadManRun(ctx, t0.Add(-time.Hour), models.DeadManSucceeded, "ok", &success); err != nil {
			t.Fatal(err)
		}

		stats := &countingStats{Stats: store}
		passes := fixedPasses{escalated: t0.Add(-time.Second), sent: t0.Add(-2 * time.Second)}
		reg := register(t, observability.StatsOptions{Stats: stats, Engine: passes, DeadMan: true, Clock: clock, Log: testlog.Logger(t)})
		want := map[string]float64{
			"herald_incidents{status=investigating}": 2, "herald_incidents{status=identified}": 1,
			"herald_incidents{status=monitoring}": 0, "herald_incidents{status=resolved}": 1,
			"herald_engine_queue_depth": 2, "herald_engine_queue_lag_seconds": 90,
			"herald_engine_last_pass_timestamp_seconds{loop=escalate}": float64(t0.Add(-time.Second).Unix()),
			"herald_engine_last_pass_timestamp_seconds{loop=send}":     float64(t0.Add(-2 * time.Second).Unix()),
			"herald_deadman_last_success_timestamp_seconds":            float64(success.Unix()),
		}
		check := func(when string) {
			t.Helper()
			got := promtest.Series(t, reg, "herald_")
			for _, counterOrHistogram := range []string{"herald_send_takeovers_total", "herald_page_first_accepted_seconds_count",
				"herald_page_first_accepted_seconds_sum", "herald_incident_ack_seconds_count", "herald_incident_ack_seconds_sum"} {
				delete(got, counterOrHistogram)
			}
			if diff := promtest.Diff(got, want); len(diff) > 0 {
				t.Errorf("%s:\n%s", when, strings.Join(diff, "\n"))
			}
		}
		want["herald_stats_refresh_errors_total"] = 0
		check("first scrape")

		// Within the TTL, scrapes answer from the cache.
		if _, _, err := store.CreateIncident(ctx, models.NewIncident{Title: "one more"}); err != nil {
			t.Fatal(err)
		}
		clock.Advance(4 * time.Second)
		check("a scrape within the TTL")
		check("another")
		if n := stats.reads.Load(); n != 1 {
			t.Errorf("%d reads for three scrapes within the TTL, want 1", n)
		}

		// Past it, they read again.
		clock.Advance(time.Second)
		want["herald_incidents{status=investigating}"] = 3
		want["herald_engine_queue_lag_seconds"] = 95
		check("a scrape after the TTL")

		// A failed read leaves its gauges out (the scrape still works),
		// counts an error, and is cached too.
		stats.failQueue.Store(true)
		clock.Advance(5 * time.Second)
		delete(want, "herald_engine_queue_depth")
		delete(want, "herald_engine_queue_lag_seconds")
		want["herald_stats_refresh_errors_total"] = 1
		check("a failed queue read")
		check("a failed queue read, cached")
		if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
			t.Errorf("lint: %v %v", problems, err)
		}
	})
}

// TestScrapeGaugesOptional: the dead-man gauge only with test pages on
// (0 before the first success), loop gauges only with an engine.
func TestScrapeGaugesOptional(t *testing.T) {
	t.Parallel()
	clock := fakeclock.New(t0)
	db := testdb.New(t, models.DialectSQLite, clock)
	names := func(reg prometheus.Gatherer) map[string]float64 {
		got := map[string]float64{}
		for k, v := range promtest.Series(t, reg, "herald_") {
			if strings.HasPrefix(k, "herald_deadman_last") || strings.HasPrefix(k, "herald_engine_last") {
				got[k] = v
			}
		}
		return got
	}
	if got := names(register(t, observability.StatsOptions{Stats: db.Store, Clock: clock})); len(got) != 0 {
		t.Errorf("without an engine or test pages: %v", got)
	}
	got := names(register(t, observability.StatsOptions{Stats: db.Store, Clock: clock, DeadMan: true, Engine: fixedPasses{}}))
	want := map[string]float64{"herald_deadman_last_success_timestamp_seconds": 0,
		"herald_engine_last_pass_timestamp_seconds{loop=escalate}": 0, "herald_engine_last_pass_timestamp_seconds{loop=send}": 0}
	if diff := promtest.Diff(got, want); len(diff) > 0 {
		t.Errorf("before anything happened: %v", diff)
	}
}

// TestNilMetrics: a nil *Metrics records nothing and does not panic.
func TestNilMetrics(t *testing.T) {
	var m *observability.Metrics
	m.PageAttempt("sms", "twilio-sms", "accepted")
	m.FirstPageAccepted(time.Second)
	m.Acknowledged(time.Second)
	m.SendsTakenOver(1)
	m.PagesHeld("sms", "rate_limit", 1)
	m.ObserveAPICall("slack", "chat.postMessage", "ok", time.Second)
	m.DeadManPing("ok")
	m.DeadManRun("succeeded")
}
