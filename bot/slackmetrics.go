package bot

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"path"
	"regexp"
	"strings"
	"time"
)

// APIObserver times calls to Slack's Web API; cmd/herald passes the
// Prometheus-backed implementation. api is "slack", method the Web API
// method (chat.postMessage…), outcome one of the words below.
type APIObserver interface {
	ObserveAPICall(api, method, outcome string, took time.Duration)
}

// Outcomes of a Slack call. api_error is Slack's {"ok": false} (an HTTP
// 200 answer); the others come from the HTTP status or transport.
const (
	slackOK             = "ok"
	slackAPIError       = "api_error"
	slackRateLimited    = "rate_limited"
	slackClientError    = "client_error"
	slackServerError    = "server_error"
	slackTransportError = "transport_error"
)

// slackMethodName is what a Web API method looks like; anything else in a
// path is labelled "other", so labels stay bounded.
var slackMethodName = regexp.MustCompile(`^[a-z]+(\.[a-zA-Z]+){1,3}$`)

// maxSlackPeek bounds how much of an answer is read to find "ok".
const maxSlackPeek = 8 << 20

type slackMetricsTransport struct {
	next http.RoundTripper
	obs  APIObserver
}

func (t *slackMetricsTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	start := time.Now() // real time: a latency, whatever clock Herald runs on
	resp, err := t.next.RoundTrip(r)
	outcome := slackTransportError
	if err == nil {
		outcome = slackOutcome(resp)
	}
	method := path.Base(r.URL.Path)
	if !slackMethodName.MatchString(method) {
		method = "other"
	}
	t.obs.ObserveAPICall("slack", method, outcome, time.Since(start))
	return resp, err
}

// slackOutcome classifies an answer; for a JSON 200 it reads the body
// (and puts it back) to see Slack's "ok".
func slackOutcome(resp *http.Response) string {
	switch s := resp.StatusCode; {
	case s == http.StatusTooManyRequests:
		return slackRateLimited
	case s >= 500:
		return slackServerError
	case s >= 400:
		return slackClientError
	case s != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") || resp.Body == nil:
		return slackOK
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxSlackPeek))
	rest := resp.Body
	resp.Body = readCloser{Reader: io.MultiReader(bytes.NewReader(body), rest), Closer: rest}
	if err != nil {
		return slackTransportError
	}
	if ok, found := slackOKField(body); found && !ok {
		return slackAPIError
	}
	return slackOK
}

type readCloser struct {
	io.Reader
	io.Closer
}

// slackOKField finds the top-level "ok" of a Slack answer, which Slack
// writes first, without decoding the rest.
func slackOKField(body []byte) (ok, found bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return false, false
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return false, false
		}
		if key == "ok" {
			var v bool
			if err := dec.Decode(&v); err != nil {
				return false, false
			}
			return v, true
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return false, false
		}
	}
	return false, false
}
