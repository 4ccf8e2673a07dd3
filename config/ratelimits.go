package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// RateLimit is at most Count sends Per window, for one mode.
type RateLimit struct {
	Count int
	Per   time.Duration
}

// rateLimitModes are the modes a limit may name.
var rateLimitModes = map[string]bool{"slack": true, "email": true, "sms": true, "call": true}

// ParseRateLimits reads per-mode send limits shared by every replica
// (HERALD_RATE_LIMITS), like "sms=100/1m,call=20/1m": mode=count/window,
// the window a Go duration ("1m", "30s") or a bare unit ("m" is "1m").
// An empty string is no limit.
func ParseRateLimits(s string) (map[string]RateLimit, error) {
	out := map[string]RateLimit{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		mode, rate, ok := strings.Cut(part, "=")
		mode = strings.TrimSpace(mode)
		if !ok || !rateLimitModes[mode] {
			return nil, fmt.Errorf("rate limit %q: want mode=count/window with mode one of slack, email, sms, call", part)
		}
		if _, dup := out[mode]; dup {
			return nil, fmt.Errorf("rate limit %q: %s is limited twice", part, mode)
		}
		count, window, ok := strings.Cut(strings.TrimSpace(rate), "/")
		n, err := strconv.Atoi(count)
		if !ok || err != nil || n <= 0 {
			return nil, fmt.Errorf("rate limit %q: want a positive count, like sms=100/1m", part)
		}
		if window != "" && strings.Trim(window, "0123456789.") == window {
			window = "1" + window
		}
		per, err := time.ParseDuration(window)
		if err != nil || per < time.Second {
			return nil, fmt.Errorf("rate limit %q: want a window of a second or more, like 1m", part)
		}
		out[mode] = RateLimit{Count: n, Per: per}
	}
	return out, nil
}
