package ui

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
	"github.com/heraldhq/herald/notifications/schedule"
)

// calendarMargin is how much more than the calendar's range is loaded
// (overrides, time off), as the on-call API does, so shifts crossing its
// ends are computed whole.
const calendarMargin = 35 * 24 * time.Hour

// overrideListHorizon is how far ahead the page lists overrides.
const overrideListHorizon = 400 * 24 * time.Hour

type calItem struct {
	Role, Person, Times string
	Note                string // "override", "swap, covering Alice", "covering time off"
	Title               string // the whole shift, for a tooltip
	Override, Gap       bool
	start               time.Time // to order a day's items
}

type calDay struct {
	Date, Label string
	Today       bool
	Other       bool // a day of the month before or after (month view)
	Items       []calItem
}

type rotationRow struct {
	ID, Name, Role, Shift, Handoff, Zone, StartDate, Windows string
	Members                                                  []string
}

type scheduleRows struct {
	ID, Name, Zone string
	Rotations      []rotationRow
}

type overrideRow struct {
	ID, Schedule, Role, Person, Replaced, Reason, CreatedBy string
	Starts, Ends                                            Time
	Swap, CanDelete                                         bool
}

type teamScheduleData struct {
	Team               string
	Now                []roleNow
	View, Heading      string
	PrevURL, NextURL   string
	TodayURL, OtherURL string
	OtherLabel         string
	Days               []calDay
	GapCount           int
	Schedules          []scheduleRows
	Overrides          []overrideRow
	CanEdit, CanCover  bool
	Zone               string
}

func (p *SchedulePages) team(c *Ctx) error {
	t, scheds, err := p.teamOf(c)
	if t == nil {
		return err
	}
	ctx := c.Request().Context()
	loc := c.Viewer.Location
	if loc == nil {
		loc = time.UTC
	}
	now := p.clock.Now()
	view := c.QueryParam("view")
	if view == "" {
		view = "week"
	}
	if view != "week" && view != "month" {
		return c.ErrorPage(http.StatusBadRequest, "Bad calendar view", fmt.Sprintf("view: %q is not a view; use week or month.", view))
	}
	start := midnight(now, loc)
	if s := c.QueryParam("start"); s != "" {
		if start, err = parseDate(s, loc); err != nil {
			return c.ErrorPage(http.StatusBadRequest, "Bad calendar date", "start: "+err.Error()+".")
		}
	}
	g := gridFor(view, start)
	d := teamScheduleData{Team: t.Name, View: view, Heading: g.heading, Zone: c.Viewer.ZoneName, CanEdit: c.Viewer.CanEditTeam(t.ID)}
	base := "/schedules/" + url.PathEscape(t.Name)
	link := func(v string, day time.Time) string {
		return base + "?view=" + v + "&start=" + day.Format("2006-01-02")
	}
	d.PrevURL, d.NextURL, d.TodayURL = link(view, g.prev), link(view, g.next), link(view, midnight(now, loc))
	if view == "week" {
		d.OtherURL, d.OtherLabel = link("month", g.focus), "Month view"
	} else {
		d.OtherURL, d.OtherLabel = link("week", g.focus), "Week view"
	}
	if d.CanCover, err = p.mayCoverTeam(c, t); err != nil {
		return c.Failed("checking what you may change", err)
	}
	if len(scheds) == 0 {
		return c.Page(http.StatusOK, "schedules_team.html", t.Name+" on call", d)
	}
	if d.Now, err = p.onCallNow(ctx, c.Viewer, t.Name, now); err != nil {
		return c.Failed("working out who is on call", err)
	}
	set, err := p.store.TeamScheduleSet(ctx, t.Name, g.from.Add(-calendarMargin), g.to.Add(calendarMargin))
	if err != nil {
		return c.Failed("loading the team's schedules", err)
	}
	cal, err := schedule.New(*set)
	if err != nil {
		return c.Failed("computing the team's shifts", err)
	}
	overrides, err := p.store.Overrides(ctx, now, now.Add(overrideListHorizon), scheduleIDs(scheds)...)
	if err != nil {
		return c.Failed("listing overrides", err)
	}
	shifts := notifications.WholeShifts(cal, g.from, g.to) // whole, for the tooltips; days clip them
	var ids []string
	for _, s := range shifts {
		ids = append(ids, s.PersonID, s.ReplacedPersonID)
	}
	for _, sd := range set.Schedules {
		for _, r := range sd.Rotations {
			ids = append(ids, r.Members...)
		}
	}
	for _, o := range overrides {
		ids = append(ids, o.PersonID)
		if o.ReplacedPersonID != nil {
			ids = append(ids, *o.ReplacedPersonID)
		}
	}
	names, err := p.peopleNames(ctx, ids)
	if err != nil {
		return c.Failed("naming people", err)
	}
	d.Days, d.GapCount = calendarDays(g, cal, shifts, names, c.Viewer, now)
	d.Schedules = rotationRows(set.Schedules, names)
	schedName := map[string]string{}
	for _, s := range scheds {
		schedName[s.ID] = s.Name
	}
	for _, o := range overrides {
		row := overrideRow{ID: o.ID, Schedule: schedName[o.ScheduleID], Role: o.Role, Person: nameOr(names, o.PersonID), Reason: o.Reason,
			CreatedBy: o.CreatedBy, Starts: c.Viewer.At(o.StartsAt), Ends: c.Viewer.At(o.EndsAt), Swap: o.SwapID != nil,
			CanDelete: p.mayDelete(c.Viewer, t, &o)}
		if o.ReplacedPersonID != nil {
			row.Replaced = nameOr(names, *o.ReplacedPersonID)
		}
		d.Overrides = append(d.Overrides, row)
	}
	return c.Page(http.StatusOK, "schedules_team.html", t.Name+" on call", d)
}

