package ui

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/models"
)

// ServiceStore is what the services, integrations and maintenance pages
// read and write; *models.Store is one.
type ServiceStore interface {
	ServiceOverviews(ctx context.Context) ([]models.ServiceOverview, error)
	ServiceByName(ctx context.Context, name string) (*models.Service, error)
	CreateService(ctx context.Context, in models.ServiceInput) (*models.Service, error)
	UpdateService(ctx context.Context, id string, in models.ServiceInput) (*models.Service, error)
	ListTeams(ctx context.Context) ([]models.Team, error)
	PlanChoices(ctx context.Context) ([]models.Plan, error)
	ListServiceIncidents(ctx context.Context, f models.ServiceIncidentFilter) ([]models.Incident, error)
	Heartbeats(ctx context.Context) ([]models.HeartbeatStatus, error)
	MaintenanceStore
	IntegrationStore
}

// ServicePages are the services, their integrations (keys, webhook URLs
// with examples), maintenance windows and heartbeats. Admins edit all;
// a team admin edits their teams' services and what is scoped only to
// them; everyone signed in reads.
type ServicePages struct {
	Store ServiceStore
	// Forget drops what this replica caches of integration keys, services
	// and maintenance windows, so a change here applies at once (nil:
	// nothing cached).
	Forget func()
}

// Mount adds /services, /integrations and /maintenance.
func (p ServicePages) Mount(r *Router) {
	r.GET("/services", p.list, NeedViewer)
	r.GET("/services/new", p.newForm, NeedMember)
	r.POST("/services", p.create, NeedMember)
	r.GET("/services/:name", p.detail, NeedViewer)
	r.GET("/services/:name/edit", p.editForm, NeedMember)
	r.POST("/services/:name", p.update, NeedMember)
	p.mountMaintenance(r)
	p.mountIntegrations(r)
}

// forget drops the caches after a change.
func (p ServicePages) forget() {
	if p.Forget != nil {
		p.Forget()
	}
}

func svcNow(c *Ctx) time.Time { return c.s.o.Clock.Now() }

type svcRow struct {
	Name, Team, Plan, Severity string
	WorkingHoursOnly           bool
	Open                       int64
	LastAlert                  Time
	CanEdit                    bool
}

type svcListView struct {
	Rows      []svcRow
	CanCreate bool
}

func (p ServicePages) list(c *Ctx) error {
	svcs, err := p.Store.ServiceOverviews(c.Request().Context())
	if err != nil {
		return c.Failed("loading the services", err)
	}
	v := svcListView{CanCreate: c.Viewer.IsAdmin() || c.Viewer.TeamAdmin()}
	for _, s := range svcs {
		row := svcRow{Name: s.Name, Team: s.TeamName, Plan: s.PlanName, Severity: s.DefaultSeverity.String(), WorkingHoursOnly: s.WorkingHoursOnly,
			Open: s.OpenIncidents, CanEdit: c.Viewer.CanEditTeam(svcDeref(s.TeamID))}
		if s.LastAlertAt != nil {
			row.LastAlert = c.Viewer.At(*s.LastAlertAt)
		}
		v.Rows = append(v.Rows, row)
	}
	return c.Page(http.StatusOK, "services_list.html", "Services", v)
}

func svcDeref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// svcLoad finds the service named in the path (nil after answering 404).
func (p ServicePages) svcLoad(c *Ctx) (*models.ServiceOverview, error) {
	svcs, err := p.Store.ServiceOverviews(c.Request().Context())
	if err != nil {
		return nil, c.Failed("loading the service", err)
	}
	for i := range svcs {
		if svcs[i].Name == c.Param("name") {
			return &svcs[i], nil
		}
	}
	return nil, c.NotFound("service named " + strconv.Quote(c.Param("name")))
}

type svcIncidentRow struct {
	Number          int64
	Title, Severity string
	State           string
	Created         Time
}

type svcHeartbeatRow struct {
	Integration, Service, Interval, Status string
	Overdue                                bool
	LastBeat, Due                          Time
}

type svcDetailView struct {
	Service      *models.ServiceOverview
	Severity     string
	CanEdit      bool
	Integrations []models.IntegrationSummary
	Windows      []mwRow
	Heartbeats   []svcHeartbeatRow
	Incidents    []svcIncidentRow
}

