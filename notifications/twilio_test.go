package notifications_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	twclient "github.com/twilio/twilio-go/client"

	"github.com/heraldhq/herald/internal/testlog"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
)

const (
	twSID   = "AC0123456789abcdef0123456789abcdef"
	twToken = "secrettoken0123456789"
	twFrom  = "+15550100000"
	twTo    = "+15557654321"
)

// twRequest is one request the fake Twilio received.
type twRequest struct {
	Method, Path, User, Pass string
	Form                     url.Values
}

// fakeTwilio behaves like Twilio's REST API for Messages.json and
// Calls.json: form-encoded POSTs with basic auth, JSON answers.
type fakeTwilio struct {
	srv *httptest.Server

	mu    sync.Mutex
	reqs  []twRequest
	fail  int    // answer this HTTP status (with Twilio's error JSON) when set
	code  int    // Twilio error code of fail
	msg   string // message of fail
	plain bool   // answer fail with a non-JSON body
	seq   int
}

func newFakeTwilio(t *testing.T) *fakeTwilio {
	f := &fakeTwilio{}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeTwilio) serve(w http.ResponseWriter, r *http.Request) {
	user, pass, _ := r.BasicAuth()
	body, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(body))
	f.mu.Lock()
	f.reqs = append(f.reqs, twRequest{Method: r.Method, Path: r.URL.Path, User: user, Pass: pass, Form: form})
	fail, code, msg, plain := f.fail, f.code, f.msg, f.plain
	f.seq++
	n := f.seq
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" || user != twSID || pass != twToken {
		w.WriteHeader(http.StatusUnauthorized)
		_ = json.NewEncoder(w).Encode(map[string]any{"code": 20003, "message": "Authenticate", "status": 401})
		return
	}
	if fail != 0 {
		if plain {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(fail)
			_, _ = io.WriteString(w, "<html>bad gateway</html>")
			return
		}
		w.WriteHeader(fail)
		_ = json.NewEncoder(w).Encode(map[string]any{"code": code, "message": msg, "more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code), "status": fail})
		return
	}
	prefix := "/2010-04-01/Accounts/" + twSID + "/"
	switch r.URL.Path {
	case prefix + "Messages.json":
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]any{"sid": fmt.Sprintf("SM%032d", n), "status": "queued", "to": form.Get("To"), "body": form.Get("Body")})
	case prefix + "Calls.json":
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]any{"sid": fmt.Sprintf("CA%032d", n), "status": "queued", "to": form.Get("To")})
	default:
		w.WriteHeader(http.StatusNotFound)
		_ = json.NewEncoder(w).Encode(map[string]any{"code": 20404, "message": "not found", "status": 404})
	}
}

func (f *fakeTwilio) setFail(status, code int, msg string, plain bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail, f.code, f.msg, f.plain = status, code, msg, plain
}

func (f *fakeTwilio) requests() []twRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]twRequest(nil), f.reqs...)
}

func twilioVendors(t *testing.T, api string, log *slog.Logger) (sms, voice *notifications.Twilio) {
	t.Helper()
	c := notifications.TwilioConfig{AccountSID: twSID, AuthToken: twToken, From: twFrom, APIURL: api,
		BaseURL: "https://herald.example.com/", Log: log, Now: func() time.Time { return t0 }}
	sms, err := notifications.NewTwilioSMS(c)
	if err != nil {
		t.Fatal(err)
	}
	voice, err = notifications.NewTwilioVoice(c)
	if err != nil {
		t.Fatal(err)
	}
	return sms, voice
}

