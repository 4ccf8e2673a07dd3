package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/bot"
	"github.com/heraldhq/herald/handlers"
	"github.com/heraldhq/herald/internal/slackfake"
	"github.com/heraldhq/herald/models"
)

// End-to-end tests of declaring and running an incident through the real
// HTTP endpoints: /incident opens the modal, its submission declares, the
// headline post's buttons do the rest. Every test runs on both stores.

const (
	fireTitle = "Database is on fire"
	fireSlug  = "inc-1-database-is-on-fire"
	docURL1   = "http://herald.test/incidents/1"
)

// fullForm is a declare modal with every field filled in. The summary has
// several lines, indentation and Slack control characters, all of which
// must arrive as typed.
var fullForm = incidentForm{
	Title:    fireTitle,
	Summary:  "Primary at 100% CPU & replicas lag > 5 min.\nNo <!channel> ping, please.\n\n  Indented: kept as typed.",
	Impact:   "Checkout fails for about 30% of users",
	Severity: models.SEV3,
	Lead:     leadID,
	Services: "checkout, payments-api",
}

// modalInputs maps a modal's input block ids to their elements.
func modalInputs(t testing.TB, rawView string) (callbackID, privateMetadata string, inputs map[string]map[string]any) {
	t.Helper()
	var v struct {
		CallbackID      string `json:"callback_id"`
		PrivateMetadata string `json:"private_metadata"`
		Blocks          []struct {
			Type    string         `json:"type"`
			BlockID string         `json:"block_id"`
			Element map[string]any `json:"element"`
		} `json:"blocks"`
	}
	if err := json.Unmarshal([]byte(rawView), &v); err != nil {
		t.Fatalf("view: %v", err)
	}
	inputs = map[string]map[string]any{}
	for _, b := range v.Blocks {
		if b.Type == "input" {
			inputs[b.BlockID] = b.Element
		}
	}
	return v.CallbackID, v.PrivateMetadata, inputs
}

func TestSlashCommandOpensDeclareModal(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dialect string) {
		h := newHarness(t, dialect)
		form := h.slashForm("/incident", fireTitle)
		r := h.postSigned("/slack/commands", formType, []byte(form.Encode()), nil)
		if r.Status != http.StatusOK || len(r.Body) != 0 {
			t.Fatalf("answer %s, want an empty 200 (the modal is the answer)", r)
		}
		opens := h.fake.Calls("views.open")
		if len(opens) != 1 || !opens[0].OK() {
			t.Fatalf("views.open calls: %+v, want one good one", opens)
		}
		open := opens[0]
		if got := open.Param("trigger_id"); got != form.Get("trigger_id") {
			t.Errorf("views.open trigger_id %q, want the command's %q", got, form.Get("trigger_id"))
		}
		callback, meta, inputs := modalInputs(t, open.Param("view"))
		if callback != bot.CallbackDeclare {
			t.Errorf("callback_id %q, want %q", callback, bot.CallbackDeclare)
		}
		if inputs["title"]["initial_value"] != fireTitle || inputs["title"]["action_id"] != "title" {
			t.Errorf("title input %v, want initial_value %q", inputs["title"], fireTitle)
		}
		mustContain(t, "private_metadata", meta, slashChannel)
		for _, id := range []string{"title", "summary", "impact", "severity", "lead", "kind", "services"} {
			if inputs[id] == nil || inputs[id]["action_id"] != id {
				t.Errorf("input %q missing or with another action id: %v", id, inputs[id])
			}
		}
		golden(t, "declare_modal.golden.json", open.Param("view"))

		// Nothing is declared until the modal is submitted.
		for _, table := range []string{"incidents", "jobs", "timeline_events"} {
			if n := h.count(table); n != 0 {
				t.Errorf("%s has %d rows after only opening the modal", table, n)
			}
		}

		// A bare /incident opens it empty.
		if r := h.slash(" "); r.Status != http.StatusOK || len(r.Body) != 0 {
			t.Fatalf("bare /incident: %s", r)
		}
		_, _, inputs = modalInputs(t, h.fake.Calls("views.open")[1].Param("view"))
		if v, ok := inputs["title"]["initial_value"]; ok && v != "" {
			t.Errorf("bare /incident pre-filled the title with %q", v)
		}
	})
}

