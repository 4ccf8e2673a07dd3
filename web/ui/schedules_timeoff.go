package ui

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/heraldhq/herald/models"
)

// Time off of a team's people (its members and the members of its
// rotations): while someone is off, each of their shifts goes to the next
// member of the rotation. Admins and team admins of the team record it for
// any of the team's people; a member linked to a Herald person records
// their own. Times are typed in the viewer's zone.

// timeOffHorizon is how far ahead the page lists time off.
const timeOffHorizon = 400 * 24 * time.Hour

type timeOffRow struct {
	ID, Person, Reason, CreatedBy string
	Starts, Ends                  Time
	CanDelete                     bool
}

type timeOffPage struct {
	Team                         string
	Rows                         []timeOffRow
	CanAdd, SelfOnly             bool
	SelfName, Zone               string
	People                       []personOption
	Person, Starts, Ends, Reason string
	Errors                       map[string]string
	Problems                     []string
	people                       map[string]string // the team's people: id → label
	selfID                       string
	maxDays                      int
}

func (d *timeOffPage) fail(key, msg string) {
	if _, seen := d.Errors[key]; !seen {
		d.Errors[key] = msg
		label := map[string]string{"person": "Person", "starts": "From", "ends": "Until", "reason": "Reason"}[key]
		d.Problems = append(d.Problems, label+": "+msg)
	}
}

