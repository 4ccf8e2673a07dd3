package notifications_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/robfig/cron/v3"

	"github.com/heraldhq/herald/internal/promtest"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
	"github.com/heraldhq/herald/observability"
)

// deadMan builds a switch on the fixture's engine and store, recording
// into a fresh registry.
func (f *fixture) deadMan(owner string, cfg notifications.DeadManConfig) (*notifications.DeadMan, *prometheus.Registry) {
	f.t.Helper()
	reg := prometheus.NewRegistry()
	obs, err := observability.New(reg)
	if err != nil {
		f.t.Fatal(err)
	}
	cfg.Owner, cfg.Log, cfg.Metrics = owner, quiet(f.t), obs
	d, err := notifications.NewDeadMan(f.engine, f.store, f.clock, cfg)
	if err != nil {
		f.t.Fatal(err)
	}
	return d, reg
}

func (f *fixture) deadManTick(d *notifications.DeadMan) bool {
	f.t.Helper()
	sent, err := d.Tick(f.ctx)
	if err != nil {
		f.t.Fatalf("dead-man tick: %v", err)
	}
	return sent
}

func (f *fixture) deadManStatus(d *notifications.DeadMan) notifications.DeadManStatus {
	f.t.Helper()
	st, err := d.Status(f.ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	return st
}

// TestDeadManSelfPage: the switch pages its route once per period and
// records when a vendor accepted the page, or that it failed.
func TestDeadManSelfPage(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, f *fixture) {
		f.person("alice")
		f.clock.Advance(37 * time.Minute) // 12:37: the 12:00 period
		d, reg := f.deadMan("a", notifications.DeadManConfig{Role: notifications.RoleUser, Target: "alice", Mode: notifications.ModeSlack})

		if !f.deadManTick(d) {
			t.Fatal("no test page for the first period")
		}
		st := f.deadManStatus(d)
		if st.SelfTest == nil || st.SelfTest.LastRun == nil || st.SelfTest.LastRun.Outcome != models.DeadManPending || st.SelfTest.LastSuccessAt != nil {
			t.Fatalf("queued: %+v", st.SelfTest)
		}
		f.clock.Advance(time.Second)
		f.tick()
		if f.deadManTick(d) {
			t.Fatal("a second test page in the same period")
		}
		acceptedAt := t0.Add(37*time.Minute + time.Second)
		ok := f.vendor.accepted()
		if len(ok) != 1 || ok[0].Msg.Destination != "U_ALICE" || !ok[0].Msg.OutOfBand || !strings.Contains(ok[0].Msg.Subject, "dead-man") {
			t.Fatalf("pages: %+v", ok)
		}
		st = f.deadManStatus(d)
		last := st.SelfTest.LastRun
		if !st.Enabled || st.SelfTest.Route != "user:alice" || last.Outcome != models.DeadManSucceeded || !last.PeriodStart.Equal(t0) ||
			last.Detail != "slack test page accepted by fake" || st.SelfTest.LastSuccessAt == nil || !st.SelfTest.LastSuccessAt.Equal(acceptedAt) ||
			!st.SelfTest.NextRunAt.Equal(t0.Add(time.Hour)) {
			t.Fatalf("after the page: %+v %+v", st.SelfTest, last)
		}

		// The next period's page fails at every attempt: recorded failed,
		// the last success stays.
		f.vendor.setFail(errors.New("slack is down"))
		f.clock.Set(t0.Add(time.Hour + time.Minute))
		if !f.deadManTick(d) {
			t.Fatal("no test page for the second period")
		}
		for range 12 { // every attempt (about 4.5 minutes of retries)
			f.tick()
			f.clock.Advance(time.Minute)
		}
		f.deadManTick(d)
		st = f.deadManStatus(d)
		last = st.SelfTest.LastRun
		if last.Outcome != models.DeadManFailed || !strings.Contains(last.Detail, "slack is down") || !st.SelfTest.LastSuccessAt.Equal(acceptedAt) {
			t.Fatalf("after a failed page: %+v %+v", st.SelfTest, last)
		}
		want := map[string]float64{"herald_deadman_runs_total{outcome=succeeded}": 1, "herald_deadman_runs_total{outcome=failed}": 1}
		if diff := promtest.Diff(promtest.Series(t, reg, "herald_deadman_"), want); len(diff) > 0 {
			t.Errorf("metrics: %v", diff)
		}
	})
}

