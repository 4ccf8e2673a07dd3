package ui

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/heraldhq/herald/models"
)

// Who may change on-call from the web:
//   - admins, and team admins of the team: any override, swap or deletion
//     in the team's schedules;
//   - members linked to an active Herald person who is in the team (a
//     team member or in one of its rotations): overrides putting
//     THEMSELVES on call, as `/oncall cover` does, and deleting those;
//   - everyone else reads.
// Every write goes through the schedule store with the viewer as actor
// (audited as "web:<name>") and drops the engine's on-call cache.

// Bounds of a web override or a swap's shift, like `/oncall cover`'s: at
// least a minute; at most a month (longer belongs in a rotation); ending
// in the future; starting within a year.
const (
	minWebOverride   = time.Minute
	maxWebOverride   = 31 * 24 * time.Hour
	maxOverrideAhead = 366 * 24 * time.Hour
)

// mayCoverTeam reports whether the viewer may add an override to the
// team's schedules (for themselves at least).
func (p *SchedulePages) mayCoverTeam(c *Ctx, t *models.Team) (bool, error) {
	if c.Viewer.CanEditTeam(t.ID) {
		return true, nil
	}
	return p.inTeam(c, t)
}

// inTeam reports whether the viewer is a member linked to a person of the
// team: a member of it or of one of its rotations.
func (p *SchedulePages) inTeam(c *Ctx, t *models.Team) (bool, error) {
	v := c.Viewer
	if !v.Has(NeedMember) || v.User.PersonID == nil {
		return false, nil
	}
	ctx := c.Request().Context()
	self := *v.User.PersonID
	members, err := p.store.TeamMemberIDs(ctx, t.ID)
	if err != nil {
		return false, err
	}
	if slices.Contains(members, self) {
		return true, nil
	}
	now := p.clock.Now()
	set, err := p.store.TeamScheduleSet(ctx, t.Name, now, now)
	if err != nil {
		return false, err
	}
	for _, sd := range set.Schedules {
		for _, r := range sd.Rotations {
			if slices.Contains(r.Members, self) {
				return true, nil
			}
		}
	}
	return false, nil
}

// mayDelete: team editors any override; a member their own cover (not a
// swap, which involves someone else's shift).
func (p *SchedulePages) mayDelete(v *Viewer, t *models.Team, o *models.ScheduleOverride) bool {
	if v.CanEditTeam(t.ID) {
		return true
	}
	return v.Has(NeedMember) && v.User.PersonID != nil && *v.User.PersonID == o.PersonID && o.SwapID == nil
}

// personOption is a choice in a person <select>.
type personOption struct{ ID, Label string }

// overrideForm is the override form's fields, choices and problems.
type overrideForm struct {
	Team                             string
	Schedules                        []models.Schedule
	People                           []personOption
	Roles                            []string
	SelfOnly                         bool // a member covering themselves
	SelfName                         string
	Zone                             string
	MaxDays                          int
	Schedule, Role, Person, Replaced string
	Starts, Ends, Reason             string
	Errors                           []string
	Field                            map[string]string // field → problem, shown by the input
	Swap                             bool
	PersonB, StartsB, EndsB          string
	Periods                          []periodField // filled by renderForm
	scheduleIDs                      map[string]bool
	activePeople                     map[string]string
	selfID                           string
}

func (f *overrideForm) fail(field, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if f.Field == nil {
		f.Field = map[string]string{}
	}
	if _, dup := f.Field[field]; !dup {
		f.Field[field] = msg
	}
	f.Errors = append(f.Errors, formLabel(field)+": "+msg)
}

// formLabel names a form field as its label does.
func formLabel(field string) string {
	switch field {
	case "person", "person_b":
		if field == "person_b" {
			return "Second person"
		}
		return "Person"
	case "replaced":
		return "Replacing"
	case "starts", "starts_a":
		return "Start"
	case "ends", "ends_a":
		return "End"
	case "starts_b":
		return "Second start"
	case "ends_b":
		return "Second end"
	}
	if field == "" {
		return "Form"
	}
	return strings.ToUpper(field[:1]) + field[1:]
}

