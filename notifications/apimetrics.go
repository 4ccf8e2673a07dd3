package notifications

import (
	"net/http"
	"strings"
	"time"
)

// APIObserver times calls to an outside HTTP API. api, method and outcome
// are short fixed words (never an id or a number), so they make bounded
// labels.
type APIObserver interface {
	ObserveAPICall(api, method, outcome string, took time.Duration)
}

// Outcomes of an API call, from its HTTP status.
const (
	APIOK             = "ok"
	APIRateLimited    = "rate_limited"
	APIClientError    = "client_error"
	APIServerError    = "server_error"
	APITransportError = "transport_error"
)

// HTTPOutcome classifies an answer's status.
func HTTPOutcome(status int) string {
	switch {
	case status == http.StatusTooManyRequests:
		return APIRateLimited
	case status >= 500:
		return APIServerError
	case status >= 400:
		return APIClientError
	default:
		return APIOK
	}
}

// InstrumentTransport wraps next so every request is timed and reported to
// obs under api, method(request) and its outcome. A nil obs returns next.
func InstrumentTransport(next http.RoundTripper, obs APIObserver, api string, method func(*http.Request) string) http.RoundTripper {
	if obs == nil {
		return next
	}
	if next == nil {
		next = http.DefaultTransport
	}
	return &instrumentedTransport{next: next, obs: obs, api: api, method: method}
}

type instrumentedTransport struct {
	next   http.RoundTripper
	obs    APIObserver
	api    string
	method func(*http.Request) string
}

func (t *instrumentedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	start := time.Now() // real time: a latency, whatever clock the engine runs on
	resp, err := t.next.RoundTrip(r)
	outcome := APITransportError
	if err == nil {
		outcome = HTTPOutcome(resp.StatusCode)
	}
	t.obs.ObserveAPICall(t.api, t.method(r), outcome, time.Since(start))
	return resp, err
}

// TwilioAPIMethod names a Twilio REST call by its resource: "messages" or
// "calls" (…/Accounts/<sid>/Messages.json), else "other". The account SID
// and message SIDs in the path never become a label.
func TwilioAPIMethod(r *http.Request) string {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	for i, p := range parts {
		if p != "Accounts" || i+2 >= len(parts) {
			continue
		}
		switch strings.TrimSuffix(parts[i+2], ".json") {
		case "Messages":
			return "messages"
		case "Calls":
			return "calls"
		}
		break
	}
	return "other"
}
