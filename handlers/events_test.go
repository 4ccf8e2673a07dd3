package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
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

// The pin_added fixture's channel, pinned message and its author.
const (
	fixtureChannel = "C0LAN2Q65"
	fixtureTS      = "1539904112.000100"
	fixtureAuthor  = "U061F7AUR"
	fixtureText    = "<@U0LAN0Z89> is it everything a river should be?"
)

// eventRig is a real store, the fake Slack, and the built-in handlers
// registered on Deps built by hand, with one incident whose comms channel
// is the fixtures' channel.
type eventRig struct {
	t      *testing.T
	ctx    context.Context
	db     *testdb.DB
	store  *models.Store
	clock  *fakeclock.Clock
	fake   *slackfake.Fake
	reg    *bot.Registries
	worker *bot.Worker
	inc    *models.Incident
	seq    int
}

type rigOption func(*handlers.Deps)

func withPinEmoji(e string) rigOption { return func(d *handlers.Deps) { d.Settings.PinEmoji = e } }

var testKeywords = []handlers.KeywordConfig{
	{Name: "runbook", Phrases: []string{"runbook", "playbook"}, Reply: "Runbooks live at https://wiki.example.com/runbooks"},
	{Name: "on-call", Phrases: []string{"who is on call", "escalate"}, Reply: "Use `@incident page`."},
}

func newEventRig(t *testing.T, dialect string, opts ...rigOption) *eventRig {
	t.Helper()
	clock := fakeclock.New(time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC))
	db := testdb.New(t, dialect, clock)
	fake := slackfake.New(t)
	d := builtinDeps(t)
	d.Store, d.Slack, d.Clock = db.Store, slack.New("xoxb-test", slack.OptionAPIURL(fake.APIURL())), clock
	d.Keywords = testKeywords
	for _, o := range opts {
		o(&d)
	}
	reg := bot.NewRegistries()
	if err := handlers.RegisterBuiltins(reg, d); err != nil {
		t.Fatal(err)
	}
	r := &eventRig{
		t: t, ctx: context.Background(), db: db, store: db.Store, clock: clock, fake: fake, reg: reg,
		worker: bot.NewWorker(db.Store, reg.Jobs, clock, d.Log, nil, bot.WorkerOptions{Owner: "test", Concurrency: 1}),
	}
	r.inc = r.incidentIn(fixtureChannel, "River is dry")
	return r
}

// builtinDeps are Deps with the settings RegisterBuiltins needs, and no
// store or Slack.
func builtinDeps(t testing.TB) handlers.Deps {
	t.Helper()
	tmpl, err := handlers.NewChannelNameTemplate("inc-{{.Number}}-{{.Slug}}")
	if err != nil {
		t.Fatal(err)
	}
	return handlers.Deps{
		Log: testlog.Logger(t),
		Settings: handlers.Settings{
			BaseURL: "https://herald.test", IncidentChannelName: "incidents", BotName: "incident", BotUserID: slackfake.BotUserID,
			CommsTemplate: tmpl, PinEmoji: "pushpin", KeywordCooldown: 10 * time.Minute,
			WorkingHours: [2]int{9 * 60, 18 * 60}, StatusIntervals: []time.Duration{30 * time.Minute, time.Hour, 4 * time.Hour, 0},
		},
	}
}

// incidentIn declares an incident whose comms channel is channelID.
func (r *eventRig) incidentIn(channelID, title string) *models.Incident {
	r.t.Helper()
	inc, _, err := r.store.CreateIncident(r.ctx, models.NewIncident{Title: title, Severity: models.SEV2})
	if err != nil {
		r.t.Fatal(err)
	}
	name := fmt.Sprintf("inc-%d", inc.Number)
	if _, err := r.store.ClaimCommsChannel(r.ctx, inc.ID, name, false, time.Minute); err != nil {
		r.t.Fatal(err)
	}
	if err := r.store.CompleteCommsChannel(r.ctx, inc.ID, channelID, name); err != nil {
		r.t.Fatal(err)
	}
	return inc
}

// envelope wraps an inner event as Slack sends it.
func envelope(eventID string, inner map[string]any) []byte {
	b, err := json.Marshal(map[string]any{
		"token": "XXYYZZ", "team_id": "T123ABC456", "api_app_id": "A123ABC456", "type": "event_callback",
		"event_id": eventID, "event_time": 1773133200, "event": inner,
	})
	if err != nil {
		panic(err)
	}
	return b
}

