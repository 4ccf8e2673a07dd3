package handlers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/heraldhq/herald/bot"
	"github.com/heraldhq/herald/handlers"
	"github.com/heraldhq/herald/internal/fakeclock"
	"github.com/heraldhq/herald/internal/slackfake"
	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
	"github.com/heraldhq/herald/notifications/schedule"
)

// go test ./handlers -run 'TestOncall' -update rewrites testdata/oncall_*.golden.json.
var update = flag.Bool("update", false, "rewrite golden files in testdata/ with the current output")

// oncallT0 is Monday 2 March 2026, 08:00 in London (GMT): alice's week
// of primary ends at 09:00, when bob's starts.
var oncallT0 = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

// Slack ids of the on-call tests' people; dave has none, erin is in
// Slack but not in Herald, frank (U0FRANK) is inactive.
const (
	ocAlice = "U0ALICE"
	ocBob   = "U0BOB"
	ocCarol = "U0CAROL"
	ocErin  = "U0ERIN"
)

const oncallConfig = `
people:
  - {name: alice, slack_id: U0ALICE, time_zone: Europe/London}
  - {name: bob, slack_id: U0BOB}
  - {name: carol, slack_id: U0CAROL, time_zone: Europe/Paris}
  - {name: dave, full_name: Dave Jones}
  - {name: frank, slack_id: U0FRANK, active: false}
teams:
  - {name: payments, slack_channel: C0PAYMENTS, members: [alice, bob, carol], oncall: {primary: alice, secondary: carol}}
  - {name: search, members: [alice], oncall: {primary: alice}}
  - {name: infra, members: [dave, carol]}
`

// oncallRig is a database with the people and teams above and these
// schedules: payments has "Payments" (weekly primary alice, bob,
// Mondays 09:00 London, from 23 February); infra has "Infra weekdays"
// (dave, 09:00-17:00 on weekdays) and "Infra weekends" (dave, weekends),
// so it has a gap at 08:00 on Monday. search has none.
type oncallRig struct {
	t      *testing.T
	ctx    context.Context
	db     *testdb.DB
	store  *models.Store
	clock  *fakeclock.Clock
	fake   *slackfake.Fake
	deps   handlers.Deps
	reg    *bot.Registries
	disp   *bot.Dispatcher
	worker *bot.Worker
	cache  *schedule.Resolver
	people map[string]*models.Person
	seq    int
}

func newOncallRig(t *testing.T, dialect string) *oncallRig {
	t.Helper()
	clock := fakeclock.New(oncallT0)
	db := testdb.New(t, dialect, clock)
	r := &oncallRig{t: t, ctx: context.Background(), db: db, store: db.Store, clock: clock, fake: slackfake.New(t), people: map[string]*models.Person{}}
	c, err := notifications.ParseCatalog([]byte(oncallConfig))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := notifications.Apply(r.ctx, db.Store, c, notifications.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"alice", "bob", "carol", "dave"} {
		if r.people[name], err = db.Store.PersonByName(r.ctx, name); err != nil {
			t.Fatal(err)
		}
	}
	by := models.Actor{Name: "test"}
	r.schedule(by, "payments", "Payments", "Europe/London", models.Rotation{Name: "weekly", Role: models.RotationPrimary, ShiftKind: models.ShiftWeekly,
		HandoffTime: "09:00", HandoffWeekday: "mon", StartDate: "2026-02-23", Members: []string{r.people["alice"].ID, r.people["bob"].ID}})
	weekdays := []string{"mon", "tue", "wed", "thu", "fri"}
	r.schedule(by, "infra", "Infra weekdays", "UTC", models.Rotation{Name: "days", Role: models.RotationPrimary, ShiftKind: models.ShiftWeekly,
		HandoffTime: "09:00", HandoffWeekday: "mon", StartDate: "2026-02-23", Members: []string{r.people["dave"].ID},
		Windows: models.RotationWindows{{Weekdays: weekdays, Start: "09:00", End: "17:00"}}})
	r.schedule(by, "infra", "Infra weekends", "UTC", models.Rotation{Name: "weekends", Role: models.RotationPrimary, ShiftKind: models.ShiftWeekly,
		HandoffTime: "00:00", HandoffWeekday: "sat", StartDate: "2026-02-23", Members: []string{r.people["dave"].ID},
		Windows: models.RotationWindows{{Weekdays: []string{"sat", "sun"}, Start: "08:00", End: "20:00"}}})

	// A real resolver as the cache: /oncall cover must drop it. Its
	// version check is off, so only Invalidate can refresh it.
	r.cache = schedule.NewResolver(db.Store, clock, schedule.ResolverOptions{TTL: time.Hour, VersionCheck: -1})
	d := builtinDeps(t)
	d.Store, d.Slack, d.Clock = db.Store, slack.New("xoxb-test", slack.OptionAPIURL(r.fake.APIURL())), clock
	d.OnCall, d.OnCallCache = db.Store, r.cache
	r.deps = d
	r.reg = bot.NewRegistries()
	if err := handlers.RegisterBuiltins(r.reg, d); err != nil {
		t.Fatal(err)
	}
	if r.disp, err = bot.NewDispatcher(r.reg, db.Store, nil, d.Log, nil); err != nil {
		t.Fatal(err)
	}
	r.worker = bot.NewWorker(db.Store, r.reg.Jobs, clock, d.Log, nil, bot.WorkerOptions{Owner: "test", Concurrency: 1})
	return r
}