// teamPeople lists the ids of the team's people: its active members and
// every member of its rotations.
func (p *SchedulePages) teamPeople(ctx context.Context, t *models.Team, scheds []models.Schedule) ([]string, error) {
	ids, err := p.store.TeamMemberIDs(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	rots, err := p.store.Rotations(ctx, scheduleIDs(scheds)...)
	if err != nil {
		return nil, err
	}
	for _, r := range rots {
		ids = append(ids, r.Members...)
	}
	slices.Sort(ids)
	return slices.Compact(ids), nil
}

// mayTimeOff: team editors for any of the team's people; a member for
// themselves when they are one of them.
func mayTimeOff(v *Viewer, t *models.Team, people map[string]string, personID string) bool {
	if _, ok := people[personID]; !ok {
		return false
	}
	return v.CanEditTeam(t.ID) || (v.Has(NeedMember) && v.User.PersonID != nil && *v.User.PersonID == personID)
}

// loadTimeOff fills the page: the team's people and their time off from
// now on.
func (p *SchedulePages) loadTimeOff(c *Ctx, t *models.Team, scheds []models.Schedule) (*timeOffPage, error) {
	ctx := c.Request().Context()
	ids, err := p.teamPeople(ctx, t, scheds)
	if err != nil {
		return nil, err
	}
	d := &timeOffPage{Team: t.Name, Zone: c.Viewer.ZoneName, Errors: map[string]string{}, people: map[string]string{},
		maxDays: int(models.MaxOverrideLength / (24 * time.Hour))}
	people, err := p.store.PeopleByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(people, func(a, b models.Person) int { return strings.Compare(personDisplay(a), personDisplay(b)) })
	for _, pe := range people {
		d.people[pe.ID] = personDisplay(pe)
	}
	editor := c.Viewer.CanEditTeam(t.ID)
	if c.Viewer.User.PersonID != nil {
		d.selfID = *c.Viewer.User.PersonID
	}
	for _, pe := range people {
		if mayTimeOff(c.Viewer, t, d.people, pe.ID) && pe.Active {
			d.People = append(d.People, personOption{ID: pe.ID, Label: personDisplay(pe)})
		}
	}
	d.CanAdd = len(d.People) > 0
	if !editor && d.CanAdd {
		d.SelfOnly, d.Person, d.SelfName = true, d.selfID, d.people[d.selfID]
	}
	now := p.clock.Now()
	offs, err := p.store.TimeOffOf(ctx, now, now.Add(timeOffHorizon), ids...)
	if err != nil || len(ids) == 0 {
		return d, err
	}
	for _, o := range offs {
		d.Rows = append(d.Rows, timeOffRow{ID: o.ID, Person: nameOr(d.people, o.PersonID), Reason: o.Reason, CreatedBy: o.CreatedBy,
			Starts: c.Viewer.At(o.StartsAt), Ends: c.Viewer.At(o.EndsAt), CanDelete: mayTimeOff(c.Viewer, t, d.people, o.PersonID)})
	}
	return d, nil
}

func (p *SchedulePages) timeOffPage(c *Ctx) error {
	t, scheds, err := p.teamOf(c)
	if t == nil {
		return err
	}
	d, err := p.loadTimeOff(c, t, scheds)
	if err != nil {
		return c.Failed("loading time off", err)
	}
	return c.Page(http.StatusOK, "schedules_timeoff.html", "Time off · "+t.Name, d)
}

func (p *SchedulePages) addTimeOff(c *Ctx) error {
	t, scheds, err := p.teamOf(c)
	if t == nil {
		return err
	}
	d, err := p.loadTimeOff(c, t, scheds)
	if err != nil {
		return c.Failed("loading time off", err)
	}
	d.Person, d.Starts, d.Ends, d.Reason = clipField(c.FormValue("person")), c.FormValue("starts"), c.FormValue("ends"), c.FormValue("reason")
	if !d.CanAdd {
		return c.Forbidden("Only admins, team admins of " + t.Name + " and the team's own people (for themselves) record its time off. Your web account must be linked to a Herald person in the team.")
	}
	if d.SelfOnly && d.Person != d.selfID {
		return c.Forbidden("Members record only their own time off. Ask an admin or a team admin of " + t.Name + ".")
	}
	loc, now := c.Viewer.Location, p.clock.Now()
	if loc == nil {
		loc = time.UTC
	}
	if _, ok := d.people[d.Person]; !ok {
		d.fail("person", "choose one of the team's people")
	}
	start, end := d.period(d.Starts, d.Ends, loc, now)
	if r := strings.TrimSpace(d.Reason); !utf8.ValidString(r) || utf8.RuneCountInString(r) > models.MaxScheduleReason {
		d.fail("reason", fmt.Sprintf("at most %d characters", models.MaxScheduleReason))
	}
	if len(d.Problems) == 0 {
		off := &models.TimeOff{PersonID: d.Person, StartsAt: start, EndsAt: end, Reason: strings.TrimSpace(d.Reason)}
		err = p.store.CreateTimeOff(c.Request().Context(), c.Actor(), off)
		var ie models.InputErrors
		switch {
		case errors.As(err, &ie):
			for _, pr := range ie {
				key := map[string]string{"starts_at": "starts", "ends_at": "ends", "person": "person", "reason": "reason"}[pr.Field]
				d.fail(cmp.Or(key, "person"), pr.Message)
			}
		case err != nil:
			return c.Failed("storing the time off", err)
		default:
			p.forget()
			return c.SeeOther(teamURL(t.Name)+"/time-off", fmt.Sprintf("Time off recorded: %s is off from %s to %s; their shifts go to the next member.",
				d.people[d.Person], c.Viewer.At(start).Human, c.Viewer.At(end).Human))
		}
	}
	return c.Page(http.StatusUnprocessableEntity, "schedules_timeoff.html", "Time off · "+t.Name, d)
}

// period reads the time off's start and end in the viewer's zone.
func (d *timeOffPage) period(starts, ends string, loc *time.Location, now time.Time) (time.Time, time.Time) {
	read := func(key, s string) time.Time {
		if strings.TrimSpace(s) == "" {
			d.fail(key, "required (date and time in "+d.Zone+")")
			return time.Time{}
		}
		t, err := parseLocalTime(s, loc)
		if err != nil {
			d.fail(key, err.Error())
		}
		return t
	}
	s, e := read("starts", starts), read("ends", ends)
	if s.IsZero() || e.IsZero() {
		return s, e
	}
	switch {
	case !e.After(s):
		d.fail("ends", "must be after the start")
	case e.Sub(s) > models.MaxOverrideLength:
		d.fail("ends", fmt.Sprintf("at most %d days after the start", d.maxDays))
	case !e.After(now):
		d.fail("ends", "is in the past: time off changes who is on call from now on")
	}
	return s, e
}

func (p *SchedulePages) deleteTimeOff(c *Ctx) error {
	t, scheds, err := p.teamOf(c)
	if t == nil {
		return err
	}
	d, err := p.loadTimeOff(c, t, scheds)
	if err != nil {
		return c.Failed("loading time off", err)
	}
	ctx := c.Request().Context()
	ids := make([]string, 0, len(d.people))
	for id := range d.people {
		ids = append(ids, id)
	}
	// Past time off too: deleting an old record is allowed.
	now := p.clock.Now()
	var found *models.TimeOff
	if len(ids) > 0 {
		offs, err := p.store.TimeOffOf(ctx, now.AddDate(-20, 0, 0), now.AddDate(20, 0, 0), ids...)
		if err != nil {
			return c.Failed("loading time off", err)
		}
		for i := range offs {
			if offs[i].ID == c.Param("id") {
				found = &offs[i]
			}
		}
	}
	if found == nil {
		return c.NotFound("such time off of " + t.Name + "'s people")
	}
	if !mayTimeOff(c.Viewer, t, d.people, found.PersonID) {
		return c.Forbidden("Only admins, team admins of " + t.Name + " and the person themselves delete this time off.")
	}
	if err := p.store.DeleteTimeOff(ctx, c.Actor(), found.ID); err != nil {
		return c.Failed("deleting the time off", err)
	}
	p.forget()
	return c.SeeOther(teamURL(t.Name)+"/time-off", "Time off of "+d.people[found.PersonID]+" deleted.")
}
