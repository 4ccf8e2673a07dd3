package web_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/bot"
)

// Every Slack endpoint refuses a request whose v0 signature is missing,
// wrong, replayed, made for another body or in another format with 401,
// and nothing runs or is stored. Header names are case-insensitive and
// spaces around values are ignored, as HTTP says.
func TestSlackSignatureHostile(t *testing.T) {
	bodies := map[string][]byte{
		"/slack/commands": []byte("command=%2Fweather&user_id=U1&channel_id=C1&text=loud"),
		"/slack/events":   fixture(t, "events_app_mention.slackdocs.json"),
		"/slack/actions":  []byte(url.Values{"payload": {string(fixture(t, "interactive_block_actions.json"))}}.Encode()),
	}
	type headers func(now time.Time, body []byte) map[string][]string
	signed := func(secret string, at time.Duration) headers {
		return func(now time.Time, body []byte) map[string][]string {
			h := bot.Sign(secret, now.Add(at), body)
			return map[string][]string{"X-Slack-Request-Timestamp": {h.Get("X-Slack-Request-Timestamp")}, "X-Slack-Signature": {h.Get("X-Slack-Signature")}}
		}
	}
	edit := func(fn func(ts, sig string, body []byte) (string, string)) headers {
		return func(now time.Time, body []byte) map[string][]string {
			h := signed(secret, 0)(now, body)
			ts, sig := fn(h["X-Slack-Request-Timestamp"][0], h["X-Slack-Signature"][0], body)
			return map[string][]string{"X-Slack-Request-Timestamp": {ts}, "X-Slack-Signature": {sig}}
		}
	}
	cases := []struct {
		name    string
		headers headers
		alter   func([]byte) []byte // the body sent, after signing
		want    int
	}{
		{"missing both", func(time.Time, []byte) map[string][]string { return nil }, nil, http.StatusUnauthorized},
		{"missing signature", edit(func(ts, _ string, _ []byte) (string, string) { return ts, "" }), nil, http.StatusUnauthorized},
		{"missing timestamp", edit(func(_, sig string, _ []byte) (string, string) { return "", sig }), nil, http.StatusUnauthorized},
		{"other secret", signed("not-the-secret", 0), nil, http.StatusUnauthorized},
		{"replayed six minutes later", signed(secret, -6*time.Minute), nil, http.StatusUnauthorized},
		{"replayed a day later", signed(secret, -24*time.Hour), nil, http.StatusUnauthorized},
		{"from the future", signed(secret, 6*time.Minute), nil, http.StatusUnauthorized},
		{"body altered after signing", signed(secret, 0), func(b []byte) []byte { return append(b, ' ') }, http.StatusUnauthorized},
		{"body cut after signing", signed(secret, 0), func(b []byte) []byte { return b[:len(b)-1] }, http.StatusUnauthorized},
		{"timestamp changed, signature kept", edit(func(ts, sig string, _ []byte) (string, string) {
			n, _ := strconv.ParseInt(ts, 10, 64)
			return strconv.FormatInt(n-1, 10), sig
		}), nil, http.StatusUnauthorized},
		{"timestamp not a number", edit(func(ts, sig string, _ []byte) (string, string) { return ts + ".0", sig }), nil, http.StatusUnauthorized},
		{"huge timestamp", edit(func(_, sig string, _ []byte) (string, string) { return "99999999999999999999", sig }), nil, http.StatusUnauthorized},
		{"wrong scheme v1", edit(func(ts, sig string, _ []byte) (string, string) { return ts, "v1=" + strings.TrimPrefix(sig, "v0=") }), nil, http.StatusUnauthorized},
		{"upper-case scheme", edit(func(ts, sig string, _ []byte) (string, string) { return ts, "V0=" + strings.TrimPrefix(sig, "v0=") }), nil, http.StatusUnauthorized},
		{"sha256 scheme", edit(func(ts, sig string, _ []byte) (string, string) { return ts, "sha256=" + strings.TrimPrefix(sig, "v0=") }), nil, http.StatusUnauthorized},
		{"no scheme", edit(func(ts, sig string, _ []byte) (string, string) { return ts, strings.TrimPrefix(sig, "v0=") }), nil, http.StatusUnauthorized},
		{"space inside", edit(func(ts, sig string, _ []byte) (string, string) { return ts, "v0= " + strings.TrimPrefix(sig, "v0=") }), nil, http.StatusUnauthorized},
		{"truncated signature", edit(func(ts, sig string, _ []byte) (string, string) { return ts, sig[:len(sig)-2] }), nil, http.StatusUnauthorized},
		{"not hex", edit(func(ts, sig string, _ []byte) (string, string) { return ts, sig[:len(sig)-1] + "g" }), nil, http.StatusUnauthorized},
		{"wrong signature first of two", func(now time.Time, body []byte) map[string][]string {
			h := signed(secret, 0)(now, body)
			h["X-Slack-Signature"] = []string{"v0=00", h["X-Slack-Signature"][0]}
			return h
		}, nil, http.StatusUnauthorized},
		// Accepted variants: HTTP header names are case-insensitive, and
		// the verifier trims spaces around values.
		{"lower-case header names", func(now time.Time, body []byte) map[string][]string {
			h := signed(secret, 0)(now, body)
			return map[string][]string{"x-slack-request-timestamp": h["X-Slack-Request-Timestamp"], "x-slack-signature": h["X-Slack-Signature"]}
		}, nil, http.StatusOK},
		{"spaces around values", edit(func(ts, sig string, _ []byte) (string, string) { return " " + ts + " ", "  " + sig + " " }), nil, http.StatusOK},
		{"within the window", signed(secret, -4*time.Minute), nil, http.StatusOK},
	}
	for _, c := range cases {
		for path, body := range bodies {
			t.Run(c.name+path, func(t *testing.T) {
				s := newServer(t)
				srv := httptest.NewServer(s.h) // over the wire: header names as a client sends them
				defer srv.Close()
				sent := body
				if c.alter != nil {
					sent = c.alter(append([]byte(nil), body...))
				}
				req, err := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(string(sent)))
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				for k, vs := range c.headers(s.clock.Now(), body) {
					req.Header[k] = vs // as given: lower-case names stay lower-case on the wire
				}
				resp, err := srv.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != c.want {
					t.Fatalf("status %d, want %d", resp.StatusCode, c.want)
				}
				if c.want == http.StatusUnauthorized && (len(s.queue.events) != 0 || len(s.queue.jobs) != 0 || len(s.slash) != 0) {
					t.Fatalf("refused request ran: events %v, jobs %d, slash %d", s.queue.events, len(s.queue.jobs), len(s.slash))
				}
				if c.want == http.StatusOK && len(s.queue.jobs)+len(s.slash) == 0 {
					t.Fatal("accepted request did nothing")
				}
			})
		}
	}
}
