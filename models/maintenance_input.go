package models

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// MaintenanceInput is a maintenance window as people write it, in the
// configuration file (`maintenance:`) and the admin API: times are RFC
// 3339 text, so both read them the same way.
type MaintenanceInput struct {
	Name string `json:"name" yaml:"name"`
	// Service is the service's name; empty: every service.
	Service string `json:"service,omitempty" yaml:"service,omitempty"`
	// Match is the label matcher: every label must equal the alert's.
	Match    map[string]string `json:"match,omitempty" yaml:"match,omitempty"`
	StartsAt string            `json:"starts_at" yaml:"starts_at"`
	EndsAt   string            `json:"ends_at,omitempty" yaml:"ends_at,omitempty"`
	Weekly   *WeeklyInput      `json:"weekly,omitempty" yaml:"weekly,omitempty"`
	Reason   string            `json:"reason" yaml:"reason"`
	// CancelPending stops the running escalations of matching open
	// incidents when the window starts.
	CancelPending bool `json:"cancel_pending,omitempty" yaml:"cancel_pending,omitempty"`
}

// WeeklyInput makes a window recur: on these days, from Start for
// Duration, in TimeZone.
type WeeklyInput struct {
	Weekdays []string `json:"weekdays" yaml:"weekdays,flow"`
	Start    string   `json:"start" yaml:"start"`
	Duration string   `json:"duration" yaml:"duration"`
	TimeZone string   `json:"time_zone" yaml:"time_zone"`
}

// FieldProblem is one problem of an input, at a field path such as
// "weekly.weekdays[1]".
type FieldProblem struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// InputErrors is every problem of an input; one with any changes nothing.
type InputErrors []FieldProblem

func (e InputErrors) Error() string {
	lines := make([]string, len(e))
	for i, p := range e {
		lines[i] = p.Field + ": " + p.Message
	}
	return strings.Join(lines, "; ")
}