// TestDeadManOneReplicaPerPeriod: of two replicas, one sends each
// period's page, even when the lease changes hands within the period.
func TestDeadManOneReplicaPerPeriod(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, f *fixture) {
		f.person("alice")
		cfg := notifications.DeadManConfig{Role: notifications.RoleUser, Target: "alice", Mode: notifications.ModeSlack, Schedule: "*/30 * * * *"}
		a, _ := f.deadMan("a", cfg)
		b, _ := f.deadMan("b", cfg)
		steps := []struct {
			d       *notifications.DeadMan
			advance time.Duration
			sends   bool
		}{
			{a, 0, true},                 // 12:00: a takes the lease and the period
			{b, 0, false},                // b: the lease is a's
			{b, 2 * time.Minute, false},  // a's lease ran out: b holds it, the period is taken
			{a, 0, false},                // the lease is b's now
			{b, 28 * time.Minute, true},  // 12:30: the next period, b's
			{a, 5 * time.Minute, false},  // a takes the lease back, the period is taken
			{a, 25 * time.Minute, true},  // 13:00
			{b, 29 * time.Minute, false}, // 13:29: still 13:00's period
		}
		for i, s := range steps {
			f.clock.Advance(s.advance)
			if got := f.deadManTick(s.d); got != s.sends {
				t.Fatalf("step %d at %s: sent %v, want %v", i, f.clock.Now().Format("15:04"), got, s.sends)
			}
		}
		f.tick()
		if n := len(f.vendor.accepted()); n != 3 {
			t.Errorf("%d test pages, want 3 (one per period)", n)
		}
	})
}

// TestDeadManPing: the heartbeat URL is pinged only while the engine's
// loops run and no due page waits too long; the URL is never in an error.
func TestDeadManPing(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, f *fixture) {
		var hits atomic.Int32
		var status atomic.Int32
		status.Store(http.StatusOK)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/ping/secret-uuid" && r.Method == http.MethodGet {
				hits.Add(1)
			}
			w.WriteHeader(int(status.Load()))
		}))
		defer srv.Close()
		d, reg := f.deadMan("a", notifications.DeadManConfig{PingURL: srv.URL + "/ping/secret-uuid", MaxLag: 2 * time.Minute})
		ping := func(want bool) {
			t.Helper()
			got, err := d.Ping(f.ctx)
			if err != nil || got != want {
				t.Fatalf("at %s: pinged %v (%v), want %v", f.clock.Now().Format("15:04:05"), got, err, want)
			}
		}

		ping(false) // the engine never ran
		f.tick()
		ping(true)
		f.clock.Advance(3 * time.Minute)
		ping(false) // stuck: no pass for 3 minutes
		h, err := d.Health(f.ctx)
		if err != nil || h.Healthy || len(h.Problems) != 2 || !strings.Contains(h.Problems[0], "escalation loop") {
			t.Fatalf("stuck engine health: %+v %v", h, err)
		}
		f.tick()
		ping(true)

		// The loops run, but a due page has waited 5 minutes (another
		// replica holds it, say).
		old := f.clock.Now().Add(-5 * time.Minute)
		if err := f.store.QueueMessages(f.ctx, []models.Message{{Role: notifications.RoleSlackChannel, Target: "C1", Mode: "slack", Priority: "low",
			Body: "x", OutOfBand: true, Status: models.MessageQueued, NotBefore: old, CreatedAt: old}}); err != nil {
			t.Fatal(err)
		}
		ping(false)
		if h, _ := d.Health(f.ctx); len(h.Problems) != 1 || !strings.Contains(h.Problems[0], "waited 5m0s") || h.QueueLagSeconds != 300 {
			t.Fatalf("lagging queue health: %+v", h)
		}
		f.tick() // sends it
		ping(true)

		status.Store(http.StatusServiceUnavailable)
		if ok, err := d.Ping(f.ctx); ok || err == nil || !strings.Contains(err.Error(), "HTTP 503") || strings.Contains(err.Error(), "secret") {
			t.Fatalf("a refused ping: %v %v", ok, err)
		}
		if n := hits.Load(); n != 4 {
			t.Errorf("%d pings received, want 4", n)
		}
		st := f.deadManStatus(d)
		if !st.Enabled || st.SelfTest != nil || st.Ping == nil || st.Ping.LastOutcome != notifications.DeadManPingFailed || st.Ping.IntervalSeconds != 60 {
			t.Errorf("status: %+v %+v", st, st.Ping)
		}
		want := map[string]float64{"herald_deadman_pings_total{outcome=ok}": 3, "herald_deadman_pings_total{outcome=skipped_unhealthy}": 3, "herald_deadman_pings_total{outcome=failed}": 1}
		if diff := promtest.Diff(promtest.Series(t, reg, "herald_deadman_"), want); len(diff) > 0 {
			t.Errorf("metrics: %v", diff)
		}
	})
}

