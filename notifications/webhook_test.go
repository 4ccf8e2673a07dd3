package notifications

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/testlog"
)

const (
	hookSecret = "whsec-test-secret"
	hookDest   = "+15551234567"
)

// hookRequest is one request the receiver got.
type hookRequest struct {
	Header http.Header
	Path   string
	Method string
	Body   []byte
}

// receiver is an httptest webhook endpoint answering with respond(n)
// for its n-th request (1-based).
type receiver struct {
	srv     *httptest.Server
	respond func(n int, w http.ResponseWriter, r *http.Request)

	mu   sync.Mutex
	reqs []hookRequest
}

func newReceiver(t *testing.T, respond func(n int, w http.ResponseWriter, r *http.Request)) *receiver {
	t.Helper()
	rc := &receiver{respond: respond}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.reqs = append(rc.reqs, hookRequest{Header: r.Header.Clone(), Path: r.URL.RequestURI(), Method: r.Method, Body: body})
		n := len(rc.reqs)
		rc.mu.Unlock()
		rc.respond(n, w, r)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) requests() []hookRequest {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.reqs)
}

// statuses answers the given statuses in turn, then 200.
func statuses(codes ...int) func(int, http.ResponseWriter, *http.Request) {
	return func(n int, w http.ResponseWriter, _ *http.Request) {
		if n <= len(codes) {
			w.WriteHeader(codes[n-1])
			return
		}
		w.WriteHeader(http.StatusOK)
	}
}

// logBuffer is a goroutine-safe slog sink.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type hookTest struct {
	hook  *Webhook
	logs  *logBuffer
	mu    sync.Mutex
	waits []time.Duration
}