// loadForm builds the form's choices for a team.
func (p *SchedulePages) loadForm(c *Ctx, t *models.Team, scheds []models.Schedule, swap bool) (*overrideForm, error) {
	people, err := p.store.ActivePeopleByName(c.Request().Context())
	if err != nil {
		return nil, err
	}
	f := &overrideForm{Team: t.Name, Schedules: scheds, Roles: models.RotationRoles, Zone: c.Viewer.ZoneName,
		MaxDays: int(maxWebOverride / (24 * time.Hour)), Swap: swap, scheduleIDs: map[string]bool{},
		activePeople: map[string]string{}, Role: models.RotationPrimary}
	for _, s := range scheds {
		f.scheduleIDs[s.ID] = true
	}
	if len(scheds) > 0 {
		f.Schedule = scheds[0].ID
	}
	for _, pe := range people {
		label := pe.Name
		if pe.FullName != "" {
			label = pe.FullName + " (" + pe.Name + ")"
		}
		f.People = append(f.People, personOption{ID: pe.ID, Label: label})
		f.activePeople[pe.ID] = label
	}
	if !c.Viewer.CanEditTeam(t.ID) && c.Viewer.User.PersonID != nil {
		f.SelfOnly, f.selfID, f.Person = true, *c.Viewer.User.PersonID, *c.Viewer.User.PersonID
		f.SelfName = f.activePeople[f.selfID]
	}
	return f, nil
}

// read takes the posted fields.
func (f *overrideForm) read(c *Ctx) {
	if s := c.FormValue("schedule"); s != "" {
		f.Schedule = s
	}
	f.Role = strings.TrimSpace(c.FormValue("role"))
	f.Person = strings.TrimSpace(c.FormValue("person"))
	f.Replaced = strings.TrimSpace(c.FormValue("replaced"))
	f.Starts, f.Ends = c.FormValue("starts"), c.FormValue("ends")
	f.Reason = c.FormValue("reason")
	f.PersonB, f.StartsB, f.EndsB = strings.TrimSpace(c.FormValue("person_b")), c.FormValue("starts_b"), c.FormValue("ends_b")
}

// checkCommon checks the schedule, role and reason.
func (f *overrideForm) checkCommon() {
	if !f.scheduleIDs[f.Schedule] {
		f.fail("schedule", "choose one of the team's schedules")
	}
	if !slices.Contains(models.RotationRoles, f.Role) {
		f.fail("role", "choose primary, secondary or shadow")
	}
	if r := strings.TrimSpace(f.Reason); !utf8.ValidString(r) || utf8.RuneCountInString(r) > models.MaxScheduleReason {
		f.fail("reason", "at most %d characters", models.MaxScheduleReason)
	}
}

// checkPerson checks that a person field names an active Herald person.
func (f *overrideForm) checkPerson(field, id string) {
	switch {
	case id == "":
		f.fail(field, "required: choose who is on call")
	case f.activePeople[id] == "":
		f.fail(field, "not an active Herald person (inactive people are never on call)")
	}
}

// checkPeriod parses a start and end in the viewer's zone and bounds them.
func (f *overrideForm) checkPeriod(startField, endField, starts, ends string, loc *time.Location, now time.Time) (time.Time, time.Time) {
	var s, e time.Time
	var err error
	if strings.TrimSpace(starts) == "" {
		f.fail(startField, "required (date and time in %s)", f.Zone)
	} else if s, err = parseLocalTime(starts, loc); err != nil {
		f.fail(startField, "%s", err.Error())
	}
	if strings.TrimSpace(ends) == "" {
		f.fail(endField, "required (date and time in %s)", f.Zone)
	} else if e, err = parseLocalTime(ends, loc); err != nil {
		f.fail(endField, "%s", err.Error())
	}
	if s.IsZero() || e.IsZero() {
		return s, e
	}
	switch d := e.Sub(s); {
	case d <= 0:
		f.fail(endField, "must be after the start")
	case d < minWebOverride:
		f.fail(endField, "at least a minute after the start")
	case d > maxWebOverride:
		f.fail(endField, "at most %d days after the start; longer changes belong in a rotation", f.MaxDays)
	case !e.After(now):
		f.fail(endField, "is in the past: an override changes who is on call from now on")
	case s.Sub(now) > maxOverrideAhead:
		f.fail(startField, "at most a year ahead")
	}
	return s, e
}

// storeErrors shows the store's field problems on the form.
func (f *overrideForm) storeErrors(err error) bool {
	var ie models.InputErrors
	if !errors.As(err, &ie) {
		return false
	}
	for _, p := range ie {
		f.fail(strings.SplitN(p.Field, "[", 2)[0], "%s", p.Message)
	}
	return true
}

func (p *SchedulePages) newOverride(c *Ctx) error { return p.showForm(c, false) }
func (p *SchedulePages) newSwap(c *Ctx) error     { return p.showForm(c, true) }

