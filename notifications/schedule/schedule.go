// Package schedule works out who is on call when, from on-call schedules
// (models.Schedule, Rotation, ScheduleOverride, TimeOff) held in plain
// structs: no database, no clock. Calendar answers for any time range;
// Resolver caches a team's answers for the paging engine.
//
// The rules, in the order they apply at an instant, for one role:
//
//  1. Each rotation (layer) gives the member whose turn it is, if the
//     instant is inside one of its restriction windows (or it has none).
//     Handoffs are at wall-clock time in the rotation's zone (the
//     schedule's by default), so a daily 09:00 handoff stays 09:00 across
//     daylight-saving changes and that day's shift is 23 or 25 hours long;
//     hourly shifts count real hours. A handoff time that does not exist
//     that day or happens twice (02:30 in New York when the clocks spring
//     forward, 01:30 when they fall back) is where Go's time.Date puts it,
//     deterministically and within the hour (01:30 EST and 01:30 EDT).
//  2. A member who is off (time off, or no longer active) is replaced by
//     the next member of the rotation, in order, who is not off; when all
//     are off the layer is empty.
//  3. Of the layers of the role that cover the instant, the highest wins:
//     schedules ordered by creation (then id), rotations within a schedule
//     by Layer (then id). The last-defined layer wins.
//  4. Overrides (and swap halves) of the role, of any of the schedules,
//     apply from the oldest to the newest: one covering the instant
//     replaces whoever is on call then — if it names a replaced person,
//     only when that person is on call then (so overrides chain: Bob covers
//     Alice, then Carol covers Bob). Overrides beat every rotation, and a
//     newer override beats an older one.
package schedule

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/heraldhq/herald/models"
)

// Shift is a stretch of time one person is on call for a role. It is the
// type the Slack command, the HTTP API and iCal export show.
type Shift struct {
	ScheduleID   string
	ScheduleName string
	RotationID   string // "" for an override or swap
	RotationName string
	OverrideID   string // the override or swap half, when Source is one
	Role         string // models.RotationPrimary, …
	PersonID     string
	Start, End   time.Time // UTC, [Start, End)
	// Source is models.SourceRotation, SourceOverride, SourceSwap or
	// SourceTimeOff.
	Source string
	// ReplacedPersonID is who would have been on call: the member off
	// (time off), the person an override or swap replaced.
	ReplacedPersonID string
}

// Describe says where the shift comes from, for people reading a page's
// history: "primary, Payments weekly" (schedule Payments, rotation
// weekly), "primary, override in Payments".
func (s Shift) Describe() string {
	name := s.ScheduleName
	if s.RotationName != "" && s.RotationName != s.ScheduleName {
		name += " " + s.RotationName
	}
	switch s.Source {
	case models.SourceOverride:
		return fmt.Sprintf("%s, override in %s", s.Role, s.ScheduleName)
	case models.SourceSwap:
		return fmt.Sprintf("%s, swap in %s", s.Role, s.ScheduleName)
	case models.SourceTimeOff:
		return fmt.Sprintf("%s, %s, covering time off", s.Role, name)
	}
	return fmt.Sprintf("%s, %s", s.Role, name)
}

// Contains reports whether t is in the shift.
func (s Shift) Contains(t time.Time) bool { return !t.Before(s.Start) && t.Before(s.End) }

// Calendar computes shifts for a set of schedules (usually a team's). It
// is immutable and safe for concurrent use.
type Calendar struct {
	layers    []*layer   // by rank: a later layer beats an earlier one
	overrides []override // oldest first
	off       map[string][]span
	inactive  map[string]bool // never on call, not even by override
}

type override struct {
	o     models.ScheduleOverride
	sched *models.Schedule
}

// endOfTime is later than any shift.
func endOfTime() time.Time { return time.Date(9999, time.December, 31, 0, 0, 0, 0, time.UTC) }

// span is a half-open interval of time.
type span struct{ start, end time.Time }

