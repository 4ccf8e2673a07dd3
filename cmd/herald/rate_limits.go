package main

import (
	"fmt"

	"github.com/heraldhq/herald/config"
	"github.com/heraldhq/herald/notifications"
)

// engineRateLimits reads HERALD_RATE_LIMITS (config.ParseRateLimits) into
// the engine's per-mode limits; unset is no limit.
func engineRateLimits(s string) (map[notifications.Mode]notifications.Rate, error) {
	limits, err := config.ParseRateLimits(s)
	if err != nil {
		return nil, fmt.Errorf("HERALD_RATE_LIMITS: %w", err)
	}
	out := make(map[notifications.Mode]notifications.Rate, len(limits))
	for mode, l := range limits {
		out[notifications.Mode(mode)] = notifications.Rate{Count: l.Count, Per: l.Per}
	}
	return out, nil
}