func (p *SchedulePages) showForm(c *Ctx, swap bool) error {
	t, scheds, err := p.teamOf(c)
	if t == nil {
		return err
	}
	if ok, err := p.checkMay(c, t, swap); !ok {
		return err
	}
	f, err := p.loadForm(c, t, scheds, swap)
	if err != nil {
		return c.Failed("loading people", err)
	}
	if len(scheds) == 0 {
		return c.ErrorPage(http.StatusConflict, "No schedule", "Team "+t.Name+" has no on-call schedule to add an override to.")
	}
	if r := c.QueryParam("role"); slices.Contains(models.RotationRoles, r) {
		f.Role = r
	}
	if day := c.QueryParam("date"); day != "" {
		if d, err := parseDate(day, c.Viewer.Location); err == nil {
			f.Starts, f.Ends = d.Add(9*time.Hour).Format(formLocalLayout), addDays(d, 1).Add(9*time.Hour).Format(formLocalLayout)
		}
	}
	return p.renderForm(c, http.StatusOK, f)
}

// periodField is one person with a start and an end on the form.
type periodField struct {
	Legend                                     string
	PersonName, PersonLabel, Person, PersonErr string
	StartName, StartLabel, Start, StartErr     string
	EndName, EndLabel, End, EndErr             string
}

func (p *SchedulePages) renderForm(c *Ctx, code int, f *overrideForm) error {
	period := func(suffix, legend, personLabel, person, start, end string) periodField {
		pf := periodField{Legend: legend, PersonName: "person" + suffix, PersonLabel: personLabel, Person: person,
			StartName: "starts" + suffix, StartLabel: "Start", Start: start, EndName: "ends" + suffix, EndLabel: "End", End: end}
		pf.PersonErr, pf.StartErr, pf.EndErr = f.Field[pf.PersonName], f.Field[pf.StartName], f.Field[pf.EndName]
		return pf
	}
	if !f.Swap {
		f.Periods = []periodField{period("", "", "Person on call", f.Person, f.Starts, f.Ends)}
		return c.Page(code, "schedules_form.html", "Add an override · "+f.Team, f)
	}
	f.Periods = []periodField{
		period("", "First shift", "First person (whose shift the second person covers)", f.Person, f.Starts, f.Ends),
		period("_b", "Second shift", "Second person (whose shift the first person covers)", f.PersonB, f.StartsB, f.EndsB),
	}
	f.Periods[1].StartLabel, f.Periods[1].EndLabel = "Second start", "Second end"
	return c.Page(code, "schedules_form.html", "Swap shifts · "+f.Team, f)
}

// checkMay reports whether the viewer may add overrides (swaps: only team
// editors) to the team; when not, it has rendered a 403 (or a 500) and
// err is the rendering's result.
func (p *SchedulePages) checkMay(c *Ctx, t *models.Team, swap bool) (ok bool, err error) {
	if c.Viewer.CanEditTeam(t.ID) {
		return true, nil
	}
	if swap {
		return false, c.Forbidden("Swaps change two people's shifts, so only admins and team admins of " + t.Name + " make them. Ask one, or cover a shift yourself with an override.")
	}
	ok, err = p.inTeam(c, t)
	if err != nil {
		return false, c.Failed("checking what you may change", err)
	}
	if !ok {
		return false, c.Forbidden("Only admins, team admins of " + t.Name + " and the team's own members (covering themselves) change its on-call. Your web account must be linked to a Herald person in the team.")
	}
	return true, nil
}

