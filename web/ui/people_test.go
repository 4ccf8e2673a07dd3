package ui

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/internal/testlog"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
)

// captureVendor delivers every mode by keeping the message: the tests read
// verification codes and test pages from it.
type captureVendor struct {
	mu   sync.Mutex
	sent []notifications.Message
}

func (*captureVendor) Name() string { return "capture" }
func (*captureVendor) Modes() []notifications.Mode {
	return []notifications.Mode{notifications.ModeSlack, notifications.ModeEmail, notifications.ModeSMS, notifications.ModeCall}
}

func (v *captureVendor) Send(_ context.Context, m notifications.Message) (string, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.sent = append(v.sent, m)
	return "capture-1", nil
}

func (v *captureVendor) messages() []notifications.Message {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]notifications.Message(nil), v.sent...)
}

type nopAlerter struct{}

func (nopAlerter) Alert(context.Context, int64, string) {}

// peopleRig is the people and users pages on a real engine (with the
// capture vendor) and store, with two people: ada (member "ada" is
// linked to her) with a verified phone, and bob, in team payments.
type peopleRig struct {
	*harness
	engine   *notifications.Engine
	vendor   *captureVendor
	ada      *models.Person
	bob      *models.Person
	team     *models.Team
	adaSMS   *models.ContactMethod
	admin    *client
	member   *client // ada
	viewer   *client
	stranger *client // a member linked to nobody
}

const adaPhone = "+447700900123"

func newPeopleRig(t *testing.T, dialect string) *peopleRig {
	t.Helper()
	r := &peopleRig{vendor: &captureVendor{}}
	r.harness = newHarness(t, dialect, func(h *harness) []Page {
		vs := notifications.NewVendors()
		if err := vs.Register(r.vendor); err != nil {
			t.Fatal(err)
		}
		r.engine = notifications.NewEngine(h.Store, vs, notifications.DirectoryRoles{Dir: h.Store}, nopAlerter{}, h.Clock, testlog.Logger(t),
			notifications.EngineOptions{Owner: "ui-test"})
		return []Page{NewPeoplePages(h.Store, r.engine, notifications.OnCallViews{Store: h.Store}), NewUsersPage(h.Store)}
	})
	now := r.Clock.Now()
	slackID := "U0ADA"
	r.ada = &models.Person{ID: uuid.NewString(), Name: "ada", FullName: "Ada Lovelace", SlackUserID: &slackID, Active: true, CreatedAt: now, UpdatedAt: now}
	r.bob = &models.Person{ID: uuid.NewString(), Name: "bob", Active: true, CreatedAt: now, UpdatedAt: now}
	r.team = &models.Team{ID: uuid.NewString(), Name: "payments", CreatedAt: now, UpdatedAt: now}
	r.adaSMS = &models.ContactMethod{ID: uuid.Must(uuid.NewV7()).String(), PersonID: r.ada.ID, Mode: "sms", Destination: models.Secret(adaPhone), VerifiedAt: &now, CreatedAt: now}
	for _, row := range []any{r.ada, r.bob, r.team, &models.TeamMember{TeamID: r.team.ID, PersonID: r.ada.ID},
		&models.TeamMember{TeamID: r.team.ID, PersonID: r.bob.ID}, r.adaSMS} {
		if err := r.DB.Gorm.Create(row).Error; err != nil {
			t.Fatal(err)
		}
	}
	r.admin = r.signIn("root", models.WebRoleAdmin, nil)
	r.member = r.signIn("ada", models.WebRoleMember, &r.ada.ID)
	r.viewer = r.signIn("vic", models.WebRoleViewer, nil)
	r.stranger = r.signIn("sam", models.WebRoleMember, nil)
	return r
}

func (r *peopleRig) contacts(p *models.Person) []models.ContactMethod {
	r.t.Helper()
	cms, err := r.Store.ContactMethodsOf(context.Background(), p.ID)
	if err != nil {
		r.t.Fatal(err)
	}
	return cms
}