func (p ServicePages) detail(c *Ctx) error {
	s, err := p.svcLoad(c)
	if s == nil {
		return err
	}
	ctx := c.Request().Context()
	v := svcDetailView{Service: s, Severity: s.DefaultSeverity.String(), CanEdit: c.Viewer.CanEditTeam(svcDeref(s.TeamID))}
	ins, err := p.Store.IntegrationSummaries(ctx)
	if err != nil {
		return c.Failed("loading the integrations", err)
	}
	for _, in := range ins {
		if contains(in.Services, s.Name) {
			v.Integrations = append(v.Integrations, in)
		}
	}
	ws, err := p.Store.MaintenanceWindows(ctx)
	if err != nil {
		return c.Failed("loading the maintenance windows", err)
	}
	for i := range ws {
		if ws[i].ServiceID != nil && *ws[i].ServiceID != s.ID {
			continue
		}
		if row := mwRowOf(c, &ws[i]); row.State != mwPast {
			v.Windows = append(v.Windows, row)
		}
	}
	hbs, err := p.Store.Heartbeats(ctx)
	if err != nil {
		return c.Failed("loading the heartbeats", err)
	}
	v.Heartbeats = svcHeartbeatRows(c, hbs, func(h models.HeartbeatStatus) bool { return h.ServiceName == s.Name })
	incs, err := p.Store.ListServiceIncidents(ctx, models.ServiceIncidentFilter{ServiceIDs: []string{s.ID}, Limit: 20})
	if err != nil {
		return c.Failed("loading the incidents", err)
	}
	for _, inc := range incs {
		v.Incidents = append(v.Incidents, svcIncidentRow{Number: inc.Number, Title: inc.Title, Severity: inc.Severity.String(),
			State: svcIncidentState(&inc), Created: c.Viewer.At(inc.CreatedAt)})
	}
	return c.Page(http.StatusOK, "services_detail.html", "Service "+s.Name, v)
}

func svcIncidentState(inc *models.Incident) string {
	switch {
	case inc.ResolvedAt != nil || inc.Status == models.StatusResolved:
		return "resolved"
	case inc.AcknowledgedAt != nil:
		return "acknowledged"
	}
	return "open"
}

// svcHeartbeatRows are the monitors keep selects, with their status now:
// missed (an incident is open), overdue (late, the check is coming) or ok.
func svcHeartbeatRows(c *Ctx, hbs []models.HeartbeatStatus, keep func(models.HeartbeatStatus) bool) []svcHeartbeatRow {
	now := svcNow(c)
	var out []svcHeartbeatRow
	for _, h := range hbs {
		if !keep(h) {
			continue
		}
		row := svcHeartbeatRow{Integration: h.IntegrationName, Service: h.ServiceName, Interval: models.FormatDuration(h.Interval()),
			Due: c.Viewer.At(h.DueAt()), Status: "ok"}
		if h.LastSeenAt != nil {
			row.LastBeat = c.Viewer.At(*h.LastSeenAt)
		}
		switch {
		case h.MissedAt != nil:
			row.Status, row.Overdue = "missed (incident open)", true
		case !now.Before(h.DueAt()):
			row.Status, row.Overdue = "overdue", true
		}
		out = append(out, row)
	}
	return out
}

// svcForm is the service form, as given or as stored.
type svcForm struct {
	Name, Description, TeamID, PlanID string
	Severity                          int
	WorkingHoursOnly                  bool
}

type svcFormView struct {
	Form     svcForm
	Editing  bool
	TeamLock bool // a team admin cannot move a service to another team
	Teams    []models.Team
	Plans    []models.Plan
	Errors   []string
	Action   string
}

// svcFieldLabels names the form's fields in error messages.
var svcFieldLabels = map[string]string{"name": "Name", "description": "Description", "team": "Team", "plan": "Escalation plan",
	"default_severity": "Default severity"}

func svcParseForm(c *Ctx) (svcForm, []string) {
	f := svcForm{Name: strings.TrimSpace(c.FormValue("name")), Description: strings.TrimSpace(c.FormValue("description")),
		TeamID: c.FormValue("team"), PlanID: c.FormValue("plan"), WorkingHoursOnly: c.FormValue("working_hours_only") == "on"}
	var errs []string
	sev, err := models.ParseSeverity(c.FormValue("default_severity"))
	if err != nil {
		errs = append(errs, "Default severity: choose SEV1 to SEV4")
	}
	f.Severity = int(sev)
	return f, errs
}