// newHook builds a webhook on url that logs into a buffer. With fakeSleep
// its waits are recorded and skipped; otherwise it really sleeps.
func newHook(t *testing.T, url string, fakeSleep bool, tune func(*WebhookConfig)) *hookTest {
	t.Helper()
	ht := &hookTest{logs: &logBuffer{}}
	cfg := WebhookConfig{
		Name: "ops-hook", URL: url, Secret: hookSecret,
		Log:     slog.New(testlog.Wrap(t, slog.NewJSONHandler(ht.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		Backoff: time.Millisecond, MaxWait: 5 * time.Second,
	}
	if tune != nil {
		tune(&cfg)
	}
	h, err := NewWebhook(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if fakeSleep {
		h.sleep = func(ctx context.Context, d time.Duration) error {
			ht.mu.Lock()
			ht.waits = append(ht.waits, d)
			ht.mu.Unlock()
			return ctx.Err()
		}
	}
	ht.hook = h
	return ht
}

func (ht *hookTest) recordedWaits() []time.Duration {
	ht.mu.Lock()
	defer ht.mu.Unlock()
	return slices.Clone(ht.waits)
}

func smsPage() Message {
	return Message{Mode: ModeSMS, Destination: hookDest, Subject: "[HIGH] Incident #7: db down",
		Body: `Herald #7 major: db down. Reply "123456 claim" to claim.`, IncidentID: 42, ClaimCode: "123456"}
}

// independentSignature computes the header value from the documented
// format, not from the package's helper.
func independentSignature(secret, ts string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "." + string(body)))
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

func TestWebhookDelivers(t *testing.T) {
	rc := newReceiver(t, statuses())
	ht := newHook(t, rc.srv.URL+"/hooks/herald?team=ops", false, nil)
	before := time.Now()
	id, err := ht.hook.Send(context.Background(), smsPage())
	if err != nil {
		t.Fatal(err)
	}
	reqs := rc.requests()
	if len(reqs) != 1 {
		t.Fatalf("requests = %d, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Method != http.MethodPost || r.Path != "/hooks/herald?team=ops" {
		t.Errorf("request = %s %s", r.Method, r.Path)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	if ua := r.Header.Get("User-Agent"); ua != "herald" {
		t.Errorf("User-Agent = %q", ua)
	}
	ts, sig := r.Header.Get("X-Herald-Timestamp"), r.Header.Get("X-Herald-Signature")
	if err := VerifyWebhookSignature(hookSecret, ts, r.Body, sig, time.Now(), time.Minute); err != nil {
		t.Errorf("signature does not verify: %v", err)
	}
	if want := independentSignature(hookSecret, ts, r.Body); sig != want {
		t.Errorf("signature = %q, want %q", sig, want)
	}
	if secs, err := strconv.ParseInt(ts, 10, 64); err != nil || secs < before.Unix() || secs > time.Now().Unix() {
		t.Errorf("timestamp = %q, want the Unix seconds of the send", ts)
	}

	var raw map[string]any
	if err := json.Unmarshal(r.Body, &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "mode", "destination", "subject", "body", "incident_id", "claim_code", "sent_at"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("payload has no %q: %s", k, r.Body)
		}
	}
	var p WebhookPayload
	if err := json.Unmarshal(r.Body, &p); err != nil {
		t.Fatal(err)
	}
	m := smsPage()
	if p.ID != id || p.ID == "" {
		t.Errorf("payload id %q, vendor id %q: want the same", p.ID, id)
	}
	if p.Mode != ModeSMS || p.Destination != hookDest || p.Subject != m.Subject || p.Body != m.Body || p.IncidentID != 42 || p.ClaimCode != "123456" {
		t.Errorf("payload = %+v", p)
	}
	if p.SentAt.Before(before.Add(-time.Second)) || p.SentAt.After(time.Now()) || p.SentAt.Location() != time.UTC {
		t.Errorf("sent_at = %v", p.SentAt)
	}
}

func TestWebhookOmitsEmptyDestination(t *testing.T) {
	rc := newReceiver(t, statuses())
	ht := newHook(t, rc.srv.URL, false, nil)
	if _, err := ht.hook.Send(context.Background(), Message{Mode: ModeEmail, Subject: "s", Body: "b"}); err != nil {
		t.Fatal(err)
	}
	if body := string(rc.requests()[0].Body); strings.Contains(body, "destination") || !strings.Contains(body, `"incident_id":0`) {
		t.Errorf("payload = %s", body)
	}
}

func TestWebhookRetries5xxThenSucceeds(t *testing.T) {
	rc := newReceiver(t, statuses(500, 502))
	ht := newHook(t, rc.srv.URL, false, nil) // real (1 ms) backoff
	id, err := ht.hook.Send(context.Background(), smsPage())
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	reqs := rc.requests()
	if len(reqs) != 3 {
		t.Fatalf("requests = %d, want 3", len(reqs))
	}
	for i, r := range reqs {
		var p WebhookPayload
		if err := json.Unmarshal(r.Body, &p); err != nil || p.ID != id {
			t.Errorf("attempt %d: id %q (err %v), want the same id %q on every retry", i+1, p.ID, err, id)
		}
		if err := VerifyWebhookSignature(hookSecret, r.Header.Get(WebhookTimestampHeader), r.Body, r.Header.Get(WebhookSignatureHeader), time.Now(), time.Minute); err != nil {
			t.Errorf("attempt %d: %v", i+1, err)
		}
	}
	if n := strings.Count(ht.logs.String(), "retrying"); n != 2 {
		t.Errorf("%d retry log lines, want 2:\n%s", n, ht.logs)
	}
}

func TestWebhookGivesUpAfterMaxAttempts(t *testing.T) {
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })
	ht := newHook(t, rc.srv.URL, true, func(c *WebhookConfig) { c.MaxAttempts = 3; c.Backoff = 100 * time.Millisecond; c.MaxWait = time.Second })
	_, err := ht.hook.Send(context.Background(), smsPage())
	if err == nil || !strings.Contains(err.Error(), "giving up after 3 attempts") || !strings.Contains(err.Error(), "503") {
		t.Errorf("err = %v, want giving up after 3 attempts with the 503", err)
	}
	if n := len(rc.requests()); n != 3 {
		t.Errorf("requests = %d, want 3", n)
	}
	// Backoff doubles (with jitter in [d/2, d]) and stays bounded.
	waits := ht.recordedWaits()
	if len(waits) != 2 || waits[0] < 50*time.Millisecond || waits[0] > 100*time.Millisecond || waits[1] < 100*time.Millisecond || waits[1] > 200*time.Millisecond {
		t.Errorf("waits = %v, want ~100ms then ~200ms", waits)
	}
}

func TestWebhookFailsAtOnceOn4xx(t *testing.T) {
	for _, status := range []int{400, 401, 403, 404, 410, 422, 302} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			rc := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
				if status == 302 {
					w.Header().Set("Location", "http://elsewhere.invalid/")
				}
				w.WriteHeader(status)
				// A receiver may echo what it got: never into our errors.
				_, _ = fmt.Fprintf(w, "bad destination %s", hookDest)
			})
			ht := newHook(t, rc.srv.URL, true, nil)
			_, err := ht.hook.Send(context.Background(), smsPage())
			if err == nil {
				t.Fatal("send succeeded")
			}
			var se *WebhookStatusError
			if !errors.As(err, &se) || se.Status != status {
				t.Errorf("err = %v, want a WebhookStatusError %d", err, status)
			}
			if msg := err.Error(); !strings.Contains(msg, "HTTP "+strconv.Itoa(status)) || !strings.Contains(msg, `"ops-hook"`) {
				t.Errorf("error %q does not name the status and the vendor", msg)
			}
			if strings.Contains(err.Error(), hookDest) {
				t.Errorf("error holds the destination: %v", err)
			}
			if n := len(rc.requests()); n != 1 {
				t.Errorf("requests = %d, want 1 (no retry)", n)
			}
		})
	}
}