func (r *peopleRig) audit(action string) []models.AuditEntry {
	r.t.Helper()
	out, _, err := r.Store.ListAudit(context.Background(), models.AuditFilter{Action: action})
	if err != nil {
		r.t.Fatal(err)
	}
	return out
}

// noLeak fails if any audit entry holds one of secrets.
func (r *peopleRig) noLeak(secrets ...string) {
	r.t.Helper()
	all, _, err := r.Store.ListAudit(context.Background(), models.AuditFilter{})
	if err != nil {
		r.t.Fatal(err)
	}
	for _, a := range all {
		for _, s := range secrets {
			if strings.Contains(a.Before+a.After+a.Subject, s) {
				r.t.Fatalf("audit entry %s %q→%q holds %q", a.Action, a.Before, a.After, s)
			}
		}
	}
}

// htmlPlus is s as html/template writes it: a plus is escaped.
func htmlPlus(s string) string { return strings.ReplaceAll(s, "+", "&#43;") }

func rawBytes(t *testing.T, db *testdb.DB, table, column, id string) []byte {
	t.Helper()
	var raw []byte
	if err := db.Gorm.Raw("SELECT "+column+" FROM "+table+" WHERE id = ?", id).Row().Scan(&raw); err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestPeopleListAndMasking(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			r := newPeopleRig(t, d)
			rec := r.anonymous().get("/people")
			if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/login") {
				t.Fatalf("anonymous: %d %s", rec.Code, rec.Header().Get("Location"))
			}
			expect(t, r.viewer.get("/people"), http.StatusOK, `href="/people/ada"`, "Ada Lovelace", "payments", "1 of 1", "0 of 0")
			// Others see the number masked, and no forms.
			for _, c := range []*client{r.viewer, r.stranger} {
				rec := c.get("/people/ada")
				expect(t, rec, http.StatusOK, htmlPlus("+44 •••• ••01 23"), "Notification history", "Member of payments")
				if body := rec.Body.String(); strings.Contains(body, "7700900123") || strings.Contains(body, "Add a contact method") || strings.Contains(body, "test-page") {
					t.Fatalf("%s sees the number or the edit forms:\n%s", c.User.Name, body)
				}
			}
			// Ada herself and admins see it whole, with the forms.
			for _, c := range []*client{r.member, r.admin} {
				expect(t, c.get("/people/ada"), http.StatusOK, htmlPlus(adaPhone), "Add a contact method", "Save preferences", "/people/ada/test-page")
			}
			expect(t, r.viewer.get("/people/nobody"), http.StatusNotFound, "nobody")
		})
	}
}