// svcChoices are the teams and plans the viewer may pick: admins any;
// a team admin their own teams and the plans of those teams (or of none).
func (p ServicePages) svcChoices(c *Ctx) ([]models.Team, []models.Plan, error) {
	ctx := c.Request().Context()
	teams, err := p.Store.ListTeams(ctx)
	if err != nil {
		return nil, nil, err
	}
	plans, err := p.Store.PlanChoices(ctx)
	if err != nil {
		return nil, nil, err
	}
	if c.Viewer.IsAdmin() {
		return teams, plans, nil
	}
	var ts []models.Team
	for _, t := range teams {
		if c.Viewer.CanEditTeam(t.ID) {
			ts = append(ts, t)
		}
	}
	var ps []models.Plan
	for _, pl := range plans {
		// Any of the viewer's teams: the write checks it is the service's.
		if pl.TeamID == nil || c.Viewer.CanEditTeam(*pl.TeamID) {
			ps = append(ps, pl)
		}
	}
	return ts, ps, nil
}

// svcPlanAllowed: a team admin may pick a plan of the service's team or
// one of no team (admins any).
func svcPlanAllowed(c *Ctx, pl models.Plan, teamID string) bool {
	return c.Viewer.IsAdmin() || pl.TeamID == nil || (*pl.TeamID == teamID && c.Viewer.CanEditTeam(teamID))
}

func (p ServicePages) svcRender(c *Ctx, code int, v svcFormView) error {
	teams, plans, err := p.svcChoices(c)
	if err != nil {
		return c.Failed("loading teams and plans", err)
	}
	v.Teams, v.Plans = teams, plans
	title := "New service"
	if v.Editing {
		title = "Edit service " + v.Form.Name
	}
	return c.Page(code, "services_form.html", title, v)
}

func (p ServicePages) newForm(c *Ctx) error {
	if !c.Viewer.IsAdmin() && !c.Viewer.TeamAdmin() {
		return c.Forbidden("Only admins and team admins create services.")
	}
	return p.svcRender(c, http.StatusOK, svcFormView{Form: svcForm{Severity: int(models.SEV3)}, Action: "/services"})
}

// svcInput is the form as the store takes it.
func (f svcForm) input() models.ServiceInput {
	return models.ServiceInput{Name: f.Name, Description: f.Description, TeamID: f.TeamID, PlanID: f.PlanID,
		DefaultSeverity: models.Severity(f.Severity), WorkingHoursOnly: f.WorkingHoursOnly}
}

// svcAllowed checks a write server-side: the team must be one the viewer
// edits, and so the plan (a team admin cannot page another team).
func (p ServicePages) svcAllowed(c *Ctx, f svcForm) (bool, string, error) {
	if c.Viewer.IsAdmin() {
		return true, "", nil
	}
	if f.TeamID == "" || !c.Viewer.CanEditTeam(f.TeamID) {
		return false, "Team admins create and edit services of their own teams only.", nil
	}
	if f.PlanID == "" {
		return true, "", nil
	}
	plans, err := p.Store.PlanChoices(c.Request().Context())
	if err != nil {
		return false, "", err
	}
	for _, pl := range plans {
		if pl.ID == f.PlanID {
			if svcPlanAllowed(c, pl, f.TeamID) {
				return true, "", nil
			}
			return false, "That escalation plan belongs to another team: a team admin may pick their team's plans only.", nil
		}
	}
	return true, "", nil // unknown: the store names the field
}

func (p ServicePages) create(c *Ctx) error {
	f, errs := svcParseForm(c)
	v := svcFormView{Form: f, Action: "/services"}
	ok, why, err := p.svcAllowed(c, f)
	if err != nil {
		return c.Failed("checking your permissions", err)
	}
	if !ok {
		return c.Forbidden(why)
	}
	if f.Name == "new" {
		errs = append(errs, `Name: "new" is reserved; choose another name`)
	}
	if len(errs) > 0 {
		v.Errors = errs
		return p.svcRender(c, http.StatusUnprocessableEntity, v)
	}
	svc, err := p.Store.CreateService(c.Request().Context(), f.input())
	if problems := svcProblems(err); problems != nil {
		v.Errors = problems
		return p.svcRender(c, http.StatusUnprocessableEntity, v)
	}
	if err != nil {
		return c.Failed("creating the service", err)
	}
	p.forget()
	if err := c.Audit("service.create", "service:"+svc.Name, "", p.svcAuditText(c, svc)); err != nil {
		return c.Failed("recording the change in the audit log", err)
	}
	return c.SeeOther("/services/"+svc.Name, "Service "+svc.Name+" created.")
}

