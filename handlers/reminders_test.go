package handlers

import (
	"context"
	"strings"
	"sync"
	"testing"
	"text/template"
	"time"

	"github.com/slack-go/slack"

	"github.com/heraldhq/herald/bot"
	"github.com/heraldhq/herald/internal/fakeclock"
	"github.com/heraldhq/herald/internal/slackfake"
	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/internal/testlog"
	"github.com/heraldhq/herald/models"
)

// reminderRig is a store, a fake Slack and the built-in registrations.
type reminderRig struct {
	store *models.Store
	fake  *slackfake.Fake
	clock *fakeclock.Clock
	reg   *bot.Registries
	deps  Deps
}

func newReminderRig(t *testing.T, dialect string) *reminderRig {
	t.Helper()
	clock := fakeclock.New(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)) // a Monday, 09:00 UTC
	db := testdb.New(t, dialect, clock)
	fake := slackfake.New(t)
	d := Deps{
		Store: db.Store, Slack: slack.New("xoxb-test", slack.OptionAPIURL(fake.APIURL())), Clock: clock,
		Log: testlog.Logger(t),
		Settings: Settings{
			BaseURL: "https://herald.test", IncidentChannelName: "incidents", BotName: "incident", BotUserID: slackfake.BotUserID,
			CommsTemplate: template.Must(NewChannelNameTemplate("inc-{{.Number}}-{{.Slug}}")), AutoCommsSeverity: 0,
			WorkingHours: [2]int{9 * 60, 18 * 60}, StatusIntervals: []time.Duration{30 * time.Minute, time.Hour, 4 * time.Hour, 0},
		},
	}
	reg := bot.NewRegistries()
	if err := RegisterBuiltins(reg, d); err != nil {
		t.Fatal(err)
	}
	d.Reminders = reg.Notifications
	return &reminderRig{store: db.Store, fake: fake, clock: clock, reg: reg, deps: d}
}