// deliver parses a body like the dispatcher does and runs every handler of
// its type once.
func (r *eventRig) deliver(body []byte) {
	r.t.Helper()
	if err := r.tryDeliver(body); err != nil {
		r.t.Fatal(err)
	}
}

func (r *eventRig) tryDeliver(body []byte) error {
	r.t.Helper()
	outer, err := slackevents.ParseEvent(json.RawMessage(body), slackevents.OptionNoVerifyToken())
	if err != nil {
		r.t.Fatalf("parsing event: %v\n%s", err, body)
	}
	cb, _ := outer.Data.(*slackevents.EventsAPICallbackEvent)
	req := bot.EventRequest{Inner: outer.InnerEvent, TeamID: outer.TeamID}
	if cb != nil {
		req.EventID = cb.EventID
	}
	hs := r.reg.Events.For(outer.InnerEvent.Type)
	if len(hs) == 0 {
		r.t.Fatalf("no handler for %s", outer.InnerEvent.Type)
	}
	for _, h := range hs {
		if err := h.Run(r.ctx, req); err != nil {
			return fmt.Errorf("%s: %w", h.Name, err)
		}
	}
	return nil
}

// event delivers an inner event with a fresh event id.
func (r *eventRig) event(inner map[string]any) {
	r.t.Helper()
	r.seq++
	r.deliver(envelope(fmt.Sprintf("Ev%04d", r.seq), inner))
}

// message is a person's message event in a channel.
func message(channel, user, ts, text string) map[string]any {
	return map[string]any{
		"type": "message", "channel": channel, "user": user, "text": text, "ts": ts, "event_ts": ts,
		"channel_type": "channel", "client_msg_id": "6c7b1f2e-" + strings.ReplaceAll(ts, ".", ""),
	}
}

// ts is a Slack timestamp at the rig's current time (plus a sequence).
func (r *eventRig) ts() string {
	r.seq++
	return fmt.Sprintf("%d.%06d", r.clock.Now().Unix(), r.seq)
}

func (r *eventRig) drain() {
	r.t.Helper()
	if _, err := r.worker.Drain(r.ctx); err != nil {
		r.t.Fatal(err)
	}
}

func (r *eventRig) timeline(kind models.TimelineKind) []models.TimelineEvent {
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

func (r *eventRig) participants() map[string]models.Participant {
	r.t.Helper()
	ps, err := r.store.Participants(r.ctx, r.inc.ID)
	if err != nil {
		r.t.Fatal(err)
	}
	out := map[string]models.Participant{}
	for _, p := range ps {
		out[p.User.SlackUserID] = p
	}
	return out
}

// replies are the bot's chat.postMessage calls.
func (r *eventRig) replies() []slackfake.Call { return r.fake.Calls("chat.postMessage") }

func (r *eventRig) jobCount(kind string) int64 {
	r.t.Helper()
	var n int64
	if err := r.db.Gorm.Model(&models.Job{}).Where("kind = ?", kind).Count(&n).Error; err != nil {
		r.t.Fatal(err)
	}
	return n
}

func readPinFixture(t *testing.T) map[string]any {
	t.Helper()
	b, err := os.ReadFile("../bot/testdata/slack/events_pin_added.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func forEachDialect(t *testing.T, fn func(t *testing.T, dialect string)) {
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) { fn(t, d) })
	}
}

// --- pins ------------------------------------------------------------------

func TestPinAddedFixtureAddsOneEntryWithOriginalTimeAndAuthor(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dialect string) {
		r := newEventRig(t, dialect)
		body, err := os.ReadFile("../bot/testdata/slack/events_pin_added.json")
		if err != nil {
			t.Fatal(err)
		}
		r.deliver(body)
		r.clock.Advance(time.Minute)
		r.deliver(body) // a retry that got past the dispatcher: run again

		pins := r.timeline(models.TimelinePin)
		if len(pins) != 1 {
			t.Fatalf("%d pin entries after the event twice, want 1: %+v", len(pins), pins)
		}
		p := pins[0]
		want := time.Date(2018, 10, 18, 23, 8, 32, 100_000, time.UTC) // ts 1539904112.000100
		if !p.OccurredAt.Equal(want) {
			t.Errorf("pin dated %s, want the message's own time %s", p.OccurredAt, want)
		}
		if p.Author == nil || p.Author.SlackUserID != fixtureAuthor {
			t.Errorf("pin author = %+v, want %s", p.Author, fixtureAuthor)
		}
		if p.Text != fixtureText {
			t.Errorf("pin text = %q, want %q", p.Text, fixtureText)
		}
		if p.SourceRef == nil || *p.SourceRef != fixtureTS {
			t.Errorf("pin source ref = %v, want %s", p.SourceRef, fixtureTS)
		}
		if calls := r.fake.CallsExcept(); len(calls) != 0 {
			t.Errorf("pin_added called Slack (%s); the event carries the message", calls[0].Method)
		}
	})
}

