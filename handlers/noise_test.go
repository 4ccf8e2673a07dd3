package handlers_test

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/handlers"
	"github.com/heraldhq/herald/internal/fakeclock"
	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/internal/testlog"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
)

// noiseT0 is a Sunday, 10:00 UTC (11:00 in Paris).
var noiseT0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

const noiseConfig = `
people:
  - {name: alice, slack_id: U0ALICE}
teams:
  - {name: shop, members: [alice], oncall: {primary: alice}}
plans:
  - name: shop
    team: shop
    steps:
      - notifications:
          - {role: oncall-primary, target: shop, priority: high, wait: 5, repeat: 2}
services:
  - {name: checkout, team: shop, plan: shop}
  - {name: search, team: shop, plan: shop}
integrations:
  - {name: prometheus, services: [checkout, search]}
heartbeats:
  - {integration: prometheus, service: checkout, interval: 5m}
maintenance:
  - name: checkout-migration
    service: checkout
    starts_at: "2026-03-01T13:00:00Z"
    ends_at: "2026-03-01T14:00:00Z"
    reason: Database migration
    cancel_pending: true
  # Sundays 12:00-12:30 Paris time (11:00-11:30 UTC in March), every
  # service, staging alerts only.
  - name: staging-rebuild
    match: {env: staging}
    starts_at: "2026-03-01T00:00:00Z"
    weekly: {weekdays: [sun], start: "12:00", duration: 30m, time_zone: Europe/Paris}
    reason: Staging rebuild
  - name: search-reindex
    service: search
    match: {env: staging}
    starts_at: "2026-03-01T12:45:00Z"
    ends_at: "2026-03-01T15:00:00Z"
    reason: Search reindex
    cancel_pending: true
`

// noiseFixture is a database with the configuration above, a real engine
// (console vendor), the intake with maintenance windows, and heartbeats.
type noiseFixture struct {
	t      *testing.T
	ctx    context.Context
	db     *testdb.DB
	clock  *fakeclock.Clock
	engine *notifications.Engine
	deps   handlers.Deps
	intake *handlers.Intake
	maint  *handlers.Maintenance
	beats  *handlers.Heartbeats
	prom   *models.Integration
	log    *slog.Logger // teed to the suite log scan (internal/testlog)
}

