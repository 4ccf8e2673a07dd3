// Package apimetrics times the calls Herald makes to outside HTTP APIs
// (Slack's Web API, Twilio) through an http.RoundTripper, and classifies
// each answer into a short fixed outcome word, so the labels stay bounded.
package apimetrics

import (
	"net/http"
	"time"
)

// Observer receives one measurement per call; cmd/herald passes the
// Prometheus-backed one. api, method and outcome are short fixed words
// (never an id or a number).
type Observer interface {
	ObserveAPICall(api, method, outcome string, took time.Duration)
}

// Outcomes of a call. APIError is an API's own refusal inside a
// successful HTTP answer (Slack's {"ok": false}); the others come from the
// HTTP status or the transport.
const (
	OK             = "ok"
	APIError       = "api_error"
	RateLimited    = "rate_limited"
	ClientError    = "client_error"
	ServerError    = "server_error"
	TransportError = "transport_error"
)

// StatusOutcome classifies an answer by its HTTP status.
func StatusOutcome(status int) string {
	switch {
	case status == http.StatusTooManyRequests:
		return RateLimited
	case status >= 500:
		return ServerError
	case status >= 400:
		return ClientError
	default:
		return OK
	}
}

// Transport wraps next so that every request is timed and reported to obs
// under api, method(request) and outcome(answer) (nil: StatusOutcome). A
// nil obs returns next unchanged; a nil next is http.DefaultTransport.
func Transport(next http.RoundTripper, obs Observer, api string, method func(*http.Request) string, outcome func(*http.Response) string) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	if obs == nil {
		return next
	}
	if outcome == nil {
		outcome = func(r *http.Response) string { return StatusOutcome(r.StatusCode) }
	}
	return &transport{next: next, obs: obs, api: api, method: method, outcome: outcome}
}

type transport struct {
	next    http.RoundTripper
	obs     Observer
	api     string
	method  func(*http.Request) string
	outcome func(*http.Response) string
}

func (t *transport) RoundTrip(r *http.Request) (*http.Response, error) {
	start := time.Now() // real time: a latency, whatever clock Herald runs on
	resp, err := t.next.RoundTrip(r)
	outcome := TransportError
	if err == nil {
		outcome = t.outcome(resp)
	}
	t.obs.ObserveAPICall(t.api, t.method(r), outcome, time.Since(start))
	return resp, err
}
