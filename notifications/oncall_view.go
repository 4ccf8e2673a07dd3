package notifications

import (
	"context"
	"fmt"
	"time"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications/schedule"
)

// The answers of the on-call HTTP API and calendar feeds (web), computed
// from the stored schedules with notifications/schedule. JSON tags are the
// API's field names (web/openapi.json).

// PersonRef is a person as the on-call answers show them.
type PersonRef struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	FullName    string `json:"full_name,omitempty"`
	SlackUserID string `json:"slack_user_id,omitempty"`
}

// Display is the full name, else the handle.
func (p PersonRef) Display() string {
	if p.FullName != "" {
		return p.FullName
	}
	return p.Name
}

// ShiftView is a shift with its people named.
type ShiftView struct {
	Role   string    `json:"role"`
	Person PersonRef `json:"person"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	// Source is models.SourceRotation, SourceOverride, SourceSwap or
	// SourceTimeOff; Description says it for people ("primary, Payments
	// weekly").
	Source         string     `json:"source"`
	Description    string     `json:"description"`
	ScheduleID     string     `json:"schedule_id"`
	ScheduleName   string     `json:"schedule_name"`
	RotationID     string     `json:"rotation_id,omitempty"`
	RotationName   string     `json:"rotation_name,omitempty"`
	OverrideID     string     `json:"override_id,omitempty"`
	ReplacedPerson *PersonRef `json:"replaced_person,omitempty"`
}

// On-call statuses of a role at an instant.
const (
	OnCallScheduled = "scheduled" // a schedule puts Person on call (Shift)
	OnCallGap       = "gap"       // the schedules decide the role, nobody is on call
	OnCallStatic    = "static"    // no schedule decides: the static assignment
	OnCallNobody    = "nobody"    // neither schedules nor a static assignment
)

// SourceStatic is the Source of a static on-call assignment.
const SourceStatic = "static"

// RoleOnCall is who is on call for a role at an instant, and who is next.
type RoleOnCall struct {
	Role        string     `json:"role"`
	Status      string     `json:"status"`
	Person      *PersonRef `json:"person"`
	Source      string     `json:"source"`
	Description string     `json:"description"`
	// Shift is the whole shift on call (status scheduled).
	Shift *ShiftView `json:"shift"`
	// Next is the first scheduled shift after the current one (after the
	// instant when none is on call), looked for up to NextHorizon ahead.
	Next *ShiftView `json:"next"`
}

// TeamOnCall is a team's on-call at an instant.
type TeamOnCall struct {
	Team  string       `json:"team"`
	At    time.Time    `json:"at"`
	Roles []RoleOnCall `json:"roles"`
}

// ScheduleRef names a schedule.
type ScheduleRef struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	TeamID   string `json:"team_id"`
	TimeZone string `json:"time_zone"`
}

// Interval is a stretch of time, [Start, End).
type Interval struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// OverlapView is a time several rotations of a role cover: the last of
// Shifts (the highest layer) is paged.
type OverlapView struct {
	Start  time.Time   `json:"start"`
	End    time.Time   `json:"end"`
	Shifts []ShiftView `json:"shifts"`
}

// CoverageView is a role's gaps and overlaps over a range.
type CoverageView struct {
	Role     string        `json:"role"`
	Gaps     []Interval    `json:"gaps"`
	Overlaps []OverlapView `json:"overlaps"`
}

// ScheduleShifts is one schedule's shifts over [From, To) — the schedule
// alone, without its team's other schedules — with each role's coverage.
type ScheduleShifts struct {
	Schedule ScheduleRef    `json:"schedule"`
	From     time.Time      `json:"from"`
	To       time.Time      `json:"to"`
	Shifts   []ShiftView    `json:"shifts"`
	Coverage []CoverageView `json:"coverage"`
}

// CalendarFeed is what an iCalendar feed shows.
type CalendarFeed struct {
	Kind   string // models.CalendarTokenSchedule or CalendarTokenPerson
	Name   string // the schedule's name, the person's display name
	Shifts []ShiftView
}

// OnCallStore is what OnCallViews reads; *models.Store implements it.
type OnCallStore interface {
	TeamByName(ctx context.Context, name string) (*models.Team, error)
	TeamScheduleSet(ctx context.Context, teamName string, from, to time.Time) (*models.ScheduleSet, error)
	ScheduleByID(ctx context.Context, id string) (*models.Schedule, error)
	ScheduleSetOf(ctx context.Context, scheduleID string, from, to time.Time) (*models.ScheduleSet, error)
	PersonScheduleSets(ctx context.Context, personID string, from, to time.Time) ([]models.ScheduleSet, error)
	OncallPersonID(ctx context.Context, teamID, role string) (string, error)
	PersonByName(ctx context.Context, name string) (*models.Person, error)
	PeopleByID(ctx context.Context, ids []string) ([]models.Person, error)
	IssueCalendarToken(ctx context.Context, kind, subjectID string) (string, bool, error)
	RevokeCalendarToken(ctx context.Context, kind, subjectID string) error
	CalendarTokenSubject(ctx context.Context, kind, token string) (string, error)
}

// NextHorizon is how far past the current shift TeamOnCall looks for the
// next one.
const NextHorizon = 93 * 24 * time.Hour

// loadMargin is how much more than a range is loaded (overrides, time
// off) so that shifts crossing its ends are computed whole.
const loadMargin = 35 * 24 * time.Hour

// OnCallViews answers the on-call API and calendar feeds from the store.
type OnCallViews struct {
	Store OnCallStore
}

// TeamOnCall is who is on call for each role of a team at an instant:
// primary and secondary always, shadow when the schedules have it. A role
// no schedule decides then falls back to the static assignment, as paging
// does. An unknown team is a not-found error.
func (v OnCallViews) TeamOnCall(ctx context.Context, team string, at time.Time) (*TeamOnCall, error) {
	at = at.UTC()
	t, err := v.Store.TeamByName(ctx, team)
	if err != nil {
		return nil, err
	}
	set, err := v.Store.TeamScheduleSet(ctx, team, at.Add(-loadMargin), at.Add(NextHorizon+loadMargin))
	if err != nil {
		return nil, err
	}
	cal, err := schedule.New(*set)
	if err != nil {
		return nil, fmt.Errorf("team %q: %w", team, err)
	}
	roles := []string{models.RotationPrimary, models.RotationSecondary}
	for _, r := range cal.Roles() {
		if r == models.RotationShadow {
			roles = append(roles, r)
		}
	}
	out := &TeamOnCall{Team: t.Name, At: at, Roles: make([]RoleOnCall, 0, len(roles))}
	type found struct{ cur, next *schedule.Shift }
	var (
		byRole = make([]found, len(roles))
		shifts []schedule.Shift // to name their people
		static []string         // the static assignments' people
	)
	for i, role := range roles {
		ro := RoleOnCall{Role: role, Status: OnCallNobody}
		after := at
		if cur, ok := cal.OnCall(at, role); ok {
			ro.Status, after, byRole[i].cur = OnCallScheduled, cur.End, &cur
			shifts = append(shifts, cur)
		} else if cal.Scheduled(at, role) {
			ro.Status, ro.Description = OnCallGap, role+", schedule gap: nobody is on call"
		} else if role != models.RotationShadow {
			id, err := v.Store.OncallPersonID(ctx, t.ID, role)
			if err != nil && !models.IsNotFound(err) {
				return nil, err
			}
			if id != "" {
				ro.Status, ro.Source, ro.Person = OnCallStatic, SourceStatic, &PersonRef{ID: id}
				ro.Description = role + ", static on-call assignment"
				static = append(static, id)
			}
		}
		if next, ok := nextShift(cal, role, after, at.Add(NextHorizon)); ok {
			byRole[i].next = &next
			shifts = append(shifts, next)
		}
		out.Roles = append(out.Roles, ro)
	}
	people, err := v.people(ctx, shifts, static...)
	if err != nil {
		return nil, err
	}
	for i := range out.Roles {
		ro := &out.Roles[i]
		if ro.Status == OnCallStatic {
			p, known := people[ro.Person.ID]
			if !known || !p.active { // paging skips them too
				ro.Status, ro.Person, ro.Source = OnCallNobody, nil, ""
				ro.Description = ro.Role + ", static on-call assignment is not an active person"
			} else {
				ro.Person = &p.ref
			}
		}
		if cur := byRole[i].cur; cur != nil {
			sv := shiftView(*cur, people)
			ro.Shift, ro.Person, ro.Source, ro.Description = &sv, &sv.Person, sv.Source, sv.Description
		}
		if next := byRole[i].next; next != nil {
			sv := shiftView(*next, people)
			ro.Next = &sv
		}
	}
	return out, nil
}

// nextShift is the first shift of role starting at or after from (and
// before until), whole.
func nextShift(cal *schedule.Calendar, role string, from, until time.Time) (schedule.Shift, bool) {
	if !until.After(from) {
		return schedule.Shift{}, false
	}
	shifts := cal.RoleShifts(from, until, role)
	if len(shifts) == 0 {
		return schedule.Shift{}, false
	}
	if whole, ok := cal.OnCall(shifts[0].Start, role); ok {
		return whole, true
	}
	return shifts[0], true
}

// ScheduleShifts is one schedule's shifts overlapping [from, to), whole,
// and each of its roles' gaps and overlaps within the range. An unknown
// schedule is a not-found error.
func (v OnCallViews) ScheduleShifts(ctx context.Context, scheduleID string, from, to time.Time) (*ScheduleShifts, error) {
	from, to = from.UTC(), to.UTC()
	cal, sc, err := v.scheduleCalendar(ctx, scheduleID, from, to)
	if err != nil {
		return nil, err
	}
	shifts := WholeShifts(cal, from, to)
	people, err := v.people(ctx, shifts)
	if err != nil {
		return nil, err
	}
	out := &ScheduleShifts{Schedule: ScheduleRef{ID: sc.ID, Name: sc.Name, TeamID: sc.TeamID, TimeZone: sc.TimeZone},
		From: from, To: to, Shifts: shiftViews(shifts, people), Coverage: []CoverageView{}}
	for _, role := range cal.Roles() {
		c := cal.Coverage(from, to, role)
		cv := CoverageView{Role: role, Gaps: []Interval{}, Overlaps: []OverlapView{}}
		for _, g := range c.Gaps {
			cv.Gaps = append(cv.Gaps, Interval{Start: g.Start, End: g.End})
		}
		for _, o := range c.Overlaps {
			cv.Overlaps = append(cv.Overlaps, OverlapView{Start: o.Start, End: o.End, Shifts: shiftViews(o.Shifts, people)})
		}
		out.Coverage = append(out.Coverage, cv)
	}
	return out, nil
}

func (v OnCallViews) scheduleCalendar(ctx context.Context, scheduleID string, from, to time.Time) (*schedule.Calendar, *models.Schedule, error) {
	sc, err := v.Store.ScheduleByID(ctx, scheduleID)
	if err != nil {
		return nil, nil, err
	}
	set, err := v.Store.ScheduleSetOf(ctx, scheduleID, from.Add(-loadMargin), to.Add(loadMargin))
	if err != nil {
		return nil, nil, err
	}
	cal, err := schedule.New(*set)
	if err != nil {
		return nil, nil, fmt.Errorf("schedule %q: %w", sc.Name, err)
	}
	return cal, sc, nil
}

// WholeShifts is Calendar.Shifts over [from, to) with the shifts that
// cross from or to given whole, so that a feed's first and last events
// keep their times (and ids) as the range moves.
func WholeShifts(cal *schedule.Calendar, from, to time.Time) []schedule.Shift {
	shifts := cal.Shifts(from, to)
	for i := range shifts {
		s := &shifts[i]
		if s.Start.Equal(from) {
			if w, ok := cal.OnCall(from, s.Role); ok && sameShift(w, *s) {
				s.Start = w.Start
			}
		}
		if s.End.Equal(to) {
			if w, ok := cal.OnCall(to.Add(-time.Nanosecond), s.Role); ok && sameShift(w, *s) {
				s.End = w.End
			}
		}
	}
	return shifts
}

func sameShift(a, b schedule.Shift) bool {
	return a.PersonID == b.PersonID && a.RotationID == b.RotationID && a.OverrideID == b.OverrideID && a.Source == b.Source && a.ScheduleID == b.ScheduleID
}
