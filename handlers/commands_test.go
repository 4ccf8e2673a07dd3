package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
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
	"github.com/heraldhq/herald/internal/testlog"
	"github.com/heraldhq/herald/models"
)

// People in the command tests; Bob is an Enterprise Grid user (W id).
const (
	alice = "U0ALICE"
	bob   = "W0BOB"
	carol = "U0CAROL"
)

// cmdStart is when the command tests' clock starts (whole seconds, so
// times compare exactly on both dialects).
var cmdStart = time.Date(2026, 3, 12, 14, 0, 0, 0, time.UTC)

// cmdRig is a real database, the fake Slack and the built-in handlers on
// Deps built by hand, with one incident (#1, SEV2) and its comms channel.
type cmdRig struct {
	t       *testing.T
	ctx     context.Context
	db      *testdb.DB
	store   *models.Store
	clock   *fakeclock.Clock
	fake    *slackfake.Fake
	reg     *bot.Registries
	inc     *models.Incident
	channel string // the comms channel's id
	seq     int
}

func newCmdRig(t *testing.T, dialect string, opts ...func(*handlers.Deps)) *cmdRig {
	t.Helper()
	clock := fakeclock.New(cmdStart)
	db := testdb.New(t, dialect, clock)
	fake := slackfake.New(t)
	// The fake forwards conversations.rename to slacktest, which answers a
	// canned channel called "newName" and never name_taken: answer like
	// Slack instead.
	fake.Handle("conversations.rename", func(c slackfake.Call) any {
		name := c.Param("name")
		if _, taken := fake.Channel(name); taken {
			return map[string]any{"ok": false, "error": "name_taken"}
		}
		return map[string]any{"ok": true, "channel": map[string]any{"id": c.Param("channel"), "name": name, "is_channel": true}}
	})
	tmpl, err := handlers.NewChannelNameTemplate("inc-{{.Number}}-{{.Slug}}")
	if err != nil {
		t.Fatal(err)
	}
	d := handlers.Deps{
		Store: db.Store, Slack: slack.New("xoxb-test", slack.OptionAPIURL(fake.APIURL())), Clock: clock,
		Log: testlog.Logger(t),
		Settings: handlers.Settings{
			BaseURL: "https://herald.test", IncidentChannelName: "incidents", BotName: "incident", BotUserID: slackfake.BotUserID,
			CommsTemplate: tmpl, Roles: []string{"comms", "scribe"}, PinEmoji: "pushpin", KeywordCooldown: time.Minute,
		},
	}
	for _, o := range opts {
		o(&d)
	}
	reg := bot.NewRegistries()
	if err := handlers.RegisterBuiltins(reg, d); err != nil {
		t.Fatal(err)
	}
	r := &cmdRig{t: t, ctx: context.Background(), db: db, store: db.Store, clock: clock, fake: fake, reg: reg}
	reporter := r.user(carol)
	inc, _, err := r.store.CreateIncident(r.ctx, models.NewIncident{
		Title: "Checkout fails", Summary: "Old summary", Impact: "Some customers", Severity: models.SEV2, ReporterID: &reporter.ID,
	})
	if err != nil {
		t.Fatal(err)
	}
	r.inc = inc
	r.channel = fake.AddChannel("inc-1-checkout-fails", false)
	if _, err := r.store.ClaimCommsChannel(r.ctx, inc.ID, "inc-1-checkout-fails", false, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := r.store.CompleteCommsChannel(r.ctx, inc.ID, r.channel, "inc-1-checkout-fails"); err != nil {
		t.Fatal(err)
	}
	return r
}

func forEachCmdDialect(t *testing.T, fn func(t *testing.T, r *cmdRig), opts ...func(*handlers.Deps)) {
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) { fn(t, newCmdRig(t, d, opts...)) })
	}
}

func (r *cmdRig) user(slackID string) *models.ExternalUser {
	r.t.Helper()
	u, err := r.store.UpsertSlackUser(r.ctx, models.SlackUser{ID: slackID})
	if err != nil {
		r.t.Fatal(err)
	}
	return u
}

func (r *cmdRig) ts() string {
	r.seq++
	return fmt.Sprintf("%d.%06d", r.clock.Now().Unix(), r.seq*100)
}

// say delivers `@incident <text>` from user in the comms channel to the
// registered mention handler and returns the message's ts.
func (r *cmdRig) say(user, text string) string {
	r.t.Helper()
	ts := r.ts()
	if err := r.sayIn(r.channel, user, ts, "", text); err != nil {
		r.t.Fatalf("@incident %s: %v", text, err)
	}
	return ts
}