func newNoiseFixture(t *testing.T, dialect string) *noiseFixture {
	t.Helper()
	clock := fakeclock.New(noiseT0)
	db := testdb.New(t, dialect, clock)
	quietLog := testlog.Logger(t)
	f := &noiseFixture{t: t, ctx: context.Background(), db: db, clock: clock, log: quietLog}
	c, err := notifications.ParseCatalog([]byte(noiseConfig))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := notifications.Apply(f.ctx, db.Store, c, notifications.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	vs := notifications.NewVendors()
	if err := vs.Register(notifications.Console{Log: quietLog}); err != nil {
		t.Fatal(err)
	}
	f.engine = notifications.NewEngine(db.Store, vs, notifications.DirectoryRoles{Dir: db.Store}, handlers.PagingAlerts{Queue: db.Store, Log: quietLog},
		clock, quietLog, notifications.EngineOptions{Owner: "test"})
	f.deps = handlers.Deps{Store: db.Store, Clock: clock, Log: quietLog, Pager: f.engine, Intake: db.Store,
		Settings: handlers.Settings{BotName: "incident", BaseURL: "http://herald.test"}}
	f.intake = handlers.NewIntake(f.deps)
	f.maint = handlers.NewMaintenance(f.deps, db.Store)
	f.intake.Suppressor = f.maint
	f.beats = handlers.NewHeartbeats(f.deps, db.Store, f.intake)
	if f.prom, err = db.Store.IntegrationByName(f.ctx, "prometheus"); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *noiseFixture) open(service, title, contextJSON string, labels map[string]string) *handlers.AlertResult {
	f.t.Helper()
	res, err := f.intake.Open(f.ctx, handlers.NewAlert{Integration: f.prom, Service: service, Title: title, Context: contextJSON, Labels: labels})
	if err != nil {
		f.t.Fatalf("Open(%s, %s): %v", service, title, err)
	}
	return res
}

func (f *noiseFixture) timelineHas(incidentID int64, text string) bool {
	f.t.Helper()
	tl, err := f.db.Store.Timeline(f.ctx, incidentID)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, e := range tl {
		if strings.Contains(e.Text, text) {
			return true
		}
	}
	return false
}

func (f *noiseFixture) escalation(incidentID int64) *models.Escalation {
	f.t.Helper()
	e, err := f.db.Store.EscalationOf(f.ctx, incidentID)
	if models.IsNotFound(err) {
		return nil
	}
	if err != nil {
		f.t.Fatal(err)
	}
	return e
}

// TestMaintenanceSuppression: an alert in a window is recorded, says why
// in its timeline and pages nobody; windows hold from their first second
// up to (not including) their end, weekly ones on their days in their
// zone, and label matchers hold only the alerts they match.
func TestMaintenanceSuppression(t *testing.T) {
	staging := map[string]string{"env": "staging", "team": "search"}
	prod := map[string]string{"env": "production"}
	tests := []struct {
		at      string
		service string
		labels  map[string]string
		window  string // "" pages
	}{
		{"2026-03-01T10:59:59Z", "checkout", staging, ""},
		{"2026-03-01T11:00:00Z", "checkout", staging, "staging-rebuild"},
		{"2026-03-01T11:00:00Z", "checkout", prod, ""},
		{"2026-03-01T11:00:00Z", "search", nil, ""},
		{"2026-03-01T11:29:59Z", "search", staging, "staging-rebuild"},
		{"2026-03-01T11:30:00Z", "search", staging, ""},
		{"2026-03-02T11:10:00Z", "search", staging, ""}, // a Monday
		{"2026-03-08T11:10:00Z", "checkout", staging, "staging-rebuild"},
		{"2026-03-01T12:59:59Z", "checkout", nil, ""},
		{"2026-03-01T13:00:00Z", "checkout", nil, "checkout-migration"},
		{"2026-03-01T13:00:00Z", "checkout", prod, "checkout-migration"},
		{"2026-03-01T13:00:00Z", "search", nil, ""},
		{"2026-03-01T13:00:00Z", "search", staging, "search-reindex"},
		{"2026-03-01T13:59:59Z", "checkout", nil, "checkout-migration"},
		{"2026-03-01T14:00:00Z", "checkout", nil, ""},
	}
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			f := newNoiseFixture(t, d)
			for i, tt := range tests {
				f.clock.Set(mustTime(t, tt.at))
				res := f.open(tt.service, "alert "+strconv.Itoa(i), "", tt.labels)
				if !res.Created {
					t.Fatalf("case %d: not created", i)
				}
				id := res.Incident.ID
				if tt.window == "" {
					if res.Paging != handlers.PagingStarted+"shop" || f.escalation(id) == nil {
						t.Errorf("case %d (%s %s %v): paging %q, want it paged", i, tt.at, tt.service, tt.labels, res.Paging)
					}
					continue
				}
				if !strings.HasPrefix(res.Paging, handlers.PagingSuppressed+`maintenance window "`+tt.window+`"`) || f.escalation(id) != nil {
					t.Errorf("case %d (%s %s %v): paging %q, want held by %s", i, tt.at, tt.service, tt.labels, res.Paging, tt.window)
				}
				if !f.timelineHas(id, `Not paged: maintenance window "`+tt.window+`"`) {
					t.Errorf("case %d: the timeline does not say why nobody was paged", i)
				}
				if inc, err := f.db.Store.IncidentByID(f.ctx, id); err != nil || !inc.IsOpen() {
					t.Errorf("case %d: the held alert's incident is not open: %v", i, err)
				}
			}
		})
	}
}

