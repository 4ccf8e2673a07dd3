package ui

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/heraldhq/herald/models"
)

// Editing a team's schedules and rotations from the web. Only admins and
// team admins of the team do it (checked here on every request, not only
// by hiding links); every write goes through the schedule store with the
// viewer as actor (audited as "web:<name>") and drops the engine's on-call
// cache. `herald apply` still makes the schedules its file declares what
// the file says, overwriting web edits to them.

// ScheduleEditStore is what editing schedules, rotations and time off
// needs; *models.Store implements it. Every write audits.
type ScheduleEditStore interface {
	CreateSchedule(ctx context.Context, by models.Actor, sc *models.Schedule) error
	UpdateSchedule(ctx context.Context, by models.Actor, sc *models.Schedule) error
	DeleteSchedule(ctx context.Context, by models.Actor, id string) error
	CreateRotation(ctx context.Context, by models.Actor, r *models.Rotation) error
	UpdateRotation(ctx context.Context, by models.Actor, r *models.Rotation) error
	DeleteRotation(ctx context.Context, by models.Actor, id string) error
	RotationByID(ctx context.Context, id string) (*models.Rotation, error)
	Rotations(ctx context.Context, scheduleIDs ...string) ([]models.Rotation, error)
	CreateTimeOff(ctx context.Context, by models.Actor, t *models.TimeOff) error
	DeleteTimeOff(ctx context.Context, by models.Actor, id string) error
	TimeOffOf(ctx context.Context, from, to time.Time, personIDs ...string) ([]models.TimeOff, error)
}

// mountEditing adds the routes that change schedules and rotations, and
// time off.
func (p *SchedulePages) mountEditing(r *Router) {
	r.GET("/schedules/:team/schedules/new", p.newSchedule, NeedMember)
	r.POST("/schedules/:team/schedules", p.createSchedule, NeedMember)
	r.GET("/schedules/:team/schedules/:sid/edit", p.editSchedule, NeedMember)
	r.POST("/schedules/:team/schedules/:sid", p.updateSchedule, NeedMember)
	r.POST("/schedules/:team/schedules/:sid/delete", p.deleteSchedule, NeedMember)
	r.GET("/schedules/:team/schedules/:sid/rotations/new", p.newRotation, NeedMember)
	r.POST("/schedules/:team/schedules/:sid/rotations", p.createRotation, NeedMember)
	r.GET("/schedules/:team/rotations/:rid/edit", p.editRotation, NeedMember)
	r.POST("/schedules/:team/rotations/:rid", p.updateRotation, NeedMember)
	r.POST("/schedules/:team/rotations/:rid/delete", p.deleteRotation, NeedMember)
	r.GET("/schedules/:team/time-off", p.timeOffPage, NeedViewer)
	r.POST("/schedules/:team/time-off", p.addTimeOff, NeedMember)
	r.POST("/schedules/:team/time-off/:id/delete", p.deleteTimeOff, NeedMember)
}

// editableTeam loads the path's team and its schedules when the viewer may
// edit them; otherwise it has rendered a 404 or 403 and t is nil.
func (p *SchedulePages) editableTeam(c *Ctx) (t *models.Team, scheds []models.Schedule, err error) {
	t, scheds, err = p.teamOf(c)
	if t == nil {
		return nil, nil, err
	}
	if !c.Viewer.CanEditTeam(t.ID) {
		return nil, nil, c.Forbidden("Only admins and team admins of " + t.Name + " change its schedules and rotations. Ask one of them.")
	}
	return t, scheds, nil
}

// scheduleIn finds the path's schedule among the team's, or renders a 404.
func scheduleIn(c *Ctx, t *models.Team, scheds []models.Schedule) (*models.Schedule, error) {
	for i := range scheds {
		if scheds[i].ID == c.Param("sid") {
			return &scheds[i], nil
		}
	}
	return nil, c.NotFound("such schedule in team " + t.Name)
}

func teamURL(team string) string { return "/schedules/" + url.PathEscape(team) }

