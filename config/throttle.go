package config

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Throttle is HERALD_THROTTLE, the per-person storm guard: someone who
// already had Max messages in a mode Within the window gets further pages
// of that mode in Fallback[mode] instead, or none (recorded as throttled).
// The zero value (variable unset) is off.
type Throttle struct {
	Max      int
	Within   time.Duration
	Fallback map[string]string // mode → mode
}

// ParseThrottle reads "max=5,within=10m,fallback=sms>slack,fallback=call>sms":
// max a positive count, within a window of a second or more (a Go
// duration, or a bare unit: "h" is "1h"), and any number of fallbacks, one
// per mode. The engine falls back one step only, so a fallback is a pair,
// not a chain. An empty string is off.
func ParseThrottle(s string) (Throttle, error) {
	var t Throttle
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		key, value, ok := strings.Cut(part, "=")
		key, value = strings.ToLower(strings.TrimSpace(key)), strings.TrimSpace(value)
		switch {
		case !ok:
			return Throttle{}, fmt.Errorf("%q: want key=value with key one of max, within, fallback", part)
		case key == "max":
			n, err := strconv.Atoi(value)
			if t.Max != 0 {
				return Throttle{}, fmt.Errorf("%q: max is given twice", part)
			}
			if err != nil || n <= 0 {
				return Throttle{}, fmt.Errorf("%q: want a positive count, like max=5", part)
			}
			t.Max = n
		case key == "within":
			d, err := parseWindow(value)
			if t.Within != 0 {
				return Throttle{}, fmt.Errorf("%q: within is given twice", part)
			}
			if err != nil {
				return Throttle{}, fmt.Errorf("%q: want a window of a second or more, like within=10m", part)
			}
			t.Within = d
		case key == "fallback":
			from, to, err := parseFallback(value)
			if err != nil {
				return Throttle{}, fmt.Errorf("%q: %w", part, err)
			}
			if _, dup := t.Fallback[from]; dup {
				return Throttle{}, fmt.Errorf("%q: %s falls back twice", part, from)
			}
			if t.Fallback == nil {
				t.Fallback = map[string]string{}
			}
			t.Fallback[from] = to
		default:
			return Throttle{}, fmt.Errorf("%q: unknown key %q (one of max, within, fallback)", part, key)
		}
	}
	// Half a throttle is a typo, not a choice: say so rather than run
	// unprotected.
	if (t.Max == 0 || t.Within == 0) && (t.Max != 0 || t.Within != 0 || t.Fallback != nil) {
		return Throttle{}, errors.New("max and within are both required")
	}
	return t, nil
}

// parseWindow reads a duration of a second or more; a bare unit counts
// one of it, as in HERALD_RATE_LIMITS.
func parseWindow(s string) (time.Duration, error) {
	if s != "" && strings.Trim(s, "0123456789.") == s {
		s = "1" + s
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("parsing window: %w", err)
	}
	if d < time.Second {
		return 0, fmt.Errorf("window %s is under a second", d)
	}
	return d, nil
}

// parseFallback reads "sms>slack": pages over the limit in sms go by Slack.
func parseFallback(s string) (from, to string, err error) {
	from, to, ok := strings.Cut(s, ">")
	from, to = strings.ToLower(strings.TrimSpace(from)), strings.ToLower(strings.TrimSpace(to))
	switch {
	case !ok || strings.Contains(to, ">"):
		return "", "", errors.New("want one fallback as mode>mode, like fallback=sms>slack")
	case !slices.Contains(pagingModes, from):
		return "", "", fmt.Errorf("unknown mode %q (one of %s)", from, strings.Join(pagingModes, ", "))
	case !slices.Contains(pagingModes, to):
		return "", "", fmt.Errorf("unknown mode %q (one of %s)", to, strings.Join(pagingModes, ", "))
	case from == to:
		return "", "", fmt.Errorf("%s cannot fall back to itself", from)
	}
	return from, to, nil
}

// String is the canonical form ParseThrottle reads back: "" when off,
// fallbacks sorted.
func (t Throttle) String() string {
	if t.Max == 0 {
		return ""
	}
	parts := []string{"max=" + strconv.Itoa(t.Max), "within=" + t.Within.String()}
	for _, from := range slices.Sorted(maps.Keys(t.Fallback)) {
		parts = append(parts, "fallback="+from+">"+t.Fallback[from])
	}
	return strings.Join(parts, ",")
}

func (p *parser) throttle(key string) Throttle {
	v, ok := p.raw(key)
	if !ok {
		return Throttle{}
	}
	t, err := ParseThrottle(v)
	if err != nil {
		p.failValue(key, v, "max=N,within=DURATION and optional fallback=MODE>MODE pairs separated by commas, e.g. max=5,within=10m,fallback=sms>slack ("+err.Error()+")")
		return Throttle{}
	}
	return t
}