func TestDeclareBySubmittingTheModal(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dialect string) {
		h := newHarness(t, dialect)
		// Every registered reminder is scheduled with the incident; one
		// is registered here so there is something to see whatever the
		// built-ins are.
		err := h.app.Registries.Notifications.Register(bot.Notification{Name: "e2e.reminder", Spec: "@every 10m", MaxCount: 3,
			Send: func(context.Context, *models.Incident, int) error { return nil }})
		if err != nil {
			t.Fatal(err)
		}
		h.slash(fireTitle)
		m := h.lastModal()
		r := h.submit(m, reporter, fullForm)
		if r.Status != http.StatusOK || len(r.Body) != 0 {
			t.Fatalf("submission answered %s, want an empty 200 (Slack closes the modal)", r)
		}

		inc, err := h.db.Store.IncidentByNumber(h.ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		if inc.Title != fireTitle || inc.Impact != fullForm.Impact || inc.Severity != models.SEV3 || inc.AffectedServices != fullForm.Services ||
			inc.Status != models.StatusInvestigating || inc.Source != "slack" || inc.IsReport || !inc.ReportedAt.Equal(testStart) || inc.Version != 1 {
			t.Errorf("stored incident = %+v", inc)
		}
		if inc.Summary != fullForm.Summary {
			t.Errorf("summary stored as %q, want exactly %q", inc.Summary, fullForm.Summary)
		}
		if inc.IdempotencyKey == nil || *inc.IdempotencyKey != "slack-view:"+m.ID() {
			t.Errorf("idempotency key %v, want the view id %s", inc.IdempotencyKey, m.ID())
		}
		if inc.Reporter == nil || inc.Reporter.SlackUserID != reporter.ID || inc.Reporter.DisplayName != reporter.Name {
			t.Errorf("reporter = %+v, want %s", inc.Reporter, reporter.ID)
		}
		if inc.Lead == nil || inc.Lead.SlackUserID != leadID {
			t.Errorf("lead = %+v, want %s", inc.Lead, leadID)
		}
		timeline, err := h.db.Store.Timeline(h.ctx, inc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(timeline) != 1 || timeline[0].Kind != models.TimelineDeclared || timeline[0].AuthorID == nil || *timeline[0].AuthorID != inc.Reporter.ID {
			t.Errorf("timeline = %+v, want one declared entry by the reporter", timeline)
		}
		reminders, err := h.db.Store.Reminders(h.ctx, inc.ID)
		if err != nil {
			t.Fatal(err)
		}
		registered := h.app.Registries.Notifications.All()
		t.Logf("%d reminders registered (%d built in), %d scheduled", len(registered), len(registered)-1, len(reminders))
		for _, n := range registered {
			i := slices.IndexFunc(reminders, func(r models.RecurringNotification) bool { return r.Name == n.Name })
			if i < 0 {
				t.Errorf("reminder %s not scheduled", n.Name)
				continue
			}
			if r := reminders[i]; !r.NextRunAt.Equal(n.Next(testStart)) || r.SentCount != 0 || r.DoneAt != nil {
				t.Errorf("reminder %s = %+v, want first run at %v", n.Name, r, n.Next(testStart))
			}
		}
		if h.jobsOfKind(handlers.JobHeadline) != 1 || h.jobsOfKind(handlers.JobDeclareConfirm) != 1 || h.count("jobs") != 2 {
			t.Errorf("jobs = %+v, want one headline and one confirmation (SEV3: no comms channel)", h.jobs())
		}
		// Slack got its answer before Herald talked to Slack again.
		if calls := h.fake.CallsExcept("auth.test", "views.open"); len(calls) != 0 {
			t.Fatalf("Slack called before the jobs ran: %s", calls[0].Method)
		}

		if ran := h.drain(h.node); ran != 2 {
			t.Fatalf("drain ran %d jobs, want 2", ran)
		}
		posts := h.fake.Calls("chat.postMessage")
		if len(posts) != 1 {
			t.Fatalf("chat.postMessage called %d times, want 1", len(posts))
		}
		post := posts[0]
		if post.Param("channel") != "#incidents" || !post.OK() {
			t.Errorf("headline posted to %q (ok %v), want #incidents", post.Param("channel"), post.OK())
		}
		golden(t, "headline_new.golden.json", post.Param("blocks"))
		mustContain(t, "headline fallback text", post.Param("text"), "Incident #1", fireTitle, "SEV3")
		if got, want := buttons(t, h.headline(inc.ID)), []string{"incident.doc", bot.ActionCreateComms, bot.ActionEdit, bot.ActionPage, bot.ActionClose}; !slices.Equal(got, want) {
			t.Errorf("headline buttons %v, want %v", got, want)
		}
		hp, err := h.db.Store.HeadlinePostFor(h.ctx, inc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if hp.ChannelID != h.fake.ChannelID("incidents") || hp.MessageTS != post.ResponseField("ts") || hp.RenderedVersion != 1 || hp.PostingUntil != nil {
			t.Errorf("headline post saved as %+v, Slack answered %s/%s", hp, post.ResponseField("channel"), post.ResponseField("ts"))
		}
		eph := h.fake.Calls("chat.postEphemeral")
		if len(eph) != 1 || eph[0].Param("user") != reporter.ID || eph[0].Param("channel") != slashChannel || !eph[0].OK() {
			t.Fatalf("confirmations %+v, want one to %s in %s", eph, reporter.ID, slashChannel)
		}
		mustContain(t, "confirmation", eph[0].AllText(), "Incident #1", fireTitle, "#incidents", docURL1)

		total, byMethod := h.slackCalls()
		t.Logf("Slack calls to declare a SEV3 incident (slash, modal, submit): %d (%s)", total, callSummary(byMethod))

		// Slack delivers the same submission again: nothing new.
		if r := h.submit(m, reporter, fullForm); r.Status != http.StatusOK || len(r.Body) != 0 {
			t.Fatalf("repeated submission: %s", r)
		}
		if ran := h.drain(h.node); ran != 0 {
			t.Errorf("repeated submission ran %d jobs", ran)
		}
		if n, posts := h.count("incidents"), len(h.fake.Calls("chat.postMessage")); n != 1 || posts != 1 {
			t.Errorf("after the repeat: %d incidents, %d headline posts; want 1 and 1", n, posts)
		}
	})
}

// A report of a past incident is stored as one, says so on its headline,
// and gets no comms channel whatever its severity.
func TestDeclareAReport(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dialect string) {
		h := newHarness(t, dialect)
		inc := h.declare(incidentForm{Title: "Backups did not run last night", Severity: models.SEV1, Report: true})
		if !inc.IsReport || inc.Severity != models.SEV1 || inc.Lead != nil || inc.Summary != "" {
			t.Errorf("stored report = %+v", inc)
		}
		h.drain(h.node)
		if n := len(h.fake.Calls("conversations.create")); n != 0 {
			t.Errorf("a report got a comms channel (%d)", n)
		}
		mustContain(t, "headline", messageText(t, h.headline(inc.ID)), "Report of a past incident")
	})
}

