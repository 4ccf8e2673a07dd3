package notifications_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/heraldhq/herald/internal/promtest"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
	"github.com/heraldhq/herald/observability"
)

// metered gives the fixture an engine that records into a fresh registry
// (with o's options) and returns the registry.
func (f *fixture) metered(o notifications.EngineOptions, vs *notifications.Vendors) *prometheus.Registry {
	f.t.Helper()
	reg := prometheus.NewRegistry()
	obs, err := observability.New(reg)
	if err != nil {
		f.t.Fatal(err)
	}
	o.Metrics = obs
	if vs == nil {
		vs = vendorsOf(f.vendor)
	}
	f.engine = f.newEngine("metered", vs, o)
	return reg
}

// TestEngineMetrics drives pages through the engine and checks every
// series it records, exactly.
func TestEngineMetrics(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		run  func(t *testing.T, f *fixture) *prometheus.Registry
		want map[string]float64
	}{
		{
			name: "pages, the first page timed once per escalation, the claim timed",
			run: func(t *testing.T, f *fixture) *prometheus.Registry {
				reg := f.metered(notifications.EngineOptions{}, nil)
				f.person("alice")
				f.plan("p", steps(step(user("alice", "low", 1, 1))))
				f.clock.Advance(2 * time.Second)
				inc := f.escalate("db down", "p") // paging starts now…
				f.clock.Advance(3 * time.Second)
				f.tick() // …and the first page goes 3 s later
				f.clock.Advance(time.Minute)
				f.tick() // the repeat: a page, not a first page
				f.clock.Advance(27 * time.Second)
				if err := f.engine.Claim(f.ctx, inc.ID, "alice"); err != nil {
					t.Fatal(err)
				}
				f.tick() // the "claimed" note: out-of-band, not timed
				if n := len(f.vendor.accepted()); n != 3 {
					t.Fatalf("%d pages accepted, want 3", n)
				}
				return reg
			},
			want: map[string]float64{
				"herald_pages_total{mode=slack,outcome=accepted,vendor=fake}": 3,
				"herald_page_first_accepted_seconds_count":                    1,
				"herald_page_first_accepted_seconds_sum":                      3,
				"herald_incident_ack_seconds_count":                           1,
				"herald_incident_ack_seconds_sum":                             90,
			},
		},
		{
			name: "failed attempts, no destination, no vendor",
			run: func(t *testing.T, f *fixture) *prometheus.Registry {
				sms := newFakeVendor("sms-gw", f.clock, notifications.ModeSMS)
				sms.setFail(errors.New("gateway down"))
				reg := f.metered(notifications.EngineOptions{MaxAttempts: 2}, vendorsOf(sms))
				alice := f.person("alice")
				f.contact(alice, notifications.ModeSMS, "+15550001", true)
				f.person("bob", noSlack)
				f.prefer(alice, "high", "sms")
				f.plan("p", steps(step(user("alice", "high", 0, 0), user("bob", "low", 0, 0), user("alice", "low", 0, 0))))
				f.escalate("x", "p")
				for range 3 {
					f.tick()
					f.clock.Advance(time.Minute)
				}
				return reg
			},
			want: map[string]float64{
				"herald_pages_total{mode=sms,outcome=failed,vendor=sms-gw}":         2, // tried twice
				"herald_pages_total{mode=slack,outcome=no_destination,vendor=none}": 1, // bob has no Slack
				"herald_pages_total{mode=slack,outcome=no_vendor,vendor=none}":      1, // alice by Slack: nobody serves it
			},
		},
		{
			name: "rate limit and throttle hold pages back; a dead sender's page is taken over",
			run: func(t *testing.T, f *fixture) *prometheus.Registry {
				reg := f.metered(notifications.EngineOptions{
					RateLimits: map[notifications.Mode]notifications.Rate{notifications.ModeSMS: {Count: 1, Per: time.Minute}},
					Throttle:   notifications.Throttle{Max: 1, Within: time.Hour},
				}, nil)
				for _, n := range []string{"alice", "bob"} {
					p := f.person(n)
					f.contact(p, notifications.ModeSMS, "+1555000"+n, true)
					f.prefer(p, "high", "sms")
				}
				f.plan("sms", steps(step(user("alice", "high", 0, 0), user("bob", "high", 0, 0))))
				f.escalate("storm", "sms")
				f.tick() // one SMS goes, the other waits for the next minute
				f.plan("slack", steps(step(user("carol", "low", 0, 0))))
				f.person("carol")
				f.escalate("one", "slack")
				f.escalate("two", "slack")
				f.tick() // carol's second Slack page is throttled

				// A sender that dies mid-send: its lease runs out, the page is
				// taken over.
				f.clock.Advance(time.Minute)
				if leased, err := f.store.LeaseQueuedMessages(f.ctx, "dead", 10, 5*time.Second); err != nil || len(leased) != 1 {
					t.Fatalf("leased %d, %v", len(leased), err)
				}
				f.clock.Advance(10 * time.Second)
				if n, err := f.engine.ReclaimExpiredSends(f.ctx); err != nil || n != 1 {
					t.Fatalf("reclaimed %d, %v", n, err)
				}
				f.tick()
				return reg
			},
			want: map[string]float64{
				"herald_pages_total{mode=sms,outcome=accepted,vendor=fake}":   2,
				"herald_pages_total{mode=slack,outcome=accepted,vendor=fake}": 1,
				"herald_pages_held_total{mode=sms,reason=rate_limit}":         1,
				"herald_pages_held_total{mode=slack,reason=throttled}":        1,
				"herald_send_takeovers_total":                                 1,
				// The storm's first SMS and carol's first page, at once; the
				// held SMS is not its escalation's first.
				"herald_page_first_accepted_seconds_count": 2,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			forEachDialect(t, func(t *testing.T, f *fixture) {
				reg := tt.run(t, f)
				want := map[string]float64{
					// Series without labels are always there, 0 or not.
					"herald_page_first_accepted_seconds_count": 0, "herald_page_first_accepted_seconds_sum": 0,
					"herald_incident_ack_seconds_count": 0, "herald_incident_ack_seconds_sum": 0,
					"herald_send_takeovers_total": 0,
				}
				for k, v := range tt.want {
					want[k] = v
				}
				if diff := promtest.Diff(promtest.Series(t, reg, "herald_"), want); len(diff) > 0 {
					t.Errorf("metrics:\n%s", strings.Join(diff, "\n"))
				}
				if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
					t.Errorf("lint: %v %v", problems, err)
				}
			})
		})
	}
}

// TestEngineWithoutMetrics: the engine records no first pages without
// Metrics (no extra statement on the hot path).
func TestEngineWithoutMetrics(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, f *fixture) {
		f.person("alice")
		f.plan("p", steps(step(user("alice", "low", 0, 0))))
		inc := f.escalate("x", "p")
		f.tick()
		if m := f.messages(inc)[0]; m.Status != models.MessageSent {
			t.Fatalf("not sent: %+v", m)
		}
		if esc := f.escalation(inc); esc.FirstPageAt != nil {
			t.Errorf("first_page_at recorded without metrics: %v", esc.FirstPageAt)
		}
	})
}
