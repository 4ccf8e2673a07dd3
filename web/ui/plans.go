package ui

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
)

// PlanStore is what the plan pages read and write; *models.Store is one.
type PlanStore interface {
	ListPlanSummaries(ctx context.Context) ([]models.PlanSummary, error)
	PlanByName(ctx context.Context, name string) (*models.Plan, error)
	PlanVersions(ctx context.Context, planID string) ([]models.PlanVersion, error)
	PlanUses(ctx context.Context, p *models.Plan) ([]models.PlanUse, error)
	SavePlanDraft(ctx context.Context, d models.PlanDraft) (*models.Plan, *models.PlanVersion, error)
	SetPlanTeam(ctx context.Context, planID string, teamID *string) error
	PublishPlanVersion(ctx context.Context, planID string, version int) (int, error)
	PlanRefNames(ctx context.Context) (*models.PlanRefs, error)
	PeopleByID(ctx context.Context, ids []string) ([]models.Person, error)
}

// PlanPager sends the "test plan" pages; *notifications.Engine is one.
type PlanPager interface {
	Notify(ctx context.Context, o notifications.OutOfBand) (int, error)
}

// PlanPages are the escalation plan pages: list, versions, diff, editor,
// publish and test.
type PlanPages struct {
	store PlanStore
	pager PlanPager
}

// NewPlanPages builds the plan pages.
func NewPlanPages(store PlanStore, pager PlanPager) *PlanPages {
	return &PlanPages{store: store, pager: pager}
}

// Mount implements Page.
func (p *PlanPages) Mount(r *Router) {
	r.GET("/plans", p.list, NeedViewer)
	r.GET("/plans/new", p.newForm, NeedMember)
	r.POST("/plans/new", p.newSubmit, NeedMember)
	r.GET("/plans/:name", p.show, NeedViewer)
	r.GET("/plans/:name/diff", p.diff, NeedViewer)
	r.GET("/plans/:name/edit", p.editForm, NeedMember)
	r.POST("/plans/:name/edit", p.editSubmit, NeedMember)
	r.POST("/plans/:name/publish", p.publish, NeedMember)
	r.POST("/plans/:name/test", p.testPlan, NeedMember)
}

// The rule for who edits a plan, shown on its page.
const planEditRule = "Admins edit every plan. A team admin edits a plan when everything that pages with it belongs to a team they administer " +
	"(its owning team and every service using it), or when nothing uses it yet. Everyone else reads it."

// planAccess is a plan with what uses it and whether the viewer may edit it.
type planAccess struct {
	Plan     *models.Plan
	Uses     []models.PlanUse
	CanEdit  bool
	Why      string // why not, when CanEdit is false
	Versions []models.PlanVersion
}

// canEditPlan applies planEditRule.
func canEditPlan(v *Viewer, uses []models.PlanUse) (bool, string) {
	if v.IsAdmin() {
		return true, ""
	}
	if !v.Has(NeedMember) {
		return false, "Viewers read plans; editing needs the member role and a team you administer."
	}
	if len(uses) == 0 {
		if v.TeamAdmin() {
			return true, ""
		}
		return false, "Only admins and team admins edit plans."
	}
	for _, u := range uses {
		if u.TeamID == nil {
			return false, "The " + u.Kind + " " + u.Name + " uses this plan and belongs to no team: only admins edit it."
		}
		if !v.CanEditTeam(*u.TeamID) {
			return false, "The " + u.Kind + " " + u.Name + " uses this plan and belongs to a team you do not administer: ask an admin or that team's admin."
		}
	}
	return true, ""
}

// loadPlan loads a plan by the route's name, what uses it and its
// versions; ok is false when it rendered a response (404 or 500).
func (p *PlanPages) loadPlan(c *Ctx) (*planAccess, bool, error) {
	ctx := c.Request().Context()
	name := c.Param("name")
	plan, err := p.store.PlanByName(ctx, name)
	if models.IsNotFound(err) {
		return nil, false, c.NotFound("plan " + strconv.Quote(name))
	}
	if err != nil {
		return nil, false, c.Failed("loading the plan", err)
	}
	uses, err := p.store.PlanUses(ctx, plan)
	if err != nil {
		return nil, false, c.Failed("loading what uses the plan", err)
	}
	versions, err := p.store.PlanVersions(ctx, plan.ID)
	if err != nil {
		return nil, false, c.Failed("loading the plan's versions", err)
	}
	a := &planAccess{Plan: plan, Uses: uses, Versions: versions}
	a.CanEdit, a.Why = canEditPlan(c.Viewer, uses)
	return a, true, nil
}

// version finds a version by number (nil: none).
func (a *planAccess) version(n int) *models.PlanVersion {
	for i := range a.Versions {
		if a.Versions[i].Version == n {
			return &a.Versions[i]
		}
	}
	return nil
}

