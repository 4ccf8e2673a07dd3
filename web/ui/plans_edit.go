package ui

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
)

type planTeamOption struct {
	ID, Name string
	Selected bool
}

type planEditData struct {
	New        bool
	Plan       *models.Plan // nil for a new plan
	Form       *planForm
	Teams      []planTeamOption
	NoTeam     bool // "no team" may be chosen (admins)
	Roles      []string
	Priorities []string
	People     []string
	TeamNames  []string
	Templates  []string
	Rule       string
}

func (p *PlanPages) newForm(c *Ctx) error {
	if !c.Viewer.IsAdmin() && !c.Viewer.TeamAdmin() {
		return c.Forbidden("Only admins and team admins create plans.")
	}
	pf, _ := planFormOf(&models.Plan{}, nil)
	return p.renderEdit(c, http.StatusOK, nil, pf)
}

func (p *PlanPages) newSubmit(c *Ctx) error {
	if !c.Viewer.IsAdmin() && !c.Viewer.TeamAdmin() {
		return c.Forbidden("Only admins and team admins create plans.")
	}
	return p.submit(c, nil)
}

func (p *PlanPages) editForm(c *Ctx) error {
	a, ok, err := p.loadPlan(c)
	if !ok {
		return err
	}
	if !a.CanEdit {
		return c.Forbidden(a.Why)
	}
	from := a.latest()
	if q := c.QueryParam("from"); q != "" {
		n, err := strconv.Atoi(q)
		if from = a.version(n); err != nil || from == nil {
			return c.NotFound("version " + strconv.Quote(q) + " of plan " + a.Plan.Name)
		}
	}
	pf, err := planFormOf(a.Plan, from)
	if err != nil {
		return c.Failed("reading the plan version", err)
	}
	return p.renderEdit(c, http.StatusOK, a, pf)
}

func (p *PlanPages) editSubmit(c *Ctx) error {
	a, ok, err := p.loadPlan(c)
	if !ok {
		return err
	}
	if !a.CanEdit {
		return c.Forbidden(a.Why)
	}
	return p.submit(c, a)
}

// submit handles a post of the editor: a structural action re-renders
// the form; "save" validates and stores a draft version.
func (p *PlanPages) submit(c *Ctx, a *planAccess) error {
	form, err := c.FormParams()
	if err != nil {
		return c.ErrorPage(http.StatusBadRequest, "Unreadable form", "The form could not be read. Reload the page and try again.")
	}
	pf := parsePlanForm(form)
	act, err := parsePlanAction(c.FormValue("action"))
	if err != nil {
		return c.ErrorPage(http.StatusBadRequest, "Unknown button", "Herald does not know that button. Reload the page and try again.")
	}
	if a != nil {
		pf.Name = a.Plan.Name // a plan's name is its identity: never renamed here
	}
	if pf.apply(act) {
		return p.renderEdit(c, http.StatusOK, a, pf)
	}
	ctx := c.Request().Context()
	refs, err := p.store.PlanRefNames(ctx)
	if err != nil {
		return c.Failed("loading people, teams and templates", err)
	}
	var teamID *string
	teamName := ""
	if pf.TeamID != "" {
		for _, t := range refs.Teams {
			if t.ID == pf.TeamID {
				id := t.ID
				teamID, teamName = &id, t.Name
			}
		}
		if teamID == nil {
			pf.fail("team", "no such team")
		}
	}
	if teamID != nil && !c.Viewer.CanEditTeam(*teamID) {
		pf.fail("team", "you can give a plan only to a team you administer")
	}
	if teamID == nil && pf.TeamID == "" && !c.Viewer.IsAdmin() {
		pf.fail("team", "required: pick one of the teams you administer (only admins keep plans without a team)")
	}
	spec := pf.spec(teamName)
	ex := &notifications.Existing{People: refs.People, Teams: map[string]bool{}, Templates: map[string]bool{}}
	for _, t := range refs.Teams {
		ex.Teams[t.Name] = true
	}
	for _, t := range refs.Templates {
		ex.Templates[t] = true
	}
	def, _, err := notifications.ValidatePlan(spec, ex)
	if err != nil && !pf.addErrors(err) {
		return c.Failed("checking the plan", err)
	}
	if len(pf.Errors) > 0 {
		return p.renderEdit(c, http.StatusUnprocessableEntity, a, pf)
	}
	draft := models.PlanDraft{Name: pf.Name, TeamID: teamID, Definition: def, CreatedBy: c.Viewer.ActorName()}
	beforeText := ""
	if a != nil {
		draft.PlanID = a.Plan.ID
		if latest := a.latest(); latest != nil {
			beforeText = "version " + strconv.Itoa(latest.Version) + "\n" + planText(latest.Definition)
			if sameDefinition(latest.Definition, def) {
				return p.saveTeamOnly(c, a, teamID, teamName)
			}
		}
	}
	plan, ver, err := p.store.SavePlanDraft(ctx, draft)
	if errors.Is(err, models.ErrPlanExists) {
		pf.fail("name", "a plan named "+strconv.Quote(pf.Name)+" exists already: pick another name, or edit that plan")
		return p.renderEdit(c, http.StatusUnprocessableEntity, a, pf)
	}
	if err != nil {
		return c.Failed("saving the plan", err)
	}
	after := "version " + strconv.Itoa(ver.Version) + " (draft), team " + orNone(teamName) + "\n" + planText(def)
	if err := c.Audit("plan.draft", "plan "+plan.Name, beforeText, after); err != nil {
		return c.Failed("recording the change in the audit log", err)
	}
	return c.SeeOther(planURL(plan.Name, ver.Version), "Saved version "+strconv.Itoa(ver.Version)+" as a draft. Nothing pages with it until you publish it.")
}