func TestPinRemovedHidesTheEntry(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dialect string) {
		r := newEventRig(t, dialect)
		ev := readPinFixture(t)
		r.deliver(mustJSON(t, ev))

		inner := ev["event"].(map[string]any)
		inner["type"] = "pin_removed"
		inner["has_pins"] = false
		ev["event_id"] = "Ev123REMOVED"
		r.clock.Advance(5 * time.Minute)
		r.deliver(mustJSON(t, ev))
		r.deliver(mustJSON(t, ev)) // twice: still fine

		pins := r.timeline(models.TimelinePin)
		if len(pins) != 1 {
			t.Fatalf("%d pin entries, want 1 (kept for the record)", len(pins))
		}
		if pins[0].RemovedAt == nil || !pins[0].RemovedAt.Equal(r.clock.Now()) {
			t.Errorf("unpinned entry RemovedAt = %v, want %s", pins[0].RemovedAt, r.clock.Now())
		}
	})
}

func TestPinWithoutMessageIsReadFromSlack(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dialect string) {
		r := newEventRig(t, dialect)
		m := r.fake.AddMessage(slackfake.Message{Channel: fixtureChannel, TS: "1773133100.000200", User: "U0ALICE", Text: "rolled back v42"})
		r.event(map[string]any{
			"type": "pin_added", "user": "U0BOB", "channel_id": fixtureChannel, "event_ts": "1773133200.000300",
			"item": map[string]any{"type": "message", "channel": fixtureChannel, "ts": m.TS, "created": 1773133200, "created_by": "U0BOB"},
		})
		pins := r.timeline(models.TimelinePin)
		if len(pins) != 1 || pins[0].Text != "rolled back v42" || pins[0].Author == nil || pins[0].Author.SlackUserID != "U0ALICE" {
			t.Fatalf("pin entries = %+v, want the message read from Slack", pins)
		}
	})
}

func TestPinIgnoredOutsideCommsChannelsAndHeraldsOwnPins(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dialect string) {
		r := newEventRig(t, dialect)
		ev := readPinFixture(t)
		inner := ev["event"].(map[string]any)
		inner["channel_id"] = "C0NOTCOMMS"
		inner["item"].(map[string]any)["channel"] = "C0NOTCOMMS"
		r.deliver(mustJSON(t, ev))

		// Herald pins its channel summary itself.
		ev = readPinFixture(t)
		ev["event_id"] = "Ev123HERALD"
		inner = ev["event"].(map[string]any)
		inner["user"] = slackfake.BotUserID
		r.deliver(mustJSON(t, ev))

		if pins := r.timeline(models.TimelinePin); len(pins) != 0 {
			t.Fatalf("pin entries = %+v, want none", pins)
		}
		// Unpinning in a channel that is no comms channel is no error.
		inner["type"], inner["channel_id"], inner["user"] = "pin_removed", "C0NOTCOMMS", "U061F7AUR"
		ev["event_id"] = "Ev123OTHER"
		r.deliver(mustJSON(t, ev))
	})
}

// --- the pin emoji -----------------------------------------------------------

func reaction(user, emoji, channel, ts, itemUser string) map[string]any {
	return map[string]any{
		"type": "reaction_added", "user": user, "reaction": emoji, "item_user": itemUser, "event_ts": "1773133300.000100",
		"item": map[string]any{"type": "message", "channel": channel, "ts": ts},
	}
}