func (r *cmdRig) sayIn(channel, user, ts, threadTS, text string) error {
	h, ok := r.reg.Events.Lookup("incident-commands")
	if !ok {
		r.t.Fatal("no incident-commands event handler")
	}
	ev := &slackevents.AppMentionEvent{
		Type: "app_mention", User: user, Text: "<@" + slackfake.BotUserID + "> " + text,
		TimeStamp: ts, ThreadTimeStamp: threadTS, Channel: channel, EventTimeStamp: ts,
	}
	return h.Run(r.ctx, bot.EventRequest{EventID: "Ev" + strings.ReplaceAll(ts, ".", ""), Inner: slackevents.EventsAPIInnerEvent{Type: "app_mention", Data: ev}})
}

// reply is the last ephemeral message to user.
func (r *cmdRig) reply(user string) slackfake.Call {
	r.t.Helper()
	calls := r.fake.Calls("chat.postEphemeral")
	for i := len(calls) - 1; i >= 0; i-- {
		if calls[i].Param("user") == user {
			if !calls[i].OK() {
				r.t.Fatalf("ephemeral failed: %s", calls[i].Response)
			}
			return calls[i]
		}
	}
	r.t.Fatalf("no ephemeral reply to %s", user)
	return slackfake.Call{}
}

func (r *cmdRig) replyText(user string) string { return r.reply(user).AllText() }

// wantReply checks the last ephemeral to user contains every want.
func (r *cmdRig) wantReply(user string, want ...string) {
	r.t.Helper()
	got := r.replyText(user)
	for _, w := range want {
		if !strings.Contains(got, w) {
			r.t.Errorf("reply to %s = %q, want it to contain %q", user, got, w)
		}
	}
}

func (r *cmdRig) reacted(name, ts string) bool { return r.reactedIn(r.channel, name, ts) }

func (r *cmdRig) reactedIn(channel, name, ts string) bool {
	for _, c := range r.fake.Calls("reactions.add") {
		if c.Param("name") == name && c.Param("timestamp") == ts && c.Param("channel") == channel {
			return true
		}
	}
	return false
}

// state is what a refused command must leave alone.
type cmdState struct {
	Incident    models.Incident
	Timeline    int
	Audit       int
	ActionItems int
	Roles       int
	ChannelName string
}

func (r *cmdRig) state() cmdState {
	r.t.Helper()
	inc, err := r.store.IncidentByID(r.ctx, r.inc.ID)
	if err != nil {
		r.t.Fatal(err)
	}
	tl, err := r.store.Timeline(r.ctx, r.inc.ID)
	if err != nil {
		r.t.Fatal(err)
	}
	audit, err := r.store.AuditLog(r.ctx, r.inc.ID)
	if err != nil {
		r.t.Fatal(err)
	}
	items, err := r.store.ActionItems(r.ctx, r.inc.ID)
	if err != nil {
		r.t.Fatal(err)
	}
	roles, err := r.store.Roles(r.ctx, r.inc.ID)
	if err != nil {
		r.t.Fatal(err)
	}
	cc, err := r.store.CommsChannelFor(r.ctx, r.inc.ID)
	if err != nil {
		r.t.Fatal(err)
	}
	s := cmdState{Incident: *inc, Timeline: len(tl), Audit: len(audit), ActionItems: len(items), Roles: len(roles), ChannelName: cc.ChannelName}
	s.Incident.Reporter, s.Incident.Lead, s.Incident.ResolvedBy = nil, nil, nil
	return s
}

func (r *cmdRig) incident() *models.Incident {
	r.t.Helper()
	inc, err := r.store.IncidentByID(r.ctx, r.inc.ID)
	if err != nil {
		r.t.Fatal(err)
	}
	return inc
}

// refused says `@incident <text>` and checks it was refused: an ephemeral
// with the problem and the usage line, a ❓ on the message, and nothing
// changed.
func (r *cmdRig) refused(user, text string, want ...string) {
	r.t.Helper()
	before := r.state()
	ts := r.say(user, text)
	got := r.replyText(user)
	for _, w := range append(want, "Usage: `@incident ") {
		if !strings.Contains(got, w) {
			r.t.Errorf("@incident %s: reply %q, want it to contain %q", text, got, w)
		}
	}
	if !r.reacted("question", ts) {
		r.t.Errorf("@incident %s: no ❓ reaction", text)
	}
	if after := r.state(); !reflect.DeepEqual(after, before) {
		r.t.Errorf("@incident %s changed something:\nbefore %+v\nafter  %+v", text, before, after)
	}
}

