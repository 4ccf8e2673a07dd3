package web_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/internal/fakeclock"
	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/internal/testlog"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
	"github.com/heraldhq/herald/web"
)

const (
	twBase   = "https://herald.example.com"
	twToken  = "authtoken0123456789"
	annPhone = "+15557654321"
	bobPhone = "+15550001111"
)

var twT0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// twVendor records pages, named like the Twilio vendors so delivery
// reports find their messages.
type twVendor struct {
	name string
	mode notifications.Mode
	mu   sync.Mutex
	sent []notifications.Message
}

func (v *twVendor) Name() string                { return v.name }
func (v *twVendor) Modes() []notifications.Mode { return []notifications.Mode{v.mode} }
func (v *twVendor) Send(_ context.Context, m notifications.Message) (string, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.sent = append(v.sent, m)
	return fmt.Sprintf("%s-%d", strings.ToUpper(string(v.mode)), len(v.sent)), nil
}

// engineClaimer claims straight through the engine (cmd/herald wires the
// handlers' acknowledge, which ends in the same Engine.Claim).
type engineClaimer struct{ e *notifications.Engine }

func (c engineClaimer) Claim(ctx context.Context, id int64, by *models.Person) error {
	return c.e.Claim(ctx, id, by.Name)
}
func (c engineClaimer) Resolve(ctx context.Context, id int64, by *models.Person) error {
	return c.e.Resolve(ctx, id, by.Name)
}

type twFixture struct {
	t      *testing.T
	ctx    context.Context
	db     *testdb.DB
	store  *models.Store
	clock  *fakeclock.Clock
	engine *notifications.Engine
	sms    *twVendor
	call   *twVendor
	app    *echo.Echo
	logs   *bytes.Buffer
	ann    *models.Person
	annSMS *models.ContactMethod
}

func newTwFixture(t *testing.T, dialect string) *twFixture {
	clock := fakeclock.New(twT0)
	db := testdb.New(t, dialect, clock)
	f := &twFixture{t: t, ctx: context.Background(), db: db, store: db.Store, clock: clock, logs: &bytes.Buffer{},
		sms:  &twVendor{name: notifications.TwilioSMSVendor, mode: notifications.ModeSMS},
		call: &twVendor{name: notifications.TwilioCallVendor, mode: notifications.ModeCall}}
	vs := notifications.NewVendors()
	check(t, vs.Register(f.sms))
	check(t, vs.Register(f.call))
	log := slog.New(testlog.Wrap(t, slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	f.engine = notifications.NewEngine(db.Store, vs, notifications.DirectoryRoles{Dir: db.Store}, nil, clock, log, notifications.EngineOptions{Owner: "test"})
	f.app = web.New(web.Options{Clock: clock, Log: log, Twilio: &web.TwilioOptions{
		AuthToken: twToken, BaseURL: twBase + "/", Store: db.Store, Claimer: engineClaimer{f.engine}, Escalator: f.engine, Deliveries: f.engine,
	}})
	f.ann = f.person("ann")
	f.annSMS = f.contact(f.ann, "sms", "+1 (555) 765-4321")
	f.contact(f.ann, "call", annPhone)
	bob := f.person("bob")
	f.contact(bob, "sms", bobPhone)
	def := models.PlanDefinition{Steps: []models.PlanStep{
		{Notifications: []models.PlanNotification{{Role: notifications.RoleUser, Target: "ann", Priority: "high", WaitMinutes: 10, Repeat: 1}}},
		{Notifications: []models.PlanNotification{{Role: notifications.RoleUser, Target: "bob", Priority: "high", WaitMinutes: 10}}},
	}}
	f.plan("p", def)
	callDef := models.PlanDefinition{Steps: []models.PlanStep{
		{Notifications: []models.PlanNotification{{Role: notifications.RoleUser, Target: "ann", Priority: "urgent", WaitMinutes: 10, Repeat: 1}}},
		{Notifications: []models.PlanNotification{{Role: notifications.RoleUser, Target: "bob", Priority: "high", WaitMinutes: 10}}},
	}}
	f.plan("calls", callDef)
	return f
}

func (f *twFixture) create(v any) {
	f.t.Helper()
	check(f.t, f.db.Gorm.Create(v).Error)
}

func (f *twFixture) person(name string) *models.Person {
	now := f.clock.Now()
	p := &models.Person{ID: uuid.NewString(), Name: name, FullName: strings.ToUpper(name[:1]) + name[1:], Active: true, CreatedAt: now, UpdatedAt: now}
	f.create(p)
	return p
}

func (f *twFixture) contact(p *models.Person, mode, dest string) *models.ContactMethod {
	now := f.clock.Now()
	cm := &models.ContactMethod{ID: uuid.Must(uuid.NewV7()).String(), PersonID: p.ID, Mode: mode, Destination: models.Secret(dest), VerifiedAt: &now, CreatedAt: now}
	f.create(cm)
	return cm
}

func (f *twFixture) plan(name string, def models.PlanDefinition) {
	now := f.clock.Now()
	p := &models.Plan{ID: uuid.NewString(), Name: name, ActiveVersion: 1, CreatedAt: now, UpdatedAt: now}
	f.create(p)
	raw, err := json.Marshal(def)
	check(f.t, err)
	f.create(&models.PlanVersion{PlanID: p.ID, Version: 1, Definition: string(raw), CreatedBy: "test", CreatedAt: now})
}

// escalate declares an incident, escalates it with plan and sends the
// first pages.
func (f *twFixture) escalate(title, plan string) *models.Incident {
	f.t.Helper()
	inc, _, err := f.store.CreateIncident(f.ctx, models.NewIncident{Title: title, Severity: models.SEV2})
	check(f.t, err)
	check(f.t, f.engine.Escalate(f.ctx, inc.ID, plan))
	f.tick()
	return inc
}

func (f *twFixture) tick() {
	f.t.Helper()
	_, err := f.engine.EscalateDue(f.ctx)
	check(f.t, err)
	_, err = f.engine.SendDue(f.ctx)
	check(f.t, err)
}

func (f *twFixture) state(inc *models.Incident) string {
	f.t.Helper()
	e, err := f.store.EscalationOf(f.ctx, inc.ID)
	check(f.t, err)
	return e.State
}

// lastPage is the newest page (not a note) of inc in mode.
func (f *twFixture) lastPage(inc *models.Incident, mode string) models.Message {
	f.t.Helper()
	ms, err := f.store.MessagesOf(f.ctx, inc.ID)
	check(f.t, err)
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].Mode == mode && !ms[i].OutOfBand && ms[i].ClaimCode != "" {
			return ms[i]
		}
	}
	f.t.Fatalf("no %s page for incident %d", mode, inc.ID)
	return models.Message{}
}