func (p *SchedulePages) addOverride(c *Ctx) error {
	t, scheds, err := p.teamOf(c)
	if t == nil {
		return err
	}
	if ok, err := p.checkMay(c, t, false); !ok {
		return err
	}
	f, err := p.loadForm(c, t, scheds, false)
	if err != nil {
		return c.Failed("loading people", err)
	}
	f.read(c)
	if f.SelfOnly && f.Person != f.selfID {
		return c.Forbidden("Members put only themselves on call. Ask an admin or a team admin of " + t.Name + " to put someone else on call.")
	}
	loc := c.Viewer.Location
	now := p.clock.Now()
	f.checkCommon()
	f.checkPerson("person", f.Person)
	var replaced *string
	if f.Replaced != "" {
		names, err := p.peopleNames(c.Request().Context(), []string{f.Replaced})
		if err != nil {
			return c.Failed("checking the person replaced", err)
		}
		switch {
		case names[f.Replaced] == "":
			f.fail("replaced", "not a Herald person")
		case f.Replaced == f.Person:
			f.fail("replaced", "is the person covering: an override replaces someone else")
		default:
			replaced = &f.Replaced
		}
	}
	starts, ends := f.checkPeriod("starts", "ends", f.Starts, f.Ends, loc, now)
	if len(f.Errors) > 0 {
		return p.renderForm(c, http.StatusUnprocessableEntity, f)
	}
	o := &models.ScheduleOverride{ScheduleID: f.Schedule, Role: f.Role, PersonID: f.Person, ReplacedPersonID: replaced,
		StartsAt: starts, EndsAt: ends, Reason: strings.TrimSpace(f.Reason)}
	if err := p.store.CreateOverride(c.Request().Context(), c.Actor(), o); err != nil {
		if f.storeErrors(err) {
			return p.renderForm(c, http.StatusUnprocessableEntity, f)
		}
		return c.Failed("storing the override", err)
	}
	p.forget()
	msg := fmt.Sprintf("Override added: %s is %s on call from %s to %s.", f.activePeople[f.Person], f.Role, c.Viewer.At(starts).Human, c.Viewer.At(ends).Human)
	return c.SeeOther(calendarURL(t.Name, starts, c.Viewer.Location), msg)
}

func (p *SchedulePages) addSwap(c *Ctx) error {
	t, scheds, err := p.teamOf(c)
	if t == nil {
		return err
	}
	if ok, err := p.checkMay(c, t, true); !ok {
		return err
	}
	f, err := p.loadForm(c, t, scheds, true)
	if err != nil {
		return c.Failed("loading people", err)
	}
	f.read(c)
	loc, now := c.Viewer.Location, p.clock.Now()
	f.checkCommon()
	f.checkPerson("person", f.Person)
	f.checkPerson("person_b", f.PersonB)
	if f.Person != "" && f.Person == f.PersonB {
		f.fail("person_b", "is the first person: a swap needs two people")
	}
	sa, ea := f.checkPeriod("starts", "ends", f.Starts, f.Ends, loc, now)
	sb, eb := f.checkPeriod("starts_b", "ends_b", f.StartsB, f.EndsB, loc, now)
	if len(f.Errors) > 0 {
		return p.renderForm(c, http.StatusUnprocessableEntity, f)
	}
	sw := models.Swap{ScheduleID: f.Schedule, Role: f.Role, PersonA: f.Person, StartsA: sa, EndsA: ea,
		PersonB: f.PersonB, StartsB: sb, EndsB: eb, Reason: strings.TrimSpace(f.Reason)}
	if _, err := p.store.CreateSwap(c.Request().Context(), c.Actor(), sw); err != nil {
		if f.storeErrors(err) {
			return p.renderForm(c, http.StatusUnprocessableEntity, f)
		}
		return c.Failed("storing the swap", err)
	}
	p.forget()
	msg := fmt.Sprintf("Swap added: %s covers %s from %s, and %s covers %s from %s.", f.activePeople[f.PersonB], f.activePeople[f.Person],
		c.Viewer.At(sa).Human, f.activePeople[f.Person], f.activePeople[f.PersonB], c.Viewer.At(sb).Human)
	return c.SeeOther(calendarURL(t.Name, sa, c.Viewer.Location), msg)
}

func (p *SchedulePages) deleteOverride(c *Ctx) error {
	t, scheds, err := p.teamOf(c)
	if t == nil {
		return err
	}
	ctx := c.Request().Context()
	o, err := p.store.ScheduleOverrideByID(ctx, c.Param("id"))
	if models.IsNotFound(err) || (err == nil && !slices.Contains(scheduleIDs(scheds), o.ScheduleID)) {
		return c.NotFound("such override in " + t.Name + "'s schedules")
	}
	if err != nil {
		return c.Failed("loading the override", err)
	}
	if !p.mayDelete(c.Viewer, t, o) {
		return c.Forbidden("Only admins and team admins of " + t.Name + " delete this override; members delete only their own covers (not swaps).")
	}
	if err := p.store.DeleteOverride(ctx, c.Actor(), o.ID); err != nil {
		return c.Failed("deleting the override", err)
	}
	p.forget()
	what := "Override"
	if o.SwapID != nil {
		what = "Swap (both halves)"
	}
	return c.SeeOther(calendarURL(t.Name, o.StartsAt, c.Viewer.Location), what+" deleted.")
}

// calendarURL is the team's week calendar showing t.
func calendarURL(team string, t time.Time, loc *time.Location) string {
	return "/schedules/" + url.PathEscape(team) + "?view=week&start=" + t.In(loc).Format("2006-01-02")
}