func TestDeclareValidation(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dialect string) {
		h := newHarness(t, dialect)
		for _, tc := range []struct {
			name   string
			form   incidentForm
			field  string
			reason string
		}{
			{"empty title", incidentForm{Summary: "Something is wrong", Severity: models.SEV2}, "title", "title"},
			{"blank title", incidentForm{Title: " \t "}, "title", "title"},
			{"title too long", incidentForm{Title: strings.Repeat("x", models.MaxTitleLength+1)}, "title", "150"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := h.submit(h.declareModal(), reporter, tc.form)
				if r.Status != http.StatusOK {
					t.Fatalf("answer %s, want 200 with the errors", r)
				}
				var got struct {
					ResponseAction string            `json:"response_action"`
					Errors         map[string]string `json:"errors"`
				}
				if err := json.Unmarshal(r.Body, &got); err != nil {
					t.Fatalf("answer %s: %v", r, err)
				}
				if got.ResponseAction != "errors" || len(got.Errors) != 1 || got.Errors[tc.field] == "" {
					t.Fatalf("answer %s, want response_action errors on %q", r, tc.field)
				}
				mustContain(t, "error", got.Errors[tc.field], tc.reason)
			})
		}
		h.drain(h.node)
		h.assertNothingStored()
	})
}

func TestCommsChannel(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dialect string) {
		t.Run("SEV1 gets one at once", func(t *testing.T) {
			h := newHarness(t, dialect)
			h.slash(fireTitle)
			form := fullForm
			form.Severity = models.SEV1
			if r := h.submit(h.lastModal(), reporter, form); r.Status != http.StatusOK || len(r.Body) != 0 {
				t.Fatalf("declare: %s", r)
			}
			if n := h.jobsOfKind(handlers.JobCommsCreate); n != 1 {
				t.Fatalf("%d comms.create jobs stored with the SEV1 declaration, want 1", n)
			}
			h.drain(h.node)
			creates := h.fake.Calls("conversations.create")
			if len(creates) != 1 || creates[0].Param("name") != fireSlug || !creates[0].OK() {
				t.Fatalf("conversations.create calls %+v, want one for %s", creates, fireSlug)
			}
			ch := assertCommsChannel(t, h, 1, fireSlug, reporter.ID, leadID)
			mustContain(t, "topic", ch.Topic, "Incident #1: "+fireTitle, docURL1)

			// The headline shows the channel and no longer offers one. It
			// was posted once and updated at most once: whether the update
			// is needed depends on which job ran first.
			hl := h.headline(1)
			mustContain(t, "headline", messageText(t, hl), "<#"+ch.ID+">")
			if slices.Contains(buttons(t, hl), bot.ActionCreateComms) {
				t.Errorf("headline still offers a comms channel: %v", buttons(t, hl))
			}
			posts, updates := h.headlineCalls()
			if posts != 1 || updates > 1 {
				t.Errorf("headline posted %d times and updated %d times, want 1 and at most 1", posts, updates)
			}
			if h.timelineKinds(1)[models.TimelineNote] != 1 {
				t.Errorf("timeline %v, want a note of the channel", h.timelineKinds(1))
			}
			total, byMethod := h.slackCalls()
			t.Logf("Slack calls to declare a SEV1 incident (slash, modal, submit, auto comms channel): %d (%s)", total, callSummary(byMethod))
			// Later drains change nothing.
			h.clock.Advance(time.Minute)
			if ran := h.drain(h.node); ran != 0 {
				t.Errorf("%d jobs ran later", ran)
			}
		})
		t.Run("SEV3 waits for the button; a double click makes one", func(t *testing.T) {
			h := newHarness(t, dialect)
			inc := h.declare(fullForm)
			h.drain(h.node)
			if n := len(h.fake.Calls("conversations.create")); n != 0 {
				t.Fatalf("SEV3 got a channel without asking (%d)", n)
			}
			before, _ := h.slackCalls()
			// Two payloads, two action_ts: a double click.
			first, second := h.blockAction(bot.ActionCreateComms, inc.ID, clicker), h.blockAction(bot.ActionCreateComms, inc.ID, clicker)
			if payloadField(t, first, "trigger_id") == payloadField(t, second, "trigger_id") {
				t.Fatal("the two clicks are the same payload")
			}
			for _, body := range [][]byte{first, second} {
				if r := h.interact(h.node, body); r.Status != http.StatusOK || len(r.Body) != 0 {
					t.Fatalf("click: %s", r)
				}
			}
			if calls := h.fake.Calls("conversations.create"); len(calls) != 0 {
				t.Fatal("the click worked before Slack had its answer")
			}
			h.drain(h.node)
			creates := h.fake.Calls("conversations.create")
			if len(creates) != 1 || creates[0].Param("name") != fireSlug {
				t.Fatalf("conversations.create calls %+v, want one", creates)
			}
			ch := assertCommsChannel(t, h, inc.ID, fireSlug, reporter.ID, leadID, clicker.ID)
			eph := h.ephemerals(clicker.ID)
			if len(eph) != 2 {
				t.Errorf("%d answers to the clicker, want one per click", len(eph))
			}
			for _, e := range eph {
				mustContain(t, "answer to the click", e.AllText(), "comms channel", "invited")
			}
			hl := h.headline(inc.ID)
			mustContain(t, "headline", messageText(t, hl), "<#"+ch.ID+">")
			if slices.Contains(buttons(t, hl), bot.ActionCreateComms) {
				t.Errorf("headline still offers a comms channel: %v", buttons(t, hl))
			}
			posts, updates := h.headlineCalls()
			if posts != 1 || updates != 1 {
				t.Errorf("headline posted %d and updated %d times, want 1 and 1", posts, updates)
			}
			after, byMethod := h.slackCalls()
			t.Logf("Slack calls for a double-clicked \"Create comms channel\": %d (all calls so far: %s)", after-before, callSummary(byMethod))
		})
	})
}