// sign computes X-Twilio-Signature independently of the code under test.
func sign(token, fullURL string, form url.Values) string {
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	mac := hmac.New(sha1.New, []byte(token))
	mac.Write([]byte(fullURL))
	for _, k := range keys {
		for _, v := range form[k] {
			mac.Write([]byte(k + v))
		}
	}
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// post sends a form to target; sig is "" to sign correctly, "-" to send
// no signature, anything else as the signature.
func (f *twFixture) post(target string, form url.Values, sig string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	switch sig {
	case "":
		r.Header.Set("X-Twilio-Signature", sign(twToken, twBase+target, form))
	case "-":
	default:
		r.Header.Set("X-Twilio-Signature", sig)
	}
	w := httptest.NewRecorder()
	f.app.ServeHTTP(w, r)
	return w
}

// text sends an SMS from a number and returns Herald's reply.
func (f *twFixture) text(from, body string) string {
	f.t.Helper()
	w := f.post("/twilio/sms", url.Values{"From": {from}, "To": {"+15550100000"}, "Body": {body}, "MessageSid": {"SMin"}}, "")
	return twimlOK(f.t, w)
}

func twimlOK(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/xml") {
		t.Fatalf("status %d %s: %s", w.Code, w.Header().Get("Content-Type"), w.Body)
	}
	body := w.Body.String()
	if !strings.HasPrefix(body, `<?xml version="1.0" encoding="UTF-8"?>`+"\n<Response>") || !strings.HasSuffix(body, "</Response>") {
		t.Fatalf("not TwiML: %s", body)
	}
	return body
}

func wantContains(t *testing.T, s string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(s, w) {
			t.Errorf("%q lacks %q", s, w)
		}
	}
}

func forEachTwDialect(t *testing.T, fn func(t *testing.T, f *twFixture)) {
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) { fn(t, newTwFixture(t, d)) })
	}
}

