package models

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Bounds of schedules.
const (
	MaxRotationMembers = 100
	MaxRotationWindows = 20
	MaxScheduleReason  = 500
	// MaxOverrideLength bounds an override, a swap's shift or a time off.
	MaxOverrideLength = 366 * 24 * time.Hour
)

// maxShiftCount bounds ShiftCount per kind: a month of hours, a year of
// days or weeks.
var maxShiftCount = map[string]int{ShiftHourly: 24 * 31, ShiftDaily: 366, ShiftWeekly: 52}

// scheduleNamePattern allows names people say, like "Payments weekly".
var scheduleNamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9 ._-]{0,62}[A-Za-z0-9._-]$|^[A-Za-z0-9]$`)

// DateLayout is how StartDate is written.
const DateLayout = "2006-01-02"

// Validate checks a schedule's own fields (not that its team exists) and
// trims its name. Every problem is reported, each at its field.
func (s *Schedule) Validate() error {
	var errs InputErrors
	s.Name = strings.TrimSpace(s.Name)
	if s.TeamID == "" {
		errs.add("team", "required")
	}
	checkScheduleName(&errs, "name", s.Name)
	checkZone(&errs, "time_zone", s.TimeZone, true)
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// Validate checks a rotation's own fields (not that its members exist),
// normalising the name, weekday names and a ShiftCount of 0 (one). Every
// problem is reported, each at its field.
func (r *Rotation) Validate() error {
	var errs InputErrors
	r.Name = strings.TrimSpace(r.Name)
	if r.ScheduleID == "" {
		errs.add("schedule", "required")
	}
	checkScheduleName(&errs, "name", r.Name)
	checkRotationRole(&errs, "role", r.Role)
	switch {
	case len(r.Members) == 0:
		errs.add("members", "required: one or more people, in the order they take turns")
	case len(r.Members) > MaxRotationMembers:
		errs.add("members", "at most %d people", MaxRotationMembers)
	}
	for i, m := range r.Members {
		if m == "" {
			errs.add(fmt.Sprintf("members[%d]", i), "empty person")
		}
	}
	if r.ShiftCount == 0 {
		r.ShiftCount = 1
	}
	if limit, ok := maxShiftCount[r.ShiftKind]; !ok {
		errs.add("shift_kind", "%q is not a shift kind (hourly, daily or weekly)", r.ShiftKind)
	} else if r.ShiftCount < 1 || r.ShiftCount > limit {
		errs.add("shift_count", "must be between 1 and %d for %s shifts, not %d", limit, r.ShiftKind, r.ShiftCount)
	}
	if r.HandoffTime == "" {
		errs.add("handoff_time", "required (HH:MM, 24-hour, like 09:00)")
	} else if _, _, err := parseClock(r.HandoffTime); err != nil {
		errs.add("handoff_time", "%s", err.Error())
	}
	if r.ShiftKind == ShiftWeekly {
		if day, ok := normalWeekday(r.HandoffWeekday); ok {
			r.HandoffWeekday = day
		} else if r.HandoffWeekday == "" {
			errs.add("handoff_weekday", "required for weekly shifts (mon, tue, wed, thu, fri, sat, sun)")
		} else {
			errs.add("handoff_weekday", "%q is not a day (mon, tue, wed, thu, fri, sat, sun)", r.HandoffWeekday)
		}
	} else if r.HandoffWeekday != "" {
		errs.add("handoff_weekday", "only weekly shifts hand off on a weekday")
	}
	if r.StartDate == "" {
		errs.add("start_date", "required (YYYY-MM-DD, the day of the first handoff)")
	} else if _, err := time.Parse(DateLayout, r.StartDate); err != nil {
		errs.add("start_date", "%q is not a date (YYYY-MM-DD)", r.StartDate)
	}
	checkZone(&errs, "time_zone", r.TimeZone, false)
	if len(r.Windows) > MaxRotationWindows {
		errs.add("windows", "at most %d windows", MaxRotationWindows)
	}
	for i := range r.Windows {
		checkWindow(&errs, fmt.Sprintf("windows[%d]", i), &r.Windows[i])
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// Validate checks an override's own fields (not that its people exist).
func (o *ScheduleOverride) Validate() error {
	var errs InputErrors
	if o.ScheduleID == "" {
		errs.add("schedule", "required")
	}
	checkRotationRole(&errs, "role", o.Role)
	if o.PersonID == "" {
		errs.add("person", "required: who is on call")
	}
	if o.ReplacedPersonID != nil && *o.ReplacedPersonID == o.PersonID && o.PersonID != "" {
		errs.add("replaced_person", "is the person covering: an override replaces someone else")
	}
	o.StartsAt, o.EndsAt = checkPeriod(&errs, "", o.StartsAt, o.EndsAt)
	o.Reason = checkReason(&errs, o.Reason)
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// Validate checks a time off's own fields (not that the person exists).
func (t *TimeOff) Validate() error {
	var errs InputErrors
	if t.PersonID == "" {
		errs.add("person", "required")
	}
	t.StartsAt, t.EndsAt = checkPeriod(&errs, "", t.StartsAt, t.EndsAt)
	t.Reason = checkReason(&errs, t.Reason)
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// Swap is two members exchanging shifts: PersonB takes PersonA's shift
// [StartsA, EndsA) and PersonA takes PersonB's [StartsB, EndsB). It is
// stored as two overrides sharing a swap id.
type Swap struct {
	ScheduleID string
	Role       string
	PersonA    string
	StartsA    time.Time
	EndsA      time.Time
	PersonB    string
	StartsB    time.Time
	EndsB      time.Time
	Reason     string
}

// Validate checks a swap's own fields (not that its people exist).
func (s *Swap) Validate() error {
	var errs InputErrors
	if s.ScheduleID == "" {
		errs.add("schedule", "required")
	}
	checkRotationRole(&errs, "role", s.Role)
	if s.PersonA == "" {
		errs.add("person_a", "required")
	}
	if s.PersonB == "" {
		errs.add("person_b", "required")
	}
	if s.PersonA != "" && s.PersonA == s.PersonB {
		errs.add("person_b", "is person_a: a swap needs two people")
	}
	s.StartsA, s.EndsA = checkPeriod(&errs, "_a", s.StartsA, s.EndsA)
	s.StartsB, s.EndsB = checkPeriod(&errs, "_b", s.StartsB, s.EndsB)
	s.Reason = checkReason(&errs, s.Reason)
	if len(errs) > 0 {
		return errs
	}
	return nil
}

func checkScheduleName(errs *InputErrors, field, name string) {
	switch {
	case name == "":
		errs.add(field, "required")
	case !scheduleNamePattern.MatchString(name):
		errs.add(field, "%q is not a valid name (letters, digits, spaces, \".\", \"_\" and \"-\", up to 64 characters)", name)
	}
}

func checkRotationRole(errs *InputErrors, field, role string) {
	if !slices.Contains(RotationRoles, role) {
		errs.add(field, "%q is not a rotation role (primary, secondary or shadow)", role)
	}
}

func checkZone(errs *InputErrors, field, zone string, required bool) {
	switch zone {
	case "":
		if required {
			errs.add(field, "required (an IANA name, like Europe/London, or UTC)")
		}
	case "Local":
		errs.add(field, `"Local" depends on the machine; name the zone, like Europe/London`)
	default:
		if _, err := time.LoadLocation(zone); err != nil {
			errs.add(field, "unknown time zone %q (an IANA name, like Europe/London)", zone)
		}
	}
}

func checkWindow(errs *InputErrors, field string, w *RotationWindow) {
	if len(w.Weekdays) == 0 {
		errs.add(field+".weekdays", "required: one or more of mon, tue, wed, thu, fri, sat, sun")
	}
	seen := map[string]bool{}
	for i, d := range w.Weekdays {
		day, ok := normalWeekday(d)
		f := fmt.Sprintf("%s.weekdays[%d]", field, i)
		switch {
		case !ok:
			errs.add(f, "%q is not a day (mon, tue, wed, thu, fri, sat, sun)", d)
		case seen[day]:
			errs.add(f, "%s is listed twice", day)
		default:
			seen[day] = true
			w.Weekdays[i] = day
		}
	}
	start, startErr := clockMinutes(w.Start)
	end, endErr := clockMinutes(w.End)
	if startErr != nil {
		errs.add(field+".start", "%s", startErr.Error())
	}
	if endErr != nil {
		errs.add(field+".end", "%s", endErr.Error())
	}
	if startErr == nil && endErr == nil && start == end {
		errs.add(field+".end", "equals start: a window must have a length (an end before the start passes midnight)")
	}
}

// checkPeriod requires both times, the end after the start, and at most
// MaxOverrideLength between them; it returns them in UTC whole seconds.
func checkPeriod(errs *InputErrors, suffix string, start, end time.Time) (time.Time, time.Time) {
	if start.IsZero() {
		errs.add("starts_at"+suffix, "required")
	}
	if end.IsZero() {
		errs.add("ends_at"+suffix, "required")
	}
	start, end = start.UTC().Truncate(time.Second), end.UTC().Truncate(time.Second)
	if !start.IsZero() && !end.IsZero() {
		if !end.After(start) {
			errs.add("ends_at"+suffix, "must be after starts_at%s (%s)", suffix, start.Format(time.RFC3339))
		} else if end.Sub(start) > MaxOverrideLength {
			errs.add("ends_at"+suffix, "at most %d days after starts_at%s", int(MaxOverrideLength/(24*time.Hour)), suffix)
		}
	}
	return start, end
}

func checkReason(errs *InputErrors, reason string) string {
	reason = strings.TrimSpace(reason)
	if !utf8.ValidString(reason) || utf8.RuneCountInString(reason) > MaxScheduleReason {
		errs.add("reason", "must be UTF-8 text of at most %d characters", MaxScheduleReason)
	}
	return reason
}

// normalWeekday turns "Monday", "mon" or "MON" into "mon".
func normalWeekday(d string) (string, bool) {
	d = strings.ToLower(strings.TrimSpace(d))
	if len(d) < 3 {
		return "", false
	}
	short := d[:3]
	if _, ok := weekdayNames[short]; !ok || !strings.HasPrefix(fullWeekday(short), d) {
		return "", false
	}
	return short, true
}

// WeekdayOf reads a weekday name: mon … sun, or whole, any case.
func WeekdayOf(name string) (time.Weekday, bool) {
	short, ok := normalWeekday(name)
	if !ok {
		return 0, false
	}
	return weekdayNames[short], true
}

// ClockMinutes reads HH:MM (24-hour) as minutes after midnight.
func ClockMinutes(s string) (int, error) { return clockMinutes(s) }

func clockMinutes(s string) (int, error) {
	h, m, err := parseClock(s)
	if err != nil {
		return 0, err
	}
	return h*60 + m, nil
}