// scheduleForm is the schedule form's fields and problems.
type scheduleForm struct {
	Team, ID       string // ID "" for a new schedule
	Name, TimeZone string
	Rotations      int // for the delete confirmation
	Zones          []string
	Errors         map[string]string
	Problems       []string
	ViewerZone     string
}

func (sf *scheduleForm) fail(key, msg string) {
	if _, seen := sf.Errors[key]; !seen {
		sf.Errors[key] = msg
		sf.Problems = append(sf.Problems, map[string]string{"name": "Name", "time_zone": "Time zone"}[key]+": "+msg)
	}
}

func (p *SchedulePages) scheduleFormFor(c *Ctx, t *models.Team, scheds []models.Schedule) *scheduleForm {
	sf := &scheduleForm{Team: t.Name, Errors: map[string]string{}, ViewerZone: c.Viewer.ZoneName}
	sf.Zones = []string{c.Viewer.ZoneName, "UTC"}
	for _, s := range scheds {
		sf.Zones = append(sf.Zones, s.TimeZone)
	}
	slices.Sort(sf.Zones)
	sf.Zones = slices.Compact(sf.Zones)
	return sf
}

func (p *SchedulePages) newSchedule(c *Ctx) error {
	t, scheds, err := p.editableTeam(c)
	if t == nil {
		return err
	}
	sf := p.scheduleFormFor(c, t, scheds)
	sf.TimeZone = c.Viewer.ZoneName
	return c.Page(http.StatusOK, "schedules_schedule_form.html", "Add a schedule · "+t.Name, sf)
}

func (p *SchedulePages) editSchedule(c *Ctx) error {
	t, scheds, err := p.editableTeam(c)
	if t == nil {
		return err
	}
	s, err := scheduleIn(c, t, scheds)
	if s == nil {
		return err
	}
	sf := p.scheduleFormFor(c, t, scheds)
	sf.ID, sf.Name, sf.TimeZone = s.ID, s.Name, s.TimeZone
	rots, err := p.store.Rotations(c.Request().Context(), s.ID)
	if err != nil {
		return c.Failed("loading the rotations", err)
	}
	sf.Rotations = len(rots)
	return c.Page(http.StatusOK, "schedules_schedule_form.html", "Edit schedule "+s.Name+" · "+t.Name, sf)
}

func (p *SchedulePages) createSchedule(c *Ctx) error { return p.saveSchedule(c, false) }
func (p *SchedulePages) updateSchedule(c *Ctx) error { return p.saveSchedule(c, true) }

func (p *SchedulePages) saveSchedule(c *Ctx, editing bool) error {
	t, scheds, err := p.editableTeam(c)
	if t == nil {
		return err
	}
	sc := &models.Schedule{TeamID: t.ID, Name: clipField(c.FormValue("name")), TimeZone: clipField(c.FormValue("time_zone"))}
	sf := p.scheduleFormFor(c, t, scheds)
	if editing {
		old, err := scheduleIn(c, t, scheds)
		if old == nil {
			return err
		}
		sc.ID, sf.ID = old.ID, old.ID
	}
	sf.Name, sf.TimeZone = sc.Name, sc.TimeZone
	ctx := c.Request().Context()
	if err = sc.Validate(); err == nil {
		if editing {
			err = p.store.UpdateSchedule(ctx, c.Actor(), sc)
		} else {
			err = p.store.CreateSchedule(ctx, c.Actor(), sc)
		}
	}
	var ie models.InputErrors
	switch {
	case errors.As(err, &ie):
		for _, pr := range ie {
			sf.fail(pr.Field, pr.Message)
		}
	case errors.Is(err, models.ErrDuplicate):
		sf.fail("name", "team "+t.Name+" already has a schedule of this name")
	case err != nil:
		return c.Failed("storing the schedule", err)
	}
	if len(sf.Problems) > 0 {
		return c.Page(http.StatusUnprocessableEntity, "schedules_schedule_form.html", "Schedule · "+t.Name, sf)
	}
	p.forget()
	if editing {
		return c.SeeOther(teamURL(t.Name), "Schedule "+sc.Name+" saved.")
	}
	return c.SeeOther(teamURL(t.Name), "Schedule "+sc.Name+" added. Add a rotation to put people on call.")
}