// latest is the newest version (nil: none).
func (a *planAccess) latest() *models.PlanVersion {
	if len(a.Versions) == 0 {
		return nil
	}
	return &a.Versions[0]
}

// shown is the version a page shows by default: the active one, else the
// newest.
func (a *planAccess) shown() *models.PlanVersion {
	if v := a.version(a.Plan.ActiveVersion); v != nil {
		return v
	}
	return a.latest()
}

type planListData struct {
	Plans     []models.PlanSummary
	CanCreate bool
}

func (p *PlanPages) list(c *Ctx) error {
	plans, err := p.store.ListPlanSummaries(c.Request().Context())
	if err != nil {
		return c.Failed("listing plans", err)
	}
	return c.Page(http.StatusOK, "plans_list.html", "Escalation plans", planListData{Plans: plans, CanCreate: c.Viewer.IsAdmin() || c.Viewer.TeamAdmin()})
}

type planVersionRow struct {
	models.PlanVersion
	State string // active, draft, earlier
}

type planShowData struct {
	Plan       *models.Plan
	TeamName   string
	Uses       []models.PlanUse
	CanEdit    bool
	Why        string
	Rule       string
	Shown      *models.PlanVersion
	ShownState string
	Steps      []planStepView
	Aggregate  string
	Versions   []planVersionRow
	// DiffFrom and DiffTo preselect the diff form.
	DiffFrom, DiffTo int
	HasPerson        bool
}

func versionState(plan *models.Plan, v *models.PlanVersion) string {
	switch {
	case v.Version == plan.ActiveVersion:
		return "active"
	case v.Draft:
		return "draft"
	default:
		return "earlier"
	}
}

func (p *PlanPages) show(c *Ctx) error {
	a, ok, err := p.loadPlan(c)
	if !ok {
		return err
	}
	shown := a.shown()
	if q := c.QueryParam("version"); q != "" {
		n, err := strconv.Atoi(q)
		if err != nil || a.version(n) == nil {
			return c.NotFound("version " + strconv.Quote(q) + " of plan " + a.Plan.Name)
		}
		shown = a.version(n)
	}
	d := planShowData{Plan: a.Plan, Uses: a.Uses, CanEdit: a.CanEdit, Why: a.Why, Rule: planEditRule, Shown: shown,
		HasPerson: c.Viewer.User.PersonID != nil}
	for _, u := range a.Uses {
		if u.Kind == "team" {
			d.TeamName = u.Name
		}
	}
	for i := range a.Versions {
		d.Versions = append(d.Versions, planVersionRow{PlanVersion: a.Versions[i], State: versionState(a.Plan, &a.Versions[i])})
	}
	if shown != nil {
		d.ShownState = versionState(a.Plan, shown)
		def, err := decodePlan(shown.Definition)
		if err != nil {
			return c.Failed("reading the plan version", err)
		}
		d.Steps, d.Aggregate = describePlan(def)
		d.DiffTo = shown.Version
		d.DiffFrom = a.Plan.ActiveVersion
		if d.DiffFrom == 0 || d.DiffFrom == shown.Version {
			d.DiffFrom = max(shown.Version-1, 1)
		}
	}
	return c.Page(http.StatusOK, "plans_show.html", "Plan "+a.Plan.Name, d)
}

func (p *PlanPages) publish(c *Ctx) error {
	a, ok, err := p.loadPlan(c)
	if !ok {
		return err
	}
	if !a.CanEdit {
		return c.Forbidden(a.Why)
	}
	n, err := strconv.Atoi(c.FormValue("version"))
	v := a.version(n)
	if err != nil || v == nil {
		return c.ErrorPage(http.StatusBadRequest, "No such version", "Plan "+a.Plan.Name+" has no version "+strconv.Quote(c.FormValue("version"))+". Go back and pick one from its history.")
	}
	if n == a.Plan.ActiveVersion {
		return c.SeeOther(planURL(a.Plan.Name, n), "Version "+strconv.Itoa(n)+" is already the active version.")
	}
	ctx := c.Request().Context()
	before, err := p.store.PublishPlanVersion(ctx, a.Plan.ID, n)
	if err != nil {
		return c.Failed("publishing the version", err)
	}
	beforeText := "no active version"
	if old := a.version(before); old != nil {
		beforeText = "version " + strconv.Itoa(before) + "\n" + planText(old.Definition)
	}
	if err := c.Audit("plan.publish", "plan "+a.Plan.Name, beforeText, "version "+strconv.Itoa(n)+"\n"+planText(v.Definition)); err != nil {
		return c.Failed("recording the change in the audit log", err)
	}
	return c.SeeOther(planURL(a.Plan.Name, n), "Published version "+strconv.Itoa(n)+": new escalations of "+a.Plan.Name+" use it; running ones keep theirs.")
}

func planURL(name string, version int) string {
	u := "/plans/" + url.PathEscape(name)
	if version > 0 {
		u += "?version=" + strconv.Itoa(version)
	}
	return u
}