// assertCommsChannel checks an incident's comms channel exists under name
// with the members, a pinned summary, and returns it.
func assertCommsChannel(t *testing.T, h *harness, incidentID int64, name string, members ...string) slackfake.Channel {
	t.Helper()
	ch, ok := h.fake.Channel(name)
	if !ok {
		t.Fatalf("no channel %s in Slack", name)
	}
	if id := h.commsChannelID(incidentID); id != ch.ID {
		t.Fatalf("comms channel stored as %q, Slack has %s as %s", id, name, ch.ID)
	}
	for _, m := range members {
		if !slices.Contains(ch.Members, m) {
			t.Errorf("%s is not in %s (members %v)", m, name, ch.Members)
		}
	}
	msgs := h.fake.Messages(ch.ID)
	if len(msgs) == 0 {
		t.Fatalf("nothing posted in %s", name)
	}
	inc := h.incident(incidentID)
	mustContain(t, "channel summary", msgs[0].Text, fmt.Sprintf("Incident #%d", inc.Number), inc.Title, docURL1)
	if inc.Summary != "" {
		mustContain(t, "channel summary", msgs[0].Text, "No &lt;!channel&gt; ping")
	}
	if !h.fake.Pinned(ch.ID, msgs[0].TS) {
		t.Errorf("the summary in %s is not pinned", name)
	}
	return ch
}

// headlineCalls counts chat.postMessage calls to the incidents channel and
// chat.update calls.
func (h *harness) headlineCalls() (posts, updates int) {
	for _, c := range h.fake.Calls("chat.postMessage") {
		if c.Param("channel") == "#incidents" {
			posts++
		}
	}
	return posts, len(h.fake.Calls("chat.update"))
}

