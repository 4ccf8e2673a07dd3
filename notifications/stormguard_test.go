package notifications_test

import (
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
)

// modesSent counts the accepted messages per mode.
func modesSent(ss []sent) map[notifications.Mode]int {
	out := map[notifications.Mode]int{}
	for _, s := range ss {
		out[s.Msg.Mode]++
	}
	return out
}

// TestRateLimitSharedByReplicas: a mode's limit holds for all replicas
// together; the messages over it wait for the next window, are not
// counted as attempts and say why in their history.
func TestRateLimitSharedByReplicas(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, f *fixture) {
		alice := f.person("alice")
		f.contact(alice, notifications.ModeSMS, "+15550100", true)
		f.plan("p", steps(step(user("alice", "high", 30, 0))))
		limits := notifications.EngineOptions{RateLimits: map[notifications.Mode]notifications.Rate{notifications.ModeSMS: {Count: 2, Per: time.Minute}}}
		vs := notifications.NewVendors()
		if err := vs.Register(f.vendor); err != nil {
			t.Fatal(err)
		}
		a, b := f.newEngine("engine-a", vs, limits), f.newEngine("engine-b", vs, limits)
		f.engine = a
		var incs []*models.Incident
		for range 5 {
			incs = append(incs, f.escalate("storm", "p"))
		}
		f.tickWith(a)
		f.tickWith(b)
		if n := len(f.vendor.accepted()); n != 2 {
			t.Fatalf("%d sms sent in the first minute by two replicas, want 2", n)
		}
		held := 0
		for _, inc := range incs {
			for _, m := range f.messages(inc) {
				if m.Status != models.MessageQueued {
					continue
				}
				held++
				if m.Attempts != 0 || !m.NotBefore.Equal(t0.Add(time.Minute)) {
					t.Errorf("held message: attempts %d not before %v, want 0 and %v", m.Attempts, m.NotBefore, t0.Add(time.Minute))
				}
				cs := f.changes(m)
				if len(cs) == 0 || !strings.Contains(cs[len(cs)-1].Detail, "rate limited") {
					t.Errorf("held message change log = %+v", cs)
				}
			}
		}
		if held != 3 {
			t.Errorf("%d messages held, want 3", held)
		}
		f.clock.Advance(30 * time.Second)
		f.tickWith(b)
		if n := len(f.vendor.accepted()); n != 2 {
			t.Fatalf("%d sms sent before the next window, want 2", n)
		}
		f.clock.Advance(30 * time.Second)
		f.tickWith(b)
		f.tickWith(a)
		if n := len(f.vendor.accepted()); n != 4 {
			t.Fatalf("%d sms sent by the second window, want 4", n)
		}
		f.clock.Advance(time.Minute)
		f.tickWith(a)
		if n := len(f.vendor.accepted()); n != 5 {
			t.Fatalf("%d sms sent by the third window, want 5", n)
		}
		for _, inc := range incs {
			for _, m := range f.messages(inc) {
				if m.Status != models.MessageSent || m.Attempts != 1 {
					t.Errorf("message %d: status %s attempts %d, want sent after 1 attempt", m.ID, m.Status, m.Attempts)
				}
			}
		}
	})
}

// TestRateLimitPagesBeforeOutOfBand: when the budget is short, escalation
// pages get it before out-of-band messages, even older ones.
func TestRateLimitPagesBeforeOutOfBand(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, f *fixture) {
		alice := f.person("alice")
		f.contact(alice, notifications.ModeSMS, "+15550100", true)
		f.plan("p", steps(step(user("alice", "high", 30, 0))))
		vs := notifications.NewVendors()
		if err := vs.Register(f.vendor); err != nil {
			t.Fatal(err)
		}
		f.engine = f.newEngine("engine-a", vs, notifications.EngineOptions{
			RateLimits: map[notifications.Mode]notifications.Rate{notifications.ModeSMS: {Count: 1, Per: time.Minute}}})
		before := t0.Add(-time.Minute)
		if err := f.store.QueueMessages(f.ctx, []models.Message{{PersonID: &alice.ID, Mode: "sms", Priority: "low", Subject: "fyi", Body: "fyi",
			OutOfBand: true, Status: models.MessageQueued, NotBefore: before, CreatedAt: before}}); err != nil {
			t.Fatal(err)
		}
		f.escalate("db down", "p")
		f.tick()
		got := f.vendor.accepted()
		if len(got) != 1 || got[0].Msg.OutOfBand {
			t.Fatalf("sent %+v, want the escalation page only", got)
		}
		f.clock.Advance(time.Minute)
		f.tick()
		if got := f.vendor.accepted(); len(got) != 2 || !got[1].Msg.OutOfBand {
			t.Fatalf("sent %+v, want the out-of-band message next window", got)
		}
	})
}