func TestReactionWithPinEmojiAddsTheMessage(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dialect string) {
		r := newEventRig(t, dialect)
		m := r.fake.AddMessage(slackfake.Message{Channel: fixtureChannel, TS: "1773133000.000100", User: "U0ALICE", Text: "DB failover done at 09:12"})
		// A later message, so "latest + limit 1" alone would not do.
		r.fake.AddMessage(slackfake.Message{Channel: fixtureChannel, TS: "1773133050.000100", User: "U0BOB", Text: "thanks"})

		r.event(reaction("U0BOB", "eyes", fixtureChannel, m.TS, "U0ALICE"))
		if got := r.timeline(models.TimelineReaction); len(got) != 0 {
			t.Fatalf("another emoji added %d entries", len(got))
		}
		if n := len(r.fake.Calls("conversations.history")); n != 0 {
			t.Fatalf("another emoji read history %d times", n)
		}

		r.event(reaction("U0BOB", "pushpin", fixtureChannel, m.TS, "U0ALICE"))
		r.event(reaction("U0CAROL", "pushpin", fixtureChannel, m.TS, "U0ALICE")) // someone else too: still one entry
		got := r.timeline(models.TimelineReaction)
		if len(got) != 1 {
			t.Fatalf("%d reaction entries, want 1", len(got))
		}
		e := got[0]
		if e.Text != "DB failover done at 09:12" || e.Author == nil || e.Author.SlackUserID != "U0ALICE" {
			t.Errorf("entry = %q by %+v, want the message and its author", e.Text, e.Author)
		}
		if want := time.Unix(1773133000, 100_000).UTC(); !e.OccurredAt.Equal(want) {
			t.Errorf("entry dated %s, want the message's time %s", e.OccurredAt, want)
		}
		hist := r.fake.Calls("conversations.history")
		if len(hist) == 0 || hist[0].Param("latest") != m.TS || hist[0].Param("inclusive") != "1" || hist[0].Param("limit") != "1" {
			t.Errorf("history call = %+v, want latest=ts inclusive limit 1", hist)
		}
		if pins := r.timeline(models.TimelinePin); len(pins) != 0 {
			t.Errorf("a reaction made %d pin entries", len(pins))
		}
	})
}

func TestReactionOnThreadReplyReadsTheThread(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dialect string) {
		r := newEventRig(t, dialect)
		parent := r.fake.AddMessage(slackfake.Message{Channel: fixtureChannel, TS: "1773133000.000100", User: "U0ALICE", Text: "looking at the DB"})
		reply := r.fake.AddMessage(slackfake.Message{Channel: fixtureChannel, TS: "1773133010.000100", ThreadTS: parent.TS, User: "U0BOB", Text: "found it: disk full"})

		r.event(reaction("U0ALICE", "pushpin", fixtureChannel, reply.TS, "U0BOB"))
		got := r.timeline(models.TimelineReaction)
		if len(got) != 1 || got[0].Text != "found it: disk full" || got[0].Author.SlackUserID != "U0BOB" {
			t.Fatalf("entries = %+v, want the thread reply", got)
		}
		if n := len(r.fake.Calls("conversations.replies")); n != 1 {
			t.Errorf("conversations.replies called %d times, want 1", n)
		}
	})
}

func TestReactionConfiguredEmojiAndGoneMessage(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dialect string) {
		r := newEventRig(t, dialect, withPinEmoji(":star:"))
		m := r.fake.AddMessage(slackfake.Message{Channel: fixtureChannel, TS: "1773133000.000100", User: "U0ALICE", Text: "root cause found"})
		r.event(reaction("U0BOB", "pushpin", fixtureChannel, m.TS, "U0ALICE"))
		if got := r.timeline(models.TimelineReaction); len(got) != 0 {
			t.Fatalf("pushpin added %d entries though the pin emoji is star", len(got))
		}
		r.event(reaction("U0BOB", "star", fixtureChannel, m.TS, "U0ALICE"))
		if got := r.timeline(models.TimelineReaction); len(got) != 1 {
			t.Fatalf("star added %d entries, want 1", len(got))
		}
		// A message that is gone by the time we read it adds nothing, and
		// is no error.
		r.event(reaction("U0BOB", "star", fixtureChannel, "1773139999.000100", "U0ALICE"))
		if got := r.timeline(models.TimelineReaction); len(got) != 1 {
			t.Fatalf("%d entries after a reaction to a deleted message, want 1", len(got))
		}
		// Outside comms channels: nothing, not even a history read.
		before := len(r.fake.Calls("conversations.history"))
		r.event(reaction("U0BOB", "star", "C0NOTCOMMS", m.TS, "U0ALICE"))
		if after := len(r.fake.Calls("conversations.history")); after != before {
			t.Errorf("a reaction outside comms channels read history")
		}
	})
}