func TestCommsChannelNameTaken(t *testing.T) {
	for _, tc := range []struct {
		name  string
		taken []string
		want  string
	}{
		{"name taken", []string{fireSlug}, fireSlug + "-2"},
		{"name and -2 taken", []string{fireSlug, fireSlug + "-2"}, fireSlug + "-3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			forEachDialect(t, func(t *testing.T, dialect string) {
				h := newHarness(t, dialect)
				var theirs []string
				for _, n := range tc.taken {
					theirs = append(theirs, h.fake.AddChannel(n, false))
				}
				form := fullForm
				form.Severity = models.SEV1
				inc := h.declare(form)
				h.drain(h.node)
				creates := h.fake.Calls("conversations.create")
				if len(creates) != len(tc.taken)+1 {
					t.Fatalf("%d conversations.create calls, want %d", len(creates), len(tc.taken)+1)
				}
				for i, c := range creates[:len(tc.taken)] {
					if c.Param("name") != tc.taken[i] || c.Error() != "name_taken" {
						t.Errorf("create %d: %s answered %q, want name_taken", i, c.Param("name"), c.Error())
					}
				}
				ch := assertCommsChannel(t, h, inc.ID, tc.want, reporter.ID, leadID)
				// Never someone else's channel.
				for i, id := range theirs {
					if id == ch.ID {
						t.Fatalf("reused the existing channel %s", tc.taken[i])
					}
					other, _ := h.fake.Channel(id)
					if len(other.Members) != 1 || other.Topic != "" || len(h.fake.Messages(id)) != 0 {
						t.Errorf("the existing channel %s was touched: %+v", tc.taken[i], other)
					}
				}
				for _, c := range h.fake.CallsExcept("auth.test", "conversations.create") {
					if ch := c.Param("channel"); slices.Contains(theirs, ch) {
						t.Errorf("%s called on the existing channel %s", c.Method, ch)
					}
				}
			})
		})
	}
}

func TestCloseAndReopenButtons(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dialect string) {
		h := newHarness(t, dialect, withEnv("HERALD_ARCHIVE_AFTER", "1h"))
		form := fullForm
		form.Severity = models.SEV1
		inc := h.declare(form)
		h.drain(h.node)
		channel := h.commsChannelID(inc.ID)
		if channel == "" {
			t.Fatal("no comms channel")
		}
		h.clock.Advance(47 * time.Minute)
		closedAt := h.now()
		h.click(bot.ActionClose, inc.ID, other)
		if inc := h.incident(inc.ID); !inc.IsOpen() {
			t.Fatal("closed before Slack had its answer")
		}
		h.drain(h.node)

		closed := h.incident(inc.ID)
		if closed.Status != models.StatusResolved || closed.ResolvedAt == nil || !closed.ResolvedAt.Equal(closedAt) ||
			closed.ResolvedBy == nil || closed.ResolvedBy.SlackUserID != other.ID {
			t.Fatalf("after Close: %+v (resolved by %+v)", closed, closed.ResolvedBy)
		}
		if n := h.timelineKinds(inc.ID)[models.TimelineClosed]; n != 1 {
			t.Errorf("%d closed timeline entries, want 1", n)
		}
		audit, err := h.db.Store.AuditLog(h.ctx, inc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if i := slices.IndexFunc(audit, func(a models.AuditEntry) bool { return a.Action == "incident.close" }); i < 0 ||
			audit[i].ActorID == nil || *audit[i].ActorID != closed.ResolvedBy.ID || audit[i].After != "resolved" {
			t.Errorf("audit log %+v, want incident.close by the clicker", audit)
		}
		hl := h.headline(inc.ID)
		mustContain(t, "closed headline", messageText(t, hl), "✅ Incident #1", "Resolved", "*Duration*\n47m")
		if got := buttons(t, hl); !slices.Equal(got, []string{"incident.doc", bot.ActionReopen}) {
			t.Errorf("closed headline buttons %v, want the doc and Re-open", got)
		}
		msgs := h.fake.Messages(channel)
		mustContain(t, "notice in the comms channel", msgs[len(msgs)-1].Text, "Incident closed by <@"+other.ID+"> after 47m", docURL1)
		dms := h.fake.Messages(slackfake.DMChannelID(leadID))
		if len(dms) != 1 {
			t.Fatalf("%d DMs to the lead, want 1 report reminder", len(dms))
		}
		mustContain(t, "report DM", dms[0].Text, "Incident #1", "closed after 47m", docURL1)
		if n := len(h.fake.Messages(slackfake.DMChannelID(reporter.ID))); n != 0 {
			t.Errorf("the reporter got %d DMs; the lead writes the report", n)
		}
		if job := h.jobOfKind(handlers.JobCommsArchive); !job.RunAt.Equal(closedAt.Add(time.Hour)) || job.DoneAt != nil {
			t.Errorf("archive job %+v, want one due an hour after closing", job)
		}

		// Re-opened before the archive is due: the channel stays.
		h.clock.Advance(10 * time.Minute)
		h.click(bot.ActionReopen, inc.ID, other)
		h.drain(h.node)
		reopened := h.incident(inc.ID)
		if !reopened.IsOpen() || reopened.ResolvedAt != nil || reopened.ResolvedByID != nil {
			t.Fatalf("after Re-open: %+v", reopened)
		}
		if n := h.timelineKinds(inc.ID)[models.TimelineReopened]; n != 1 {
			t.Errorf("%d reopened timeline entries, want 1", n)
		}
		hl = h.headline(inc.ID)
		if got := buttons(t, hl); !slices.Equal(got, []string{"incident.doc", bot.ActionEdit, bot.ActionPage, bot.ActionClose}) {
			t.Errorf("re-opened headline buttons %v", got)
		}
		if strings.Contains(messageText(t, hl), "Duration") {
			t.Error("re-opened headline still shows a duration")
		}
		msgs = h.fake.Messages(channel)
		mustContain(t, "notice in the comms channel", msgs[len(msgs)-1].Text, "re-opened by <@"+other.ID+">")
		h.clock.Advance(time.Hour)
		h.drain(h.node)
		if n := len(h.fake.Calls("conversations.archive")); n != 0 {
			t.Errorf("the channel of a re-opened incident was archived (%d)", n)
		}

		// Closed again: archived an hour later.
		h.click(bot.ActionClose, inc.ID, clicker)
		h.drain(h.node)
		h.clock.Advance(time.Hour)
		h.drain(h.node)
		if ch, _ := h.fake.Channel(channel); !ch.IsArchived {
			t.Error("the channel was not archived an hour after closing")
		}
		if n := len(h.fake.Messages(slackfake.DMChannelID(leadID))); n != 2 {
			t.Errorf("%d report DMs to the lead after two closes, want 2", n)
		}
	})
}

