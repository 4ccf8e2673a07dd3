package ui

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/models"
)

var incUpdate = flag.Bool("update", false, "rewrite the incident pages' golden files in testdata")

// TestIncidentDocPermissions: a viewer reads but cannot change anything;
// anonymous browsers are sent to sign in; forms need the CSRF token.
func TestIncidentDocPermissions(t *testing.T) {
	f := newIncFixture(t, models.DialectSQLite)
	inc := f.incident(t, models.NewIncident{Title: "Checkout down", Summary: "before", Severity: models.SEV2})
	doc := fmt.Sprintf("/incidents/%d", inc.Number)

	rec := f.anonymous().get(doc)
	expect(t, rec, http.StatusSeeOther)
	if !strings.HasPrefix(rec.Header().Get("Location"), "/login?next=") {
		t.Errorf("Location %q", rec.Header().Get("Location"))
	}
	expect(t, f.anonymous().get(doc+"/review.md"), http.StatusSeeOther)
	expect(t, f.anonymous().postRaw(doc+"/ack", url.Values{}), http.StatusUnauthorized)

	viewer := f.signIn("vera", models.WebRoleViewer, nil)
	rec = viewer.get(doc)
	expect(t, rec, http.StatusOK, "Checkout down", "before", `href="/incidents/1/review.md"`)
	incAbsent(t, rec.Body.String(), `action="/incidents/1/ack"`, `action="/incidents/1/summary"`, `action="/incidents/1/timeline"`, `action="/incidents/1/review"`, `name="csrf"`+" value=\"\"")
	expect(t, viewer.get(doc+"/review.md"), http.StatusOK, "# Incident #1: Checkout down")

	for path, form := range map[string]url.Values{
		"/summary": {"summary": {"viewer text"}}, "/impact": {"impact": {"viewer text"}}, "/ack": nil, "/resolve": nil,
		"/page": {"person": {"alice"}}, "/role": {"role": {"comms"}, "holder": {"U0ALICE"}},
		"/timeline": {"text": {"viewer text"}}, "/actions": {"text": {"viewer text"}},
		"/review": {"what_happened": {"viewer text"}},
	} {
		expect(t, viewer.post(doc+path, form), http.StatusForbidden, "member role")
	}
	got := f.reload(t, inc)
	if got.Summary != "before" || got.AcknowledgedAt != nil || !got.IsOpen() {
		t.Errorf("a viewer changed the incident: %+v", got)
	}
	if a := f.audit(t, inc); len(a) != 0 {
		t.Errorf("audit after a viewer's tries: %v", a)
	}
	if calls := f.Pager.Calls(); len(calls) != 0 {
		t.Errorf("pager called: %v", calls)
	}

	member := f.signIn("mia", models.WebRoleMember, nil)
	expect(t, member.postRaw(doc+"/summary", url.Values{"summary": {"no token"}}), http.StatusForbidden, "Form expired")
	expect(t, member.get(doc), http.StatusOK, `action="/incidents/1/ack"`, `action="/incidents/1/summary"`)
	expect(t, member.get("/incidents/999"), http.StatusNotFound, "incident #999")
	expect(t, member.post("/incidents/999/ack", nil), http.StatusNotFound)
	for _, bad := range []string{"abc", "0", "-1", "1e3", "99999999999999999999"} {
		expect(t, member.get("/incidents/"+bad), http.StatusBadRequest, "is not an incident number")
	}
	if got := f.reload(t, inc); got.Summary != "before" {
		t.Errorf("summary %q after a form without token", got.Summary)
	}
}