func TestPeopleEditPermissions(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			r := newPeopleRig(t, d)
			form := url.Values{"mode": {"email"}, "destination": {"x@example.com"}}
			expect(t, r.anonymous().postRaw("/people/ada/contacts", form), http.StatusUnauthorized, "Signed out")
			// A viewer edits nobody; a member only themselves.
			expect(t, r.viewer.post("/people/ada/contacts", form), http.StatusForbidden, "member")
			expect(t, r.member.post("/people/bob/contacts", form), http.StatusForbidden, "only your own")
			expect(t, r.stranger.post("/people/ada/contacts", form), http.StatusForbidden)
			expect(t, r.member.post("/people/bob/preferences", url.Values{"pref-high": {"sms"}}), http.StatusForbidden)
			expect(t, r.member.post("/people/bob/test-page", url.Values{"mode": {"sms"}}), http.StatusForbidden)
			expect(t, r.member.post("/people/bob/contacts/"+r.adaSMS.ID+"/remove", nil), http.StatusForbidden)
			// Someone else's contact id under your own name is not found.
			bobCM, err := r.Store.AddContactMethod(context.Background(), models.Actor{Name: "t"}, r.bob.ID, "email", "bob@example.com")
			if err != nil {
				t.Fatal(err)
			}
			expect(t, r.member.post("/people/ada/contacts/"+bobCM.ID+"/remove", nil), http.StatusNotFound)
			expect(t, r.member.post("/people/ada/contacts/"+bobCM.ID+"/send-code", nil), http.StatusNotFound)
			// Without the CSRF token nothing happens either.
			expect(t, r.member.postRaw("/people/ada/contacts", form), http.StatusForbidden, "Form expired")
			if n := len(r.contacts(r.ada)); n != 1 {
				t.Fatalf("ada has %d contacts after refused edits", n)
			}
			if n := len(r.contacts(r.bob)); n != 1 {
				t.Fatalf("bob has %d contacts after refused edits", n)
			}
			if got := r.vendor.messages(); len(got) != 0 {
				t.Fatalf("refused edits sent %+v", got)
			}

			// Ada edits herself; an admin edits bob.
			rec := r.member.post("/people/ada/contacts", url.Values{"mode": {"sms"}, "destination": {"+44 7700 900-999"}})
			if rec.Code != http.StatusSeeOther {
				t.Fatalf("ada adding a phone: %d\n%s", rec.Code, rec.Body)
			}
			rec = r.admin.post("/people/bob/contacts/"+bobCM.ID+"/remove", nil)
			if rec.Code != http.StatusSeeOther || len(r.contacts(r.bob)) != 0 {
				t.Fatalf("admin removing bob's contact: %d, %d left", rec.Code, len(r.contacts(r.bob)))
			}
			cms := r.contacts(r.ada)
			if len(cms) != 2 || cms[1].Destination.Reveal() != "+447700900999" || cms[1].VerifiedAt != nil {
				t.Fatalf("ada's contacts = %+v", cms)
			}
			// The phone added from the web is stored sealed.
			raw := rawBytes(t, r.DB, "contact_methods", "destination", cms[1].ID)
			if len(raw) == 0 || bytes.Contains(raw, []byte("900999")) || !r.DB.Cipher.SealedWithPrimary(raw) {
				t.Fatalf("web-added phone stored as %q", raw)
			}
			adds := r.audit("person.contact.add")
			if len(adds) != 2 || adds[0].Actor != "web:ada" || adds[0].After != "sms +44 •••• ••09 99" {
				t.Fatalf("add audit = %+v", adds)
			}
			if rm := r.audit("person.contact.remove"); len(rm) != 1 || rm[0].Actor != "web:root" || rm[0].Before != "email b•••@example.com" {
				t.Fatalf("remove audit = %+v", rm)
			}
			r.noLeak("900999", "900123", "bob@example.com")
		})
	}
}

func TestPeopleContactValidation(t *testing.T) {
	r := newPeopleRig(t, testdb.Dialects[0])
	for _, tc := range []struct {
		mode, dest string
		want       string
	}{
		{"sms", "07700 900123", "Destination: not a phone number in E.164 form"},
		{"call", "", "Destination: required"},
		{"email", "Ada <ada@example.com>", "Destination: not a valid e-mail address"},
		{"slack", "ada", "Destination: not a Slack user id"},
		{"pager", "123", "Mode: choose slack, email, sms or call"},
		{"sms", adaPhone, "Destination: ada already has this sms contact"},
	} {
		rec := r.member.post("/people/ada/contacts", url.Values{"mode": {tc.mode}, "destination": {tc.dest}})
		expect(t, rec, http.StatusUnprocessableEntity, tc.want, "Add a contact method")
	}
	if n := len(r.contacts(r.ada)); n != 1 {
		t.Fatalf("%d contacts after bad input", n)
	}
	if n := len(r.audit("person.contact.add")); n != 0 {
		t.Fatalf("%d audit entries after bad input", n)
	}
}

var spokenCode = regexp.MustCompile(`(\d, ){5}\d`)