func TestDeadManOff(t *testing.T) {
	t.Parallel()
	f := newFixture(t, models.DialectSQLite)
	d, _ := f.deadMan("a", notifications.DeadManConfig{})
	if st := f.deadManStatus(d); st.Enabled || st.SelfTest != nil || st.Ping != nil || st.Engine != nil {
		t.Errorf("off: %+v", st)
	}
	if sent := f.deadManTick(d); sent {
		t.Error("an off switch sent a page")
	}
	if pinged, err := d.Ping(f.ctx); pinged || err != nil {
		t.Errorf("an off switch pinged: %v", err)
	}
	for _, cfg := range []notifications.DeadManConfig{
		{Role: "pager", Target: "alice"},
		{Role: notifications.RoleSlackChannel, Target: "C1", Mode: notifications.ModeSMS},
		{Role: notifications.RoleUser, Target: "alice", Schedule: "every hour"},
	} {
		if _, err := notifications.NewDeadMan(f.engine, f.store, f.clock, cfg); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
}

func TestDeadManPeriodStart(t *testing.T) {
	t.Parallel()
	at := func(s string) time.Time {
		v, err := time.Parse("2006-01-02 15:04:05", s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		spec, now, want string
	}{
		{"@every 1h", "2026-03-02 12:37:10", "2026-03-02 12:00:00"},
		{"@every 1h", "2026-03-02 12:00:00", "2026-03-02 12:00:00"},
		{"@every 90m", "2026-03-02 12:37:10", "2026-03-02 12:00:00"},
		{"@every 7m", "2026-03-02 12:37:10", "2026-03-02 12:37:00"}, // multiples of 7 minutes since 1970
		{"*/15 * * * *", "2026-03-02 12:37:10", "2026-03-02 12:30:00"},
		{"0 9 * * 1-5", "2026-03-02 10:00:00", "2026-03-02 09:00:00"}, // a Monday
		{"0 9 * * 1-5", "2026-03-02 08:59:59", "2026-02-27 09:00:00"}, // the Friday before
		{"@daily", "2026-03-02 00:00:00", "2026-03-02 00:00:00"},
		{"0 0 29 2 *", "2026-03-01 00:00:00", "2024-02-29 00:00:00"}, // a leap day, two years back
	}
	for _, tt := range tests {
		sched, err := cron.ParseStandard(tt.spec)
		if err != nil {
			t.Fatal(err)
		}
		if got := notifications.PeriodStart(sched, at(tt.now)); !got.Equal(at(tt.want)) {
			t.Errorf("%s at %s: %s, want %s", tt.spec, tt.now, got, tt.want)
		}
	}
}