// Two people click Close at the same moment: the incident closes once and
// the one who came second is told.
func TestConcurrentCloseClicks(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dialect string) {
		for _, tc := range []struct {
			name     string
			replicas int // drained by this many replicas at once
		}{{"one worker", 1}, {"two replicas", 2}} {
			t.Run(tc.name, func(t *testing.T) {
				h := newHarness(t, dialect)
				nodes := []*node{h.node}
				if tc.replicas == 2 {
					nodes = append(nodes, h.startNode())
				}
				inc := h.declare(fullForm)
				h.drain(h.node)
				h.clock.Advance(time.Minute)
				bodies := [][]byte{h.blockAction(bot.ActionClose, inc.ID, clicker), h.blockAction(bot.ActionClose, inc.ID, other)}
				var wg sync.WaitGroup
				start := make(chan struct{})
				for i, body := range bodies {
					wg.Add(1)
					go func() {
						defer wg.Done()
						<-start
						if r := h.interact(nodes[i%len(nodes)], body); r.Status != http.StatusOK {
							t.Errorf("click %d: %s", i, r)
						}
					}()
				}
				close(start)
				wg.Wait()
				drainAll(t, h, nodes)

				closed := h.incident(inc.ID)
				if closed.IsOpen() || closed.ResolvedBy == nil {
					t.Fatalf("after two clicks: %+v", closed)
				}
				if n := h.timelineKinds(inc.ID)[models.TimelineClosed]; n != 1 {
					t.Errorf("%d closed timeline entries, want 1", n)
				}
				first, second := clicker, other
				if closed.ResolvedBy.SlackUserID == other.ID {
					first, second = other, clicker
				}
				if n := len(h.ephemerals(first.ID)); n != 0 {
					t.Errorf("the one who closed it got %d answers, want none", n)
				}
				eph := h.ephemerals(second.ID)
				if len(eph) != 1 {
					t.Fatalf("the second clicker got %d answers, want 1", len(eph))
				}
				mustContain(t, "answer to the second click", eph[0].AllText(), "Incident #1 is already closed")
				if n := len(h.fake.Messages(slackfake.DMChannelID(leadID))); n != 1 {
					t.Errorf("%d report DMs, want 1", n)
				}
				if _, updates := h.headlineCalls(); updates != 1 {
					t.Errorf("%d headline updates, want 1", updates)
				}
			})
		}
	})
}

// drainAll runs every node's worker at once until no job is pending,
// moving the clock past retries (a busy headline or a locked row puts a job
// back for a few seconds).
func drainAll(t *testing.T, h *harness, nodes []*node) {
	t.Helper()
	for range 10 {
		var wg sync.WaitGroup
		for _, n := range nodes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := n.app.Worker.Drain(h.ctx); err != nil {
					t.Errorf("Drain: %v", err)
				}
			}()
		}
		wg.Wait()
		if pending, err := h.db.Store.PendingJobs(h.ctx); err != nil || pending == 0 {
			return
		}
		h.clock.Advance(10 * time.Second)
	}
	pending, _ := h.db.Store.PendingJobs(h.ctx)
	t.Fatalf("%d jobs still pending", pending)
}

// With the paging engine configured, Page on-call opens the page form
// before Slack has its answer (the trigger_id lasts 3 seconds) and pages
// nobody by itself.
func TestPageButtonOpensThePageForm(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dialect string) {
		h := newHarness(t, dialect)
		inc := h.declare(fullForm)
		h.drain(h.node)
		h.fake.Reset()
		h.click(bot.ActionPage, inc.ID, clicker)
		opens := h.fake.Calls("views.open")
		if len(opens) != 1 {
			t.Fatalf("views.open calls = %d, want 1 (inline, before the answer)", len(opens))
		}
		view, err := opens[0].View()
		if err != nil {
			t.Fatal(err)
		}
		if view.CallbackID != "page_oncall" {
			t.Fatalf("modal callback = %q, want page_oncall", view.CallbackID)
		}
		h.drain(h.node)
		msgs, err := h.db.Store.MessagesOf(h.ctx, inc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) != 0 {
			t.Fatalf("opening the form paged %d times", len(msgs))
		}
	})
}