func TestIncidentDocEdits(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			f := newIncFixture(t, d)
			ctx := context.Background()
			inc := f.incident(t, models.NewIncident{Title: "Checkout down", Severity: models.SEV2})
			doc := fmt.Sprintf("/incidents/%d", inc.Number)
			// Mia signed in with Slack; Olga has no Slack identity.
			mia := f.signIn("mia", models.WebRoleMember, nil)
			if err := f.DB.Gorm.Model(&models.WebUser{}).Where("id = ?", mia.User.ID).Update("subject", "slack:U0MIA").Error; err != nil {
				t.Fatal(err)
			}
			olga := f.signIn("olga", models.WebRoleMember, nil)
			f.inZone(t, olga, "Europe/Paris")

			hostile := `<script>alert("x")</script> & more`
			expect(t, mia.post(doc+"/summary", url.Values{"summary": {hostile}}), http.StatusSeeOther)
			expect(t, olga.post(doc+"/impact", url.Values{"impact": {"EU customers\ncannot pay"}}), http.StatusSeeOther)
			expect(t, olga.post(doc+"/impact", url.Values{"impact": {"EU customers\r\ncannot pay"}}), http.StatusSeeOther) // no change
			got := f.reload(t, inc)
			if got.Summary != hostile || got.Impact != "EU customers\ncannot pay" {
				t.Errorf("summary %q, impact %q", got.Summary, got.Impact)
			}

			// Oversized and bad fields: 400 naming the field, nothing stored.
			for _, tc := range []struct {
				path string
				form url.Values
				want string
			}{
				{"/summary", url.Values{"summary": {strings.Repeat("s", 10001)}}, "Summary is too long: 10001 characters, at most 10000."},
				{"/timeline", url.Values{"text": {""}}, "Text is required."},
				{"/timeline", url.Values{"text": {"x"}, "at": {"yesterday"}}, "When: use a date and time"},
				{"/timeline", url.Values{"text": {"x"}, "at": {"2031-01-01T00:00"}}, "When: give a time between 2000 and tomorrow."},
				{"/actions", url.Values{"text": {strings.Repeat("a", models.MaxActionItemText+1)}}, "Action item is too long"},
				{"/actions", url.Values{"text": {"ok"}, "owner": {"<b>"}}, "Owner: choose someone"},
				{"/review", url.Values{"lessons_learned": {strings.Repeat("l", models.MaxReviewText+1)}}, "Lessons learned is too long"},
				{"/page", url.Values{"person": {"alice"}, "team": {"payments"}}, "Person or team: choose one"},
				{"/page", url.Values{"person": {"alice"}, "priority": {"asap"}}, "Priority: choose"},
				{"/page", url.Values{"person": {"nobody-here"}}, "Person: there is nobody called"},
				{"/role", url.Values{"role": {"king"}, "holder": {"U0ALICE"}}, "Role: choose lead or one of comms, scribe."},
				{"/role", url.Values{"role": {"comms"}, "holder_id": {"<script>"}}, "Holder: choose someone"},
			} {
				rec := mia.post(doc+tc.path, tc.form)
				expect(t, rec, http.StatusBadRequest, tc.want)
				incAbsent(t, rec.Body.String(), "<script>", "<b>")
			}
			before := len(f.audit(t, inc))

			// Acknowledge: paging stops, by the engine.
			expect(t, mia.post(doc+"/ack", nil), http.StatusSeeOther)
			if got := f.reload(t, inc); got.AcknowledgedAt == nil {
				t.Error("not acknowledged")
			}
			// Page a person with Slack, one without, a team.
			expect(t, olga.post(doc+"/page", url.Values{"person": {"alice"}, "priority": {"urgent"}, "message": {"join please"}}), http.StatusSeeOther)
			expect(t, olga.post(doc+"/page", url.Values{"person": {"dave"}}), http.StatusSeeOther)
			expect(t, mia.post(doc+"/page", url.Values{"team": {"payments"}, "priority": {"low"}}), http.StatusSeeOther)
			want := []string{
				"claim 1 by mia",
				`page 1 user alice urgent "join please" by olga`,
				`page 1 user dave high "" by olga`,
				`page 1 oncall-primary payments low "" by mia`,
			}
			if calls := f.Pager.Calls(); fmt.Sprint(calls) != fmt.Sprint(want) {
				t.Errorf("pager calls\n got %q\nwant %q", calls, want)
			}
			// Roles: the lead and a named role.
			expect(t, olga.post(doc+"/role", url.Values{"role": {"lead"}, "holder": {"U0ALICE"}}), http.StatusSeeOther)
			expect(t, olga.post(doc+"/role", url.Values{"role": {"comms"}, "holder_id": {"U0CAROL"}}), http.StatusSeeOther)
			got = f.reload(t, inc)
			if got.Lead == nil || got.Lead.SlackUserID != "U0ALICE" {
				t.Errorf("lead %+v", got.Lead)
			}
			// Timeline: added at 10:30 Paris time (09:30 UTC).
			expect(t, olga.post(doc+"/timeline", url.Values{"text": {"Rolled back <v42>"}, "at": {"2026-12-07T10:30"}}), http.StatusSeeOther)
			tl, err := f.Store.Timeline(ctx, inc.ID)
			if err != nil {
				t.Fatal(err)
			}
			var note *models.TimelineEvent
			for i := range tl {
				if tl[i].Kind == models.TimelineNote && strings.HasPrefix(tl[i].Text, "Rolled back") {
					note = &tl[i]
				}
			}
			if note == nil || !note.OccurredAt.Equal(time.Date(2026, 12, 7, 9, 30, 0, 0, time.UTC)) {
				t.Fatalf("note %+v", note)
			}
			entry := fmt.Sprintf("%s/timeline/%d", doc, note.ID)
			expect(t, mia.post(entry, url.Values{"text": {"Rolled back to v41"}, "at": {"2026-12-07T09:25"}}), http.StatusSeeOther)
			expect(t, mia.post(entry+"/hide", nil), http.StatusSeeOther)
			expect(t, mia.post(entry+"/hide", nil), http.StatusSeeOther) // already hidden: no change
			expect(t, mia.post(fmt.Sprintf("%s/timeline/%d/hide", doc, note.ID+1000), nil), http.StatusNotFound)
			expect(t, mia.post(doc+"/timeline/abc/hide", nil), http.StatusNotFound)

			// Action items.
			expect(t, mia.post(doc+"/actions", url.Values{"text": {"Alert on <latency>"}, "owner": {"U0ALICE"}}), http.StatusSeeOther)
			items, err := f.Store.ActionItems(ctx, inc.ID)
			if err != nil || len(items) != 1 {
				t.Fatalf("items %v, %v", items, err)
			}
			expect(t, olga.post(fmt.Sprintf("%s/actions/%d", doc, items[0].ID), url.Values{"text": {"Alert on p99 latency"}, "owner": {""}, "done": {"on"}}), http.StatusSeeOther)
			// Review.
			expect(t, olga.post(doc+"/review", url.Values{"what_happened": {"A bad deploy"}, "contributing_factors": {"No canary"}, "lessons_learned": {"Canary first"}}), http.StatusSeeOther)
			// Resolve, then re-open.
			expect(t, mia.post(doc+"/resolve", nil), http.StatusSeeOther)
			if got := f.reload(t, inc); got.IsOpen() {
				t.Error("not resolved")
			}
			expect(t, olga.post(doc+"/reopen", nil), http.StatusSeeOther)

			// Every write is audited, in the web user's name.
			audit := f.audit(t, inc)
			wantAudit := []string{"incident.summary/web:mia", "incident.impact/web:olga",
				"incident.ack/web:mia", "incident.page/web:olga", "incident.page/web:olga", "incident.page/web:mia",
				"incident.lead/web:olga", "incident.role/web:olga", "incident.timeline.add/web:olga", "incident.timeline.edit/web:mia",
				"incident.timeline.hide/web:mia", "incident.action.add/web:mia", "incident.action.edit/web:olga", "incident.review/web:olga",
				"incident.close/web:mia", "incident.reopen/web:olga"}
			if before != 2 || fmt.Sprint(audit) != fmt.Sprint(wantAudit) {
				t.Errorf("audit\n got %v\nwant %v", audit, wantAudit)
			}

			// The doc: escaped text, the hidden entry struck for editors,
			// gone for viewers; times in the viewer's zone.
			rec := olga.get(doc)
			expect(t, rec, http.StatusOK, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; more", `class="hidden-entry"`,
				"Rolled back to v41", "Show again", "Alert on p99 latency", "A bad deploy", "CET", `value="2026-12-07T10:25"`,
				"Acknowledged by @U0MIA", "olga paged @U0ALICE (urgent priority): join please", "olga paged Dave Doe (high priority)", "Incident closed by @U0MIA")
			incAbsent(t, rec.Body.String(), "<script>alert")
			rec = f.signIn("vera", models.WebRoleViewer, nil).get(doc)
			expect(t, rec, http.StatusOK, "A bad deploy", "Alert on p99 latency")
			incAbsent(t, rec.Body.String(), "Rolled back to v41", "hidden-entry", "<script>alert")
		})
	}
}

