package main

import "github.com/heraldhq/herald/notifications"

// engineModes turns HERALD_DEFAULT_MODES (already validated by config)
// into the engine's option; nil keeps the built-in defaults.
func engineModes(m map[string][]string) map[string][]notifications.Mode {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string][]notifications.Mode, len(m))
	for priority, modes := range m {
		for _, mode := range modes {
			out[priority] = append(out[priority], notifications.Mode(mode))
		}
	}
	return out
}