// --- messages, participants, keywords --------------------------------------

func TestKeywordRepliesOnceThenWaitsForTheCooldown(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dialect string) {
		r := newEventRig(t, dialect)
		ts1 := r.ts()
		first := envelope("EvKW1", message(fixtureChannel, "U0ALICE", ts1, "Where is the runbook for this?"))
		r.deliver(first)
		r.deliver(first) // run twice: one reply
		r.drain()
		replies := r.replies()
		if len(replies) != 1 {
			t.Fatalf("%d replies, want 1", len(replies))
		}
		c := replies[0]
		if c.Param("channel") != fixtureChannel || c.Param("thread_ts") != ts1 || !strings.Contains(c.Param("text"), "wiki.example.com/runbooks") {
			t.Errorf("reply = channel %s thread %s text %q, want a thread reply with the runbook link", c.Param("channel"), c.Param("thread_ts"), c.Param("text"))
		}

		// Within the cooldown: no reply, in the same channel.
		r.clock.Advance(9 * time.Minute)
		r.event(message(fixtureChannel, "U0BOB", r.ts(), "the PLAYBOOK says restart"))
		r.drain()
		if n := len(r.replies()); n != 1 {
			t.Fatalf("%d replies within the cooldown, want still 1", n)
		}
		// Another incident's channel has its own cooldown.
		other := "C0OTHERINC"
		r.incidentIn(other, "Another one")
		r.event(message(other, "U0BOB", r.ts(), "runbook?"))
		r.drain()
		if n := len(r.replies()); n != 2 {
			t.Fatalf("%d replies after a keyword in another comms channel, want 2", n)
		}

		// After the cooldown: again, and in the thread of a thread reply.
		r.clock.Advance(2 * time.Minute)
		parent := r.ts()
		reply := message(fixtureChannel, "U0BOB", r.ts(), "any playbook?")
		reply["thread_ts"] = parent
		r.event(reply)
		r.drain()
		replies = r.replies()
		if len(replies) != 3 {
			t.Fatalf("%d replies after the cooldown, want 3", len(replies))
		}
		if got := replies[2].Param("thread_ts"); got != parent {
			t.Errorf("reply to a thread message went to thread %q, want its parent %q", got, parent)
		}
	})
}

// A reply Slack refuses for a while is retried, not lost, and still sent
// once: the rate-limit slot is taken once, the reply is a job.
func TestKeywordReplySurvivesASlackHiccup(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dialect string) {
		r := newEventRig(t, dialect)
		r.fake.FailNext("chat.postMessage", "internal_error")
		r.fake.RateLimitNext("chat.postMessage", 30*time.Second)
		r.event(message(fixtureChannel, "U0ALICE", r.ts(), "escalate please"))
		r.drain() // internal_error: retried later
		r.clock.Advance(2 * time.Second)
		r.drain() // rate limited: deferred
		r.clock.Advance(31 * time.Second)
		r.drain()
		var ok []slackfake.Call
		for _, c := range r.replies() {
			if c.OK() {
				ok = append(ok, c)
			}
		}
		if len(r.replies()) != 3 || len(ok) != 1 || !strings.Contains(ok[0].Param("text"), "@incident page") {
			t.Fatalf("%d replies went through (of %d tries), want 1 with the page hint", len(ok), len(r.replies()))
		}
	})
}