func TestPeoplePhoneVerificationEndToEnd(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			r := newPeopleRig(t, d)
			const phone = "+15550100777"
			rec := r.member.post("/people/ada/contacts", url.Values{"mode": {"call"}, "destination": {phone}})
			if rec.Code != http.StatusSeeOther {
				t.Fatalf("add: %d %s", rec.Code, rec.Body)
			}
			cm := r.contacts(r.ada)[1]
			expect(t, r.member.get("/people/ada"), http.StatusOK, "not verified: not paged", "/contacts/"+cm.ID+"/send-code", `autocomplete="one-time-code"`)
			// Entering a code before one was sent costs nothing.
			expect(t, r.member.post("/people/ada/contacts/"+cm.ID+"/verify", url.Values{"code": {"123456"}}), http.StatusUnprocessableEntity, "Code: no code is waiting")
			expect(t, r.member.post("/people/ada/contacts/"+cm.ID+"/verify", url.Values{"code": {"12ab"}}), http.StatusUnprocessableEntity, "Code: enter the 6 digits")

			rec = r.member.post("/people/ada/contacts/"+cm.ID+"/send-code", nil)
			if rec.Code != http.StatusSeeOther {
				t.Fatalf("send code: %d %s", rec.Code, rec.Body)
			}
			sent := r.vendor.messages()
			if len(sent) != 1 || sent[0].Destination != phone || sent[0].Mode != notifications.ModeCall || !sent[0].Sensitive {
				t.Fatalf("sent = %+v", sent)
			}
			code := strings.ReplaceAll(spokenCode.FindString(sent[0].Body), ", ", "")
			if len(code) != 6 {
				t.Fatalf("no code in %q", sent[0].Body)
			}
			if raw := rawBytes(t, r.DB, "contact_methods", "verify_code", cm.ID); len(raw) == 0 || bytes.Contains(raw, []byte(code)) {
				t.Fatalf("code stored as %q, want sealed", raw)
			}
			expect(t, r.member.get("/people/ada"), http.StatusOK, "code sent", "5 tries left")
			// One code a minute.
			expect(t, r.member.post("/people/ada/contacts/"+cm.ID+"/send-code", nil), http.StatusTooManyRequests, "Code: one code a minute", "60 seconds")
			if len(r.vendor.messages()) != 1 {
				t.Fatal("a second code went out within the minute")
			}
			wrong := "000000"
			if code == wrong {
				wrong = "111111"
			}
			expect(t, r.member.post("/people/ada/contacts/"+cm.ID+"/verify", url.Values{"code": {wrong}}), http.StatusUnprocessableEntity, "Code: that is not the code")
			// Another member cannot use the code.
			expect(t, r.stranger.post("/people/ada/contacts/"+cm.ID+"/verify", url.Values{"code": {code}}), http.StatusForbidden)
			rec = r.member.post("/people/ada/contacts/"+cm.ID+"/verify", url.Values{"code": {code[:3] + " " + code[3:]}})
			if rec.Code != http.StatusSeeOther {
				t.Fatalf("verify: %d %s", rec.Code, rec.Body)
			}
			if got, _ := r.Store.ContactMethodByID(context.Background(), cm.ID); got.VerifiedAt == nil {
				t.Fatal("not verified after the right code")
			}
			if v := r.audit("person.contact.verify"); len(v) != 1 || v[0].After != "verified call +1 •••• ••07 77" {
				t.Fatalf("verify audit = %+v", v)
			}
			if s := r.audit("person.contact.code_sent"); len(s) != 1 {
				t.Fatalf("code_sent audit = %+v", s)
			}
			r.noLeak(phone, "0100777", code)
			// Verified: the page offers no code any more.
			rec = r.member.get("/people/ada")
			if strings.Contains(rec.Body.String(), "/contacts/"+cm.ID+"/send-code") {
				t.Fatal("a verified contact still offers a code")
			}
		})
	}
}