// New compiles a set of schedules. It fails naming the schedule, rotation
// and field when stored data does not validate (a zone this machine does
// not know, a bad time of day).
func New(set models.ScheduleSet) (*Calendar, error) {
	c := &Calendar{off: map[string][]span{}, inactive: map[string]bool{}}
	scheds := slices.Clone(set.Schedules)
	slices.SortStableFunc(scheds, func(a, b models.ScheduleData) int {
		return cmp.Or(a.Schedule.CreatedAt.Compare(b.Schedule.CreatedAt), cmp.Compare(a.Schedule.ID, b.Schedule.ID))
	})
	for i := range scheds {
		sd := &scheds[i]
		rots := slices.Clone(sd.Rotations)
		slices.SortStableFunc(rots, func(a, b models.Rotation) int {
			return cmp.Or(cmp.Compare(a.Layer, b.Layer), cmp.Compare(a.ID, b.ID))
		})
		for _, r := range rots {
			l, err := compile(&sd.Schedule, r)
			if err != nil {
				return nil, fmt.Errorf("schedule %q, rotation %q: %w", sd.Schedule.Name, r.Name, err)
			}
			c.layers = append(c.layers, l)
		}
		for _, o := range sd.Overrides {
			if !o.EndsAt.After(o.StartsAt) {
				continue
			}
			c.overrides = append(c.overrides, override{o: o, sched: &sd.Schedule})
		}
	}
	slices.SortStableFunc(c.overrides, func(a, b override) int {
		return cmp.Or(a.o.CreatedAt.Compare(b.o.CreatedAt), cmp.Compare(a.o.ID, b.o.ID))
	})
	for _, t := range set.TimeOff {
		if t.EndsAt.After(t.StartsAt) {
			c.off[t.PersonID] = append(c.off[t.PersonID], span{t.StartsAt.UTC(), t.EndsAt.UTC()})
		}
	}
	for _, id := range set.Inactive {
		// Never on call: off from the beginning to the end of time.
		c.off[id] = []span{{time.Time{}, endOfTime()}}
		c.inactive[id] = true
	}
	for id, spans := range c.off {
		c.off[id] = mergeSpans(spans)
	}
	return c, nil
}

// Roles lists the roles that have a rotation or an override, in
// models.RotationRoles order.
func (c *Calendar) Roles() []string {
	var out []string
	for _, role := range models.RotationRoles {
		if c.hasRole(role) {
			out = append(out, role)
		}
	}
	return out
}

func (c *Calendar) hasRole(role string) bool {
	for _, l := range c.layers {
		if l.role == role {
			return true
		}
	}
	for _, o := range c.overrides {
		if o.o.Role == role {
			return true
		}
	}
	return false
}

// Scheduled reports whether the schedules decide role at t: a rotation of
// the role has started by then, or an override of it covers t. When they
// do and nobody is on call, that is a gap; when they do not, someone else
// (static assignments) decides.
func (c *Calendar) Scheduled(t time.Time, role string) bool {
	for _, l := range c.layers {
		if l.role == role && !t.Before(l.boundary(0)) {
			return true
		}
	}
	for _, o := range c.overrides {
		if o.o.Role == role && !t.Before(o.o.StartsAt) && t.Before(o.o.EndsAt) {
			return true
		}
	}
	return false
}

// isOff reports whether person is off at t, and when that changes.
func (c *Calendar) isOff(person string, t time.Time) bool {
	for _, s := range c.off[person] {
		if !t.Before(s.start) && t.Before(s.end) {
			return true
		}
	}
	return false
}

// mergeSpans sorts spans and joins those that overlap or touch.
func mergeSpans(spans []span) []span {
	slices.SortFunc(spans, func(a, b span) int { return a.start.Compare(b.start) })
	var out []span
	for _, s := range spans {
		if n := len(out); n > 0 && !s.start.After(out[n-1].end) {
			if s.end.After(out[n-1].end) {
				out[n-1].end = s.end
			}
			continue
		}
		out = append(out, s)
	}
	return out
}