func TestWebhookHonoursRetryAfter(t *testing.T) {
	for name, header := range map[string]string{
		"seconds": "2",
		"date":    time.Now().Add(3 * time.Second).UTC().Format(http.TimeFormat),
	} {
		t.Run(name, func(t *testing.T) {
			rc := newReceiver(t, func(n int, w http.ResponseWriter, _ *http.Request) {
				if n == 1 {
					w.Header().Set("Retry-After", header)
					w.WriteHeader(http.StatusTooManyRequests)
					return
				}
				w.WriteHeader(http.StatusAccepted)
			})
			ht := newHook(t, rc.srv.URL, true, nil)
			if _, err := ht.hook.Send(context.Background(), smsPage()); err != nil {
				t.Fatal(err)
			}
			if n := len(rc.requests()); n != 2 {
				t.Errorf("requests = %d, want 2", n)
			}
			if w := ht.recordedWaits(); len(w) != 1 || w[0] < time.Second || w[0] > 3*time.Second {
				t.Errorf("waits = %v, want one of the Retry-After (1-3s)", w)
			}
		})
	}
}

func TestWebhookRetryAfterReallyWaits(t *testing.T) {
	rc := newReceiver(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	ht := newHook(t, rc.srv.URL, false, nil)
	start := time.Now()
	if _, err := ht.hook.Send(context.Background(), smsPage()); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < time.Second {
		t.Errorf("retried after %v, before the 1s Retry-After", el)
	}
}

func TestWebhookRetryAfterOverCapGivesUp(t *testing.T) {
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "120")
		w.WriteHeader(http.StatusTooManyRequests)
	})
	ht := newHook(t, rc.srv.URL, true, func(c *WebhookConfig) { c.MaxWait = 5 * time.Second })
	_, err := ht.hook.Send(context.Background(), smsPage())
	var se *WebhookStatusError
	if !errors.As(err, &se) || se.Status != 429 || se.RetryAfter != 2*time.Minute {
		t.Errorf("err = %v, want the 429 with its 2m Retry-After", err)
	}
	if n, w := len(rc.requests()), ht.recordedWaits(); n != 1 || len(w) != 0 {
		t.Errorf("requests = %d, waits = %v: want one request and no wait (the engine fails over)", n, w)
	}
}

func TestWebhookRespectsDeadline(t *testing.T) {
	t.Run("slow receiver", func(t *testing.T) {
		rc := newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) {
			select { // hang until the client gives up
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
		})
		ht := newHook(t, rc.srv.URL, false, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := ht.hook.Send(ctx, smsPage())
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want DeadlineExceeded", err)
		}
		if el := time.Since(start); el > 2*time.Second {
			t.Errorf("send took %v with a 150ms deadline", el)
		}
		if n := len(rc.requests()); n != 1 {
			t.Errorf("requests = %d, want 1", n)
		}
	})
	t.Run("no time left to wait", func(t *testing.T) {
		rc := newReceiver(t, statuses(500, 500, 500))
		ht := newHook(t, rc.srv.URL, false, func(c *WebhookConfig) { c.Backoff = 3 * time.Second })
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := ht.hook.Send(ctx, smsPage())
		if err == nil || !strings.Contains(err.Error(), "no time left") || !strings.Contains(err.Error(), "500") {
			t.Errorf("err = %v, want no time left after the 500", err)
		}
		if el := time.Since(start); el > 400*time.Millisecond {
			t.Errorf("send took %v: it should not wait for a retry the deadline cannot fit", el)
		}
	})
	t.Run("cancelled while waiting", func(t *testing.T) {
		rc := newReceiver(t, statuses(500, 500, 500))
		ht := newHook(t, rc.srv.URL, false, func(c *WebhookConfig) { c.Backoff = 2 * time.Second })
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(100*time.Millisecond, cancel)
		_, err := ht.hook.Send(ctx, smsPage())
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want Canceled", err)
		}
	})
	t.Run("already done", func(t *testing.T) {
		rc := newReceiver(t, statuses())
		ht := newHook(t, rc.srv.URL, false, nil)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := ht.hook.Send(ctx, smsPage()); !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want Canceled", err)
		}
		if n := len(rc.requests()); n != 0 {
			t.Errorf("requests = %d, want none", n)
		}
	})
}

func TestWebhookRetriesNetworkErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close() // nothing listens: connection refused
	ht := newHook(t, "http://"+addr+"/hooks/T0KEN-IN-PATH", true, func(c *WebhookConfig) { c.MaxAttempts = 3 })
	_, err = ht.hook.Send(context.Background(), smsPage())
	if err == nil || !strings.Contains(err.Error(), "giving up after 3 attempts") {
		t.Fatalf("err = %v, want giving up after 3 attempts", err)
	}
	if strings.Contains(err.Error(), "T0KEN") || strings.Contains(ht.logs.String(), "T0KEN") {
		t.Errorf("the URL's path leaked: %v\n%s", err, ht.logs)
	}
	if !strings.Contains(err.Error(), addr) {
		t.Errorf("err = %v, want it to name the host", err)
	}
	if w := ht.recordedWaits(); len(w) != 2 {
		t.Errorf("waits = %v, want 2", w)
	}
}

func TestWebhookNeverLogsDestination(t *testing.T) {
	rc := newReceiver(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		switch n {
		case 1:
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
		case 2:
			w.WriteHeader(http.StatusInternalServerError)
		default:
			w.WriteHeader(http.StatusBadRequest)
		}
		_, _ = fmt.Fprintf(w, `{"error":"unknown number %s"}`, hookDest)
	})
	ht := newHook(t, rc.srv.URL, true, nil)
	_, err := ht.hook.Send(context.Background(), smsPage())
	if err == nil {
		t.Fatal("send succeeded")
	}
	logs := ht.logs.String()
	if strings.Count(logs, "retrying") != 2 {
		t.Fatalf("want 2 retry log lines (the test must see logging), got:\n%s", logs)
	}
	for _, leak := range []string{hookDest, "5551234567", hookSecret} {
		if strings.Contains(logs, leak) {
			t.Errorf("logs hold %q:\n%s", leak, logs)
		}
		if strings.Contains(err.Error(), leak) {
			t.Errorf("error holds %q: %v", leak, err)
		}
	}
	if s := fmt.Sprintf("%v %+v %s", ht.hook, ht.hook, ht.hook); strings.Contains(s, hookSecret) {
		t.Errorf("formatting the vendor shows its secret: %s", s)
	}
}