func TestPeopleTestPageRateLimit(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			r := newPeopleRig(t, d)
			ctx := context.Background()
			expect(t, r.member.post("/people/ada/test-page", url.Values{"mode": {"sms"}, "priority": {"high"}}), http.StatusUnprocessableEntity, "Test page: choose one mode or one priority")
			expect(t, r.member.post("/people/ada/test-page", url.Values{"mode": {"fax"}}), http.StatusUnprocessableEntity, "Test page:")
			rec := r.member.post("/people/ada/test-page", url.Values{"mode": {"sms"}})
			if rec.Code != http.StatusSeeOther || !strings.HasSuffix(rec.Header().Get("Location"), "#history") {
				t.Fatalf("test page: %d %s", rec.Code, rec.Body)
			}
			if _, err := r.engine.SendDue(ctx); err != nil {
				t.Fatal(err)
			}
			sent := r.vendor.messages()
			if len(sent) != 1 || sent[0].Destination != adaPhone || !sent[0].OutOfBand || !strings.Contains(sent[0].Body, "test page") {
				t.Fatalf("sent = %+v", sent)
			}
			expect(t, r.member.get("/people/ada"), http.StatusOK, "Herald test page", "msg-sent")

			r.Clock.Advance(20 * time.Second)
			expect(t, r.member.post("/people/ada/test-page", url.Values{"priority": {"high"}}), http.StatusTooManyRequests, "one test page a minute", "try again in 40 seconds")
			// The limit is the person's, whoever sends it.
			expect(t, r.admin.post("/people/ada/test-page", url.Values{"mode": {"email"}}), http.StatusTooManyRequests)
			r.Clock.Advance(40 * time.Second)
			if rec := r.admin.post("/people/ada/test-page", url.Values{"priority": {"high"}}); rec.Code != http.StatusSeeOther {
				t.Fatalf("after the minute: %d %s", rec.Code, rec.Body)
			}
			if got := r.audit("person.test_page"); len(got) != 2 || got[0].After != "test page as a high page" || got[0].Actor != "web:root" || got[1].After != "test page by sms" {
				t.Fatalf("audit = %+v", got)
			}
			// An inactive person is never paged.
			if err := r.DB.Gorm.Model(&models.Person{}).Where("id = ?", r.bob.ID).Update("active", false).Error; err != nil {
				t.Fatal(err)
			}
			expect(t, r.admin.post("/people/bob/test-page", url.Values{"mode": {"email"}}), http.StatusUnprocessableEntity, "inactive")
		})
	}
}

func TestPeoplePreferences(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			r := newPeopleRig(t, d)
			ctx := context.Background()
			expect(t, r.viewer.post("/people/ada/preferences", url.Values{"pref-high": {"sms"}}), http.StatusForbidden)
			expect(t, r.member.post("/people/ada/preferences", url.Values{"pref-high": {"sms", "pigeon"}}), http.StatusUnprocessableEntity, "Preferences (high): unknown mode")
			if got, _ := r.Store.PriorityModesOf(ctx, r.ada.ID); len(got) != 0 {
				t.Fatalf("stored after refusals: %+v", got)
			}
			rec := r.member.post("/people/ada/preferences", url.Values{"pref-high": {"call", "sms"}, "pref-low": {"slack"}})
			if rec.Code != http.StatusSeeOther {
				t.Fatalf("save: %d %s", rec.Code, rec.Body)
			}
			if modes, _ := r.Store.PriorityModes(ctx, r.ada.ID, "high", ""); strings.Join(modes, ",") != "sms,call" {
				t.Fatalf("high = %v", modes)
			}
			expect(t, r.viewer.get("/people/ada"), http.StatusOK, "✓")
			expect(t, r.member.get("/people/ada"), http.StatusOK, `id="pref-high-sms" name="pref-high" value="sms" checked`, `for="pref-high-sms"`)
			if got := r.audit("person.preferences"); len(got) != 1 || got[0].After != "high=sms,call low=slack" {
				t.Fatalf("audit = %+v", got)
			}
			// An admin clears them.
			if rec := r.admin.post("/people/ada/preferences", url.Values{}); rec.Code != http.StatusSeeOther {
				t.Fatalf("clear: %d", rec.Code)
			}
			if got, _ := r.Store.PriorityModesOf(ctx, r.ada.ID); len(got) != 0 {
				t.Fatalf("after clearing: %+v", got)
			}
		})
	}
}

