package notifications

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestParseWebhookStatus(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		status int
		body   string
		found  bool
		err    bool
	}{
		{"received", 200, `{"received":true}`, true, false},
		{"received, spaces and extra fields", 200, " {\"id\":\"herald-msg-1\", \"received\": true}\n", true, false},
		{"not received", 200, `{"received":false}`, false, false},
		{"404, any body", 404, `<html>not found</html>`, false, false},
		{"404, empty", 404, ``, false, false},
		{"200 without the field", 200, `{}`, false, true},
		{"200 null", 200, `null`, false, true},
		{"200 string field", 200, `{"received":"yes"}`, false, true},
		{"200 array", 200, `[true]`, false, true},
		{"200 trailing data", 200, `{"received":true} {"received":false}`, false, true},
		{"200 empty", 200, ``, false, true},
		{"200 too big", 200, `{"received":true,"pad":"` + strings.Repeat("x", maxWebhookStatusBody) + `"}`, false, true},
		{"204", 204, ``, false, true},
		{"401", 401, `{"received":true}`, false, true},
		{"500", 500, `{"received":true}`, false, true},
		{"302", 302, ``, false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			found, err := parseWebhookStatus(tc.status, []byte(tc.body))
			if found != tc.found || (err != nil) != tc.err {
				t.Fatalf("parseWebhookStatus(%d, %.40q) = %v, %v", tc.status, tc.body, found, err)
			}
			if err != nil && !errors.Is(err, ErrWebhookStatus) {
				t.Fatalf("error %v is not ErrWebhookStatus", err)
			}
		})
	}
}

// TestWebhookStatusSignature: the lookup is signed over timestamp + "." +
// the payload id, so VerifyWebhookSignature with the id as the body
// accepts it, and the signature of one id does not verify another.
func TestWebhookStatusSignature(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	w, err := NewWebhook(WebhookConfig{Name: "hook", URL: "https://example.com/hook", Secret: hookSecret, StatusURL: "https://example.com/status"})
	if err != nil {
		t.Fatal(err)
	}
	var req *http.Request
	w.client = &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		req = r
		return &http.Response{StatusCode: 404, Body: http.NoBody, Header: http.Header{}}, nil
	})}
	w.now = func() time.Time { return now }
	if _, found, err := w.FindSent(t.Context(), Message{ID: 7, Mode: ModeSMS}, time.Time{}); found || err != nil {
		t.Fatalf("found %v, %v", found, err)
	}
	ts, sig := req.Header.Get(WebhookTimestampHeader), req.Header.Get(WebhookSignatureHeader)
	if req.Method != http.MethodGet || req.URL.String() != "https://example.com/status/herald-msg-7" || req.Header.Get(WebhookIdempotencyHeader) != "herald-msg-7" {
		t.Fatalf("request %s %s %v", req.Method, req.URL, req.Header)
	}
	if err := VerifyWebhookSignature(hookSecret, ts, []byte("herald-msg-7"), sig, now, time.Minute); err != nil {
		t.Fatalf("lookup signature does not verify: %v", err)
	}
	if err := VerifyWebhookSignature(hookSecret, ts, []byte("herald-msg-8"), sig, now, time.Minute); !errors.Is(err, ErrWebhookSignature) {
		t.Fatalf("signature verified for another id: %v", err)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// FuzzParseWebhookStatus: any answer parses without panicking; found only
// ever comes from a 200 whose body says received true, and an error is
// always ErrWebhookStatus.
func FuzzParseWebhookStatus(f *testing.F) {
	for _, s := range []string{`{"received":true}`, `{"received":false}`, `{}`, `null`, `[`, `{"received":true}x`, `{"RECEIVED":true}`} {
		f.Add(200, []byte(s))
	}
	f.Add(404, []byte(`{"received":true}`))
	f.Add(500, []byte(``))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		found, err := parseWebhookStatus(status, body)
		if err != nil && !errors.Is(err, ErrWebhookStatus) {
			t.Fatalf("error %v is not ErrWebhookStatus", err)
		}
		if found && (err != nil || status != http.StatusOK || !strings.Contains(strings.ToLower(string(body)), "true")) {
			t.Fatalf("found from status %d body %q (err %v)", status, body, err)
		}
	})
}