func TestEditButton(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dialect string) {
		h := newHarness(t, dialect)
		inc := h.declare(fullForm)
		h.drain(h.node)
		h.fake.Reset()

		body := h.blockAction(bot.ActionEdit, inc.ID, clicker)
		if r := h.interact(h.node, body); r.Status != http.StatusOK || len(r.Body) != 0 {
			t.Fatalf("click Edit: %s", r)
		}
		// Inline: the modal is open by the time Slack has its answer.
		opens := h.fake.Calls("views.open")
		if len(opens) != 1 || !opens[0].OK() || opens[0].Param("trigger_id") != payloadField(t, body, "trigger_id") {
			t.Fatalf("views.open calls %+v, want one with the click's trigger_id", opens)
		}
		callback, meta, inputs := modalInputs(t, opens[0].Param("view"))
		if callback != bot.CallbackEdit || meta != fmt.Sprintf(`{"i":%d}`, inc.ID) {
			t.Errorf("edit modal callback %q, metadata %q", callback, meta)
		}
		for id, want := range map[string]string{"title": fullForm.Title, "summary": fullForm.Summary, "impact": fullForm.Impact, "services": fullForm.Services} {
			if got := inputs[id]["initial_value"]; got != want {
				t.Errorf("edit modal %s = %q, want %q", id, got, want)
			}
		}
		if inputs["lead"]["initial_user"] != leadID {
			t.Errorf("edit modal lead = %v, want %s", inputs["lead"]["initial_user"], leadID)
		}
		if opt, _ := inputs["severity"]["initial_option"].(map[string]any); opt == nil || opt["value"] != "3" {
			t.Errorf("edit modal severity = %v, want SEV3", inputs["severity"]["initial_option"])
		}
		if _, ok := inputs["kind"]; ok {
			t.Error("the edit modal offers to turn the incident into a report")
		}

		edited := fullForm
		edited.Title, edited.Summary, edited.Severity, edited.Lead = "Database is on fire, replicas too", "Now the replicas.\nAll of them.", models.SEV4, other.ID
		if r := h.submit(h.lastModal(), clicker, edited); r.Status != http.StatusOK || len(r.Body) != 0 {
			t.Fatalf("submit edit: %s", r)
		}
		got := h.incident(inc.ID)
		if got.Title != edited.Title || got.Summary != edited.Summary || got.Severity != models.SEV4 || got.Lead == nil || got.Lead.SlackUserID != other.ID ||
			got.Impact != fullForm.Impact || got.Version != 2 {
			t.Errorf("after the edit: %+v", got)
		}
		h.drain(h.node)
		if posts, updates := h.headlineCalls(); posts != 0 || updates != 1 {
			t.Errorf("headline posted %d and updated %d times, want 0 and 1", posts, updates)
		}
		mustContain(t, "edited headline", messageText(t, h.headline(inc.ID)), edited.Title, "All of them.", "SEV4", "<@"+other.ID+">")
		tl, _ := h.db.Store.Timeline(h.ctx, inc.ID)
		mustContain(t, "timeline", tl[len(tl)-1].Text, "Edited by <@"+clicker.ID+">", "title", "summary", "severity", "lead")

		// Saving the same form again changes nothing.
		if r := h.submit(h.lastModal(), clicker, edited); r.Status != http.StatusOK || len(r.Body) != 0 {
			t.Fatalf("submit the same edit: %s", r)
		}
		if ran := h.drain(h.node); ran != 0 {
			t.Errorf("an edit that changed nothing ran %d jobs", ran)
		}
		// A form that lost its incident says so instead of failing.
		r := h.submit(h.newModal(bot.CallbackEdit, ""), clicker, edited)
		if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"response_action":"errors"`) {
			t.Errorf("edit without its incident: %s, want field errors", r)
		}
	})
}

// Five changes in a row cost one or two Slack updates, and the post ends
// showing the last of them.
func TestHeadlineBurstCoalesces(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dialect string) {
		h := newHarness(t, dialect)
		inc := h.declare(fullForm)
		h.drain(h.node)
		h.fake.Reset()
		var last incidentForm
		for i := 1; i <= 5; i++ {
			last = fullForm
			last.Title = fmt.Sprintf("%s (update %d)", fireTitle, i)
			last.Severity = models.SEV3 + models.Severity(i%2)
			if r := h.submit(h.newModal(bot.CallbackEdit, fmt.Sprintf(`{"i":%d}`, inc.ID)), clicker, last); r.Status != http.StatusOK || len(r.Body) != 0 {
				t.Fatalf("edit %d: %s", i, r)
			}
		}
		if n := h.jobsOfKind(handlers.JobHeadline); n != 6 {
			t.Errorf("%d headline jobs, want the declaration's and one per change", n)
		}
		h.drain(h.node)
		posts, updates := h.headlineCalls()
		t.Logf("five changes, one drain: %d chat.update, %d chat.postMessage", updates, posts)
		if posts != 0 || updates < 1 || updates > 2 {
			t.Errorf("headline posted %d and updated %d times, want 0 and 1 or 2", posts, updates)
		}
		final := h.incident(inc.ID)
		hl := h.headline(inc.ID)
		mustContain(t, "headline", messageText(t, hl), last.Title, last.Severity.String())
		hp, _ := h.db.Store.HeadlinePostFor(h.ctx, inc.ID)
		if final.Version != 6 || hp.RenderedVersion != final.Version {
			t.Errorf("incident at version %d, headline shows %d", final.Version, hp.RenderedVersion)
		}
		for _, j := range h.jobs() {
			if j.DoneAt == nil {
				t.Errorf("job %s (%s) not done", j.ID, j.Kind)
			}
		}
	})
}

// The process dies between storing the incident and posting about it: the
// next one posts the headline and the confirmation, once.
func TestRestartWhileDeclaring(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dialect string) {
		h := newHarness(t, dialect)
		h.slash(fireTitle)
		form := fullForm
		form.Severity = models.SEV1
		if r := h.submit(h.lastModal(), reporter, form); r.Status != http.StatusOK {
			t.Fatalf("declare: %s", r)
		}
		h.node.crash()
		restarted := h.startNode()
		if ran := h.drain(restarted); ran == 0 {
			t.Fatal("the restarted process found nothing to do")
		}
		h.clock.Advance(time.Minute)
		h.drain(restarted)
		if posts, _ := h.headlineCalls(); posts != 1 {
			t.Errorf("headline posted %d times, want 1", posts)
		}
		if n := len(h.ephemerals(reporter.ID)); n != 1 {
			t.Errorf("%d confirmations, want 1", n)
		}
		if n := len(h.fake.Calls("conversations.create")); n != 1 {
			t.Errorf("%d channels created, want 1", n)
		}
		if pending, _ := h.db.Store.PendingJobs(h.ctx); pending != 0 {
			t.Errorf("%d jobs left", pending)
		}
	})
}

// Slack rate-limits a step of the comms channel's set-up: the job comes
// back and finishes the set-up (invitations, topic, summary, pin), without
// a second channel.
func TestCommsSetupResumesAfterAFailure(t *testing.T) {
	for _, method := range []string{"conversations.invite", "conversations.setTopic", "pins.add"} {
		t.Run(method, func(t *testing.T) {
			forEachDialect(t, func(t *testing.T, dialect string) {
				h := newHarness(t, dialect)
				h.fake.RateLimitNext(method, time.Second)
				form := fullForm
				form.Severity = models.SEV1
				inc := h.declare(form)
				drainAll(t, h, []*node{h.node})
				if n := len(h.fake.Calls("conversations.create")); n != 1 {
					t.Errorf("%d channels created, want 1", n)
				}
				ch := assertCommsChannel(t, h, inc.ID, fireSlug, reporter.ID, leadID)
				mustContain(t, "topic", ch.Topic, "Incident #1")
				if n := len(h.fake.Messages(ch.ID)); n != 1 {
					t.Errorf("%d summaries posted in the channel, want 1", n)
				}
			})
		})
	}
}

// How many Slack calls one declaration costs, from /incident to the last
// job: the numbers quoted in the docs.
func TestSlackCallsPerDeclaredIncident(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dialect string) {
		for _, tc := range []struct {
			sev      models.Severity
			min, max int
		}{
			// views.open, headline post, confirmation.
			{models.SEV3, 3, 3},
			// + create, 2 invites, topic, summary, pin, and a headline
			// update unless the comms job ran before the first post.
			{models.SEV1, 9, 10},
		} {
			h := newHarness(t, dialect)
			h.slash(fireTitle)
			form := fullForm
			form.Severity = tc.sev
			h.submit(h.lastModal(), reporter, form)
			drainAll(t, h, []*node{h.node})
			total, byMethod := h.slackCalls()
			t.Logf("%s declared: %d Slack calls (%s)", tc.sev, total, callSummary(byMethod))
			if total < tc.min || total > tc.max {
				t.Errorf("%s: %d Slack calls, want %d..%d", tc.sev, total, tc.min, tc.max)
			}
		}
	})
}

// Slack sends block_actions for link buttons too: a click on the headline's
// "Incident doc" is acknowledged and does nothing else.
func TestDocLinkClickIsAcknowledged(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dialect string) {
		h := newHarness(t, dialect)
		inc := h.declare(fullForm)
		h.drain(h.node)
		h.fake.Reset()
		jobs := h.count("jobs")
		h.click("incident.doc", inc.ID, clicker)
		if ran := h.drain(h.node); ran != 0 || h.count("jobs") != jobs {
			t.Errorf("a doc link click stored or ran jobs (%d)", ran)
		}
		if calls := h.fake.Calls(""); len(calls) != 0 {
			t.Errorf("a doc link click called Slack: %s", calls[0].Method)
		}
	})
}
