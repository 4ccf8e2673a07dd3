package notifications_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/fakeclock"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
)

// skewedClock is a replica whose clock is off from the true time by off.
type skewedClock struct {
	truth *fakeclock.Clock
	off   time.Duration
}

func (c skewedClock) Now() time.Time { return c.truth.Now().Add(c.off) }

// skewRun is what happened to a two-step plan (alice now, bob once step 1
// ends 5 minutes later) paged by two replicas whose clocks are +2 and −2
// minutes off, both ticking every 15 s of true time for 10 minutes.
type skewRun struct {
	bobAt time.Duration  // true time since the start when bob's page was planned; -1 if never
	sends map[string]int // messages per step/notification/send index
}

func runSkewed(t *testing.T, f *fixture, synced bool) skewRun {
	t.Helper()
	truth := f.clock
	alice, bob := f.person("alice"), f.person("bob")
	f.contact(alice, notifications.ModeSMS, "+15550001", true)
	f.contact(bob, notifications.ModeSMS, "+15550002", true)
	f.plan("p", steps(step(user("alice", "high", 5, 0)), step(user("bob", "high", 0, 0))))
	var engines []*notifications.Engine
	for i, off := range []time.Duration{2 * time.Minute, -2 * time.Minute} {
		var clock models.Clock = skewedClock{truth: truth, off: off}
		if synced {
			// In production the reference is Store.DatabaseNow; here the
			// fake true clock stands in for the database's.
			sc, err := models.NewSyncedClock(f.ctx, clock, func(context.Context) (time.Time, error) { return truth.Now(), nil })
			if err != nil {
				t.Fatal(err)
			}
			clock = sc
		}
		store := models.NewStore(f.db.Gorm, clock)
		engines = append(engines, notifications.NewEngine(store, vendorsOf(newFakeVendor(fmt.Sprint("v", i), truth)),
			notifications.DirectoryRoles{Dir: store}, f.alerts, clock, quiet(t), notifications.EngineOptions{Owner: fmt.Sprint("replica-", i)}))
	}
	start := truth.Now()
	inc := f.incident("skew")
	// The slow replica starts it: the worst case for an early page.
	if err := engines[1].Escalate(f.ctx, inc.ID, "p"); err != nil {
		t.Fatal(err)
	}
	run := skewRun{bobAt: -1, sends: map[string]int{}}
	for truth.Now().Sub(start) <= 10*time.Minute {
		for _, e := range engines {
			f.tickWith(e)
		}
		if run.bobAt < 0 {
			for _, m := range f.messages(inc) {
				if m.PersonID != nil && *m.PersonID == bob.ID {
					run.bobAt = truth.Now().Sub(start)
				}
			}
		}
		truth.Advance(15 * time.Second)
	}
	for _, m := range f.messages(inc) {
		if m.EscalationID != nil {
			run.sends[fmt.Sprintf("step%d/n%d/k%d", m.Step, m.Notification, m.SendIndex)]++
		}
	}
	return run
}

// TestClockSkewRawClocksPageEarly documents why replicas use the synced
// clock: with raw clocks ±2 min off, step 2 is paged minutes early.
func TestClockSkewRawClocksPageEarly(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, f *fixture) {
		run := runSkewed(t, f, false)
		t.Logf("raw clocks: step 2 (due at +5m) paged at +%v; sends %v", run.bobAt, run.sends)
		if run.bobAt < 0 || run.bobAt >= 5*time.Minute-time.Minute {
			t.Fatalf("step 2 paged at +%v with raw skewed clocks; expected it early (this test shows the skew hazard)", run.bobAt)
		}
	})
}

// TestClockSkewSyncedClocks: two replicas 2 minutes fast and 2 minutes
// slow, on synced clocks, page step 2 no earlier than it is due (within
// one tick, 15 s) and every send exactly once.
func TestClockSkewSyncedClocks(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, f *fixture) {
		run := runSkewed(t, f, true)
		if run.bobAt < 5*time.Minute || run.bobAt > 5*time.Minute+15*time.Second {
			t.Errorf("step 2 (due at +5m) paged at +%v", run.bobAt)
		}
		want := map[string]int{"step0/n0/k0": 1, "step1/n0/k0": 1}
		if fmt.Sprint(run.sends) != fmt.Sprint(want) {
			t.Errorf("messages per send %v, want %v", run.sends, want)
		}
	})
}

// TestDatabaseNow: the database's clock is readable on both dialects and,
// on this one-host test setup, close to the process's.
func TestDatabaseNow(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, f *fixture) {
		got, err := f.store.DatabaseNow(f.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Since(got); d > 5*time.Second || d < -5*time.Second {
			t.Errorf("database clock %v is %v from this process's", got, d)
		}
		c, err := models.NewSyncedClock(f.ctx, models.SystemClock{}, f.store.DatabaseNow)
		if err != nil {
			t.Fatal(err)
		}
		if off := c.Offset(); off > 5*time.Second || off < -5*time.Second {
			t.Errorf("offset to the database %v", off)
		}
	})
}