func TestTwilioSMSSend(t *testing.T) {
	fake := newFakeTwilio(t)
	var logs bytes.Buffer
	sms, _ := twilioVendors(t, fake.srv.URL, slog.New(testlog.Wrap(t, slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	if sms.Name() != notifications.TwilioSMSVendor || len(sms.Modes()) != 1 || sms.Modes()[0] != notifications.ModeSMS {
		t.Fatalf("name %q modes %v", sms.Name(), sms.Modes())
	}
	body := `Herald #12 SEV2: db down. Reply "123456 claim" to claim.`
	id, err := sms.Send(context.Background(), notifications.Message{Mode: notifications.ModeSMS, Destination: twTo, Subject: "s", Body: body, IncidentID: 7, ClaimCode: "123456"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(id, "SM") {
		t.Errorf("vendor id = %q, want Twilio's SM sid", id)
	}
	reqs := fake.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	if r.Method != http.MethodPost || r.Path != "/2010-04-01/Accounts/"+twSID+"/Messages.json" || r.User != twSID || r.Pass != twToken {
		t.Errorf("request %s %s as %s", r.Method, r.Path, r.User)
	}
	want := map[string]string{"To": twTo, "From": twFrom, "Body": body, "StatusCallback": "https://herald.example.com/twilio/status"}
	for k, v := range want {
		if got := r.Form.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if strings.Contains(logs.String(), twTo) || strings.Contains(logs.String(), "7654321") {
		t.Errorf("the log holds the phone number:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), id) {
		t.Errorf("the log lacks the sid:\n%s", logs.String())
	}
}

func TestTwilioVoiceSend(t *testing.T) {
	fake := newFakeTwilio(t)
	_, voice := twilioVendors(t, fake.srv.URL+"/", quiet(t))
	id, err := voice.Send(context.Background(), notifications.Message{Mode: notifications.ModeCall, Destination: twTo, Body: "This is Herald.", IncidentID: 42, ClaimCode: "654321"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(id, "CA") {
		t.Errorf("vendor id = %q", id)
	}
	r := fake.requests()[0]
	if r.Path != "/2010-04-01/Accounts/"+twSID+"/Calls.json" {
		t.Errorf("path %s", r.Path)
	}
	if r.Form.Get("To") != twTo || r.Form.Get("From") != twFrom || r.Form.Get("StatusCallback") != "https://herald.example.com/twilio/status" {
		t.Errorf("form %v", r.Form)
	}
	u, err := url.Parse(r.Form.Get("Url"))
	if err != nil || u.Scheme+"://"+u.Host+u.Path != "https://herald.example.com/twilio/voice" {
		t.Fatalf("Url = %q", r.Form.Get("Url"))
	}
	tok, err := notifications.NewVoiceTokens(twToken).Parse(u.Query().Get("m"), t0.Add(time.Minute))
	if err != nil {
		t.Fatalf("the call's token does not parse: %v", err)
	}
	if tok.IncidentID != 42 || tok.ClaimCode != "654321" {
		t.Errorf("token = %+v", tok)
	}
	if _, err := notifications.NewVoiceTokens("othertoken").Parse(u.Query().Get("m"), t0); !errors.Is(err, notifications.ErrVoiceToken) {
		t.Errorf("a token checks out under another auth token: %v", err)
	}

	// A note (no claim code) carries its TwiML: nothing to press.
	if _, err := voice.Send(context.Background(), notifications.Message{Mode: notifications.ModeCall, Destination: twTo, Body: "Incident #3 was claimed by <Al & Bo>.", IncidentID: 42, OutOfBand: true}); err != nil {
		t.Fatal(err)
	}
	r = fake.requests()[1]
	if r.Form.Get("Url") != "" || r.Form.Get("Twiml") != `<?xml version="1.0" encoding="UTF-8"?><Response><Say>Incident #3 was claimed by &lt;Al &amp; Bo&gt;.</Say></Response>` {
		t.Errorf("note call form %v", r.Form)
	}

	if _, err := voice.Send(context.Background(), notifications.Message{Mode: notifications.ModeSMS, Destination: twTo}); err == nil {
		t.Error("the voice vendor sent an SMS")
	}
	if _, err := voice.Send(context.Background(), notifications.Message{Mode: notifications.ModeCall, Destination: " "}); !errors.Is(err, notifications.ErrNoDestination) {
		t.Errorf("empty destination: %v", err)
	}
}

func TestTwilioErrors(t *testing.T) {
	cases := []struct {
		name      string
		status    int
		code      int
		msg       string
		plain     bool
		temporary bool
		rejected  bool // the message itself is refused: no retry
		want      []string
	}{
		{"invalid number", 400, 21211, "The 'To' number " + twTo + " is not a valid phone number.", false, false, true, []string{"21211", "invalid 'To' phone number", "HTTP 400", "[number]"}},
		{"unsubscribed", 400, 21610, "Attempt to send to unsubscribed recipient", false, false, true, []string{"21610", "STOP"}},
		{"rate limited", 429, 20429, "Too Many Requests", false, true, false, []string{"20429", "HTTP 429"}},
		{"server error", 500, 20500, "Internal Server Error", false, true, false, []string{"20500", "HTTP 500"}},
		{"proxy page", 502, 0, "", true, true, false, []string{"HTTP 502"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFakeTwilio(t)
			fake.setFail(tc.status, tc.code, tc.msg, tc.plain)
			var logs bytes.Buffer
			sms, voice := twilioVendors(t, fake.srv.URL, slog.New(testlog.Wrap(t, slog.NewTextHandler(&logs, nil))))
			for _, v := range []*notifications.Twilio{sms, voice} {
				_, err := v.Send(context.Background(), notifications.Message{Mode: v.Modes()[0], Destination: twTo, Body: "b", IncidentID: 1, ClaimCode: "123456"})
				var te *notifications.TwilioError
				if !errors.As(err, &te) {
					t.Fatalf("%s: err = %v, want a *TwilioError", v.Name(), err)
				}
				if te.Status != tc.status || te.Code != tc.code || te.Temporary() != tc.temporary || te.Rejected() != tc.rejected {
					t.Errorf("%s: %+v temporary=%v rejected=%v", v.Name(), te, te.Temporary(), te.Rejected())
				}
				for _, w := range tc.want {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("%s: %q lacks %q", v.Name(), err, w)
					}
				}
				if strings.Contains(err.Error(), "7654321") {
					t.Errorf("%s: the error holds the phone number: %v", v.Name(), err)
				}
			}
			if strings.Contains(logs.String(), "7654321") {
				t.Errorf("the log holds the phone number:\n%s", logs.String())
			}
		})
	}

	t.Run("network", func(t *testing.T) {
		fake := newFakeTwilio(t)
		fake.srv.Close()
		sms, _ := twilioVendors(t, fake.srv.URL, quiet(t))
		_, err := sms.Send(context.Background(), notifications.Message{Mode: notifications.ModeSMS, Destination: twTo, Body: "b"})
		if err == nil || strings.Contains(err.Error(), "7654321") {
			t.Fatalf("err = %v", err)
		}
	})

	t.Run("deadline", func(t *testing.T) {
		block := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-block }))
		defer srv.Close()
		defer close(block)
		sms, _ := twilioVendors(t, srv.URL, quiet(t))
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := sms.Send(ctx, notifications.Message{Mode: notifications.ModeSMS, Destination: twTo, Body: "b"})
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
			t.Fatalf("err = %v after %s; want the context's deadline to end the call", err, time.Since(start))
		}
	})
}

func TestTwilioConfigErrors(t *testing.T) {
	good := notifications.TwilioConfig{AccountSID: twSID, AuthToken: twToken, From: twFrom, BaseURL: "https://h.example"}
	for name, mut := range map[string]func(*notifications.TwilioConfig){
		"no sid":   func(c *notifications.TwilioConfig) { c.AccountSID = "" },
		"no base":  func(c *notifications.TwilioConfig) { c.BaseURL = "" },
		"bad api":  func(c *notifications.TwilioConfig) { c.APIURL = "ftp://x" },
		"no token": func(c *notifications.TwilioConfig) { c.AuthToken = "" },
	} {
		c := good
		mut(&c)
		if _, err := notifications.NewTwilioSMS(c); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	v, err := notifications.NewTwilioSMS(good)
	if err != nil || strings.Contains(fmt.Sprint(v), twToken) {
		t.Errorf("%v %v", v, err)
	}
}

// twilioSignatureKAT computes a signature independently of the package:
// HMAC-SHA1 over the URL and the sorted name+value pairs.
func twilioSignatureKAT(token, u string, pairs ...string) string {
	mac := hmac.New(sha1.New, []byte(token))
	mac.Write([]byte(u))
	for _, p := range pairs {
		mac.Write([]byte(p))
	}
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func TestTwilioSignature(t *testing.T) {
	// Twilio's documented example (auth token 12345).
	docURL := "https://mycompany.com/myapp.php?foo=1&bar=2"
	docForm := url.Values{"CallSid": {"CA1234567890ABCDE"}, "Caller": {"+12349013030"}, "Digits": {"1234"}, "From": {"+12349013030"}, "To": {"+18005551212"}}
	const docSig = "0/KCTR6DLpKmkAf8muzZqo1nDgQ=" // from Twilio's docs, and python's hmac
	if got := notifications.TwilioSignature("12345", docURL, docForm); got != docSig {
		t.Errorf("documented example: %s, want %s", got, docSig)
	}
	if got := twilioSignatureKAT("12345", docURL, "CallSidCA1234567890ABCDE", "Caller+12349013030", "Digits1234", "From+12349013030", "To+18005551212"); got != docSig {
		t.Errorf("independent computation: %s", got)
	}
	// And twilio-go's own validator agrees.
	rv := twclient.NewRequestValidator("12345")
	params := map[string]string{}
	for k, v := range docForm {
		params[k] = v[0]
	}
	if !rv.Validate(docURL, params, notifications.TwilioSignature("12345", docURL, docForm)) {
		t.Error("twilio-go's validator disagrees")
	}

	good := notifications.TwilioSignature("12345", docURL, docForm)
	other := url.Values{"CallSid": {"CA1234567890ABCDE"}, "Digits": {"1"}}
	cases := []struct {
		name   string
		token  string
		url    string
		form   url.Values
		header string
		ok     bool
	}{
		{"valid", "12345", docURL, docForm, good, true},
		{"empty form", "12345", "https://h.example/twilio/sms", url.Values{}, twilioSignatureKAT("12345", "https://h.example/twilio/sms"), true},
		{"missing header", "12345", docURL, docForm, "", false},
		{"not base64", "12345", docURL, docForm, "%%%", false},
		{"wrong length", "12345", docURL, docForm, base64.StdEncoding.EncodeToString([]byte("short")), false},
		{"other token", "54321", docURL, docForm, good, false},
		{"other url", "12345", "https://mycompany.com/myapp.php?foo=1&bar=3", docForm, good, false},
		{"http instead of https", "12345", "http://mycompany.com/myapp.php?foo=1&bar=2", docForm, good, false},
		{"other form", "12345", docURL, other, good, false},
		{"added field", "12345", docURL, func() url.Values { v := url.Values{}; v.Set("X", "1"); return v }(), good, false},
		{"no token configured", "", docURL, docForm, good, false},
	}
	for _, tc := range cases {
		err := notifications.VerifyTwilioSignature(tc.token, tc.url, tc.form, tc.header)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err = %v, want ok=%v", tc.name, err, tc.ok)
		}
		if err != nil && !errors.Is(err, notifications.ErrTwilioSignature) {
			t.Errorf("%s: %v is not ErrTwilioSignature", tc.name, err)
		}
	}
}

func FuzzVerifyTwilioSignature(f *testing.F) {
	f.Add("12345", "https://mycompany.com/myapp.php?foo=1", "Digits=1&From=%2B1", "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
	f.Add("", "", "", "")
	f.Fuzz(func(t *testing.T, token, u, body, header string) {
		form, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		_ = notifications.VerifyTwilioSignature(token, u, form, header) // never panics
		if token == "" {
			return
		}
		sig := notifications.TwilioSignature(token, u, form)
		if err := notifications.VerifyTwilioSignature(token, u, form, sig); err != nil {
			t.Fatalf("own signature rejected: %v", err)
		}
		if err := notifications.VerifyTwilioSignature(token, u+"x", form, sig); err == nil {
			t.Fatal("signature accepted for another URL")
		}
	})
}

func TestVoiceTokens(t *testing.T) {
	v := notifications.NewVoiceTokens(twToken)
	tok := v.Sign(notifications.VoiceToken{IncidentID: 9, ClaimCode: "123456", IssuedAt: t0})
	if url.QueryEscape(tok) != tok {
		t.Errorf("token %q is not URL-safe", tok)
	}
	got, err := v.Parse(tok, t0.Add(time.Hour))
	if err != nil || got.IncidentID != 9 || got.ClaimCode != "123456" || !got.IssuedAt.Equal(t0) {
		t.Fatalf("%+v %v", got, err)
	}
	forged := strings.Replace(tok, "9.", "8.", 1)
	for name, bad := range map[string]string{"forged": forged, "empty": "", "no sig": "9.123456.1", "truncated": tok[:len(tok)-2]} {
		if _, err := v.Parse(bad, t0); !errors.Is(err, notifications.ErrVoiceToken) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := v.Parse(tok, t0.Add(notifications.VoiceTokenTTL+time.Minute)); !errors.Is(err, notifications.ErrVoiceToken) {
		t.Errorf("expired token: %v", err)
	}
}

func TestParseSMSReply(t *testing.T) {
	cases := []struct {
		in   string
		want notifications.SMSCommand
	}{
		{"claim", notifications.SMSCommand{Action: notifications.SMSClaim}},
		{"  CLAIM. ", notifications.SMSCommand{Action: notifications.SMSClaim}},
		{"123456 claim", notifications.SMSCommand{Action: notifications.SMSClaim, Code: "123456"}},
		{"Claim 123456", notifications.SMSCommand{Action: notifications.SMSClaim, Code: "123456"}},
		{"\"123456 claim\"", notifications.SMSCommand{Action: notifications.SMSClaim, Code: "123456"}},
		{"claim all", notifications.SMSCommand{Action: notifications.SMSClaimAll}},
		{"Claim  ALL!", notifications.SMSCommand{Action: notifications.SMSClaimAll}},
		{"resolve 1234", notifications.SMSCommand{Action: notifications.SMSResolve, Code: "1234"}},
		{"1234 resolve", notifications.SMSCommand{Action: notifications.SMSResolve, Code: "1234"}},
		{"STOP", notifications.SMSCommand{Action: notifications.SMSStop}},
		{"unsubscribe", notifications.SMSCommand{Action: notifications.SMSStop}},
		{"Start", notifications.SMSCommand{Action: notifications.SMSStart}},
		{"help", notifications.SMSCommand{Action: notifications.SMSHelp}},
	}
	for _, tc := range cases {
		got, err := notifications.ParseSMSReply(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseSMSReply(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "   ", "hello", "claim abc", "claim 12", "claim 1234567890123", "resolve", "resolve all", "claim 123 456", "stop now", "12 claim", strings.Repeat("claim ", 400)} {
		if got, err := notifications.ParseSMSReply(bad); !errors.Is(err, notifications.ErrSMSUsage) {
			t.Errorf("ParseSMSReply(%q) = %+v, %v; want ErrSMSUsage", bad, got, err)
		}
	}
}

func FuzzParseSMSReply(f *testing.F) {
	for _, s := range []string{"claim", "123456 claim", "claim all", "resolve 1234", "STOP", "start", "help", "", "claim\x00", "ｃｌａｉｍ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cmd, err := notifications.ParseSMSReply(s)
		if err != nil {
			if !errors.Is(err, notifications.ErrSMSUsage) {
				t.Fatalf("error %v is not ErrSMSUsage", err)
			}
			return
		}
		if cmd.Action < notifications.SMSClaim || cmd.Action > notifications.SMSHelp {
			t.Fatalf("action %d", cmd.Action)
		}
		if cmd.Code != "" {
			if len(cmd.Code) < 3 || len(cmd.Code) > 12 || strings.Trim(cmd.Code, "0123456789") != "" {
				t.Fatalf("code %q", cmd.Code)
			}
			if cmd.Action != notifications.SMSClaim && cmd.Action != notifications.SMSResolve {
				t.Fatalf("code on action %d", cmd.Action)
			}
			// The canonical form parses back the same.
			verb := map[notifications.SMSAction]string{notifications.SMSClaim: "claim", notifications.SMSResolve: "resolve"}[cmd.Action]
			again, err := notifications.ParseSMSReply(verb + " " + cmd.Code)
			if err != nil || again != cmd {
				t.Fatalf("%q → %+v, canonical → %+v %v", s, cmd, again, err)
			}
		}
	})
}

// EscalateNow moves to the next step at once; pressing it past the last
// step exhausts the plan.
func TestEscalateNow(t *testing.T) {
	forEachDialect(t, func(t *testing.T, f *fixture) {
		f.person("ann")
		f.person("bob")
		f.plan("p", steps(step(user("ann", "low", 30, 2)), step(user("bob", "low", 30, 0))))
		inc := f.escalate("db down", "p")
		f.tick()
		if got := pages(f.vendor.accepted(), inc.ID); !sortedEqual(got, []string{"U_ANN@0"}) {
			t.Fatalf("pages %v", got)
		}
		f.clock.Advance(time.Minute)
		if err := f.engine.EscalateNow(f.ctx, inc.ID); err != nil {
			t.Fatal(err)
		}
		f.tick()
		if got := pages(f.vendor.accepted(), inc.ID); !sortedEqual(got, []string{"U_ANN@0", "U_BOB@1"}) {
			t.Fatalf("after escalate now: %v (ann's repeats must not burst out)", got)
		}
		if e := f.escalation(inc); e.Step != 1 || e.State != models.EscalationActive {
			t.Errorf("escalation %+v", e)
		}
		if err := f.engine.EscalateNow(f.ctx, inc.ID); err != nil {
			t.Fatal(err)
		}
		f.tick()
		if e := f.escalation(inc); e.State != models.EscalationExhausted {
			t.Errorf("past the last step: %s", e.State)
		}
		if f.alerts.count("exhausted") != 1 {
			t.Errorf("alerts %v", f.alerts.all())
		}
		if err := f.engine.EscalateNow(f.ctx, inc.ID); !errors.Is(err, models.ErrNoChange) {
			t.Errorf("escalate now of an exhausted escalation: %v", err)
		}
	})
}

// An opted-out number is not paged: the page fails for want of a
// destination.
func TestOptedOutNotPaged(t *testing.T) {
	forEachDialect(t, func(t *testing.T, f *fixture) {
		ann := f.person("ann", noSlack)
		cm := f.contact(ann, notifications.ModeSMS, twTo, true)
		f.plan("p", steps(step(user("ann", "high", 0, 0))))
		if _, err := f.store.SetContactsOptedOut(f.ctx, []string{cm.ID}, &t0); err != nil {
			t.Fatal(err)
		}
		inc := f.escalate("x", "p")
		f.tick()
		if n := len(f.vendor.accepted()); n != 0 {
			t.Fatalf("%d pages to an opted-out number", n)
		}
		ms := f.messages(inc)
		if len(ms) != 1 || ms[0].Status != models.MessageFailed || !strings.Contains(ms[0].Error, "no destination") {
			t.Fatalf("messages %+v", ms)
		}
	})
}