func (r *reminderRig) declare(t *testing.T, sev models.Severity) *models.Incident {
	t.Helper()
	ctx := context.Background()
	reporter, err := r.store.UpsertSlackUser(ctx, models.SlackUser{ID: "U0REPORTER"})
	if err != nil {
		t.Fatal(err)
	}
	inc, _, err := r.store.CreateIncident(ctx, models.NewIncident{
		Title: "Checkout is down", Severity: sev, ReporterID: &reporter.ID, Reminders: r.deps.reminderPlan(r.clock.Now()),
	})
	if err != nil {
		t.Fatal(err)
	}
	name := "inc-" + itoa(inc.Number)
	if _, err := r.store.ClaimCommsChannel(ctx, inc.ID, name, false, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := r.store.CompleteCommsChannel(ctx, inc.ID, r.fake.AddChannel(name, false), name); err != nil {
		t.Fatal(err)
	}
	return inc
}

func (r *reminderRig) runner(owner string) *bot.Reminders {
	return bot.NewReminders(r.store, r.reg.Notifications, r.clock, r.deps.Log, owner, time.Second)
}

// sent counts reminder posts whose text contains marker.
func (r *reminderRig) sent(marker string) int {
	n := 0
	for _, c := range r.fake.Calls("chat.postMessage") {
		if strings.Contains(c.Param("text"), marker) {
			n++
		}
	}
	return n
}

func TestRemindersNoLeadStopsAtMaxAndSaysSo(t *testing.T) {
	for _, dialect := range testdb.Dialects {
		t.Run(dialect, func(t *testing.T) {
			r := newReminderRig(t, dialect)
			ctx := context.Background()
			r.declare(t, models.SEV2)
			run := r.runner("a")
			for i := 0; i < 12; i++ {
				r.clock.Advance(2 * time.Minute)
				if _, err := run.RunDue(ctx); err != nil {
					t.Fatal(err)
				}
			}
			if got := r.sent("has no lead"); got != 5 {
				t.Fatalf("no-lead reminders sent = %d, want 5 (MaxCount)", got)
			}
			if got := r.sent("(last reminder)"); got < 1 {
				t.Fatalf("the last no-lead reminder does not say it is the last")
			}
		})
	}
}

func TestRemindersDoneWhenLeadSet(t *testing.T) {
	for _, dialect := range testdb.Dialects {
		t.Run(dialect, func(t *testing.T) {
			r := newReminderRig(t, dialect)
			ctx := context.Background()
			inc := r.declare(t, models.SEV2)
			run := r.runner("a")
			r.clock.Advance(2 * time.Minute)
			if _, err := run.RunDue(ctx); err != nil {
				t.Fatal(err)
			}
			lead, _ := r.store.UpsertSlackUser(ctx, models.SlackUser{ID: "U0LEAD"})
			if _, err := r.deps.setLead(ctx, inc.ID, lead, lead); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 5; i++ {
				r.clock.Advance(2 * time.Minute)
				if _, err := run.RunDue(ctx); err != nil {
					t.Fatal(err)
				}
			}
			if got := r.sent("has no lead"); got != 1 {
				t.Fatalf("no-lead reminders = %d, want 1 (it stops once a lead is set)", got)
			}
			states, err := r.store.Reminders(ctx, inc.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range states {
				if s.Name == "no-lead" && s.DoneAt == nil {
					t.Fatalf("no-lead reminder not done after a lead was set")
				}
			}
		})
	}
}

// A reminder whose condition is false is skipped without using up a send:
// a SEV1 status reminder waits for 30 minutes of silence, however often it
// is checked.
func TestStatusReminderConditionDoesNotBurnSends(t *testing.T) {
	for _, dialect := range testdb.Dialects {
		t.Run(dialect, func(t *testing.T) {
			r := newReminderRig(t, dialect)
			ctx := context.Background()
			inc := r.declare(t, models.SEV1)
			run := r.runner("a")
			for i := 0; i < 5; i++ { // 25 minutes: under the 30-minute interval
				r.clock.Advance(5 * time.Minute)
				if _, err := run.RunDue(ctx); err != nil {
					t.Fatal(err)
				}
			}
			if got := r.sent("No update on incident"); got != 0 {
				t.Fatalf("status reminder sent after 25 minutes: %d", got)
			}
			states, _ := r.store.Reminders(ctx, inc.ID)
			for _, s := range states {
				if s.Name == "status-update" && s.SentCount != 0 {
					t.Fatalf("skipped status reminders were counted: sent_count=%d", s.SentCount)
				}
			}
			r.clock.Advance(5 * time.Minute)
			if _, err := run.RunDue(ctx); err != nil {
				t.Fatal(err)
			}
			if got := r.sent("No update on incident"); got != 1 {
				t.Fatalf("status reminders after 30 silent minutes = %d, want 1", got)
			}
			// The gap: the next one waits a full interval again.
			for i := 0; i < 5; i++ {
				r.clock.Advance(5 * time.Minute)
				if _, err := run.RunDue(ctx); err != nil {
					t.Fatal(err)
				}
			}
			if got := r.sent("No update on incident"); got != 1 {
				t.Fatalf("status reminders 25 minutes after the first = %d, want still 1", got)
			}
		})
	}
}

// Two replicas running reminders against one database never send the same
// one twice, and a new runner (after a restart) carries on from the stored
// state.
func TestRemindersTwoRunnersNoDuplicates(t *testing.T) {
	r := newReminderRig(t, models.DialectPostgres)
	ctx := context.Background()
	for i := 0; i < 10; i++ {
		r.declare(t, models.SEV2)
	}
	r.clock.Advance(2 * time.Minute)
	var wg sync.WaitGroup
	for _, owner := range []string{"a", "b"} {
		wg.Add(1)
		go func(run *bot.Reminders) {
			defer wg.Done()
			if _, err := run.RunDue(ctx); err != nil {
				t.Error(err)
			}
		}(r.runner(owner))
	}
	wg.Wait()
	if got := r.sent("has no lead"); got != 10 {
		t.Fatalf("no-lead reminders from two runners = %d, want 10 (one per incident)", got)
	}
	r.clock.Advance(2 * time.Minute)
	if _, err := r.runner("restarted").RunDue(ctx); err != nil {
		t.Fatal(err)
	}
	if got := r.sent("has no lead"); got != 20 {
		t.Fatalf("after restart = %d, want 20", got)
	}
}

func TestCloseMeOnlyInWorkingHours(t *testing.T) {
	d := Deps{Settings: Settings{WorkingHours: [2]int{9 * 60, 18 * 60}}}
	cases := []struct {
		name string
		at   time.Time
		zone string
		want bool
	}{
		{"monday 10:00 UTC", time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC), "", true},
		{"monday 08:59 UTC", time.Date(2026, 3, 2, 8, 59, 0, 0, time.UTC), "UTC", false},
		{"monday 18:00 UTC is after hours", time.Date(2026, 3, 2, 18, 0, 0, 0, time.UTC), "UTC", false},
		{"saturday noon", time.Date(2026, 3, 7, 12, 0, 0, 0, time.UTC), "", false},
		{"10:00 UTC is 19:00 in Tokyo", time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC), "Asia/Tokyo", false},
		{"14:00 UTC is 09:00 in New York", time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC), "America/New_York", true},
		{"unknown zone falls back to UTC", time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC), "Mars/Olympus", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := d.inWorkingHours(c.at, c.zone); got != c.want {
				t.Fatalf("inWorkingHours = %v, want %v", got, c.want)
			}
		})
	}
}