// TestIncidentReviewMarkdown: the export is a Markdown attachment, golden
// (go test ./web/ui -run TestIncidentReviewMarkdown -update rewrites it).
func TestIncidentReviewMarkdown(t *testing.T) {
	f := newIncFixture(t, models.DialectSQLite)
	ctx := context.Background()
	alice, err := f.Store.UpsertSlackUser(ctx, models.SlackUser{ID: "U0ALICE", DisplayName: "Alice Archer"})
	if err != nil {
		t.Fatal(err)
	}
	inc := f.incident(t, models.NewIncident{Title: "Checkout *down* <script>", Summary: "Payments fail.\n- not a list\n# not a heading",
		Impact: "EU | US", Severity: models.SEV1, ReporterID: &alice.ID, LeadID: &alice.ID, Services: "checkout"})
	editor := f.signIn("mia", models.WebRoleMember, nil)
	f.inZone(t, editor, "America/New_York")
	doc := fmt.Sprintf("/incidents/%d", inc.Number)
	f.Clock.Advance(4 * time.Minute)
	expect(t, editor.post(doc+"/ack", nil), http.StatusSeeOther)
	expect(t, editor.post(doc+"/role", url.Values{"role": {"scribe"}, "holder": {"U0ALICE"}}), http.StatusSeeOther)
	expect(t, editor.post(doc+"/timeline", url.Values{"text": {"Hidden entry"}, "at": {"2026-12-07T04:01"}}), http.StatusSeeOther)
	tl, _ := f.Store.Timeline(ctx, inc.ID)
	for _, e := range tl {
		if e.Text == "Hidden entry" {
			expect(t, editor.post(fmt.Sprintf("%s/timeline/%d/hide", doc, e.ID), nil), http.StatusSeeOther)
		}
	}
	expect(t, editor.post(doc+"/timeline", url.Values{"text": {"Deploy v42 rolled back\nerrors gone"}, "at": {"2026-12-07T04:02"}}), http.StatusSeeOther)
	expect(t, editor.post(doc+"/actions", url.Values{"text": {"Add a canary_stage"}, "owner": {"U0ALICE"}}), http.StatusSeeOther)
	expect(t, editor.post(doc+"/actions", url.Values{"text": {"Write the runbook"}}), http.StatusSeeOther)
	items, _ := f.Store.ActionItems(ctx, inc.ID)
	expect(t, editor.post(fmt.Sprintf("%s/actions/%d", doc, items[1].ID), url.Values{"text": {"Write the runbook"}, "done": {"on"}}), http.StatusSeeOther)
	expect(t, editor.post(doc+"/review", url.Values{"what_happened": {"Deploy v42 broke checkout."}, "lessons_learned": {"Canary first.\nAlert on errors."}}), http.StatusSeeOther)
	// A page the engine sent, merged into the timeline.
	sent := f.Clock.Now().Add(-time.Minute)
	m := models.Message{IncidentID: &inc.ID, PersonID: &f.Alice.ID, Role: "oncall-primary", Target: "payments", Mode: "sms", Status: models.MessageDelivered,
		RecipientSource: "primary, Payments weekly", SentAt: &sent, Priority: "high", NotBefore: sent, CreatedAt: sent, Error: "+15550100777 unreachable"}
	if err := f.DB.Gorm.Create(&m).Error; err != nil {
		t.Fatal(err)
	}
	f.Clock.Advance(40 * time.Minute) // within the session's hour
	expect(t, editor.post(doc+"/resolve", nil), http.StatusSeeOther)

	rec := editor.get(doc + "/review.md")
	expect(t, rec, http.StatusOK, "Paged alice (primary, Payments weekly) by sms, step 1: delivered")
	if ct := rec.Header().Get("Content-Type"); ct != "text/markdown; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if cd := rec.Header().Get("Content-Disposition"); cd != `attachment; filename="incident-1-review.md"` {
		t.Errorf("Content-Disposition %q", cd)
	}
	incAbsent(t, rec.Body.String(), "Hidden entry", "+15550100777", "<script>")
	golden := filepath.Join("testdata", "incident_review.golden.md")
	if *incUpdate {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, rec.Body.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./web/ui -run TestIncidentReviewMarkdown -update to create it)", err)
	}
	if !bytes.Equal(rec.Body.Bytes(), want) {
		t.Errorf("%s differs (rerun with -update if intended); got:\n%s", golden, rec.Body.String())
	}
}

