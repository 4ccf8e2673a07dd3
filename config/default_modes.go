package config

import (
	"fmt"
	"slices"
	"strings"
)

// Priorities and modes HERALD_DEFAULT_MODES may name; the same as the
// notifications package's (config does not import it).
var (
	modePriorities = []string{"low", "medium", "high", "urgent"}
	pagingModes    = []string{"slack", "email", "sms", "call"}
)

// ParseDefaultModes parses "low=slack;medium=slack,email;high=sms;urgent=call":
// how each priority reaches someone who set no preference. Priorities left
// out keep Herald's built-in defaults; an empty string sets none.
func ParseDefaultModes(s string) (map[string][]string, error) {
	out := map[string][]string{}
	for _, entry := range strings.Split(s, ";") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		priority, list, ok := strings.Cut(entry, "=")
		priority = strings.ToLower(strings.TrimSpace(priority))
		if !ok {
			return nil, fmt.Errorf("%q: expected priority=mode,mode", entry)
		}
		if !slices.Contains(modePriorities, priority) {
			return nil, fmt.Errorf("unknown priority %q (one of %s)", priority, strings.Join(modePriorities, ", "))
		}
		if _, dup := out[priority]; dup {
			return nil, fmt.Errorf("priority %q is given twice", priority)
		}
		var modes []string
		for _, m := range strings.Split(list, ",") {
			m = strings.ToLower(strings.TrimSpace(m))
			if !slices.Contains(pagingModes, m) {
				return nil, fmt.Errorf("priority %s: unknown mode %q (one of %s)", priority, m, strings.Join(pagingModes, ", "))
			}
			if !slices.Contains(modes, m) {
				modes = append(modes, m)
			}
		}
		out[priority] = modes
	}
	return out, nil
}

func (p *parser) defaultModes(key string) map[string][]string {
	v, ok := p.raw(key)
	if !ok {
		return nil
	}
	m, err := ParseDefaultModes(v)
	if err != nil {
		p.failValue(key, v, "priority=modes pairs separated by semicolons, e.g. low=slack;medium=slack,email;high=sms;urgent=call ("+err.Error()+")")
		return nil
	}
	return m
}