func TestTwilioSMSClaimByCode(t *testing.T) {
	forEachTwDialect(t, func(t *testing.T, f *twFixture) {
		inc := f.escalate("db down", "p")
		page := f.lastPage(inc, "sms")
		if len(f.sms.sent) != 1 || !strings.Contains(f.sms.sent[0].Body, page.ClaimCode+" claim") {
			t.Fatalf("sms pages %+v", f.sms.sent)
		}
		reply := f.text(annPhone, page.ClaimCode+" claim")
		wantContains(t, reply, "<Message>Claimed incident #", "db down")
		if s := f.state(inc); s != models.EscalationClaimed {
			t.Fatalf("escalation %s", s)
		}
		// No more pages: the repeat and bob's step are not sent.
		f.clock.Advance(30 * time.Minute)
		f.tick()
		for _, m := range f.sms.sent[1:] {
			if !m.OutOfBand {
				t.Errorf("paged after the claim: %+v", m)
			}
		}
		wantContains(t, f.text(annPhone, "claim "+page.ClaimCode), "already claimed")
		wantContains(t, f.text(annPhone, "claim 9999"), "No incident with code 9999")
		if strings.Contains(f.logs.String(), "7654321") {
			t.Errorf("the log holds a phone number:\n%s", f.logs)
		}
	})
}

func TestTwilioSMSClaimLatestAndAll(t *testing.T) {
	forEachTwDialect(t, func(t *testing.T, f *twFixture) {
		a := f.escalate("first", "p")
		f.clock.Advance(time.Minute)
		b := f.escalate("second", "p")
		f.clock.Advance(time.Minute)
		c := f.escalate("third", "p")
		wantContains(t, f.text(annPhone, "Claim"), fmt.Sprintf("Claimed incident #%d: third", c.Number))
		if f.state(c) != models.EscalationClaimed || f.state(a) != models.EscalationActive || f.state(b) != models.EscalationActive {
			t.Fatalf("states %s %s %s", f.state(a), f.state(b), f.state(c))
		}
		reply := f.text(annPhone, "claim all")
		wantContains(t, reply, fmt.Sprintf("#%d", a.Number), fmt.Sprintf("#%d", b.Number))
		if strings.Contains(reply, fmt.Sprintf("#%d", c.Number)) {
			t.Errorf("claim all named the claimed one: %s", reply)
		}
		if f.state(a) != models.EscalationClaimed || f.state(b) != models.EscalationClaimed {
			t.Fatalf("states %s %s", f.state(a), f.state(b))
		}
		wantContains(t, f.text(annPhone, "claim all"), "No active escalation paged this number")
		// Bob was never paged.
		wantContains(t, f.text(bobPhone, "claim"), "No incident was paged to this number")
	})
}

func TestTwilioSMSResolveHelpUnknown(t *testing.T) {
	forEachTwDialect(t, func(t *testing.T, f *twFixture) {
		inc := f.escalate("db down", "p")
		code := f.lastPage(inc, "sms").ClaimCode
		wantContains(t, f.text(annPhone, "resolve "+code), "Resolved incident #")
		if s := f.state(inc); s != models.EscalationResolved {
			t.Fatalf("escalation %s", s)
		}
		wantContains(t, f.text(annPhone, "HELP"), "Usage:")
		wantContains(t, f.text(annPhone, "what is going on"), "Usage:")
		wantContains(t, f.text("+15559999999", code+" claim"), "not registered")
	})
}

func TestTwilioSMSStopStart(t *testing.T) {
	forEachTwDialect(t, func(t *testing.T, f *twFixture) {
		optedOut := func() bool {
			var cm models.ContactMethod
			check(t, f.db.Gorm.Where("id = ?", f.annSMS.ID).Take(&cm).Error)
			return cm.OptedOutAt != nil
		}
		wantContains(t, f.text(annPhone, "STOP"), "will not page this number")
		if !optedOut() {
			t.Fatal("STOP did not opt the number out")
		}
		inc := f.escalate("while opted out", "p")
		if len(f.sms.sent) != 0 {
			t.Fatalf("paged an opted-out number: %+v", f.sms.sent)
		}
		ms, err := f.store.MessagesOf(f.ctx, inc.ID)
		check(t, err)
		if len(ms) != 1 || ms[0].Status != models.MessageFailed {
			t.Fatalf("messages %+v", ms)
		}
		wantContains(t, f.text(annPhone, "start"), "will page this number again")
		if optedOut() {
			t.Fatal("START did not opt the number back in")
		}
		f.escalate("after start", "p")
		if len(f.sms.sent) != 1 {
			t.Fatalf("after START: %d pages", len(f.sms.sent))
		}
	})
}