// TestIncidentDocShowsPages: the doc's timeline says who was paged, how,
// at which step and why, in time order, never a destination or a vendor's
// error text (they hold phone numbers).
func TestIncidentDocShowsPages(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			f := newIncFixture(t, d)
			t0 := f.Clock.Now()
			inc := f.incident(t, models.NewIncident{Title: "Checkout is down", Severity: models.SEV1, Source: "api"})
			bob := &models.Person{ID: uuid.NewString(), Name: "bob", Active: true, CreatedAt: t0, UpdatedAt: t0}
			if err := f.DB.Gorm.Create(bob).Error; err != nil {
				t.Fatal(err)
			}
			at := func(m int) *time.Time { x := t0.Add(time.Duration(m) * time.Minute); return &x }
			for _, m := range []models.Message{
				{PersonID: &bob.ID, Role: "oncall-primary", Target: "payments", Mode: "sms", Step: 0, Status: models.MessageDelivered,
					RecipientSource: "primary, Payments weekly", SentAt: at(1), Subject: "s", Body: "b"},
				{PersonID: &bob.ID, Role: "oncall-primary", Target: "payments", Mode: "call", Step: 1, SendIndex: 1, Status: models.MessageFailed,
					RecipientSource: "primary, Payments weekly", SentAt: at(6), Error: "twilio: +15550100777 is unreachable"},
				{Role: "oncall-secondary", Target: "payments", Step: 1, Status: models.MessageFailed, Error: "resolves to nobody", SentAt: at(7)},
				{PersonID: &bob.ID, Role: "user", Target: "bob", Mode: "slack", Step: 2, Status: models.MessageQueued},
				{PersonID: &bob.ID, Mode: "email", Status: models.MessageSent, OutOfBand: true, SentAt: at(8)},
			} {
				m.IncidentID, m.Priority, m.NotBefore, m.CreatedAt = &inc.ID, "high", t0, t0
				if err := f.DB.Gorm.Create(&m).Error; err != nil {
					t.Fatal(err)
				}
			}
			if err := f.Store.AddTimelineEvent(context.Background(), &models.TimelineEvent{IncidentID: inc.ID, Kind: models.TimelineNote, Text: "between the pages", OccurredAt: *at(3)}); err != nil {
				t.Fatal(err)
			}
			rec := f.signIn("vera", models.WebRoleViewer, nil).get(fmt.Sprintf("/incidents/%d", inc.Number))
			expect(t, rec, http.StatusOK, "Paged bob (primary, Payments weekly) by sms, step 1: delivered",
				"Could not page bob (primary, Payments weekly) by call, step 2", "Could not page oncall-secondary payments, step 2")
			body := rec.Body.String()
			incAbsent(t, body, "+15550100777", "unreachable", "by slack", "by email")
			last := -1
			for _, s := range []string{"Incident declared", "by sms, step 1", "between the pages", "by call, step 2", "oncall-secondary payments"} {
				i := strings.Index(body, s)
				if i <= last {
					t.Fatalf("timeline out of order at %q", s)
				}
				last = i
			}
		})
	}
}