func TestKeywordWordBoundariesAndCommands(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dialect string) {
		r := newEventRig(t, dialect)
		for _, text := range []string{
			"runbooks are out of date",                         // a longer word
			"see unrunbook",                                    // inside a word
			"playbook_v2 is broken",                            // underscore is a word character
			"<@" + slackfake.BotUserID + "> runbook please",    // a command for Herald, not a keyword
			"<@" + slackfake.BotUserID + "|incident> escalate", // the same, labelled
		} {
			r.event(message(fixtureChannel, "U0ALICE", r.ts(), text))
		}
		r.drain()
		if n := r.jobCount(handlers.JobKeywordReply); n != 0 {
			t.Fatalf("%d keyword replies for messages without the phrase as a word, want 0", n)
		}
		// As a word, with punctuation around it, in any case.
		r.event(message(fixtureChannel, "U0ALICE", r.ts(), "Who is on call for payments?!"))
		r.event(message(fixtureChannel, "U0ALICE", r.ts(), "(RUNBOOK)"))
		r.drain()
		if n := len(r.replies()); n != 2 {
			t.Fatalf("%d replies, want 2 (on-call and runbook)", n)
		}
		// A message with both keywords answers both (each once per cooldown).
		r.clock.Advance(11 * time.Minute)
		r.event(message(fixtureChannel, "U0ALICE", r.ts(), "escalate and open the runbook"))
		r.drain()
		if n := len(r.replies()); n != 4 {
			t.Fatalf("%d replies, want 4", n)
		}
		// Everyone who spoke counted, commands included.
		if got := r.participants()["U0ALICE"].MessageCount; got != 8 {
			t.Errorf("U0ALICE message count = %d, want 8", got)
		}
	})
}

func TestMessagesThatAreNotSomeoneSpeakingAreIgnored(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dialect string) {
		r := newEventRig(t, dialect)
		ts := r.ts()
		botMessage := message(fixtureChannel, "", ts, "runbook from a bot")
		delete(botMessage, "user")
		botMessage["subtype"], botMessage["bot_id"], botMessage["username"] = "bot_message", "B0OTHERBOT", "alertbot"
		appMessage := message(fixtureChannel, "U0APPUSER", r.ts(), "runbook from an app's bot user")
		appMessage["bot_id"] = "B0APP"
		ownMessage := message(fixtureChannel, slackfake.BotUserID, r.ts(), "runbook from Herald itself")
		joined := message(fixtureChannel, "U0ALICE", r.ts(), "<@U0ALICE> has joined the channel runbook")
		joined["subtype"] = "channel_join"
		changed := map[string]any{
			"type": "message", "subtype": "message_changed", "channel": fixtureChannel, "hidden": true, "ts": r.ts(), "event_ts": ts,
			"message":          map[string]any{"type": "message", "user": "U0ALICE", "text": "runbook (edited)", "ts": ts, "edited": map[string]any{"user": "U0ALICE", "ts": ts}},
			"previous_message": map[string]any{"type": "message", "user": "U0ALICE", "text": "runbook", "ts": ts},
		}
		deleted := map[string]any{
			"type": "message", "subtype": "message_deleted", "channel": fixtureChannel, "hidden": true, "ts": r.ts(), "deleted_ts": ts,
			"previous_message": map[string]any{"type": "message", "user": "U0ALICE", "text": "runbook", "ts": ts},
		}
		outside := message("C0NOTCOMMS", "U0ALICE", r.ts(), "runbook outside")
		dm := message("D0ALICE", "U0ALICE", r.ts(), "runbook in a DM")
		dm["channel_type"] = "im"
		for _, m := range []map[string]any{botMessage, appMessage, ownMessage, joined, changed, deleted, outside, dm} {
			r.event(m)
		}
		r.drain()
		if n := r.jobCount(handlers.JobKeywordReply); n != 0 {
			t.Errorf("%d keyword replies, want none", n)
		}
		if ps := r.participants(); len(ps) != 0 {
			t.Errorf("participants = %v, want none", ps)
		}
		if calls := r.fake.CallsExcept(); len(calls) != 0 {
			t.Errorf("Slack called: %s", calls[0].Method)
		}
		var cooldowns int64
		if err := r.db.Gorm.Model(&models.KeywordCooldown{}).Count(&cooldowns).Error; err != nil {
			t.Fatal(err)
		}
		if cooldowns != 0 {
			t.Errorf("%d keyword slots taken by ignored messages", cooldowns)
		}
	})
}