func (e *InputErrors) add(field, format string, args ...any) {
	*e = append(*e, FieldProblem{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Bounds of a maintenance window.
const (
	MaxMaintenanceReason  = 500
	MaxMaintenanceLabels  = 20
	maxWeeklyDuration     = 7 * 24 * time.Hour
	minWeeklyDuration     = time.Minute
	maxMaintenanceLabelSz = 200
)

var windowNamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// ParseMaintenance checks an input and turns it into a window (without
// its service id, which the caller resolves from in.Service). Every
// problem is reported, each at its field.
func ParseMaintenance(in MaintenanceInput) (*MaintenanceWindow, error) {
	var errs InputErrors
	w := &MaintenanceWindow{Name: in.Name, Reason: strings.TrimSpace(in.Reason), CancelPending: in.CancelPending}
	switch {
	case in.Name == "":
		errs.add("name", "required")
	case !windowNamePattern.MatchString(in.Name):
		errs.add("name", "%q is not a valid name (letters, digits, \".\", \"_\" and \"-\", up to 64 characters)", in.Name)
	}
	if in.Service != "" && !windowNamePattern.MatchString(in.Service) {
		errs.add("service", "%q is not a valid service name", in.Service)
	}
	switch {
	case w.Reason == "":
		errs.add("reason", "required: say why (it is shown on every alert the window holds)")
	case !utf8.ValidString(w.Reason) || utf8.RuneCountInString(w.Reason) > MaxMaintenanceReason:
		errs.add("reason", "must be UTF-8 text of at most %d characters", MaxMaintenanceReason)
	}
	parseMatchers(&errs, in.Match, w)
	start, startOK := parseTime(&errs, "starts_at", in.StartsAt, true)
	end, endOK := parseTime(&errs, "ends_at", in.EndsAt, in.Weekly == nil)
	if startOK {
		w.StartsAt = start
	}
	if endOK && in.EndsAt != "" {
		w.EndsAt = &end
		if startOK && !end.After(start) {
			errs.add("ends_at", "must be after starts_at (%s)", start.Format(time.RFC3339))
		}
	}
	if in.Weekly != nil {
		parseWeekly(&errs, in.Weekly, w)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return w, nil
}

func parseMatchers(errs *InputErrors, match map[string]string, w *MaintenanceWindow) {
	if len(match) == 0 {
		return
	}
	if len(match) > MaxMaintenanceLabels {
		errs.add("match", "at most %d labels", MaxMaintenanceLabels)
		return
	}
	keys := make([]string, 0, len(match))
	for k := range match {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	ok := true
	for _, k := range keys {
		field := "match." + k
		if k == "" || !utf8.ValidString(k) || len(k) > maxMaintenanceLabelSz {
			errs.add("match", "label names must be UTF-8 text of 1 to %d bytes", maxMaintenanceLabelSz)
			ok = false
			continue
		}
		if v := match[k]; !utf8.ValidString(v) || len(v) > maxMaintenanceLabelSz {
			errs.add(field, "must be UTF-8 text of at most %d bytes", maxMaintenanceLabelSz)
			ok = false
		}
	}
	if ok {
		b, _ := json.Marshal(match) // sorted keys: a stable column
		w.Matchers = string(b)
	}
}

func parseTime(errs *InputErrors, field, text string, required bool) (time.Time, bool) {
	if text == "" {
		if required {
			errs.add(field, "required (RFC 3339, like 2026-03-01T02:00:00Z)")
		}
		return time.Time{}, !required
	}
	t, err := time.Parse(time.RFC3339, text)
	if err != nil {
		errs.add(field, "%q is not an RFC 3339 time (like 2026-03-01T02:00:00Z)", text)
		return time.Time{}, false
	}
	// Whole seconds: stored times compare exactly on both databases.
	return t.UTC().Truncate(time.Second), true
}

func parseWeekly(errs *InputErrors, in *WeeklyInput, w *MaintenanceWindow) {
	seen := map[string]bool{}
	var days []string
	if len(in.Weekdays) == 0 {
		errs.add("weekly.weekdays", "required: one or more of mon, tue, wed, thu, fri, sat, sun")
	}
	for i, d := range in.Weekdays {
		short := strings.ToLower(strings.TrimSpace(d))
		if len(short) > 3 {
			short = short[:3]
		}
		if _, ok := weekdayNames[short]; !ok || !strings.HasPrefix(fullWeekday(short), strings.ToLower(strings.TrimSpace(d))) {
			errs.add(fmt.Sprintf("weekly.weekdays[%d]", i), "%q is not a day (mon, tue, wed, thu, fri, sat, sun)", d)
			continue
		}
		if seen[short] {
			errs.add(fmt.Sprintf("weekly.weekdays[%d]", i), "%s is listed twice", short)
			continue
		}
		seen[short] = true
		days = append(days, short)
	}
	sortWeekdays(days)
	w.Weekdays = strings.Join(days, ",")
	if in.Start == "" {
		errs.add("weekly.start", "required (HH:MM, 24-hour)")
	} else if _, _, err := parseClock(in.Start); err != nil {
		errs.add("weekly.start", "%s", err.Error())
	}
	w.StartTime = in.Start
	switch d, err := time.ParseDuration(in.Duration); {
	case in.Duration == "":
		errs.add("weekly.duration", "required (like 2h or 90m)")
	case err != nil:
		errs.add("weekly.duration", "%q is not a duration (like 2h or 90m)", in.Duration)
	case d < minWeeklyDuration || d > maxWeeklyDuration || d%time.Second != 0:
		errs.add("weekly.duration", "must be whole seconds between %s and %s, not %s", minWeeklyDuration, maxWeeklyDuration, d)
	default:
		w.DurationSeconds = int(d / time.Second)
	}
	switch in.TimeZone {
	case "":
		errs.add("weekly.time_zone", "required (an IANA name, like Europe/London, or UTC)")
	case "Local":
		errs.add("weekly.time_zone", `"Local" depends on the machine; name the zone, like Europe/London`)
	default:
		if _, err := time.LoadLocation(in.TimeZone); err != nil {
			errs.add("weekly.time_zone", "unknown time zone %q (an IANA name, like Europe/London)", in.TimeZone)
		}
	}
	w.TimeZone = in.TimeZone
}

func fullWeekday(short string) string {
	return strings.ToLower(weekdayNames[short].String())
}

// Input is a window as people write it (the inverse of ParseMaintenance),
// for export and the admin API's answers.
func (w *MaintenanceWindow) Input() MaintenanceInput {
	in := MaintenanceInput{Name: w.Name, Service: w.ServiceName, Match: w.Labels(), StartsAt: w.StartsAt.UTC().Format(time.RFC3339),
		Reason: w.Reason, CancelPending: w.CancelPending}
	if w.EndsAt != nil {
		in.EndsAt = w.EndsAt.UTC().Format(time.RFC3339)
	}
	if w.Recurring() {
		in.Weekly = &WeeklyInput{Weekdays: strings.Split(w.Weekdays, ","), Start: w.StartTime, Duration: FormatDuration(w.Duration()), TimeZone: w.TimeZone}
	}
	return in
}

// FormatDuration writes a duration the way people write it: 90m, 2h, 1h30m.
func FormatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
