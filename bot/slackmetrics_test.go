package bot_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/heraldhq/herald/bot"
	"github.com/heraldhq/herald/internal/slackfake"
)

type recordedCall struct{ api, method, outcome string }

type recordingObserver struct {
	mu    sync.Mutex
	calls []recordedCall
}

func (r *recordingObserver) ObserveAPICall(api, method, outcome string, took time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if took < 0 {
		outcome = "negative duration"
	}
	r.calls = append(r.calls, recordedCall{api, method, outcome})
}

func (r *recordingObserver) take() []recordedCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.calls
	r.calls = nil
	return out
}

// TestSlackClientObserved: every Web API call is timed under its method and
// outcome, Slack's {"ok": false} included, and the client still reads
// Slack's answer.
func TestSlackClientObserved(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	channel := fake.AddChannel("incidents", false)
	obs := &recordingObserver{}
	caller := &http.Client{Timeout: 5 * time.Second}
	client := bot.NewSlackClient(bot.SlackClientOptions{Token: "xoxb-test", APIURL: fake.APIURL(), HTTPClient: caller, Observer: obs})
	if caller.Transport != nil {
		t.Fatal("the caller's HTTP client was changed")
	}
	tests := []struct {
		name    string
		fault   func()
		wantErr string
		outcome string
	}{
		{"ok", func() {}, "", "ok"},
		{"slack error", func() { fake.FailNext("chat.postMessage", "channel_not_found") }, "channel_not_found", "api_error"},
		{"rate limited", func() { fake.RateLimitNext("chat.postMessage", time.Second) }, "rate limit", "rate_limited"},
		{"server error", func() { fake.HTTPErrorNext("chat.postMessage", http.StatusBadGateway) }, "502", "server_error"},
	}
	for _, tt := range tests {
		tt.fault()
		_, _, err := client.PostMessageContext(context.Background(), channel, slack.MsgOptionText("hi", false))
		if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(strings.ToLower(err.Error()), tt.wantErr)) {
			t.Errorf("%s: err %v, want %q", tt.name, err, tt.wantErr)
		}
		if got, want := obs.take(), []recordedCall{{"slack", "chat.postMessage", tt.outcome}}; !slices.Equal(got, want) {
			t.Errorf("%s: observed %v, want %v", tt.name, got, want)
		}
	}
	fake.Close()
	if _, _, err := client.PostMessageContext(context.Background(), channel, slack.MsgOptionText("hi", false)); err == nil {
		t.Error("a closed server answered")
	}
	if got, want := obs.take(), []recordedCall{{"slack", "chat.postMessage", "transport_error"}}; !slices.Equal(got, want) {
		t.Errorf("unreachable: observed %v, want %v", got, want)
	}

	// Dry-run calls reach no API: nothing to time.
	dry := bot.NewSlackClient(bot.SlackClientOptions{Observer: obs})
	if _, _, err := dry.PostMessageContext(context.Background(), "C1", slack.MsgOptionText("hi", false)); err != nil {
		t.Fatal(err)
	}
	if got := obs.take(); len(got) != 0 {
		t.Errorf("dry run observed %v", got)
	}
}