func scheduleIDs(scheds []models.Schedule) []string {
	ids := make([]string, len(scheds))
	for i, s := range scheds {
		ids[i] = s.ID
	}
	return ids
}

// grid is the days a calendar shows: [from, to) in the viewer's zone.
type grid struct {
	from, to   time.Time // local midnights
	focus      time.Time // the week's Monday or the month's first day
	prev, next time.Time
	month      time.Month // month view: the month shown
	heading    string
}

// gridFor lays out a week (Monday to Sunday) or a month (whole weeks from
// the Monday before the 1st) around start, a local midnight.
func gridFor(view string, start time.Time) grid {
	monday := func(t time.Time) time.Time { return addDays(t, -((int(t.Weekday()) + 6) % 7)) }
	if view == "month" {
		first := time.Date(start.Year(), start.Month(), 1, 0, 0, 0, 0, start.Location())
		last := addDays(time.Date(start.Year(), start.Month()+1, 1, 0, 0, 0, 0, start.Location()), -1)
		return grid{from: monday(first), to: addDays(monday(last), 7), focus: first, month: first.Month(),
			prev: time.Date(first.Year(), first.Month()-1, 1, 0, 0, 0, 0, first.Location()), next: addDays(last, 1),
			heading: first.Format("January 2006")}
	}
	m := monday(start)
	sunday := addDays(m, 6)
	return grid{from: m, to: addDays(m, 7), focus: m, prev: addDays(m, -7), next: addDays(m, 7),
		heading: fmt.Sprintf("Week of %s – %s", m.Format("Mon 2 Jan"), sunday.Format("Mon 2 Jan 2006"))}
}