// TestThrottleReroutes: a person who already had Max pages in a mode
// within the window gets the next ones in the fallback mode.
func TestThrottleReroutes(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, f *fixture) {
		alice := f.person("alice")
		f.contact(alice, notifications.ModeSMS, "+15550100", true)
		f.plan("p", steps(step(user("alice", "high", 30, 0))))
		vs := notifications.NewVendors()
		if err := vs.Register(f.vendor); err != nil {
			t.Fatal(err)
		}
		f.engine = f.newEngine("engine-a", vs, notifications.EngineOptions{Throttle: notifications.Throttle{Max: 2, Within: 10 * time.Minute,
			Fallback: map[notifications.Mode]notifications.Mode{notifications.ModeSMS: notifications.ModeSlack}}})
		f.escalate("one", "p")
		f.tick() // one sms before the burst: counted from the database
		f.clock.Advance(time.Minute)
		for range 3 {
			f.escalate("storm", "p")
		}
		f.tick() // one in the same batch: counted as planned
		if got := modesSent(f.vendor.accepted()); got[notifications.ModeSMS] != 2 || got[notifications.ModeSlack] != 2 {
			t.Fatalf("sent %v, want 2 sms then 2 on slack", got)
		}
		f.clock.Advance(10 * time.Minute) // the first sms leaves the window
		f.escalate("later", "p")
		f.tick()
		if got := modesSent(f.vendor.accepted()); got[notifications.ModeSMS] != 3 {
			t.Fatalf("sent %v, want a third sms once the window moved on", got)
		}
	})
}

// TestThrottleSuppresses: without a fallback the throttled page is
// recorded suppressed ("throttled"), and an unclaim does not queue it.
func TestThrottleSuppresses(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, f *fixture) {
		alice := f.person("alice")
		f.contact(alice, notifications.ModeSMS, "+15550100", true)
		f.plan("p", steps(step(user("alice", "high", 30, 0))))
		vs := notifications.NewVendors()
		if err := vs.Register(f.vendor); err != nil {
			t.Fatal(err)
		}
		f.engine = f.newEngine("engine-a", vs, notifications.EngineOptions{Throttle: notifications.Throttle{Max: 1, Within: 10 * time.Minute}})
		incs := []*models.Incident{f.escalate("one", "p"), f.escalate("two", "p")}
		f.tick()
		if n := len(f.vendor.accepted()); n != 1 {
			t.Fatalf("%d pages sent, want 1", n)
		}
		// The two are planned at once: either may be the one throttled.
		var throttled *models.Incident
		for _, inc := range incs {
			if ms := f.messages(inc); len(ms) == 1 && ms[0].Status == models.MessageSuppressed && ms[0].Error == models.ThrottledDetail {
				throttled = inc
			}
		}
		if throttled == nil {
			t.Fatalf("no throttled page recorded: %+v %+v", f.messages(incs[0]), f.messages(incs[1]))
		}
		if err := f.engine.Claim(f.ctx, throttled.ID, "Dana"); err != nil {
			t.Fatal(err)
		}
		if err := f.engine.Unclaim(f.ctx, throttled.ID); err != nil {
			t.Fatal(err)
		}
		if ms := f.messages(throttled); ms[0].Status != models.MessageSuppressed {
			t.Fatalf("throttled page after unclaim: %s, want still suppressed", ms[0].Status)
		}
	})
}