// svcProblems turns the store's field problems into messages naming the
// form's fields (nil: not such an error).
func svcProblems(err error) []string {
	var problems models.InputErrors
	if !errors.As(err, &problems) {
		return nil
	}
	out := make([]string, len(problems))
	for i, pr := range problems {
		label := svcFieldLabels[pr.Field]
		if label == "" {
			label = pr.Field
		}
		out[i] = label + ": " + pr.Message
	}
	return out
}

func (p ServicePages) editForm(c *Ctx) error {
	s, err := p.svcLoad(c)
	if s == nil {
		return err
	}
	if !c.Viewer.CanEditTeam(svcDeref(s.TeamID)) {
		return c.Forbidden("Only admins and the admins of this service's team edit it.")
	}
	f := svcForm{Name: s.Name, Description: s.Description, TeamID: svcDeref(s.TeamID), PlanID: svcDeref(s.PlanID),
		Severity: int(s.DefaultSeverity), WorkingHoursOnly: s.WorkingHoursOnly}
	return p.svcRender(c, http.StatusOK, svcFormView{Form: f, Editing: true, TeamLock: !c.Viewer.IsAdmin(), Action: "/services/" + s.Name})
}

func (p ServicePages) update(c *Ctx) error {
	s, err := p.svcLoad(c)
	if s == nil {
		return err
	}
	oldTeam := svcDeref(s.TeamID)
	if !c.Viewer.CanEditTeam(oldTeam) {
		return c.Forbidden("Only admins and the admins of this service's team edit it.")
	}
	f, errs := svcParseForm(c)
	f.Name = s.Name // names stay: webhook URLs and alert labels carry them
	if !c.Viewer.IsAdmin() && f.TeamID != oldTeam {
		return c.Forbidden("A team admin cannot move a service to another team; ask an admin.")
	}
	ok, why, err := p.svcAllowed(c, f)
	if err != nil {
		return c.Failed("checking your permissions", err)
	}
	if !ok {
		return c.Forbidden(why)
	}
	v := svcFormView{Form: f, Editing: true, TeamLock: !c.Viewer.IsAdmin(), Action: "/services/" + s.Name, Errors: errs}
	if len(errs) > 0 {
		return p.svcRender(c, http.StatusUnprocessableEntity, v)
	}
	before := p.svcAuditText(c, &s.Service)
	svc, err := p.Store.UpdateService(c.Request().Context(), s.ID, f.input())
	if problems := svcProblems(err); problems != nil {
		v.Errors = problems
		return p.svcRender(c, http.StatusUnprocessableEntity, v)
	}
	if err != nil {
		return c.Failed("saving the service", err)
	}
	p.forget()
	if err := c.Audit("service.update", "service:"+svc.Name, before, p.svcAuditText(c, svc)); err != nil {
		return c.Failed("recording the change in the audit log", err)
	}
	return c.SeeOther("/services/"+svc.Name, "Service "+svc.Name+" saved.")
}

// svcAuditText is a service as the audit log shows it (JSON, team and
// plan by name).
func (p ServicePages) svcAuditText(c *Ctx, s *models.Service) string {
	out := struct {
		Name             string `json:"name"`
		Description      string `json:"description,omitempty"`
		Team             string `json:"team,omitempty"`
		Plan             string `json:"plan,omitempty"`
		DefaultSeverity  string `json:"default_severity"`
		WorkingHoursOnly bool   `json:"working_hours_only"`
	}{Name: s.Name, Description: s.Description, DefaultSeverity: s.DefaultSeverity.String(), WorkingHoursOnly: s.WorkingHoursOnly}
	ctx := c.Request().Context()
	if s.TeamID != nil {
		out.Team = *s.TeamID
		if teams, err := p.Store.ListTeams(ctx); err == nil {
			for _, t := range teams {
				if t.ID == *s.TeamID {
					out.Team = t.Name
				}
			}
		}
	}
	if s.PlanID != nil {
		out.Plan = *s.PlanID
		if plans, err := p.Store.PlanChoices(ctx); err == nil {
			for _, pl := range plans {
				if pl.ID == *s.PlanID {
					out.Plan = pl.Name
				}
			}
		}
	}
	b, _ := json.Marshal(out)
	return string(b)
}