// calendarDays puts each shift and gap on the days it touches, clipped to
// the day, in the viewer's zone. Gaps are shown for the paged roles
// (primary, secondary) only when the schedules decide the role then.
func calendarDays(g grid, cal *schedule.Calendar, shifts []schedule.Shift, names map[string]string, v *Viewer, now time.Time) ([]calDay, int) {
	var gaps []schedule.Shift // as shifts with no person
	for _, role := range cal.Roles() {
		if role == models.RotationShadow {
			continue
		}
		for _, gp := range cal.Coverage(g.from, g.to, role).Gaps {
			if cal.Scheduled(gp.Start, role) || cal.Scheduled(gp.End.Add(-time.Nanosecond), role) {
				gaps = append(gaps, schedule.Shift{Role: role, Start: gp.Start, End: gp.End})
			}
		}
	}
	today := midnight(now, g.from.Location())
	var days []calDay
	for day := g.from; day.Before(g.to); day = addDays(day, 1) {
		end := addDays(day, 1)
		cd := calDay{Date: day.Format("2006-01-02"), Label: day.Format("Mon 2 Jan"), Today: day.Equal(today),
			Other: g.month != 0 && day.Month() != g.month}
		for _, s := range shifts {
			if !s.Start.Before(end) || !s.End.After(day) {
				continue
			}
			it := calItem{Role: s.Role, Person: nameOr(names, s.PersonID), Times: clipTimes(s.Start, s.End, day, end), start: s.Start,
				Title: fmt.Sprintf("%s, %s: %s to %s", nameOr(names, s.PersonID), s.Describe(), v.At(s.Start).Human, v.At(s.End).Human)}
			switch s.Source {
			case models.SourceOverride, models.SourceSwap:
				it.Override, it.Note = true, s.Source
				if s.ReplacedPersonID != "" {
					it.Note += ", covering " + nameOr(names, s.ReplacedPersonID)
				}
			case models.SourceTimeOff:
				it.Note = "covering " + nameOr(names, s.ReplacedPersonID) + " (time off)"
			}
			cd.Items = append(cd.Items, it)
		}
		for _, gp := range gaps {
			if gp.Start.Before(end) && gp.End.After(day) {
				cd.Items = append(cd.Items, calItem{Role: gp.Role, Gap: true, Times: clipTimes(gp.Start, gp.End, day, end), start: gp.Start})
			}
		}
		slices.SortStableFunc(cd.Items, func(a, b calItem) int {
			return cmp.Or(cmp.Compare(slices.Index(models.RotationRoles, a.Role), slices.Index(models.RotationRoles, b.Role)), a.start.Compare(b.start))
		})
		days = append(days, cd)
	}
	return days, len(gaps)
}

// clipTimes is "09:00–24:00": the part of [start, end) within the day,
// as local wall-clock times.
func clipTimes(start, end, day, dayEnd time.Time) string {
	loc := day.Location()
	from, to := "00:00", "24:00"
	if start.After(day) {
		from = start.In(loc).Format("15:04")
	}
	if end.Before(dayEnd) {
		to = end.In(loc).Format("15:04")
	}
	return from + "–" + to
}

// rotationRows describes the rotations of each schedule.
func rotationRows(scheds []models.ScheduleData, names map[string]string) []scheduleRows {
	var out []scheduleRows
	for _, sd := range scheds {
		sr := scheduleRows{ID: sd.Schedule.ID, Name: sd.Schedule.Name, Zone: sd.Schedule.TimeZone}
		for _, r := range sd.Rotations {
			row := rotationRow{ID: r.ID, Name: r.Name, Role: r.Role, Shift: shiftLength(r), Zone: r.TimeZone, StartDate: r.StartDate, Handoff: r.HandoffTime}
			if row.Zone == "" {
				row.Zone = sd.Schedule.TimeZone
			}
			if r.ShiftKind == models.ShiftWeekly {
				row.Handoff = r.HandoffWeekday + " " + r.HandoffTime
			}
			var ws []string
			for _, w := range r.Windows {
				ws = append(ws, strings.Join(w.Weekdays, ",")+" "+w.Start+"–"+w.End)
			}
			row.Windows = strings.Join(ws, "; ")
			for _, m := range r.Members {
				row.Members = append(row.Members, nameOr(names, m))
			}
			sr.Rotations = append(sr.Rotations, row)
		}
		out = append(out, sr)
	}
	return out
}

func shiftLength(r models.Rotation) string {
	unit := map[string]string{models.ShiftHourly: "hour", models.ShiftDaily: "day", models.ShiftWeekly: "week"}[r.ShiftKind]
	if r.ShiftCount <= 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", r.ShiftCount, unit)
}
