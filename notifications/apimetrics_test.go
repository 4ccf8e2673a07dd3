package notifications_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/apimetrics"
	"github.com/heraldhq/herald/notifications"
)

type apiCall struct{ api, method, outcome string }

type apiRecorder struct {
	mu    sync.Mutex
	calls []apiCall
}

func (r *apiRecorder) ObserveAPICall(api, method, outcome string, took time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if took < 0 {
		outcome = "negative duration"
	}
	r.calls = append(r.calls, apiCall{api, method, outcome})
}

func (r *apiRecorder) take() []apiCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.calls
	r.calls = nil
	return out
}

// TestTwilioCallsObserved: the Twilio vendors' calls, through an
// instrumented transport, are timed by resource and outcome; SIDs never
// become labels.
func TestTwilioCallsObserved(t *testing.T) {
	t.Parallel()
	fake := newFakeTwilio(t)
	rec := &apiRecorder{}
	tc := notifications.TwilioConfig{AccountSID: twSID, AuthToken: twToken, From: twFrom, APIURL: fake.srv.URL, BaseURL: "https://herald.example.com",
		Log: quiet(t), Transport: apimetrics.Transport(http.DefaultTransport, rec, "twilio", notifications.TwilioAPIMethod, nil)}
	sms, err := notifications.NewTwilioSMS(tc)
	if err != nil {
		t.Fatal(err)
	}
	voice, err := notifications.NewTwilioVoice(tc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := sms.Send(ctx, notifications.Message{ID: 1, Mode: notifications.ModeSMS, Destination: twTo, Body: "hi"}); err != nil {
		t.Fatal(err)
	}
	if _, err := voice.Send(ctx, notifications.Message{ID: 2, Mode: notifications.ModeCall, Destination: twTo, Body: "hi"}); err != nil {
		t.Fatal(err)
	}
	fake.setFail(http.StatusTooManyRequests, 20429, "Too Many Requests", false)
	_, _ = sms.Send(ctx, notifications.Message{ID: 3, Mode: notifications.ModeSMS, Destination: twTo, Body: "hi"})
	fake.setFail(http.StatusBadRequest, 21211, "Invalid To", false)
	_, _ = sms.Send(ctx, notifications.Message{ID: 4, Mode: notifications.ModeSMS, Destination: twTo, Body: "hi"})
	fake.setFail(http.StatusServiceUnavailable, 0, "", true)
	_, _ = voice.Send(ctx, notifications.Message{ID: 5, Mode: notifications.ModeCall, Destination: twTo, Body: "hi"})
	fake.srv.Close()
	_, _ = sms.Send(ctx, notifications.Message{ID: 6, Mode: notifications.ModeSMS, Destination: twTo, Body: "hi"})
	want := []apiCall{
		{"twilio", "messages", "ok"}, {"twilio", "calls", "ok"}, {"twilio", "messages", "rate_limited"},
		{"twilio", "messages", "client_error"}, {"twilio", "calls", "server_error"}, {"twilio", "messages", "transport_error"},
	}
	if got := rec.take(); !slices.Equal(got, want) {
		t.Errorf("observed %v\nwant     %v", got, want)
	}
}

func TestTwilioAPIMethod(t *testing.T) {
	t.Parallel()
	for path, want := range map[string]string{
		"/2010-04-01/Accounts/AC123/Messages.json":          "messages",
		"/proxy/2010-04-01/Accounts/AC123/Calls.json":       "calls",
		"/2010-04-01/Accounts/AC123/Messages/SM999.json":    "messages",
		"/2010-04-01/Accounts/AC123/IncomingPhoneNumbers":   "other",
		"/2010-04-01/Accounts/AC123":                        "other",
		"/v1/Services/MG123":                                "other",
		"/":                                                 "other",
		"/2010-04-01/Accounts/AC123/Messages.json/../Calls": "messages",
	} {
		r := httptest.NewRequest(http.MethodPost, "http://api.twilio.test"+path, nil)
		if got := notifications.TwilioAPIMethod(r); got != want {
			t.Errorf("%s: %q, want %q", path, got, want)
		}
	}
}