// saveTeamOnly handles a save whose steps equal the newest version's: no
// new version, only the owning team may have changed.
func (p *PlanPages) saveTeamOnly(c *Ctx, a *planAccess, teamID *string, teamName string) error {
	if derefString(a.Plan.TeamID) == derefString(teamID) {
		return c.SeeOther(planURL(a.Plan.Name, 0), "Nothing changed: no version was saved.")
	}
	if err := p.store.SetPlanTeam(c.Request().Context(), a.Plan.ID, teamID); err != nil {
		return c.Failed("saving the plan's team", err)
	}
	before := "no team"
	for _, u := range a.Uses {
		if u.Kind == "team" {
			before = "team " + u.Name
		}
	}
	if err := c.Audit("plan.team", "plan "+a.Plan.Name, before, "team "+orNone(teamName)); err != nil {
		return c.Failed("recording the change in the audit log", err)
	}
	return c.SeeOther(planURL(a.Plan.Name, 0), "Saved the plan's team; its steps are unchanged, so no new version.")
}

func sameDefinition(a, b string) bool {
	da, errA := decodePlan(a)
	db, errB := decodePlan(b)
	if errA != nil || errB != nil {
		return false
	}
	ja, errA := json.Marshal(da)
	jb, errB := json.Marshal(db)
	return errA == nil && errB == nil && string(ja) == string(jb)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func derefString(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func (p *PlanPages) renderEdit(c *Ctx, code int, a *planAccess, pf *planForm) error {
	refs, err := p.store.PlanRefNames(c.Request().Context())
	if err != nil {
		return c.Failed("loading people, teams and templates", err)
	}
	d := planEditData{New: a == nil, Form: pf, Roles: notifications.Roles, Priorities: notifications.Priorities,
		Templates: refs.Templates, NoTeam: c.Viewer.IsAdmin(), Rule: planEditRule}
	if a != nil {
		d.Plan = a.Plan
	}
	for name := range refs.People {
		d.People = append(d.People, name)
	}
	slices.Sort(d.People)
	for _, t := range refs.Teams {
		d.TeamNames = append(d.TeamNames, t.Name)
		if c.Viewer.CanEditTeam(t.ID) || t.ID == pf.TeamID {
			d.Teams = append(d.Teams, planTeamOption{ID: t.ID, Name: t.Name, Selected: t.ID == pf.TeamID})
		}
	}
	title := "New escalation plan"
	if a != nil {
		title = "Edit plan " + a.Plan.Name
	}
	return c.Page(code, "plans_edit.html", title, d)
}