// TestMaintenanceCancelPending: when a cancel_pending window starts, the
// running escalations of the open incidents it matches stop (their queued
// pages suppressed) while the incidents stay open; others go on; it
// happens once per occurrence.
func TestMaintenanceCancelPending(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			f := newNoiseFixture(t, d)
			f.clock.Set(mustTime(t, "2026-03-01T12:30:00Z"))
			checkout := f.open("checkout", "checkout down", "", nil).Incident
			searchStaging := f.open("search", "staging search down", `{"labels":{"env":"staging"}}`, nil).Incident
			searchProd := f.open("search", "prod search down", `{"labels":{"env":"production"}}`, nil).Incident
			if _, err := f.engine.EscalateDue(f.ctx); err != nil {
				t.Fatal(err)
			}
			queued := func(id int64) int {
				t.Helper()
				ms, err := f.db.Store.MessagesOf(f.ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				n := 0
				for _, m := range ms {
					if m.Status == models.MessageQueued && !m.OutOfBand {
						n++
					}
				}
				return n
			}
			if queued(checkout.ID) == 0 || queued(searchStaging.ID) == 0 {
				t.Fatal("no pages queued before the windows")
			}
			cancel := func(at string, want int) {
				t.Helper()
				f.clock.Set(mustTime(t, at))
				n, err := f.maint.CancelPending(f.ctx)
				if err != nil || n != want {
					t.Fatalf("CancelPending at %s = %d, %v; want %d", at, n, err, want)
				}
			}
			cancel("2026-03-01T12:44:59Z", 0)
			cancel("2026-03-01T12:45:00Z", 1) // search-reindex: the staging incident only
			stopped := f.escalation(searchStaging.ID)
			if stopped.State != models.EscalationClaimed || stopped.ClaimedBy != `maintenance window "search-reindex"` || queued(searchStaging.ID) != 0 {
				t.Errorf("staging search escalation = %+v, %d queued", stopped, queued(searchStaging.ID))
			}
			if f.escalation(searchProd.ID).State != models.EscalationActive || f.escalation(checkout.ID).State != models.EscalationActive {
				t.Error("escalations the window does not match stopped")
			}
			cancel("2026-03-01T12:50:00Z", 0)
			cancel("2026-03-01T13:00:30Z", 1) // checkout-migration
			if e := f.escalation(checkout.ID); e.State != models.EscalationClaimed || queued(checkout.ID) != 0 {
				t.Errorf("checkout escalation = %+v, %d queued", e, queued(checkout.ID))
			}
			inc, err := f.db.Store.IncidentByID(f.ctx, checkout.ID)
			if err != nil || !inc.IsOpen() || inc.AcknowledgedAt != nil {
				t.Errorf("checkout incident after the window started = %+v, %v", inc, err)
			}
			if !f.timelineHas(checkout.ID, `Paging stopped: maintenance window "checkout-migration" (Database migration) started`) {
				t.Error("the timeline does not say paging stopped")
			}
			// The engine plans nothing more for it.
			f.clock.Advance(10 * time.Minute)
			if _, err := f.engine.EscalateDue(f.ctx); err != nil {
				t.Fatal(err)
			}
			if queued(checkout.ID) != 0 || queued(searchProd.ID) == 0 {
				t.Errorf("after the window started: checkout %d queued, production search %d", queued(checkout.ID), queued(searchProd.ID))
			}
			cancel("2026-03-01T13:30:00Z", 0)
		})
	}
}