func TestParticipantsJoinAndSpeak(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dialect string) {
		r := newEventRig(t, dialect)
		joinedAt := r.clock.Now()
		join := map[string]any{
			"type": "member_joined_channel", "user": "U0BOB", "channel": fixtureChannel, "channel_type": "C",
			"team": "T123ABC456", "inviter": "U0ALICE", "event_ts": fmt.Sprintf("%d.000100", joinedAt.Unix()),
		}
		r.event(join)
		r.event(join) // again: no change
		botJoin := map[string]any{"type": "member_joined_channel", "user": slackfake.BotUserID, "channel": fixtureChannel, "event_ts": "1773133200.000100"}
		r.event(botJoin)
		otherJoin := map[string]any{"type": "member_joined_channel", "user": "U0BOB", "channel": "C0NOTCOMMS", "event_ts": "1773133200.000100"}
		r.event(otherJoin)

		ps := r.participants()
		if len(ps) != 1 {
			t.Fatalf("participants = %v, want only U0BOB", ps)
		}
		if bob := ps["U0BOB"]; bob.MessageCount != 0 || bob.LastMessageAt != nil || !bob.JoinedAt.Equal(time.Unix(joinedAt.Unix(), 100_000).UTC()) {
			t.Errorf("after joining: %+v, want no messages, joined at the event time", bob)
		}

		r.clock.Advance(time.Minute)
		r.event(message(fixtureChannel, "U0ALICE", r.ts(), "I'm on it"))
		r.clock.Advance(time.Minute)
		broadcast := message(fixtureChannel, "U0ALICE", r.ts(), "also sent to the channel")
		broadcast["subtype"], broadcast["thread_ts"] = "thread_broadcast", "1773133200.000001"
		r.event(broadcast)
		r.clock.Advance(time.Minute)
		lastTS := r.ts()
		share := message(fixtureChannel, "U0ALICE", lastTS, "graph attached")
		share["subtype"] = "file_share"
		r.event(share)
		r.clock.Advance(time.Minute)
		r.event(message(fixtureChannel, "U0BOB", r.ts(), "thanks"))

		ps = r.participants()
		alice, bob := ps["U0ALICE"], ps["U0BOB"]
		if alice.MessageCount != 3 || bob.MessageCount != 1 {
			t.Errorf("message counts alice=%d bob=%d, want 3 and 1", alice.MessageCount, bob.MessageCount)
		}
		if alice.LastMessageAt == nil || !alice.LastMessageAt.Equal(tsTime(lastTS)) {
			t.Errorf("alice last message at %v, want the time of %s", alice.LastMessageAt, lastTS)
		}
		if !bob.JoinedAt.Equal(time.Unix(joinedAt.Unix(), 100_000).UTC()) {
			t.Errorf("speaking moved bob's join time to %s", bob.JoinedAt)
		}
	})
}

// tsTime reads a Slack ts like Slack means it.
func tsTime(ts string) time.Time {
	var secs, micros int64
	if _, err := fmt.Sscanf(ts, "%d.%d", &secs, &micros); err != nil {
		panic(err)
	}
	return time.Unix(secs, micros*1000).UTC()
}

func TestChannelRenameRecorded(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dialect string) {
		r := newEventRig(t, dialect)
		rename := func(id, name string) map[string]any {
			return map[string]any{"type": "channel_rename", "channel": map[string]any{"id": id, "name": name, "created": 1773133200}, "event_ts": "1773133300.000100"}
		}
		r.event(rename(fixtureChannel, "inc-1-river-is-dry-again"))
		r.event(rename(fixtureChannel, "inc-1-river-is-dry-again")) // repeated: same result
		r.event(rename("C0NOTCOMMS", "random"))
		cc, err := r.store.CommsChannelFor(r.ctx, r.inc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if cc.ChannelName != "inc-1-river-is-dry-again" || cc.ChannelID != fixtureChannel {
			t.Errorf("comms channel = %s (%s), want the new name", cc.ChannelName, cc.ChannelID)
		}
		var n int64
		if err := r.db.Gorm.Model(&models.CommsChannel{}).Where("channel_name = ?", "random").Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("renaming a channel that is no comms channel recorded it")
		}
	})
}

func TestEventHandlersRegistered(t *testing.T) {
	r := newEventRig(t, models.DialectSQLite)
	for _, typ := range []string{"message", "pin_added", "pin_removed", "reaction_added", "channel_rename", "member_joined_channel", "app_mention"} {
		if len(r.reg.Events.For(typ)) == 0 {
			t.Errorf("no handler for %s", typ)
		}
	}
	if _, ok := r.reg.Jobs.Lookup(handlers.JobKeywordReply); !ok {
		t.Errorf("job kind %s not registered", handlers.JobKeywordReply)
	}
	if got := r.reg.Keywords.Match("who is on call?"); len(got) != 1 || got[0].Keyword.Name != "on-call" {
		t.Errorf("configured keywords not registered: %+v", got)
	}
}