func TestPeopleMeAndHistory(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			r := newPeopleRig(t, d)
			ctx := context.Background()
			rec := r.member.get("/me")
			if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/people/ada" {
				t.Fatalf("/me of ada: %d %q", rec.Code, rec.Header().Get("Location"))
			}
			expect(t, r.stranger.get("/me"), http.StatusOK, "not linked to a Herald person", "/users")
			expect(t, r.admin.get("/me"), http.StatusOK, "you are an admin")

			inc, _, err := r.Store.CreateIncident(ctx, models.NewIncident{Title: "Checkout down", Severity: models.SEV2})
			if err != nil {
				t.Fatal(err)
			}
			now := r.Clock.Now()
			var msgs []models.Message
			for i := 0; i < historyPage+5; i++ {
				msgs = append(msgs, models.Message{IncidentID: &inc.ID, PersonID: &r.ada.ID, Role: "user", Target: "ada", Mode: "sms", Priority: "high",
					Subject: "s", Body: "b", Status: models.MessageQueued, NotBefore: now, CreatedAt: now})
			}
			if err := r.Store.QueueMessages(ctx, msgs); err != nil {
				t.Fatal(err)
			}
			expect(t, r.viewer.get("/people/ada"), http.StatusOK, "30 messages", "#1 Checkout down", `href="/incidents/1"`, `href="/people/ada?page=2#history"`)
			rec = r.viewer.get("/people/ada?page=2")
			expect(t, rec, http.StatusOK, `href="/people/ada?page=1#history"`)
			if strings.Contains(rec.Body.String(), "page=3") {
				t.Fatal("a third page is offered")
			}
		})
	}
}

func TestPeopleOnCall(t *testing.T) {
	r := newPeopleRig(t, testdb.Dialects[0])
	if err := r.DB.Gorm.Create(&models.OncallAssignment{TeamID: r.team.ID, Role: models.RotationPrimary, PersonID: r.bob.ID}).Error; err != nil {
		t.Fatal(err)
	}
	expect(t, r.viewer.get("/people/bob"), http.StatusOK, "On call now", "primary of payments")
	expect(t, r.viewer.get("/people/ada"), http.StatusOK, "Not on call now")
}

// FuzzParseContact: the add-contact form never panics, what it accepts
// passes the destination check, and its errors are fixed texts that never
// repeat the input.
func FuzzParseContact(f *testing.F) {
	for _, s := range [][2]string{{"sms", "+44 7700 900123"}, {"email", "a@b.c"}, {"slack", "U0123ABCD"}, {"call", "(+1) 555-0100"}, {"fax", "x"}, {"email", "Ada <a@b.c>"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, mode, dest string) {
		in, errs := parseContact(mode, dest)
		if len(errs) == 0 {
			if err := notifications.CheckDestination(notifications.Mode(in.Mode), in.Destination); err != nil {
				t.Fatalf("accepted %q %q: %v", in.Mode, in.Destination, err)
			}
			return
		}
		allowed := []string{"Mode: choose slack, email, sms or call.", "Destination: too long (at most 254 characters).", "Destination: required."}
		if err := notifications.CheckDestination(notifications.Mode(in.Mode), "\x00"); err != nil {
			allowed = append(allowed, "Destination: "+err.Error()+".")
		}
		for _, e := range errs {
			if !contains(allowed, e) {
				t.Fatalf("error %q is not one of the fixed texts", e)
			}
		}
	})
}