// TestNoiseControlLease: one replica runs the checks at a time.
func TestNoiseControlLease(t *testing.T) {
	f := newNoiseFixture(t, models.DialectSQLite)
	a := &handlers.NoiseControl{Maintenance: f.maint, Heartbeats: f.beats, Leases: f.db.Store, Owner: "a", Log: f.log}
	b := &handlers.NoiseControl{Maintenance: f.maint, Heartbeats: f.beats, Leases: f.db.Store, Owner: "b", Log: f.log}
	for i, tt := range []struct {
		n       *handlers.NoiseControl
		advance time.Duration
		want    bool
	}{{a, 0, true}, {b, 0, false}, {a, handlers.NoiseCheckInterval, true}, {b, handlers.NoiseCheckInterval, false}, {b, 2 * handlers.NoiseCheckInterval, true}} {
		f.clock.Advance(tt.advance)
		ran, err := tt.n.Tick(f.ctx)
		if err != nil || ran != tt.want {
			t.Errorf("tick %d by %s = %v, %v; want %v", i, tt.n.Owner, ran, err, tt.want)
		}
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestWorkingHoursOnlyDefersLowUrgency: a working-hours-only service's
// SEV3 alert on a Sunday starts paging Monday 09:00 in its team's zone
// (the manager's); a SEV1 pages at once; a claim before Monday stops it.
func TestWorkingHoursOnlyDefersLowUrgency(t *testing.T) {
	t.Parallel()
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			f := newNoiseFixture(t, d)
			f.deps.Settings.WorkingHours = [2]int{9 * 60, 18 * 60}
			f.intake = handlers.NewIntake(f.deps)
			f.intake.DeferLowUrgency, f.intake.Zones = true, f.db.Store
			cfg := strings.Replace(noiseConfig, "  - {name: search, team: shop, plan: shop}", "  - {name: search, team: shop, plan: shop, working_hours_only: true}", 1)
			cfg = strings.Replace(cfg, "  - {name: alice, slack_id: U0ALICE}", "  - {name: alice, slack_id: U0ALICE}\n  - {name: mo, time_zone: Europe/Paris}", 1)
			c, err := notifications.ParseCatalog([]byte(cfg))
			if err != nil {
				t.Fatal(err)
			}
			c.Teams[0].Manager = "mo"
			if _, err := notifications.Apply(f.ctx, f.db.Store, c, notifications.ApplyOptions{}); err != nil {
				t.Fatal(err)
			}
			// noiseT0 is Sunday 1 March 2026, 10:00 UTC.
			low, err := f.intake.Open(f.ctx, handlers.NewAlert{Integration: f.prom, Service: "search", Title: "slow queries", Severity: models.SEV3})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(low.Paging, handlers.PagingDeferred) || !f.timelineHas(low.Incident.ID, "Not paged yet") {
				t.Errorf("low-urgency alert: paging %q", low.Paging)
			}
			e := f.escalation(low.Incident.ID)
			if want := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC); e == nil || e.NextCheckAt == nil || !e.NextCheckAt.Equal(want) {
				t.Fatalf("escalation %+v, want its first check Monday 09:00 Paris (%s)", e, want)
			}
			high, err := f.intake.Open(f.ctx, handlers.NewAlert{Integration: f.prom, Service: "search", Title: "search down", Severity: models.SEV1})
			if err != nil {
				t.Fatal(err)
			}
			if e := f.escalation(high.Incident.ID); e == nil || e.NextCheckAt == nil || e.NextCheckAt.After(f.clock.Now()) {
				t.Errorf("SEV1 escalation %+v, want it due now (paging %q)", e, high.Paging)
			}
			if _, err := f.intake.SetState(f.ctx, low.Incident.ID, handlers.StateClaimed, "alice"); err != nil {
				t.Fatal(err)
			}
			f.clock.Advance(48 * time.Hour)
			if _, err := f.engine.EscalateDue(f.ctx); err != nil {
				t.Fatal(err)
			}
			ms, err := f.db.Store.MessagesOf(f.ctx, low.Incident.ID)
			if err != nil || len(ms) != 0 {
				t.Errorf("a claimed deferred incident paged: %+v %v", ms, err)
			}
		})
	}
}
