package ui

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Times typed into the schedule forms are wall-clock times in the viewer's
// zone (an <input type="datetime-local"> sends "2026-03-08T02:30").

// localLayouts are the forms a datetime-local field arrives in: browsers
// send seconds when the value has them; people typing use a space.
var localLayouts = []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02 15:04:05"}

// formLocalLayout is how a time is written back into a datetime-local field.
const formLocalLayout = "2006-01-02T15:04"

// errNoSuchLocalTime is a wall-clock time the clocks skip (spring forward).
var errNoSuchLocalTime = errors.New("does not exist")

// parseLocalTime reads a wall-clock time in loc. A time the clocks skip
// when they go forward is an error (Go would silently move it by the
// change); a time that happens twice when they go back is the first of the
// two, the earlier instant, so the result never depends on Go's choice.
func parseLocalTime(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > len("2006-01-02T15:04:05") {
		return time.Time{}, fmt.Errorf("%q is not a date and time (YYYY-MM-DD HH:MM)", s)
	}
	var wall time.Time
	var err error
	for _, layout := range localLayouts {
		if wall, err = time.Parse(layout, s); err == nil {
			break
		}
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a date and time (YYYY-MM-DD HH:MM)", s)
	}
	if y := wall.Year(); y < 1971 || y > 9998 {
		return time.Time{}, fmt.Errorf("%q is out of range", s)
	}
	// Candidates: the wall time at each offset in force around it (a
	// transition is never closer than a day to another in real zones).
	var found []time.Time
	for _, probe := range []time.Time{wall.Add(-48 * time.Hour), wall, wall.Add(48 * time.Hour)} {
		_, off := time.Date(probe.Year(), probe.Month(), probe.Day(), probe.Hour(), probe.Minute(), 0, 0, loc).Zone()
		t := wall.Add(-time.Duration(off) * time.Second).In(loc)
		if sameWall(t, wall) && !containsInstant(found, t) {
			found = append(found, t)
		}
	}
	if len(found) == 0 {
		return time.Time{}, fmt.Errorf("%s %w in %s: the clocks go forward then; choose a time after the change", wall.Format("2006-01-02 15:04"), errNoSuchLocalTime, loc)
	}
	first := found[0]
	for _, t := range found[1:] {
		if t.Before(first) {
			first = t
		}
	}
	return first, nil
}

func sameWall(t, wall time.Time) bool {
	y, m, d := t.Date()
	wy, wm, wd := wall.Date()
	return y == wy && m == wm && d == wd && t.Hour() == wall.Hour() && t.Minute() == wall.Minute() && t.Second() == wall.Second()
}

func containsInstant(ts []time.Time, t time.Time) bool {
	for _, x := range ts {
		if x.Equal(t) {
			return true
		}
	}
	return false
}

// parseDate reads a calendar's start date (YYYY-MM-DD) as midnight in loc.
func parseDate(s string, loc *time.Location) (time.Time, error) {
	d, err := time.Parse("2006-01-02", s)
	if err != nil || d.Year() < 1971 || d.Year() > 9000 {
		return time.Time{}, fmt.Errorf("%q is not a date (YYYY-MM-DD)", s)
	}
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, loc), nil
}

// midnight is the start of t's day in loc.
func midnight(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, loc)
}

// addDays moves a local midnight by n calendar days: days are 23 or 25
// hours long across daylight-saving changes, so never add 24h.
func addDays(t time.Time, n int) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d+n, 0, 0, 0, 0, t.Location())
}