func forEachOncallDialect(t *testing.T, fn func(t *testing.T, r *oncallRig)) {
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) { fn(t, newOncallRig(t, d)) })
	}
}

func (r *oncallRig) schedule(by models.Actor, team, name, zone string, rot models.Rotation) {
	r.t.Helper()
	tm, err := r.store.TeamByName(r.ctx, team)
	if err != nil {
		r.t.Fatal(err)
	}
	sc := &models.Schedule{TeamID: tm.ID, Name: name, TimeZone: zone}
	if err := r.store.CreateSchedule(r.ctx, by, sc); err != nil {
		r.t.Fatal(err)
	}
	rot.ScheduleID = sc.ID
	if err := r.store.CreateRotation(r.ctx, by, &rot); err != nil {
		r.t.Fatal(err)
	}
}

// slash runs `/oncall <text>` from user through the dispatcher.
func (r *oncallRig) slash(user, text string) bot.SlashResponse {
	r.t.Helper()
	resp, err := r.disp.Slash(r.ctx, slack.SlashCommand{Command: "/oncall", Text: text, UserID: user, ChannelID: "C0ANY", TriggerID: "t1"})
	if err != nil {
		r.t.Fatalf("/oncall %s: %v", text, err)
	}
	return resp
}

// mention delivers `@incident oncall <text>` from user in a channel that
// is no incident's.
func (r *oncallRig) mention(user, text string) error {
	h, ok := r.reg.Events.Lookup("incident-commands")
	if !ok {
		r.t.Fatal("no incident-commands event handler")
	}
	r.seq++
	ts := fmt.Sprintf("%d.%06d", r.clock.Now().Unix(), r.seq*100)
	ev := &slackevents.AppMentionEvent{Type: "app_mention", User: user, Text: "<@" + slackfake.BotUserID + "> oncall " + text,
		TimeStamp: ts, Channel: "C0GENERAL", EventTimeStamp: ts}
	return h.Run(r.ctx, bot.EventRequest{EventID: "Ev" + ts, Inner: slackevents.EventsAPIInnerEvent{Type: "app_mention", Data: ev}})
}

func (r *oncallRig) overrides() []models.ScheduleOverride {
	r.t.Helper()
	scheds, err := r.store.Schedules(r.ctx, "")
	if err != nil {
		r.t.Fatal(err)
	}
	ids := make([]string, len(scheds))
	for i, s := range scheds {
		ids[i] = s.ID
	}
	out, err := r.store.Overrides(r.ctx, oncallT0.Add(-time.Hour), oncallT0.Add(30*24*time.Hour), ids...)
	if err != nil {
		r.t.Fatal(err)
	}
	return out
}

// golden compares blocks, as Slack receives them, with
// testdata/<name>.golden.json.
func golden(t *testing.T, name string, blocks []slack.Block) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(blocks); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", name+".golden.json")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./handlers -run %s -update to create it)", err, t.Name())
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("%s differs from the output (run with -update if the change is intended):\n--- got\n%s\n--- want\n%s", path, buf.Bytes(), want)
	}
}

func wantAll(t *testing.T, what, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("%s = %q, want it to contain %q", what, got, w)
		}
	}
}