func TestWebhookModes(t *testing.T) {
	all, err := NewWebhook(WebhookConfig{Name: "all", URL: "https://example.com/h", Secret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	if got := all.Modes(); !sameModes(got, []Mode{ModeSlack, ModeEmail, ModeSMS, ModeCall}) {
		t.Errorf("default modes = %v, want all four", got)
	}
	some, err := NewWebhook(WebhookConfig{Name: "some", URL: "https://example.com/h", Secret: "s", Modes: []Mode{ModeSMS, ModeCall, ModeSMS}})
	if err != nil {
		t.Fatal(err)
	}
	if got := some.Modes(); !sameModes(got, []Mode{ModeSMS, ModeCall}) {
		t.Errorf("modes = %v, want sms and call", got)
	}
	if _, err := some.Send(context.Background(), Message{Mode: ModeEmail, Destination: "a@example.com"}); err == nil || strings.Contains(err.Error(), "a@example.com") {
		t.Errorf("sending a mode it does not serve: err = %v", err)
	}
	v := NewVendors()
	for _, h := range []Vendor{all, some} {
		if err := v.Register(h); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(v.For(ModeSMS)); n != 2 {
		t.Errorf("sms vendors = %d, want 2", n)
	}
	if n := len(v.For(ModeEmail)); n != 1 {
		t.Errorf("email vendors = %d, want 1", n)
	}
}

func sameModes(a, b []Mode) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func TestNewWebhookValidates(t *testing.T) {
	ok := WebhookConfig{Name: "n", URL: "https://example.com/h", Secret: "s3cret-value"}
	for name, tweak := range map[string]func(*WebhookConfig){
		"no name":      func(c *WebhookConfig) { c.Name = "" },
		"no secret":    func(c *WebhookConfig) { c.Secret = "" },
		"relative URL": func(c *WebhookConfig) { c.URL = "/hooks" },
		"ftp URL":      func(c *WebhookConfig) { c.URL = "ftp://example.com/h" },
		"no host":      func(c *WebhookConfig) { c.URL = "https:///h" },
		"bad URL":      func(c *WebhookConfig) { c.URL = "http://[::1" },
		"unknown mode": func(c *WebhookConfig) { c.Modes = []Mode{"pager"} },
	} {
		c := ok
		tweak(&c)
		if _, err := NewWebhook(c); err == nil {
			t.Errorf("%s: accepted", name)
		} else if strings.Contains(err.Error(), c.Secret) && c.Secret != "" {
			t.Errorf("%s: error shows the secret", name)
		}
	}
	if _, err := NewWebhook(ok); err != nil {
		t.Errorf("valid config: %v", err)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"":            0,
		"0":           0,
		"-3":          0,
		"7":           7 * time.Second,
		"nonsense":    0,
		"99999999999": 24 * time.Hour,
		now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second,
		now.Add(-time.Minute).Format(http.TimeFormat):     0,
	} {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestVerifyWebhookSignature(t *testing.T) {
	now := time.Unix(1_772_366_400, 0)
	ts := strconv.FormatInt(now.Unix(), 10)
	body := []byte(`{"id":"x","mode":"sms"}`)
	good := independentSignature(hookSecret, ts, body)
	window := 5 * time.Minute
	for _, c := range []struct {
		name, secret, ts, header string
		body                     []byte
		now                      time.Time
		window                   time.Duration
		want                     error
	}{
		{"valid", hookSecret, ts, good, body, now, window, nil},
		{"valid, uppercase hex", hookSecret, ts, "sha256=" + strings.ToUpper(strings.TrimPrefix(good, "sha256=")), body, now, window, nil},
		{"valid at the window's edge", hookSecret, ts, good, body, now.Add(window), window, nil},
		{"stale", hookSecret, ts, good, body, now.Add(window + time.Second), window, ErrWebhookTimestamp},
		{"from the future", hookSecret, ts, good, body, now.Add(-window - time.Second), window, ErrWebhookTimestamp},
		{"wrong secret", "other", ts, good, body, now, window, ErrWebhookSignature},
		{"no secret", "", ts, good, body, now, window, ErrWebhookSignature},
		{"tampered body", hookSecret, ts, good, []byte(`{"id":"y","mode":"sms"}`), now, window, ErrWebhookSignature},
		{"tampered timestamp", hookSecret, strconv.FormatInt(now.Unix()+1, 10), good, body, now, window, ErrWebhookSignature},
		{"no prefix", hookSecret, ts, strings.TrimPrefix(good, "sha256="), body, now, window, ErrWebhookSignature},
		{"other algorithm", hookSecret, ts, "sha1=" + strings.TrimPrefix(good, "sha256="), body, now, window, ErrWebhookSignature},
		{"short", hookSecret, ts, good[:len(good)-2], body, now, window, ErrWebhookSignature},
		{"not hex", hookSecret, ts, good[:len(good)-1] + "z", body, now, window, ErrWebhookSignature},
		{"empty header", hookSecret, ts, "", body, now, window, ErrWebhookSignature},
		{"empty timestamp", hookSecret, "", good, body, now, window, ErrWebhookTimestamp},
		{"signed timestamp", hookSecret, "+" + ts, independentSignature(hookSecret, "+"+ts, body), body, now, window, ErrWebhookTimestamp},
		{"milliseconds", hookSecret, ts + "000", independentSignature(hookSecret, ts+"000", body), body, now, window, ErrWebhookTimestamp},
		{"no window", hookSecret, ts, good, body, now, 0, ErrWebhookTimestamp},
	} {
		err := VerifyWebhookSignature(c.secret, c.ts, c.body, c.header, c.now, c.window)
		if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
	}
}

// FuzzVerifyWebhookSignature: arbitrary input never panics and never
// verifies unless it is the genuine signature of a fresh timestamp; a
// genuine signature verifies exactly when fresh; any change to the body
// breaks it.
func FuzzVerifyWebhookSignature(f *testing.F) {
	ts := "1772366400"
	body := []byte(`{"id":"0b7c","mode":"sms","subject":"s","body":"b","incident_id":42,"claim_code":"123456","sent_at":"2026-03-01T12:00:00Z"}`)
	f.Add(hookSecret, ts, body, independentSignature(hookSecret, ts, body), int64(0))
	f.Add(hookSecret, ts, body, "sha256=", int64(301))
	f.Add("", "", []byte{}, "", int64(-301))
	f.Add("k", "00000000000000000001", []byte("x"), "sha256="+strings.Repeat("0", 64), int64(1<<62))
	f.Add("k", "-1", []byte("\x00\xff"), "SHA256=ZZ", int64(-1<<63))
	f.Fuzz(func(t *testing.T, secret, ts string, body []byte, header string, skew int64) {
		now := time.Unix(1_772_366_400, 0)
		const window = 5 * time.Minute

		err := VerifyWebhookSignature(secret, ts, body, header, now, window)
		if err == nil {
			if secret == "" || !strings.EqualFold(header, independentSignature(secret, ts, body)) {
				t.Fatalf("forged input verified: secret %q ts %q header %q", secret, ts, header)
			}
			sent, perr := strconv.ParseInt(ts, 10, 64)
			if perr != nil || sent < now.Unix()-300 || sent > now.Unix()+300 {
				t.Fatalf("stale or malformed timestamp %q verified", ts)
			}
		} else if !errors.Is(err, ErrWebhookSignature) && !errors.Is(err, ErrWebhookTimestamp) {
			t.Fatalf("error %v is neither ErrWebhookSignature nor ErrWebhookTimestamp", err)
		}

		// A genuine signature verifies exactly when its timestamp is fresh.
		off := skew % 600
		fresh := strconv.FormatInt(now.Unix()+off, 10)
		sig := independentSignature(secret, fresh, body)
		err = VerifyWebhookSignature(secret, fresh, body, sig, now, window)
		wantOK := secret != "" && off >= -300 && off <= 300
		if (err == nil) != wantOK {
			t.Fatalf("genuine signature, offset %ds, secret %q: err = %v", off, secret, err)
		}
		if secret != "" {
			if webhookSignature([]byte(secret), fresh, body) != sig {
				t.Fatal("the sender's signature differs from the documented format")
			}
			tampered := append(slices.Clone(body), 'x')
			if len(body) > 0 {
				tampered = slices.Clone(body)
				tampered[len(tampered)-1] ^= 0x01
			}
			if err := VerifyWebhookSignature(secret, fresh, tampered, sig, now, window); !errors.Is(err, ErrWebhookSignature) {
				t.Fatalf("tampered body: err = %v, want ErrWebhookSignature", err)
			}
		}
	})
}

// Every attempt of a stored message carries the same id, so a receiver can
// drop the resend that follows a replica dying mid-send.
func TestWebhookIDStableForStoredMessages(t *testing.T) {
	var ids []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p struct {
			ID string `json:"id"`
		}
		_ = json.NewDecoder(r.Body).Decode(&p)
		ids = append(ids, p.ID)
	}))
	defer srv.Close()
	wh, err := NewWebhook(WebhookConfig{Name: "sink", URL: srv.URL, Secret: "s3cret-s3cret-s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if _, err := wh.Send(context.Background(), Message{ID: 42, Mode: ModeSMS, Body: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := wh.Send(context.Background(), Message{Mode: ModeSMS, Body: "out of band"}); err != nil {
		t.Fatal(err)
	}
	if len(ids) != 3 || ids[0] != "herald-msg-42" || ids[1] != ids[0] || ids[2] == ids[0] || ids[2] == "" {
		t.Fatalf("payload ids = %q, want the same herald-msg-42 twice, then a fresh one", ids)
	}
}
