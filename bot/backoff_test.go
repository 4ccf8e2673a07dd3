package bot_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/heraldhq/herald/bot"
)

func TestBackoffGrowsWithJitterAndIsCapped(t *testing.T) {
	tests := []struct {
		attempt  int
		min, max time.Duration
	}{
		{-3, 500 * time.Millisecond, time.Second}, // nonsense attempts count as the first
		{0, 500 * time.Millisecond, time.Second},
		{1, 500 * time.Millisecond, time.Second},
		{2, time.Second, 2 * time.Second},
		{3, 2 * time.Second, 4 * time.Second},
		{5, 8 * time.Second, 16 * time.Second},
		{9, 128 * time.Second, 256 * time.Second},
		{10, 150 * time.Second, 5 * time.Minute}, // 512 s capped at 5 min
		{11, 150 * time.Second, 5 * time.Minute},
		{64, 150 * time.Second, 5 * time.Minute}, // no shift overflow
		{1 << 30, 150 * time.Second, 5 * time.Minute},
	}
	cause := errors.New("boom")
	for _, tt := range tests {
		lo, hi := time.Duration(1<<62), time.Duration(0)
		for range 500 {
			d := bot.Backoff(tt.attempt, cause)
			lo, hi = min(lo, d), max(hi, d)
		}
		if lo < tt.min || hi > tt.max {
			t.Errorf("Backoff(%d) ranged over [%s, %s], want within [%s, %s]", tt.attempt, lo, hi, tt.min, tt.max)
		}
		if lo == hi && tt.min != tt.max {
			t.Errorf("Backoff(%d) always %s: no jitter", tt.attempt, lo)
		}
	}
	// Below the cap the ranges do not overlap: the longest wait of attempt
	// n is never more than the shortest of attempt n+1. (At the cap every
	// attempt waits 2.5-5 min, so there is no order between them.)
	for n := 1; n < 9; n++ {
		longest := time.Duration(0)
		for range 200 {
			longest = max(longest, bot.Backoff(n, cause))
		}
		shortest := time.Duration(1 << 62)
		for range 200 {
			shortest = min(shortest, bot.Backoff(n+1, cause))
		}
		if longest > shortest {
			t.Errorf("Backoff(%d) reached %s but Backoff(%d) went down to %s", n, longest, n+1, shortest)
		}
	}
}

func TestBackoffHonoursSlackRateLimit(t *testing.T) {
	rl := &slack.RateLimitedError{RetryAfter: 42 * time.Second}
	tests := []struct {
		name  string
		cause error
		want  time.Duration
	}{
		{"rate limited", rl, 42 * time.Second},
		{"wrapped", fmt.Errorf("posting headline: %w", rl), 42 * time.Second},
		{"longer than the cap", &slack.RateLimitedError{RetryAfter: 10 * time.Minute}, 10 * time.Minute},
	}
	for _, tt := range tests {
		for _, attempt := range []int{1, 3, 20} {
			if got := bot.Backoff(attempt, tt.cause); got != tt.want {
				t.Errorf("%s: Backoff(%d) = %s, want %s", tt.name, attempt, got, tt.want)
			}
		}
	}
	// No Retry-After: the usual exponential wait.
	if got := bot.Backoff(1, &slack.RateLimitedError{}); got < 500*time.Millisecond || got > time.Second {
		t.Errorf("Backoff without Retry-After = %s", got)
	}
	if got := bot.Backoff(1, nil); got < 500*time.Millisecond || got > time.Second {
		t.Errorf("Backoff(1, nil) = %s", got)
	}
}