func (p *SchedulePages) deleteSchedule(c *Ctx) error {
	t, scheds, err := p.editableTeam(c)
	if t == nil {
		return err
	}
	s, err := scheduleIn(c, t, scheds)
	if s == nil {
		return err
	}
	if err := p.store.DeleteSchedule(c.Request().Context(), c.Actor(), s.ID); err != nil {
		return c.Failed("deleting the schedule", err)
	}
	p.forget()
	return c.SeeOther(teamURL(t.Name), "Schedule "+s.Name+" deleted, with its rotations and overrides.")
}

// rotationPage is what the rotation form shows.
type rotationPage struct {
	Team, ScheduleName, ScheduleZone string
	Action                           string // where the form posts
	New                              bool
	Form                             *rotationForm
	Members                          []memberRow
	People                           []personOption
	Roles, Kinds, Weekdays           []string
}

// memberRow is one turn in the member list.
type memberRow struct{ ID, Label, Error string }

func (p *SchedulePages) renderRotation(c *Ctx, code int, t *models.Team, s *models.Schedule, rotationID string, rf *rotationForm) error {
	ctx := c.Request().Context()
	people, err := p.store.ActivePeopleByName(ctx)
	if err != nil {
		return c.Failed("loading people", err)
	}
	d := rotationPage{Team: t.Name, ScheduleName: s.Name, ScheduleZone: s.TimeZone, Form: rf, New: rotationID == "",
		Roles: models.RotationRoles, Kinds: models.ShiftKinds, Weekdays: rotationWeekdays}
	if d.New {
		d.Action = teamURL(t.Name) + "/schedules/" + url.PathEscape(s.ID) + "/rotations"
	} else {
		d.Action = teamURL(t.Name) + "/rotations/" + url.PathEscape(rotationID)
	}
	for _, pe := range people {
		label := pe.Name
		if pe.FullName != "" {
			label = pe.FullName + " (" + pe.Name + ")"
		}
		d.People = append(d.People, personOption{ID: pe.ID, Label: label})
	}
	// Members may be inactive (kept, never on call) or unknown (a crafted
	// post): name them from the directory, not from the active list.
	names, err := p.peopleNames(ctx, slices.Clone(rf.Members))
	if err != nil {
		return c.Failed("naming people", err)
	}
	for i, id := range rf.Members {
		label, ok := names[id]
		if !ok {
			label = "unknown person"
		} else if !slices.ContainsFunc(people, func(pe models.Person) bool { return pe.ID == id }) {
			label += " (inactive: skipped)"
		}
		d.Members = append(d.Members, memberRow{ID: id, Label: label, Error: rf.Errors[fmt.Sprintf("m%d", i)]})
	}
	title := "Add a rotation · " + t.Name
	if !d.New {
		title = "Edit rotation " + rf.Name + " · " + t.Name
	}
	return c.Page(code, "schedules_rotation_form.html", title, d)
}

func (p *SchedulePages) newRotation(c *Ctx) error {
	t, scheds, err := p.editableTeam(c)
	if t == nil {
		return err
	}
	s, err := scheduleIn(c, t, scheds)
	if s == nil {
		return err
	}
	loc := c.Viewer.Location
	if loc == nil {
		loc = time.UTC
	}
	today := p.clock.Now().In(loc).Format(models.DateLayout)
	rf := &rotationForm{Role: models.RotationPrimary, ShiftKind: models.ShiftWeekly, ShiftCount: "1", HandoffTime: "09:00",
		HandoffWeekday: "mon", StartDate: today, Errors: map[string]string{}}
	return p.renderRotation(c, http.StatusOK, t, s, "", rf)
}

