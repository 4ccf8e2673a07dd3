package apimetrics

import (
	"errors"
	"net/http"
	"testing"
	"time"
)

type record struct{ api, method, outcome string }

type recorder struct{ calls []record }

func (r *recorder) ObserveAPICall(api, method, outcome string, _ time.Duration) {
	r.calls = append(r.calls, record{api, method, outcome})
}

type answer struct {
	status int
	err    error
}

func (a answer) RoundTrip(*http.Request) (*http.Response, error) {
	if a.err != nil {
		return nil, a.err
	}
	return &http.Response{StatusCode: a.status, Body: http.NoBody}, nil
}

func TestTransportClassifiesEachCall(t *testing.T) {
	for _, c := range []struct {
		next answer
		want string
	}{
		{answer{status: 201}, OK},
		{answer{status: 429}, RateLimited},
		{answer{status: 404}, ClientError},
		{answer{status: 503}, ServerError},
		{answer{err: errors.New("connection refused")}, TransportError},
	} {
		rec := &recorder{}
		tr := Transport(c.next, rec, "twilio", func(*http.Request) string { return "messages" }, nil)
		req, _ := http.NewRequest(http.MethodPost, "https://api.example/x", nil)
		_, _ = tr.RoundTrip(req)
		if len(rec.calls) != 1 || rec.calls[0] != (record{"twilio", "messages", c.want}) {
			t.Errorf("%+v: observed %+v, want %s", c.next, rec.calls, c.want)
		}
	}
	if tr := Transport(answer{status: 200}, nil, "x", nil, nil); tr != (answer{status: 200}) {
		t.Errorf("a nil observer must leave the transport as it was, got %T", tr)
	}
}
