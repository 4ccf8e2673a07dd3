package handlers

import (
	"strconv"
	"strings"
	"time"
)

// slackTime reads a Slack message ts ("1700000000.000100") as a time, or
// returns def when it is not one.
func slackTime(ts string, def time.Time) time.Time {
	secs, frac, found := strings.Cut(ts, ".")
	if !found && len(secs) > 10 {
		// Some event_ts values come without the dot: seconds, then micros.
		secs, frac = secs[:10], secs[10:]
	}
	s, err := strconv.ParseInt(secs, 10, 64)
	if err != nil || s <= 0 {
		return def
	}
	var micros int64
	if frac != "" {
		if m, err := strconv.ParseInt((frac + "000000")[:6], 10, 64); err == nil {
			micros = m
		}
	}
	return time.Unix(s, micros*1000).UTC()
}