// Every endpoint refuses a request without a valid signature, and
// changes nothing.
func TestTwilioSignatureRequired(t *testing.T) {
	forEachTwDialect(t, func(t *testing.T, f *twFixture) {
		inc := f.escalate("db down", "p")
		page := f.lastPage(inc, "sms")
		claim := url.Values{"From": {annPhone}, "Body": {page.ClaimCode + " claim"}}
		stop := url.Values{"From": {annPhone}, "Body": {"STOP"}}
		tok := notifications.NewVoiceTokens(twToken).Sign(notifications.VoiceToken{IncidentID: inc.ID, ClaimCode: page.ClaimCode, IssuedAt: f.clock.Now()})
		gather := url.Values{"Digits": {"1"}, "To": {annPhone}}
		status := url.Values{"MessageSid": {page.VendorID}, "MessageStatus": {"failed"}}
		for _, tc := range []struct {
			name, target string
			form         url.Values
			sig          string
		}{
			{"sms unsigned", "/twilio/sms", claim, "-"},
			{"sms bad signature", "/twilio/sms", claim, sign("wrong", twBase+"/twilio/sms", claim)},
			{"sms signed for another URL", "/twilio/sms", claim, sign(twToken, "http://localhost:8080/twilio/sms", claim)},
			{"sms garbage", "/twilio/sms", claim, "not base64!"},
			{"stop unsigned", "/twilio/sms", stop, "-"},
			{"gather unsigned", "/twilio/voice/gather?m=" + url.QueryEscape(tok), gather, "-"},
			{"gather with the body of another request", "/twilio/voice/gather?m=" + url.QueryEscape(tok), gather, sign(twToken, twBase+"/twilio/voice/gather?m="+url.QueryEscape(tok), url.Values{"Digits": {"3"}})},
			{"voice unsigned", "/twilio/voice?m=" + url.QueryEscape(tok), url.Values{}, "-"},
			{"status unsigned", "/twilio/status", status, "-"},
		} {
			w := f.post(tc.target, tc.form, tc.sig)
			if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "invalid Twilio signature") {
				t.Errorf("%s: %d %s", tc.name, w.Code, w.Body)
			}
		}
		if s := f.state(inc); s != models.EscalationActive {
			t.Errorf("escalation %s after refused requests", s)
		}
		var cm models.ContactMethod
		check(t, f.db.Gorm.Where("id = ?", f.annSMS.ID).Take(&cm).Error)
		if cm.OptedOutAt != nil {
			t.Error("an unsigned STOP opted the number out")
		}
		if m := f.lastPage(inc, "sms"); m.Status != models.MessageSent {
			t.Errorf("an unsigned status report changed the message: %s", m.Status)
		}
	})
}

func (f *twFixture) callToken(inc *models.Incident) (string, models.Message) {
	f.t.Helper()
	page := f.lastPage(inc, "call")
	for _, m := range f.call.sent {
		if m.ClaimCode == page.ClaimCode {
			return notifications.NewVoiceTokens(twToken).Sign(notifications.VoiceToken{IncidentID: inc.ID, ClaimCode: m.ClaimCode, IssuedAt: f.clock.Now()}), page
		}
	}
	f.t.Fatal("the call page was not sent")
	return "", page
}