// rotationOf loads the path's rotation and its schedule, which must be
// the team's; otherwise it has rendered a 404 and r is nil.
func (p *SchedulePages) rotationOf(c *Ctx, t *models.Team, scheds []models.Schedule) (*models.Rotation, *models.Schedule, error) {
	r, err := p.store.RotationByID(c.Request().Context(), c.Param("rid"))
	if models.IsNotFound(err) {
		return nil, nil, c.NotFound("such rotation in team " + t.Name)
	}
	if err != nil {
		return nil, nil, c.Failed("loading the rotation", err)
	}
	for i := range scheds {
		if scheds[i].ID == r.ScheduleID {
			return r, &scheds[i], nil
		}
	}
	return nil, nil, c.NotFound("such rotation in team " + t.Name)
}

func (p *SchedulePages) editRotation(c *Ctx) error {
	t, scheds, err := p.editableTeam(c)
	if t == nil {
		return err
	}
	r, s, err := p.rotationOf(c, t, scheds)
	if r == nil {
		return err
	}
	return p.renderRotation(c, http.StatusOK, t, s, r.ID, rotationFormOf(r))
}

func (p *SchedulePages) createRotation(c *Ctx) error {
	t, scheds, err := p.editableTeam(c)
	if t == nil {
		return err
	}
	s, err := scheduleIn(c, t, scheds)
	if s == nil {
		return err
	}
	return p.saveRotation(c, t, s, nil)
}

func (p *SchedulePages) updateRotation(c *Ctx) error {
	t, scheds, err := p.editableTeam(c)
	if t == nil {
		return err
	}
	old, s, err := p.rotationOf(c, t, scheds)
	if old == nil {
		return err
	}
	return p.saveRotation(c, t, s, old)
}

// saveRotation handles a post of the rotation form: an editing button
// re-renders it changed; "save" validates and stores (old nil: a new
// rotation).
func (p *SchedulePages) saveRotation(c *Ctx, t *models.Team, s *models.Schedule, old *models.Rotation) error {
	form, err := c.FormParams()
	if err != nil {
		return c.ErrorPage(http.StatusBadRequest, "Bad form", "The form could not be read.")
	}
	rf := parseRotationForm(form)
	a, err := parseRotationAction(form.Get("action"))
	if err != nil {
		return c.ErrorPage(http.StatusBadRequest, "Bad form", "The form's button was not understood. Reload the page and try again.")
	}
	id := ""
	if old != nil {
		id = old.ID
	}
	if rf.apply(a) {
		code := http.StatusOK
		if len(rf.Problems) > 0 {
			code = http.StatusUnprocessableEntity
		}
		return p.renderRotation(c, code, t, s, id, rf)
	}
	r := rf.rotation(s.ID, old != nil)
	r.ID = id
	if err := r.Validate(); err != nil {
		rf.modelErrors(err)
	}
	if len(rf.Problems) > 0 {
		return p.renderRotation(c, http.StatusUnprocessableEntity, t, s, id, rf)
	}
	ctx := c.Request().Context()
	if old == nil {
		err = p.store.CreateRotation(ctx, c.Actor(), &r)
	} else {
		err = p.store.UpdateRotation(ctx, c.Actor(), &r)
	}
	if err != nil {
		if rf.modelErrors(err) {
			return p.renderRotation(c, http.StatusUnprocessableEntity, t, s, id, rf)
		}
		return c.Failed("storing the rotation", err)
	}
	p.forget()
	verb := "saved"
	if old == nil {
		verb = "added"
	}
	return c.SeeOther(teamURL(t.Name)+"#calendar", fmt.Sprintf("Rotation %s %s: %s shifts of %s, %d people taking turns.", r.Name, verb, r.Role, shiftLength(r), len(r.Members)))
}

func (p *SchedulePages) deleteRotation(c *Ctx) error {
	t, scheds, err := p.editableTeam(c)
	if t == nil {
		return err
	}
	r, _, err := p.rotationOf(c, t, scheds)
	if r == nil {
		return err
	}
	if err := p.store.DeleteRotation(c.Request().Context(), c.Actor(), r.ID); err != nil {
		return c.Failed("deleting the rotation", err)
	}
	p.forget()
	return c.SeeOther(teamURL(t.Name), "Rotation "+r.Name+" deleted.")
}
