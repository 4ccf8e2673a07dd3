package main

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
)

// Paging by SMS end to end: the real app and the real twilio-go SDK,
// pointed at a fake of Twilio's REST API, and Twilio's webhooks signed as
// Twilio signs them.

const (
	e2eTwilioSID   = "AC00000000000000000000000000000e2e"
	e2eTwilioToken = "e2etwilioauthtoken0123456789"
	e2eTwilioFrom  = "+15550100000"
	patPhone       = "+15557654321" // Pat has no Slack: the phone is all
	badPhone       = "+15550009999" // Twilio refuses it
)

// twilioConfig gives Pat an SMS page at high priority through the
// payments plan (again after five minutes), and Quinn a number Twilio
// refuses.
const twilioConfig = `
people:
  - name: pat
    full_name: Pat Phone
    contacts:
      - {mode: sms, destination: "` + patPhone + `", verified: true}
    priorities:
      high: [sms]
  - name: quinn
    full_name: Quinn Typo
    contacts:
      - {mode: sms, destination: "` + badPhone + `", verified: true}
    priorities:
      high: [sms]
teams:
  - name: payments
    members: [pat]
    oncall: {primary: pat}
  - name: billing
    members: [quinn]
    oncall: {primary: quinn}
plans:
  - name: payments
    team: payments
    steps:
      - notifications:
          - {role: oncall-primary, target: payments, priority: high, wait: 5, repeat: 1}
  - name: billing
    team: billing
    steps:
      - notifications:
          - {role: oncall-primary, target: billing, priority: high, wait: 5}
`

// twilioSent is one message or call the fake Twilio created.
type twilioSent struct {
	Kind string // Messages or Calls
	SID  string
	Form url.Values
}

// fakeTwilioAPI behaves like Twilio's Messages and Calls resources:
// form-encoded POSTs under /2010-04-01/Accounts/<sid>/, basic auth, 201
// with the JSON resource, and Twilio's error JSON for a bad request.
type fakeTwilioAPI struct {
	srv  *httptest.Server
	mu   sync.Mutex
	sent []twilioSent
}

func newFakeTwilioAPI(t *testing.T) *fakeTwilioAPI {
	f := &fakeTwilioAPI{}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeTwilioAPI) fail(w http.ResponseWriter, status, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"code": code, "message": msg, "more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code), "status": status})
}

func (f *fakeTwilioAPI) serve(w http.ResponseWriter, r *http.Request) {
	user, pass, ok := r.BasicAuth()
	if !ok || user != e2eTwilioSID || pass != e2eTwilioToken {
		f.fail(w, http.StatusUnauthorized, 20003, "Authenticate")
		return
	}
	body, _ := io.ReadAll(r.Body)
	form, err := url.ParseQuery(string(body))
	prefix := "/2010-04-01/Accounts/" + e2eTwilioSID + "/"
	kind := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, prefix), ".json")
	if r.Method != http.MethodPost || err != nil || (kind != "Messages" && kind != "Calls") {
		f.fail(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
		return
	}
	to := form.Get("To")
	if to == badPhone {
		f.fail(w, http.StatusBadRequest, 21211, "The 'To' number "+to+" is not a valid phone number.")
		return
	}
	f.mu.Lock()
	sid := fmt.Sprintf("%s%032d", map[string]string{"Messages": "SM", "Calls": "CA"}[kind], len(f.sent)+1)
	f.sent = append(f.sent, twilioSent{Kind: kind, SID: sid, Form: form})
	f.mu.Unlock()
	now := time.Now().UTC().Format(time.RFC1123Z)
	resource := map[string]any{"sid": sid, "account_sid": e2eTwilioSID, "api_version": "2010-04-01", "to": to, "from": form.Get("From"),
		"status": "queued", "direction": "outbound-api", "date_created": now, "date_updated": now, "uri": prefix + kind + "/" + sid + ".json"}
	if kind == "Messages" {
		resource["body"], resource["num_segments"], resource["num_media"], resource["error_code"] = form.Get("Body"), "1", "0", nil
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(resource)
}

func (f *fakeTwilioAPI) messages() []twilioSent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]twilioSent(nil), f.sent...)
}

