package slackfake_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/heraldhq/herald/internal/slackfake"
)

// TestOutage: during an outage every method fails, 429 with Retry-After
// and the 5xx in turn; afterwards calls succeed again.
func TestOutage(t *testing.T) {
	ctx := context.Background()
	f := slackfake.New(t)
	api := client(f)
	f.StartOutage(3*time.Second, http.StatusBadGateway)
	var rl *slack.RateLimitedError
	if _, _, err := api.PostMessageContext(ctx, "#incidents", slack.MsgOptionText("hi", false)); !errors.As(err, &rl) || rl.RetryAfter != 3*time.Second {
		t.Fatalf("first call: want RateLimitedError after 3s, got %T %v", err, err)
	}
	var sc slack.StatusCodeError
	if _, err := api.AuthTestContext(ctx); !errors.As(err, &sc) || sc.Code != http.StatusBadGateway {
		t.Fatalf("second call (another method): want StatusCodeError 502, got %T %v", err, err)
	}
	if _, _, err := api.PostMessageContext(ctx, "#incidents", slack.MsgOptionText("hi", false)); !errors.As(err, &rl) {
		t.Fatalf("third call: want RateLimitedError, got %T %v", err, err)
	}
	f.EndOutage()
	if _, _, err := api.PostMessageContext(ctx, "#incidents", slack.MsgOptionText("hi", false)); err != nil {
		t.Fatalf("after the outage: %v", err)
	}
	if n := len(f.Calls("chat.postMessage")); n != 3 {
		t.Errorf("%d chat.postMessage calls recorded, want 3 (failed ones too)", n)
	}
}
