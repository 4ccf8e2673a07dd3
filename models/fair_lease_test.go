package models_test

import (
	"testing"
	"time"

	"github.com/heraldhq/herald/models"
)

// TestLeaseQueuedMessagesTakesTurns: a noisy application with a backlog of
// older pages does not hold back a quiet one's newer page; leftover share
// goes to the oldest pages; out-of-band notes still go last.
func TestLeaseQueuedMessagesTakesTurns(t *testing.T) {
	t.Parallel()
	forEachEscDB(t, func(t *testing.T, f *escFixture) {
		queue := func(app string, n int, age time.Duration, outOfBand bool) {
			t.Helper()
			inc, e := f.start()
			now := f.clock.Now()
			var msgs []models.Message
			for k := range n {
				m := f.msg(inc, e, 0, 0, k)
				m.Application, m.NotBefore = app, now.Add(-age+time.Duration(k)*time.Millisecond)
				if outOfBand {
					m.EscalationID, m.PlanVersionID, m.OutOfBand = nil, nil, true
				}
				msgs = append(msgs, m)
			}
			if err := f.s.QueueMessages(f.ctx, msgs); err != nil {
				t.Fatal(err)
			}
		}
		queue("noisy", 30, time.Hour, false)
		queue("quiet", 2, time.Minute, false)
		queue("calm", 1, time.Second, false)
		queue("", 1, 2*time.Hour, true) // an old out-of-band note

		got, err := f.s.LeaseQueuedMessages(f.ctx, "a", 9, 30*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		count := map[string]int{}
		for _, m := range got {
			if m.OutOfBand {
				t.Errorf("an out-of-band note went before due pages: %+v", m)
			}
			count[m.Application]++
		}
		// Shares of 3: quiet and calm send all theirs, noisy its 3 plus the
		// 3 they left.
		if want := map[string]int{"noisy": 6, "quiet": 2, "calm": 1}; len(got) != 9 || count["noisy"] != want["noisy"] || count["quiet"] != 2 || count["calm"] != 1 {
			t.Fatalf("leased %v (%d messages), want %v", count, len(got), want)
		}

		// Once only noisy pages are left it has every slot, and the note
		// goes when the pages are out.
		got, err = f.s.LeaseQueuedMessages(f.ctx, "a", 100, 30*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 25 || !got[len(got)-1].OutOfBand {
			t.Fatalf("leased %d messages (last out-of-band: %v), want the 24 noisy pages then the note", len(got), len(got) > 0 && got[len(got)-1].OutOfBand)
		}
		for i := 1; i < 24; i++ {
			if got[i].NotBefore.Before(got[i-1].NotBefore) {
				t.Fatalf("pages of one application not oldest first at %d", i)
			}
		}
	})
}

// TestLeaseDueEscalationsTakesTurns: checks due for a noisy application
// do not hold back another application's newer one.
func TestLeaseDueEscalationsTakesTurns(t *testing.T) {
	t.Parallel()
	forEachEscDB(t, func(t *testing.T, f *escFixture) {
		start := func(app string) *models.Escalation {
			t.Helper()
			inc, _, err := f.s.CreateIncident(f.ctx, models.NewIncident{Title: "x", Application: app, Source: "api"})
			if err != nil {
				t.Fatal(err)
			}
			e, err := f.s.StartEscalation(f.ctx, inc.ID, f.pv.ID)
			if err != nil {
				t.Fatal(err)
			}
			f.clock.Advance(time.Millisecond)
			return e
		}
		for range 10 {
			start("noisy")
		}
		quiet := start("quiet")
		if quiet.Application != "quiet" {
			t.Fatalf("escalation application %q", quiet.Application)
		}
		slack := start("") // declared from the API with no application: its source
		got, err := f.s.LeaseDueEscalations(f.ctx, "a", 4, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		apps := map[string]int{}
		for _, e := range got {
			apps[e.Application]++
		}
		if len(got) != 4 || apps["quiet"] != 1 || apps["api"] != 1 || apps["noisy"] != 2 || slack.Application != "api" {
			t.Fatalf("leased %v (%d), want the quiet and api checks among the first 4", apps, len(got))
		}
	})
}