// twilioSign is X-Twilio-Signature as Twilio computes it, written here
// independently of Herald's code.
func twilioSign(fullURL string, form url.Values) string {
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	s := fullURL
	for _, k := range keys {
		s += k + form.Get(k)
	}
	mac := hmac.New(sha1.New, []byte(e2eTwilioToken))
	mac.Write([]byte(s))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// twilioPost sends a webhook to path (with its query) as Twilio does,
// signed over Herald's base URL and path; sig overrides the signature
// ("-" sends none).
func (h *harness) twilioPost(path string, form url.Values, sig string) response {
	h.t.Helper()
	hdr := http.Header{"Content-Type": {formType}, "User-Agent": {"TwilioProxy/1.1"}}
	switch sig {
	case "":
		hdr.Set(notifications.TwilioSignatureHeader, twilioSign("http://herald.test"+path, form))
	case "-":
	default:
		hdr.Set(notifications.TwilioSignatureHeader, sig)
	}
	return h.do(h.node, path, hdr, []byte(form.Encode()))
}

// inboundSMS is Twilio's messaging webhook for an SMS from a number.
func inboundSMS(from, body string) url.Values {
	return url.Values{"ToCountry": {"US"}, "SmsMessageSid": {"SM0inbound"}, "NumMedia": {"0"}, "SmsSid": {"SM0inbound"}, "SmsStatus": {"received"},
		"Body": {body}, "To": {e2eTwilioFrom}, "NumSegments": {"1"}, "MessageSid": {"SM0inbound"}, "AccountSid": {e2eTwilioSID},
		"From": {from}, "ApiVersion": {"2010-04-01"}}
}

// smsStatus is Twilio's status callback for an SMS.
func smsStatus(sid, status, errorCode string) url.Values {
	v := url.Values{"SmsSid": {sid}, "SmsStatus": {status}, "MessageStatus": {status}, "To": {patPhone}, "MessageSid": {sid},
		"AccountSid": {e2eTwilioSID}, "From": {e2eTwilioFrom}, "ApiVersion": {"2010-04-01"}}
	if errorCode != "" {
		v.Set("ErrorCode", errorCode)
	}
	return v
}

// pageTeam declares an incident and pages team through its plan from the
// comms channel, then runs the engine once.
func (h *harness) pageTeam(title, team string) *models.Incident {
	h.t.Helper()
	inc := h.declare(incidentForm{Title: title, Summary: "s", Severity: models.SEV2})
	h.drain(h.node)
	channel := h.commsChannelID(inc.ID)
	if channel == "" {
		h.t.Fatal("no comms channel")
	}
	ev := mentionEvent(h.t, fmt.Sprintf("Ev0PAGE%04d", h.seq.Add(1)), botMention+" page "+team, map[string]any{"channel": channel})
	if r := h.event(h.node, ev, nil); r.Status != http.StatusOK {
		h.t.Fatalf("page: %s", r)
	}
	h.drain(h.node)
	h.runEngine()
	return inc
}

func (h *harness) runEngine() {
	h.t.Helper()
	if _, err := h.app.Engine.EscalateDue(h.ctx); err != nil {
		h.t.Fatal(err)
	}
	if _, err := h.app.Engine.SendDue(h.ctx); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) smsPage(inc *models.Incident) models.Message {
	h.t.Helper()
	ms, err := h.db.Store.MessagesOf(h.ctx, inc.ID)
	if err != nil {
		h.t.Fatal(err)
	}
	for _, m := range ms {
		if m.Mode == "sms" && !m.OutOfBand {
			return m
		}
	}
	h.t.Fatalf("no SMS page of incident %d: %+v", inc.ID, ms)
	return models.Message{}
}

func (h *harness) escalationState(inc *models.Incident) string {
	h.t.Helper()
	e, err := h.db.Store.EscalationOf(h.ctx, inc.ID)
	if err != nil {
		h.t.Fatal(err)
	}
	return e.State
}

// alertsIn lists Herald's posts in a channel that say a page failed.
func (h *harness) alertsIn(channel string) []string {
	var out []string
	for _, c := range h.fake.Calls("chat.postMessage") {
		if c.Param("channel") == channel && strings.Contains(c.AllText(), "could not be delivered") {
			out = append(out, c.AllText())
		}
	}
	return out
}

func TestTwilioPagingEndToEnd(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dialect string) {
		api := newFakeTwilioAPI(t)
		h := newHarness(t, dialect, withEnv("TWILIO_ACCOUNT_SID", e2eTwilioSID), withEnv("TWILIO_AUTH_TOKEN", e2eTwilioToken),
			withEnv("TWILIO_FROM_NUMBER", e2eTwilioFrom), withEnv("TWILIO_API_URL", api.srv.URL))
		c, err := parseConfigFile("twilio.yaml", []byte(twilioConfig))
		if err != nil {
			t.Fatal(err)
		}
		if err := applyCatalog(h.ctx, h.db.Store, "twilio.yaml", c, notifications.ApplyOptions{}, io.Discard); err != nil {
			t.Fatal(err)
		}

		// 1. The page goes out by SMS, with the claim code, and a status
		// callback naming the stored message.
		inc := h.pageTeam("Checkout down", "payments")
		page := h.smsPage(inc)
		sent := api.messages()
		if len(sent) != 1 || sent[0].Kind != "Messages" {
			t.Fatalf("Twilio got %+v, want one SMS", sent)
		}
		sms := sent[0].Form
		if sms.Get("To") != patPhone || sms.Get("From") != e2eTwilioFrom || !strings.Contains(sms.Get("Body"), page.ClaimCode+" claim") {
			t.Errorf("SMS %v, want to Pat with claim code %s", sms, page.ClaimCode)
		}
		if want := fmt.Sprintf("http://herald.test/twilio/status?m=%d", page.ID); sms.Get("StatusCallback") != want {
			t.Errorf("StatusCallback %q, want %q", sms.Get("StatusCallback"), want)
		}
		if page.Status != models.MessageSent || page.Vendor != notifications.TwilioSMSVendor || page.VendorID != sent[0].SID {
			t.Errorf("page %+v, want sent by twilio-sms as %s", page, sent[0].SID)
		}

		// 2. Requests without Twilio's signature are refused and change
		// nothing.
		statusPath := strings.TrimPrefix(sms.Get("StatusCallback"), "http://herald.test")
		failed := smsStatus(sent[0].SID, "failed", "30003")
		for _, tc := range []struct {
			name, path string
			form       url.Values
			sig        string
		}{
			{"claim unsigned", "/twilio/sms", inboundSMS(patPhone, "claim"), "-"},
			{"claim signed with another token", "/twilio/sms", inboundSMS(patPhone, "claim"), "0/KCTR6DLpKmkAf8muzZqo1nDgQ="},
			{"claim signed for another body", "/twilio/sms", inboundSMS(patPhone, "claim"), twilioSign("http://herald.test/twilio/sms", inboundSMS(patPhone, "help"))},
			{"status unsigned", statusPath, failed, "-"},
			{"status signed without the message id", statusPath, failed, twilioSign("http://herald.test/twilio/status", failed)},
			{"status for another message", fmt.Sprintf("/twilio/status?m=%d", page.ID+1), failed, twilioSign("http://herald.test"+statusPath, failed)},
		} {
			if r := h.twilioPost(tc.path, tc.form, tc.sig); r.Status != http.StatusForbidden {
				t.Errorf("%s: %s, want 403", tc.name, r)
			}
		}
		if s := h.escalationState(inc); s != models.EscalationActive {
			t.Errorf("escalation %s after refused requests", s)
		}
		if m := h.smsPage(inc); m.Status != models.MessageSent {
			t.Errorf("page %s after refused requests", m.Status)
		}

		// 3. Pat texts "claim": the incident is acknowledged in Pat's
		// name and nobody is paged again.
		r := h.twilioPost("/twilio/sms", inboundSMS(patPhone, "claim"), "")
		if r.Status != http.StatusOK || !strings.Contains(string(r.Body), fmt.Sprintf("<Message>Claimed incident #%d: Checkout down</Message>", inc.Number)) {
			t.Fatalf("claim by SMS: %s", r)
		}
		if s := h.escalationState(inc); s != models.EscalationClaimed {
			t.Fatalf("escalation %s, want claimed", s)
		}
		if got := h.incident(inc.ID); got.AcknowledgedAt == nil {
			t.Error("the incident is not acknowledged")
		}
		mustContain(t, "timeline", fmt.Sprint(h.timelineTexts(inc.ID)), "Acknowledged by Pat Phone (by phone)")
		h.drain(h.node)
		h.clock.Advance(10 * time.Minute) // past the repeat
		h.runEngine()
		if n := len(api.messages()); n != 1 {
			t.Errorf("Twilio got %d requests after the claim, want none more: %+v", n-1, api.messages()[1:])
		}
		// A late delivery report is still recorded.
		if r := h.twilioPost(statusPath, smsStatus(sent[0].SID, "delivered", ""), ""); r.Status != http.StatusNoContent {
			t.Fatalf("status callback: %s", r)
		}
		if m := h.smsPage(inc); m.Status != models.MessageDelivered {
			t.Errorf("page %s, want delivered", m.Status)
		}

		// 4. A page Twilio reports failed: SMS has no other vendor, so it
		// fails for good and the incident channel hears it.
		inc2 := h.pageTeam("Search down", "payments")
		page2 := h.smsPage(inc2)
		sent = api.messages()
		last := sent[len(sent)-1]
		if last.Form.Get("StatusCallback") != fmt.Sprintf("http://herald.test/twilio/status?m=%d", page2.ID) {
			t.Fatalf("second page %+v", last)
		}
		// Twilio calls the URL with the default port written out; Herald's
		// base URL has none. The signature still holds.
		path2 := fmt.Sprintf("/twilio/status?m=%d", page2.ID)
		report := smsStatus(last.SID, "undelivered", "30003")
		if r := h.twilioPost(path2, report, twilioSign("http://herald.test:80"+path2, report)); r.Status != http.StatusNoContent {
			t.Fatalf("failed status callback: %s", r)
		}
		m2 := h.smsPage(inc2)
		if m2.Status != models.MessageFailed || !strings.Contains(m2.Error, "Twilio: undelivered (error 30003)") {
			t.Errorf("page %+v, want failed", m2)
		}
		h.drain(h.node)
		channel2 := h.commsChannelID(inc2.ID)
		alerts := h.alertsIn(channel2)
		if len(alerts) != 1 {
			t.Fatalf("alerts in the incident channel: %q", alerts)
		}
		mustContain(t, "alert", alerts[0], fmt.Sprintf("Incident #%d: a sms page could not be delivered", inc2.Number), "twilio-sms reported Twilio: undelivered (error 30003)")
		// The same report again changes nothing and alerts no more.
		if r := h.twilioPost(path2, report, ""); r.Status != http.StatusNoContent {
			t.Fatalf("repeated status callback: %s", r)
		}
		h.drain(h.node)
		if n := len(h.alertsIn(channel2)); n != 1 {
			t.Errorf("%d alerts after a repeated report", n)
		}

		// 5. A number Twilio refuses (error JSON, HTTP 400, 21211): the
		// page fails at once with Twilio's reason (retrying cannot help),
		// and alerts.
		inc3 := h.pageTeam("Billing down", "billing")
		h.clock.Advance(30 * time.Second)
		h.runEngine()
		m3 := h.smsPage(inc3)
		if m3.Status != models.MessageFailed || m3.Attempts != 1 || !strings.Contains(m3.Error, "Twilio error 21211 (invalid 'To' phone number), HTTP 400") {
			t.Errorf("page %+v, want failed on the first attempt with Twilio's error", m3)
		}
		h.drain(h.node)
		if alerts := h.alertsIn(h.commsChannelID(inc3.ID)); len(alerts) != 1 {
			t.Errorf("alerts %q", alerts)
		}
		for _, number := range []string{"7654321", "0009999"} {
			if strings.Contains(h.logs.String(), number) {
				t.Errorf("the log holds a phone number (%s)", number)
			}
		}
	})
}

// timelineTexts lists an incident's timeline entries.
func (h *harness) timelineTexts(incidentID int64) []string {
	h.t.Helper()
	tl, err := h.db.Store.Timeline(h.ctx, incidentID)
	if err != nil {
		h.t.Fatal(err)
	}
	out := make([]string, len(tl))
	for i, e := range tl {
		out[i] = e.Text
	}
	return out
}