func blocksText(t *testing.T, blocks []slack.Block) string {
	t.Helper()
	var parts []string
	for _, b := range blocks {
		switch b := b.(type) {
		case *slack.SectionBlock:
			parts = append(parts, b.Text.Text)
		case *slack.ContextBlock:
			for _, e := range b.ContextElements.Elements {
				if tx, ok := e.(*slack.TextBlockObject); ok {
					parts = append(parts, tx.Text)
				}
			}
		case *slack.DividerBlock:
			parts = append(parts, "---")
		default:
			t.Fatalf("unexpected block %T", b)
		}
	}
	return strings.Join(parts, "\n")
}

// TestOncallShow: /oncall <team> shows each role now and next, from the
// schedule or, with none, the static assignment; without a team the
// caller's teams; an unknown team lists the teams. @incident oncall
// answers the same anywhere.
func TestOncallShow(t *testing.T) {
	forEachOncallDialect(t, func(t *testing.T, r *oncallRig) {
		resp := r.slash(ocCarol, "payments")
		if resp.InChannel {
			t.Error("/oncall payments answered in the channel; want ephemeral")
		}
		golden(t, "oncall_payments", resp.Blocks)
		wantAll(t, "notification text", resp.Text, "On call for payments: primary <@U0ALICE>, secondary <@U0CAROL>")
		got := blocksText(t, resp.Blocks)
		wantAll(t, "payments", got,
			"*Primary*: <@U0ALICE> until <!date^1772442000^", "primary, Payments weekly", "Next: <@U0BOB> from <!date^1772442000^",
			"*Secondary*: <@U0CAROL>", "static assignment: no schedule for this role")
		if strings.Contains(got, "Shadow") {
			t.Error("shadow shown for a team that schedules none")
		}

		golden(t, "oncall_gap", r.slash(ocCarol, "infra").Blocks)
		wantAll(t, "infra", blocksText(t, r.slash(ocCarol, "infra").Blocks), "nobody (schedule gap", "Next: Dave Jones from <!date^1772442000^",
			"*Secondary*: nobody (no schedule and no static assignment)")

		// No team: alice's teams, payments and search (static only).
		mine := r.slash(ocAlice, "")
		golden(t, "oncall_my_teams", mine.Blocks)
		wantAll(t, "alice's teams", blocksText(t, mine.Blocks), "On call for payments", "On call for search", "*Primary*: <@U0ALICE>\n_static assignment")

		// Erin is in no team: the usage and the teams.
		wantAll(t, "no teams", r.slash(ocErin, "").Text, "You are in no Herald team", "Teams: `infra`, `payments`, `search`.", "/oncall cover")
		wantAll(t, "unknown team", r.slash(ocAlice, "nope").Text, "There is no team called `nope`. Teams: `infra`, `payments`, `search`.", "Usage:")
		wantAll(t, "help", r.slash(ocAlice, "help").Text, "`/oncall [team]`", "`/oncall cover [@person]")
		wantAll(t, "two words", r.slash(ocAlice, "payments now").Text, "Name one team", "Usage:")

		// @incident oncall: the same blocks, ephemeral, in any channel.
		if err := r.mention(ocBob, "payments"); err != nil {
			t.Fatal(err)
		}
		calls := r.fake.Calls("chat.postEphemeral")
		if len(calls) != 1 || calls[0].Param("user") != ocBob || calls[0].Param("channel") != "C0GENERAL" {
			t.Fatalf("want one ephemeral to bob in C0GENERAL, got %d: %+v", len(calls), calls)
		}
		mb, err := calls[0].Blocks()
		if err != nil {
			t.Fatal(err)
		}
		if a, b := blocksText(t, mb), blocksText(t, resp.Blocks); strings.ReplaceAll(a, "@incident oncall", "/oncall") != b {
			t.Errorf("@incident oncall blocks differ from /oncall's:\n%s\n%s", a, b)
		}
		if err := r.mention(ocBob, "cover 2x"); err != nil {
			t.Fatal(err)
		}
		wantAll(t, "mention usage", r.fake.Calls("chat.postEphemeral")[1].AllText(), "`2x` is not a duration", "Usage: `@incident oncall [team] | cover")
	})
}

// TestOncallShowNextWeek: after the handoff and around an override the
// answer follows the schedule: bob until the next Monday, then alice.
func TestOncallShowNextWeek(t *testing.T) {
	r := newOncallRig(t, models.DialectSQLite)
	r.clock.Set(time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC))
	wantAll(t, "wednesday", blocksText(t, r.slash(ocCarol, "payments").Blocks),
		"*Primary*: <@U0BOB> until <!date^1773046800^", "Next: <@U0ALICE> from <!date^1773046800^")
}
