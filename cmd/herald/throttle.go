package main

import (
	"github.com/heraldhq/herald/config"
	"github.com/heraldhq/herald/notifications"
)

// engineThrottle turns HERALD_THROTTLE (already validated by config) into
// the engine's option; the zero value leaves the throttle off.
func engineThrottle(t config.Throttle) notifications.Throttle {
	if t.Max == 0 {
		return notifications.Throttle{}
	}
	out := notifications.Throttle{Max: t.Max, Within: t.Within}
	if len(t.Fallback) > 0 {
		out.Fallback = make(map[notifications.Mode]notifications.Mode, len(t.Fallback))
		for from, to := range t.Fallback {
			out.Fallback[notifications.Mode(from)] = notifications.Mode(to)
		}
	}
	return out
}