func (r *cmdRig) timeline(kind models.TimelineKind) []models.TimelineEvent {
	r.t.Helper()
	all, err := r.store.Timeline(r.ctx, r.inc.ID)
	if err != nil {
		r.t.Fatal(err)
	}
	var out []models.TimelineEvent
	for _, e := range all {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// lastAudit is the incident's latest audit entry of action.
func (r *cmdRig) lastAudit(action string) models.AuditEntry {
	r.t.Helper()
	log, err := r.store.AuditLog(r.ctx, r.inc.ID)
	if err != nil {
		r.t.Fatal(err)
	}
	for i := len(log) - 1; i >= 0; i-- {
		if log[i].Action == action {
			return log[i]
		}
	}
	r.t.Fatalf("no %s audit entry in %+v", action, log)
	return models.AuditEntry{}
}

// wantAuditBy checks the latest audit entry of action was made by user.
func (r *cmdRig) wantAuditBy(action, user string) models.AuditEntry {
	r.t.Helper()
	e := r.lastAudit(action)
	if e.ActorID == nil || *e.ActorID != r.user(user).ID {
		r.t.Errorf("%s audit entry by %v, want %s", action, e.ActorID, user)
	}
	return e
}

// buttons are the action ids and values of the buttons in a call's blocks.
func buttons(t *testing.T, c slackfake.Call) map[string]string {
	t.Helper()
	blocks, err := c.Blocks()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, b := range blocks {
		if ab, ok := b.(*slack.ActionBlock); ok {
			for _, el := range ab.Elements.ElementSet {
				if btn, ok := el.(*slack.ButtonBlockElement); ok {
					out[btn.ActionID] = btn.Value
				}
			}
		}
	}
	return out
}

// click runs a button's action handler as the dispatcher would for user.
func (r *cmdRig) click(user, actionID, value string) error {
	r.t.Helper()
	a, ok := r.reg.Actions.Lookup(actionID)
	if !ok {
		r.t.Fatalf("no action %s", actionID)
	}
	cb := slack.InteractionCallback{
		Type: slack.InteractionTypeBlockActions, TriggerID: "1337.42.abcd", User: slack.User{ID: user},
		Container: slack.Container{Type: "message", ChannelID: r.channel, IsEphemeral: true},
	}
	return a.Run(r.ctx, bot.ActionRequest{Callback: cb, Action: &slack.BlockAction{ActionID: actionID, Value: value}})
}

// --- the tests ---------------------------------------------------------------

func TestCommandsAreRegisteredWithHelp(t *testing.T) {
	reg := bot.NewRegistries()
	tmpl, err := handlers.NewChannelNameTemplate("inc-{{.Number}}")
	if err != nil {
		t.Fatal(err)
	}
	if err := handlers.RegisterBuiltins(reg, handlers.Deps{Settings: handlers.Settings{CommsTemplate: tmpl}}); err != nil {
		t.Fatal(err)
	}
	help := reg.Commands.Help("incident")
	for _, name := range []string{"lead", "summary", "impact", "severity", "status", "rename", "duration", "action", "actions",
		"note", "timeline", "page", "ack", "close", "reopen", "roles", "role", "resolve", "todo"} {
		cmd, ok := reg.Commands.Lookup(name)
		if !ok {
			t.Errorf("command %q is not registered", name)
			continue
		}
		if cmd.AnyChannel || cmd.Help == "" {
			t.Errorf("command %q: AnyChannel=%v Help=%q", name, cmd.AnyChannel, cmd.Help)
		}
		if !strings.Contains(help, "`"+strings.TrimSpace(cmd.Name+" "+cmd.Usage)+"`") {
			t.Errorf("help does not list %q", cmd.Name)
		}
	}
	for _, id := range []string{handlers.ActionSetSummary, handlers.ActionSetImpact, handlers.ActionCancel, handlers.ActionChangeSummary, handlers.ActionChangeImpact} {
		if _, ok := reg.Actions.Lookup(id); !ok {
			t.Errorf("action %q is not registered", id)
		}
	}
	for _, id := range []string{handlers.CallbackChangeSum, handlers.CallbackChangeImp} {
		if _, ok := reg.Views.Lookup(id); !ok {
			t.Errorf("view %q is not registered", id)
		}
	}
	if a, _ := reg.Actions.Lookup(handlers.ActionChangeSummary); a == nil || !a.Inline {
		t.Error("the Change button must run inline: it needs the trigger_id")
	}
}

func TestCommandLead(t *testing.T) {
	forEachCmdDialect(t, func(t *testing.T, r *cmdRig) {
		r.say(alice, "lead")
		if inc := r.incident(); inc.Lead == nil || inc.Lead.SlackUserID != alice {
			t.Fatalf("lead = %+v, want alice", inc.Lead)
		}
		r.wantReply(alice, "<@U0ALICE> is now leading incident #1.")
		r.wantAuditBy("incident.lead", alice)

		// A labelled Enterprise Grid mention.
		r.say(alice, "lead <@W0BOB|bob>")
		if inc := r.incident(); inc.Lead == nil || inc.Lead.SlackUserID != bob {
			t.Fatalf("lead = %+v, want bob", inc.Lead)
		}
		r.wantReply(alice, "<@W0BOB> is now leading incident #1.")
		leads := r.timeline(models.TimelineLeadChange)
		if len(leads) != 2 || !strings.Contains(leads[1].Text, "<@W0BOB> is now leading") || leads[1].AuthorID == nil || *leads[1].AuthorID != r.user(alice).ID {
			t.Errorf("lead timeline = %+v", leads)
		}
		if e := r.wantAuditBy("incident.lead", alice); e.After != r.user(bob).ID {
			t.Errorf("audit after = %q, want bob's id", e.After)
		}

		r.refused(carol, "lead <@W0BOB>", "<@W0BOB> is already leading incident #1.")
		r.refused(carol, "lead bob", "Name one person")
		r.refused(carol, "lead <@W0BOB> and <@U0ALICE>", "Name one person")
		r.refused(carol, "lead <@"+slackfake.BotUserID+">", "a person has to lead")
		// The alias.
		r.say(carol, "commander <@U0CAROL>")
		r.wantReply(carol, "<@U0CAROL> is now leading")
	})
}

func TestCommandSummaryProposeAndConfirm(t *testing.T) {
	forEachCmdDialect(t, func(t *testing.T, r *cmdRig) {
		// No text: the current value and a Change button.
		r.say(alice, "summary")
		show := r.reply(alice)
		if !strings.Contains(show.AllText(), "Old summary") {
			t.Errorf("summary shows %q", show.AllText())
		}
		if v, ok := buttons(t, show)[handlers.ActionChangeSummary]; !ok || v != fmt.Sprint(r.inc.ID) {
			t.Errorf("Change button = %q, %v", v, ok)
		}

		// Text over several lines, with characters Slack escapes: a proposal,
		// nothing changed yet.
		before := r.state()
		multi := "Card payments fail.\n\n• EU only\n  • since 09:30 &amp; errors &gt; 5%\n\tindented"
		want := "Card payments fail.\n\n• EU only\n  • since 09:30 & errors > 5%\n\tindented"
		r.say(alice, "summary "+multi)
		if after := r.state(); !reflect.DeepEqual(after, before) {
			t.Fatalf("proposing changed the incident:\n%+v\n%+v", before, after)
		}
		proposal := r.reply(alice)
		btns := buttons(t, proposal)
		var p struct {
			IncidentID int64  `json:"incident_id"`
			Text       string `json:"text"`
		}
		if err := json.Unmarshal([]byte(btns[handlers.ActionSetSummary]), &p); err != nil || p.IncidentID != r.inc.ID || p.Text != want {
			t.Fatalf("Set summary button value = %q (%v), want incident %d and %q", btns[handlers.ActionSetSummary], err, r.inc.ID, want)
		}
		if _, ok := btns[handlers.ActionCancel]; !ok {
			t.Error("no Cancel button")
		}
		if txt := proposal.AllText(); !strings.Contains(txt, "> • EU only\n>   • since 09:30 &amp; errors &gt; 5%") {
			t.Errorf("proposal shows %q", txt)
		}

		// Cancel changes nothing.
		if err := r.click(alice, handlers.ActionCancel, btns[handlers.ActionCancel]); err != nil {
			t.Fatal(err)
		}
		r.wantReply(alice, "changed nothing")
		if after := r.state(); !reflect.DeepEqual(after, before) {
			t.Fatal("Cancel changed the incident")
		}

		// Set applies it, every line kept.
		if err := r.click(bob, handlers.ActionSetSummary, btns[handlers.ActionSetSummary]); err != nil {
			t.Fatal(err)
		}
		if got := r.incident().Summary; got != want {
			t.Fatalf("summary = %q, want %q", got, want)
		}
		r.wantReply(bob, "Summary of incident #1 updated.")
		if e := r.wantAuditBy("incident.summary", bob); e.Before != "Old summary" || e.After != want {
			t.Errorf("audit = %+v", e)
		}
		if tl := r.timeline(models.TimelineSummaryChange); len(tl) != 1 || !strings.HasSuffix(tl[0].Text, want) {
			t.Errorf("summary timeline = %+v", tl)
		}
		// A second click (a double click, or someone else's) changes nothing.
		before = r.state()
		if err := r.click(bob, handlers.ActionSetSummary, btns[handlers.ActionSetSummary]); err != nil {
			t.Fatal(err)
		}
		r.wantReply(bob, "already says that")
		if after := r.state(); !reflect.DeepEqual(after, before) {
			t.Error("a second Set changed the incident")
		}
		// Proposing what it already says is refused.
		r.refused(alice, "summary "+multi, "already says that")
	})
}

func TestCommandSummaryTooLongForAButtonIsSetAtOnce(t *testing.T) {
	forEachCmdDialect(t, func(t *testing.T, r *cmdRig) {
		long := strings.Repeat("All card payments in the EU are failing.\n", 60) + "End."
		r.say(alice, "summary "+long)
		if got := r.incident().Summary; got != long {
			t.Fatalf("summary not set at once: %q", got)
		}
		r.wantReply(alice, "Summary of incident #1 updated.")
		r.wantAuditBy("incident.summary", alice)
	})
}

func TestCommandImpactChangeModal(t *testing.T) {
	forEachCmdDialect(t, func(t *testing.T, r *cmdRig) {
		r.say(alice, "impact")
		btns := buttons(t, r.reply(alice))
		if err := r.click(alice, handlers.ActionChangeImpact, btns[handlers.ActionChangeImpact]); err != nil {
			t.Fatal(err)
		}
		opens := r.fake.Calls("views.open")
		if len(opens) != 1 {
			t.Fatalf("views.open called %d times", len(opens))
		}
		view, err := opens[0].View()
		if err != nil {
			t.Fatal(err)
		}
		if view.CallbackID != handlers.CallbackChangeImp || opens[0].Param("trigger_id") != "1337.42.abcd" {
			t.Errorf("modal callback %q trigger %q", view.CallbackID, opens[0].Param("trigger_id"))
		}
		if !strings.Contains(opens[0].Param("view"), `"initial_value":"Some customers"`) || !strings.Contains(opens[0].Param("view"), `"multiline":true`) {
			t.Errorf("modal is not a pre-filled multiline input: %s", opens[0].Param("view"))
		}

		vs, ok := r.reg.Views.Lookup(handlers.CallbackChangeImp)
		if !ok {
			t.Fatal("no change_impact view handler")
		}
		submit := func(text string) map[string]string {
			cb := slack.InteractionCallback{Type: slack.InteractionTypeViewSubmission, User: slack.User{ID: bob}}
			cb.View = view
			cb.View.State = &slack.ViewState{Values: map[string]map[string]slack.BlockAction{"text": {"text": {Type: "plain_text_input", Value: text}}}}
			errs, err := vs.Submit(r.ctx, cb)
			if err != nil {
				t.Fatal(err)
			}
			return errs
		}
		before := r.state()
		if errs := submit("  \n "); errs["text"] == "" {
			t.Errorf("an empty impact was accepted: %v", errs)
		}
		if !reflect.DeepEqual(r.state(), before) {
			t.Error("an empty submission changed the incident")
		}
		if errs := submit("All EU card payments\nsince 09:30"); errs != nil {
			t.Fatalf("field errors %v", errs)
		}
		if got := r.incident().Impact; got != "All EU card payments\nsince 09:30" {
			t.Errorf("impact = %q", got)
		}
		r.wantAuditBy("incident.impact", bob)
		if errs := submit("All EU card payments\nsince 09:30"); errs != nil {
			t.Errorf("submitting the same impact again: %v", errs)
		}
	})
}

func TestCommandSeverityAndStatus(t *testing.T) {
	forEachCmdDialect(t, func(t *testing.T, r *cmdRig) {
		for _, tt := range []struct {
			arg  string
			want models.Severity
		}{{"1", models.SEV1}, {"sev3", models.SEV3}, {"MAJOR", models.SEV2}, {"trivial", models.SEV4}} {
			r.say(alice, "severity "+tt.arg)
			if got := r.incident().Severity; got != tt.want {
				t.Errorf("severity %s gave %v, want %v", tt.arg, got, tt.want)
			}
			r.wantReply(alice, "is now "+tt.want.String())
		}
		if e := r.wantAuditBy("incident.severity", alice); e.Before != models.SEV2.String() || e.After != models.SEV4.String() {
			t.Errorf("last severity audit = %+v", e)
		}
		if n := len(r.timeline(models.TimelineSeverityChange)); n != 4 {
			t.Errorf("%d severity timeline entries, want 4", n)
		}
		r.refused(alice, "severity 5", `"5" is not a severity`)
		r.refused(alice, "severity", "Which severity")
		r.refused(alice, "sev trivial", "already "+models.SEV4.String())

		r.say(bob, "status identified")
		r.wantReply(bob, "now identified")
		if inc := r.incident(); inc.Status != models.StatusIdentified {
			t.Errorf("status = %s", inc.Status)
		}
		r.wantAuditBy("incident.status", bob)
		r.refused(bob, "status identified", "already identified")
		r.refused(bob, "status fixed", `"fixed" is not a status`)
		r.say(bob, "status Resolved")
		if inc := r.incident(); inc.IsOpen() || inc.ResolvedBy == nil || inc.ResolvedBy.SlackUserID != bob {
			t.Errorf("status resolved did not close: %+v", inc)
		}
		r.wantAuditBy("incident.close", bob)
		r.refused(bob, "status monitoring", "is closed; `reopen` it first")
		r.refused(bob, "status resolved", "already closed")
	})
}

func TestCommandAckCloseReopen(t *testing.T) {
	forEachCmdDialect(t, func(t *testing.T, r *cmdRig) {
		r.say(alice, "ack")
		r.wantReply(alice, "Acknowledged incident #1.")
		if inc := r.incident(); inc.AcknowledgedAt == nil || !inc.AcknowledgedAt.Equal(cmdStart) {
			t.Errorf("acknowledged at %v", inc.AcknowledgedAt)
		}
		r.wantAuditBy("incident.ack", alice)
		r.refused(bob, "ack", "already acknowledged")
		r.refused(bob, "ack now", "takes no arguments")

		r.clock.Advance(90 * time.Minute)
		r.say(bob, "close")
		r.wantReply(bob, "Closed incident #1 after 1h 30m.")
		inc := r.incident()
		if inc.IsOpen() || inc.ResolvedAt == nil || inc.ResolvedBy == nil || inc.ResolvedBy.SlackUserID != bob {
			t.Fatalf("not closed by bob: %+v", inc)
		}
		if tl := r.timeline(models.TimelineClosed); len(tl) != 1 || !strings.Contains(tl[0].Text, "closed by <@W0BOB> after 1h 30m") {
			t.Errorf("closed timeline = %+v", tl)
		}
		r.wantAuditBy("incident.close", bob)

		// Closing twice: already closed, whatever the spelling.
		r.refused(alice, "close", "Incident #1 is already closed.")
		r.refused(alice, "resolve", "Incident #1 is already closed.")
		r.refused(alice, "ack", "is closed")

		r.say(alice, "reopen")
		r.wantReply(alice, "Re-opened incident #1.")
		if inc := r.incident(); !inc.IsOpen() || inc.ResolvedAt != nil {
			t.Errorf("not re-opened: %+v", inc)
		}
		r.wantAuditBy("incident.reopen", alice)
		r.refused(alice, "reopen", "already open")
	})
}

func TestCommandCloseRestrictedToLead(t *testing.T) {
	forEachCmdDialect(t, func(t *testing.T, r *cmdRig) {
		r.say(alice, "lead <@W0BOB|bob>")
		r.refused(alice, "close", "only the incident's lead (<@W0BOB>) may close it here.")
		r.refused(alice, "status resolved", "only the incident's lead (<@W0BOB>) may close it here.")
		r.say(bob, "close")
		r.wantReply(bob, "Closed incident #1")
		if r.incident().IsOpen() {
			t.Error("the lead could not close")
		}
	}, func(d *handlers.Deps) { d.Settings.RestrictClose = true })
}

func TestCommandRename(t *testing.T) {
	forEachCmdDialect(t, func(t *testing.T, r *cmdRig) {
		r.say(alice, "rename DB Outage!")
		renames := r.fake.Calls("conversations.rename")
		if len(renames) != 1 || renames[0].Param("channel") != r.channel || renames[0].Param("name") != "db-outage" {
			t.Fatalf("conversations.rename calls: %+v", renames)
		}
		r.wantReply(alice, "Renamed this channel to #db-outage.")
		if s := r.state(); s.ChannelName != "db-outage" {
			t.Errorf("stored channel name %q", s.ChannelName)
		}
		if tl := r.timeline(models.TimelineRename); len(tl) != 1 || tl[0].Text != "Channel renamed from #inc-1-checkout-fails to #db-outage by <@U0ALICE>" {
			t.Errorf("rename timeline = %+v", tl)
		}
		if e := r.wantAuditBy("incident.rename", alice); e.Before != "inc-1-checkout-fails" || e.After != "db-outage" {
			t.Errorf("rename audit = %+v", e)
		}

		// A name someone else's channel has: Slack says name_taken.
		r.fake.AddChannel("general-chat", false)
		r.refused(alice, "rename general-chat", "#general-chat is taken; pick another")
		// The same, injected.
		r.fake.FailNext("conversations.rename", "name_taken")
		r.refused(alice, "rename other-name", "#other-name is taken; pick another")

		calls := len(r.fake.Calls("conversations.rename"))
		r.refused(alice, "rename ###", "Give the channel a new name")
		r.refused(alice, "rename "+strings.Repeat("x", 81), "Slack allows 80")
		r.refused(alice, "rename DB-outage", "already called #db-outage")
		if n := len(r.fake.Calls("conversations.rename")); n != calls {
			t.Errorf("invalid names reached Slack: %d calls, want %d", n, calls)
		}
	})
}

func TestCommandDuration(t *testing.T) {
	forEachCmdDialect(t, func(t *testing.T, r *cmdRig) {
		r.clock.Advance(2*time.Hour + 5*time.Minute)
		r.say(alice, "duration")
		r.wantReply(alice, "has been running for 2h 5m", "|12 Mar 2026 14:00 UTC>")
		r.say(alice, "close")
		r.clock.Advance(24 * time.Hour)
		r.say(alice, "duration")
		r.wantReply(alice, "ran for 2h 5m", "until it was closed <!date^", "|12 Mar 2026 16:05 UTC>")
	})
}

func TestCommandActionItems(t *testing.T) {
	forEachCmdDialect(t, func(t *testing.T, r *cmdRig) {
		r.say(alice, "actions")
		r.wantReply(alice, "no action items yet")

		ts := r.say(alice, "action Add an alert on\nqueue depth &gt; 100 <@W0BOB|bob>")
		r.wantReply(alice, "Added an action item to incident #1, owned by <@W0BOB>.")
		items, err := r.store.ActionItems(r.ctx, r.inc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(items) != 1 || items[0].Text != "Add an alert on\nqueue depth > 100" || items[0].Owner == nil || items[0].Owner.SlackUserID != bob ||
			items[0].CreatedByID == nil || *items[0].CreatedByID != r.user(alice).ID {
			t.Fatalf("action items = %+v", items)
		}
		tl := r.timeline(models.TimelineAction)
		if len(tl) != 1 || !strings.Contains(tl[0].Text, "(owner: <@W0BOB>)") || tl[0].SourceRef == nil {
			t.Fatalf("action timeline = %+v", tl)
		}

		// The same message again (an event retried after a crash) adds nothing.
		cmd, _ := r.reg.Commands.Lookup("action")
		err = cmd.Run(r.ctx, bot.CommandRequest{Incident: r.inc, ChannelID: r.channel, UserID: alice, MessageTS: ts, Name: "action",
			Args: "Add an alert on\nqueue depth &gt; 100 <@W0BOB|bob>"})
		if err != nil {
			t.Fatal(err)
		}
		r.wantReply(alice, "already recorded")
		if s := r.state(); s.ActionItems != 1 {
			t.Errorf("%d action items after a retry, want 1", s.ActionItems)
		}

		r.say(carol, "action Write the post-mortem")
		r.say(carol, "todo")
		r.wantReply(carol, "1. Add an alert on queue depth &gt; 100 — <@W0BOB>", "2. Write the post-mortem\n")
		r.refused(carol, "action <@W0BOB>", "What needs doing?")
		r.refused(carol, "action", "What needs doing?")
	})
}

func TestCommandNote(t *testing.T) {
	forEachCmdDialect(t, func(t *testing.T, r *cmdRig) {
		r.clock.Advance(10 * time.Minute) // the message is older than the clock
		ts := fmt.Sprintf("%d.000200", cmdStart.Add(3*time.Minute).Unix())
		if err := r.sayIn(r.channel, alice, ts, "", "note Rolled back deploy 1234\n\n  second line &lt;ok&gt;"); err != nil {
			t.Fatal(err)
		}
		notes := r.timeline(models.TimelineNote)
		if len(notes) != 1 {
			t.Fatalf("notes = %+v", notes)
		}
		n := notes[0]
		if n.Text != "Rolled back deploy 1234\n\n  second line <ok>" || n.Author == nil || n.Author.SlackUserID != alice {
			t.Errorf("note = %+v", n)
		}
		if want := cmdStart.Add(3*time.Minute + 200*time.Microsecond); !n.OccurredAt.Equal(want) {
			t.Errorf("note dated %v, want the message's %v", n.OccurredAt, want)
		}
		if !r.reacted("white_check_mark", ts) {
			t.Error("no ✅ on the note")
		}
		r.wantReply(alice, "Added to the timeline")
		// The same message again (a retried event) is the same note.
		if err := r.sayIn(r.channel, alice, ts, "", "note Rolled back deploy 1234\n\n  second line &lt;ok&gt;"); err != nil {
			t.Fatal(err)
		}
		if notes := r.timeline(models.TimelineNote); len(notes) != 1 {
			t.Errorf("%d notes after a retry, want 1", len(notes))
		}
		r.refused(alice, "note", "What should the note say?")
	})
}

func TestCommandTimeline(t *testing.T) {
	forEachCmdDialect(t, func(t *testing.T, r *cmdRig) {
		for i := 1; i <= 20; i++ {
			r.clock.Advance(time.Minute)
			r.say(alice, fmt.Sprintf("note step %02d <b>", i))
		}
		r.say(bob, "timeline")
		got := r.replyText(bob)
		// 21 entries: declared and 20 notes.
		for _, w := range []string{"the last 15 of 21 entries", "step 20 &lt;b&gt;", "step 06", "<@U0ALICE>", "2026 14:20 UTC>", "https://herald.test/incidents/1"} {
			if !strings.Contains(got, w) {
				t.Errorf("timeline %q lacks %q", got, w)
			}
		}
		for _, w := range []string{"step 05", "Incident declared"} {
			if strings.Contains(got, w) {
				t.Errorf("timeline shows %q, older than the last 15", w)
			}
		}
	})
}

func TestCommandPage(t *testing.T) {
	forEachCmdDialect(t, func(t *testing.T, r *cmdRig) {
		r.say(alice, "page <@W0BOB|bob> urgent the database\nis down")
		if got := r.replyText(alice); got != handlers.PagingNotConfiguredForTest {
			t.Errorf("page reply = %q", got)
		}
		pages := r.timeline(models.TimelinePageRequest)
		if len(pages) != 1 || !strings.Contains(pages[0].Text, "<@U0ALICE> asked to page <@W0BOB> (urgent priority, “the database is down”); paging is not configured, nobody was paged") {
			t.Fatalf("page timeline = %+v", pages)
		}
		if calls := r.fake.CallsExcept("chat.postEphemeral", "reactions.add"); len(calls) != 0 {
			t.Errorf("paging called Slack: %+v", calls)
		}
		r.say(alice, "page db-oncall")
		if pages := r.timeline(models.TimelinePageRequest); len(pages) != 2 || !strings.Contains(pages[1].Text, "asked to page team db-oncall;") {
			t.Errorf("team page timeline = %+v", pages)
		}
		r.refused(alice, "page", "Who should be paged?")
		r.refused(alice, "page ops priority=extreme", "`extreme` is not a priority")
		r.refused(alice, "page <@U0CAROL> critical", "`critical` is not a priority")
		r.refused(alice, "page <#C123|general>", "is not a person or a team")
	})
}

func TestCommandRoles(t *testing.T) {
	forEachCmdDialect(t, func(t *testing.T, r *cmdRig) {
		r.say(alice, "roles")
		r.wantReply(alice, "*lead*: _nobody yet_", "*comms*: _nobody yet_", "*scribe*: _nobody yet_")

		r.say(alice, "role comms <@W0BOB|bob>")
		r.wantReply(alice, "<@W0BOB> is now comms in incident #1.")
		roles, err := r.store.Roles(r.ctx, r.inc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(roles) != 1 || roles[0].Role != "comms" || roles[0].User == nil || roles[0].User.SlackUserID != bob ||
			roles[0].AssignedBy == nil || *roles[0].AssignedBy != r.user(alice).ID {
			t.Fatalf("roles = %+v", roles)
		}
		if tl := r.timeline(models.TimelineRoleChange); len(tl) != 1 || !strings.Contains(tl[0].Text, "<@W0BOB> is now comms (set by <@U0ALICE>)") {
			t.Errorf("role timeline = %+v", tl)
		}
		if e := r.wantAuditBy("incident.role", alice); e.After != "comms:"+r.user(bob).ID || e.Before != "comms:" {
			t.Errorf("role audit = %+v", e)
		}

		r.say(carol, "role COMMS <@U0CAROL>") // handing over
		if e := r.wantAuditBy("incident.role", carol); e.Before != "comms:"+r.user(bob).ID {
			t.Errorf("hand-over audit = %+v", e)
		}
		r.refused(carol, "role comms <@U0CAROL>", "already comms")
		r.refused(carol, "role chef <@U0CAROL>", "Which role? Choose one of: lead, commander, comms, scribe.")
		r.refused(carol, "role scribe", "Who should be scribe?")
		r.refused(carol, "role scribe bob", "Who should be scribe?")

		r.say(alice, "role commander <@W0BOB>")
		if inc := r.incident(); inc.Lead == nil || inc.Lead.SlackUserID != bob {
			t.Errorf("role commander did not set the lead: %+v", inc.Lead)
		}
		r.wantAuditBy("incident.lead", alice)
		r.say(alice, "roles")
		r.wantReply(alice, "*lead*: <@W0BOB>", "*comms*: <@U0CAROL>", "*scribe*: _nobody yet_")
	})
}

func TestCommandRepliesInThreadAndRefusesOutsideIncidents(t *testing.T) {
	forEachCmdDialect(t, func(t *testing.T, r *cmdRig) {
		thread := r.ts()
		if err := r.sayIn(r.channel, alice, r.ts(), thread, "duration"); err != nil {
			t.Fatal(err)
		}
		if c := r.reply(alice); c.Param("thread_ts") != thread {
			t.Errorf("reply thread_ts = %q, want %q", c.Param("thread_ts"), thread)
		}

		other := r.fake.AddChannel("random", false)
		ts := r.ts()
		before := r.state()
		if err := r.sayIn(other, alice, ts, "", "close"); err != nil {
			t.Fatal(err)
		}
		if c := r.reply(alice); c.Param("channel") != other || !strings.Contains(c.AllText(), "works in an incident's channel") {
			t.Errorf("reply outside an incident: %s %q", c.Param("channel"), c.AllText())
		}
		if !reflect.DeepEqual(r.state(), before) {
			t.Error("a command outside the incident's channel changed it")
		}
		if !r.reactedIn(other, "question", ts) {
			t.Error("no ❓ on a command outside an incident's channel")
		}

		ts = r.say(alice, "frobnicate")
		r.wantReply(alice, "I don't know the command `frobnicate`")
		if !r.reacted("question", ts) {
			t.Error("no ❓ on an unknown command")
		}
	})
}