func TestTwilioVoice(t *testing.T) {
	forEachTwDialect(t, func(t *testing.T, f *twFixture) {
		inc := f.escalate("db down", "calls")
		tok, page := f.callToken(inc)
		voice := "/twilio/voice?m=" + url.QueryEscape(tok)
		gather := "/twilio/voice/gather?m=" + url.QueryEscape(tok)
		body := twimlOK(t, f.post(voice, url.Values{"CallSid": {page.VendorID}, "To": {annPhone}}, ""))
		action := strings.ReplaceAll(twBase+gather, "&", "&amp;")
		wantContains(t, body, `<Gather numDigits="1" action="`+action+`" method="POST"`, "<Say>This is Herald. Incident", "Press 1 to claim", "</Gather>")

		// 3 repeats.
		wantContains(t, twimlOK(t, f.post(gather, url.Values{"Digits": {"3"}}, "")), "<Gather", "Press 1 to claim")
		// Another key says so and asks again.
		wantContains(t, twimlOK(t, f.post(gather, url.Values{"Digits": {"7"}}, "")), "that key does nothing", "<Gather")
		if s := f.state(inc); s != models.EscalationActive {
			t.Fatalf("escalation %s", s)
		}

		// 2 escalates now: bob's step is paged at once.
		wantContains(t, twimlOK(t, f.post(gather, url.Values{"Digits": {"2"}}, "")), "escalating to the next step now", "<Hangup>")
		e, err := f.store.EscalationOf(f.ctx, inc.ID)
		check(t, err)
		if e.Step != 1 {
			t.Fatalf("step %d after 2", e.Step)
		}
		f.tick()
		if n := len(f.sms.sent); n != 1 {
			t.Fatalf("bob got %d pages", n)
		}

		// 1 claims.
		wantContains(t, twimlOK(t, f.post(gather, url.Values{"Digits": {"1"}}, "")), "You claimed incident")
		e, err = f.store.EscalationOf(f.ctx, inc.ID)
		check(t, err)
		if e.State != models.EscalationClaimed || e.ClaimedBy != "ann" {
			t.Fatalf("escalation %+v", e)
		}
		wantContains(t, twimlOK(t, f.post(gather, url.Values{"Digits": {"1"}}, "")), "already claimed")
		wantContains(t, twimlOK(t, f.post(gather, url.Values{"Digits": {"2"}}, "")), "no longer escalating")

		// A forged or expired token is refused politely, and does nothing.
		forged := "/twilio/voice/gather?m=" + url.QueryEscape(strings.Replace(tok, fmt.Sprintf("%d.", inc.ID), "1.", 1)+"x")
		wantContains(t, twimlOK(t, f.post(forged, url.Values{"Digits": {"1"}}, "")), "expired")
		f.clock.Advance(notifications.VoiceTokenTTL + time.Hour)
		wantContains(t, twimlOK(t, f.post(voice, url.Values{}, "")), "expired")
	})
}

func TestTwilioStatusCallback(t *testing.T) {
	forEachTwDialect(t, func(t *testing.T, f *twFixture) {
		inc := f.escalate("db down", "p")
		page := f.lastPage(inc, "sms")
		if page.Status != models.MessageSent || page.Vendor != notifications.TwilioSMSVendor || page.VendorID == "" {
			t.Fatalf("page %+v", page)
		}
		for _, st := range []string{"queued", "sent"} { // not final: nothing recorded
			if w := f.post("/twilio/status", url.Values{"MessageSid": {page.VendorID}, "MessageStatus": {st}}, ""); w.Code != http.StatusNoContent {
				t.Fatalf("%s: %d %s", st, w.Code, w.Body)
			}
		}
		if m := f.lastPage(inc, "sms"); m.Status != models.MessageSent {
			t.Fatalf("status %s after a non-final report", m.Status)
		}
		if w := f.post("/twilio/status", url.Values{"MessageSid": {page.VendorID}, "MessageStatus": {"delivered"}}, ""); w.Code != http.StatusNoContent {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
		m := f.lastPage(inc, "sms")
		if m.Status != models.MessageDelivered || m.DeliveredAt == nil {
			t.Fatalf("message %+v", m)
		}
		// A late failure report does not undo a delivery.
		f.post("/twilio/status", url.Values{"MessageSid": {page.VendorID}, "MessageStatus": {"failed"}, "ErrorCode": {"30003"}}, "")
		if m := f.lastPage(inc, "sms"); m.Status != models.MessageDelivered {
			t.Fatalf("status %s", m.Status)
		}

		// A call that was not answered failed.
		inc2 := f.escalate("calls", "calls")
		call := f.lastPage(inc2, "call")
		f.post("/twilio/status", url.Values{"CallSid": {call.VendorID}, "CallStatus": {"no-answer"}}, "")
		got := f.lastPage(inc2, "call")
		if got.Status != models.MessageFailed || !strings.Contains(got.Error, "no-answer") {
			t.Fatalf("call message %+v", got)
		}
		changes, err := f.store.MessageChanges(f.ctx, got.ID)
		check(t, err)
		if last := changes[len(changes)-1]; last.FromStatus != models.MessageSent || last.ToStatus != models.MessageFailed {
			t.Errorf("change log %+v", changes)
		}
	})
}

// Without Twilio options the routes do not exist.
func TestTwilioRoutesOff(t *testing.T) {
	app := web.New(web.Options{Clock: fakeclock.New(twT0), Log: testlog.Logger(t)})
	w := httptest.NewRecorder()
	app.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/twilio/sms", nil))
	if w.Code != http.StatusNotFound && w.Code != http.StatusMethodNotAllowed {
		t.Fatalf("status %d", w.Code)
	}
}
