package ui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/models"
)

// MaintenanceStore keeps maintenance windows; *models.Store is one.
type MaintenanceStore interface {
	MaintenanceWindows(ctx context.Context) ([]models.MaintenanceWindow, error)
	MaintenanceWindowByName(ctx context.Context, name string) (*models.MaintenanceWindow, error)
	CreateMaintenanceWindows(ctx context.Context, ws []*models.MaintenanceWindow) error
	EndMaintenanceWindow(ctx context.Context, name string, at time.Time) (*models.MaintenanceWindow, error)
	DeleteMaintenanceWindow(ctx context.Context, name string) error
}

func (p ServicePages) mountMaintenance(r *Router) {
	r.GET("/maintenance", p.mwList, NeedViewer)
	r.POST("/maintenance", p.mwCreate, NeedMember)
	r.POST("/maintenance/:name/end", p.mwEnd, NeedMember)
	r.POST("/maintenance/:name/delete", p.mwDelete, NeedMember)
}

// Where a window stands now.
const (
	mwActive   = "active"
	mwUpcoming = "upcoming"
	mwPast     = "over"
)

type mwRow struct {
	Name, Service, Reason, CreatedBy, State, Schedule string
	Start, End                                        Time
	FromConfig, CanEdit                               bool
}

// mwRowOf describes a window for the viewer (CanEdit is the caller's).
func mwRowOf(c *Ctx, w *models.MaintenanceWindow) mwRow {
	now := svcNow(c)
	row := mwRow{Name: w.Name, Service: w.ServiceName, Reason: w.Reason, CreatedBy: w.CreatedBy, Start: c.Viewer.At(w.StartsAt),
		FromConfig: w.ManagedBy == models.ManagedByConfig}
	if w.ServiceID == nil {
		row.Service = "all services"
	}
	if w.EndsAt != nil {
		row.End = c.Viewer.At(*w.EndsAt)
	}
	if w.Recurring() {
		row.Schedule = fmt.Sprintf("weekly, %s at %s for %s (%s)", strings.ReplaceAll(w.Weekdays, ",", ", "), w.StartTime,
			models.FormatDuration(w.Duration()), w.TimeZone)
	}
	_, _, active := w.OccurrenceAt(now)
	switch {
	case active:
		row.State = mwActive
	case w.EndsAt != nil && !w.EndsAt.After(now):
		row.State = mwPast
	default:
		row.State = mwUpcoming
	}
	return row
}

// mwForm is the new-window form.
type mwForm struct {
	Name, Team, Start, End, Reason string
	Services                       []string
	AllServices, CancelPending     bool
}

type mwSection struct {
	Title, Empty string
	Rows         []mwRow
}

type mwView struct {
	Sections               []mwSection
	Active, Upcoming, Past []mwRow
	CanCreate              bool
	Form                   mwForm
	Services               []models.ServiceOverview // the viewer may pick
	Teams                  []models.Team
	Errors                 []string
	Zone                   string
}

// mwLocalLayout is how <input type="datetime-local"> writes a time.
const mwLocalLayout = "2006-01-02T15:04"

// mwParseLocal reads a datetime-local value in the viewer's zone.
func mwParseLocal(text string, loc *time.Location) (time.Time, error) {
	text = strings.TrimSpace(text)
	if len(text) > len("2006-01-02T15:04:05") {
		return time.Time{}, errors.New("not a date and time")
	}
	for _, layout := range []string{mwLocalLayout, mwLocalLayout + ":05"} {
		if t, err := time.ParseInLocation(layout, text, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errors.New("not a date and time")
}

func (p ServicePages) mwList(c *Ctx) error {
	now := svcNow(c).In(c.Viewer.Location)
	f := mwForm{Start: now.Format(mwLocalLayout), End: now.Add(time.Hour).Format(mwLocalLayout)}
	if s := c.QueryParam("service"); s != "" {
		f.Services = []string{s}
	}
	return p.mwRender(c, http.StatusOK, f, nil)
}

func (p ServicePages) mwRender(c *Ctx, code int, f mwForm, errs []string) error {
	ctx := c.Request().Context()
	ws, err := p.Store.MaintenanceWindows(ctx)
	if err != nil {
		return c.Failed("loading the maintenance windows", err)
	}
	svcs, err := p.Store.ServiceOverviews(ctx)
	if err != nil {
		return c.Failed("loading the services", err)
	}
	teams, err := p.Store.ListTeams(ctx)
	if err != nil {
		return c.Failed("loading the teams", err)
	}
	teamOf := map[string]string{}
	for _, s := range svcs {
		teamOf[s.ID] = svcDeref(s.TeamID)
	}
	v := mwView{Form: f, Errors: errs, Zone: c.Viewer.ZoneName}
	for i := range ws {
		row := mwRowOf(c, &ws[i])
		row.CanEdit = !row.FromConfig && mwMayEdit(c, ws[i].ServiceID, teamOf)
		switch row.State {
		case mwActive:
			v.Active = append(v.Active, row)
		case mwUpcoming:
			v.Upcoming = append(v.Upcoming, row)
		default:
			v.Past = append(v.Past, row)
		}
	}
	// The latest to end first (ISO times in UTC sort as text).
	sort.SliceStable(v.Past, func(i, j int) bool { return v.Past[i].End.ISO > v.Past[j].End.ISO })
	if len(v.Past) > 20 {
		v.Past = v.Past[:20]
	}
	v.Sections = []mwSection{{Title: "Active now", Empty: "No window is active.", Rows: v.Active}, {Title: "Upcoming", Empty: "None planned.", Rows: v.Upcoming}}
	if len(v.Past) > 0 {
		v.Sections = append(v.Sections, mwSection{Title: "Recently over", Rows: v.Past})
	}
	for _, s := range svcs {
		if c.Viewer.CanEditTeam(svcDeref(s.TeamID)) {
			v.Services = append(v.Services, s)
		}
	}
	for _, t := range teams {
		if c.Viewer.CanEditTeam(t.ID) {
			v.Teams = append(v.Teams, t)
		}
	}
	v.CanCreate = c.Viewer.IsAdmin() || len(v.Services) > 0 || len(v.Teams) > 0
	return c.Page(code, "services_maintenance.html", "Maintenance windows", v)
}

// mwMayEdit: a window for every service is for admins; one for a service
// for the admins of its team.
func mwMayEdit(c *Ctx, serviceID *string, teamOf map[string]string) bool {
	if serviceID == nil {
		return c.Viewer.IsAdmin()
	}
	return c.Viewer.CanEditTeam(teamOf[*serviceID])
}

// mwFieldLabels names the form's fields in error messages.
var mwFieldLabels = map[string]string{"name": "Name", "reason": "Reason", "starts_at": "Start", "ends_at": "End", "service": "Services"}

func (p ServicePages) mwCreate(c *Ctx) error {
	ctx := c.Request().Context()
	form, err := c.FormParams()
	if err != nil {
		return c.ErrorPage(http.StatusBadRequest, "Bad form", "The form could not be read.")
	}
	f := mwForm{Name: strings.TrimSpace(form.Get("name")), Team: form.Get("team"), Start: form.Get("start"), End: form.Get("end"),
		Reason: strings.TrimSpace(form.Get("reason")), Services: form["services"], AllServices: form.Get("all_services") == "on",
		CancelPending: form.Get("cancel_pending") == "on"}
	svcs, err := p.Store.ServiceOverviews(ctx)
	if err != nil {
		return c.Failed("loading the services", err)
	}
	byName := map[string]*models.ServiceOverview{}
	for i := range svcs {
		byName[svcs[i].Name] = &svcs[i]
	}
	var errs []string
	// Permissions first: a refused write says why and changes nothing.
	if f.AllServices && !c.Viewer.IsAdmin() {
		return c.Forbidden("Only admins hold the alerts of every service.")
	}
	if f.Team != "" && !c.Viewer.CanEditTeam(f.Team) {
		return c.Forbidden("You may plan maintenance for the services of your own teams only.")
	}
	chosen := map[string]bool{}
	for _, name := range f.Services {
		s := byName[name]
		if s == nil {
			errs = append(errs, fmt.Sprintf("Services: there is no service %q", name))
			continue
		}
		if !c.Viewer.CanEditTeam(svcDeref(s.TeamID)) {
			return c.Forbidden(fmt.Sprintf("You may not plan maintenance for service %s: it is not your team's.", name))
		}
		chosen[name] = true
	}
	if f.Team != "" {
		for _, s := range svcs {
			if svcDeref(s.TeamID) == f.Team {
				chosen[s.Name] = true
			}
		}
	}
	names := make([]string, 0, len(chosen))
	for n := range chosen {
		names = append(names, n)
	}
	sort.Strings(names)
	switch {
	case f.AllServices && len(names) > 0:
		errs = append(errs, "Services: choose all services, or some services and teams, not both")
	case !f.AllServices && len(names) == 0 && len(errs) == 0:
		errs = append(errs, "Services: choose at least one service, a team with services, or (admins) all services")
	}
	loc := c.Viewer.Location
	if loc == nil {
		loc = time.UTC
	}
	in := models.MaintenanceInput{Name: f.Name, Reason: f.Reason, CancelPending: f.CancelPending}
	// seen keeps each message once: every window repeats the form's problems.
	seen := map[string]bool{}
	for _, t := range []struct {
		field, label, text string
		into               *string
	}{{"starts_at", "Start", f.Start, &in.StartsAt}, {"ends_at", "End", f.End, &in.EndsAt}} {
		if strings.TrimSpace(t.text) == "" {
			errs = append(errs, t.label+": required")
			seen[t.field] = true
			continue
		}
		at, err := mwParseLocal(t.text, loc)
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: %q is not a date and time (like 2026-03-01T02:00, in %s)", t.label, t.text, c.Viewer.ZoneName))
			seen[t.field] = true
			continue
		}
		*t.into = at.UTC().Format(time.RFC3339)
	}
	targets := []string{""}
	if !f.AllServices {
		targets = names
	}
	var windows []*models.MaintenanceWindow
	for _, svc := range targets {
		wi := in
		if len(targets) > 1 {
			wi.Name = f.Name + "-" + svc
		}
		w, err := models.ParseMaintenance(wi)
		var problems models.InputErrors
		if errors.As(err, &problems) {
			for _, pr := range problems {
				msg := mwFieldLabels[pr.Field] + ": " + pr.Message
				if pr.Field == "ends_at" && strings.HasPrefix(pr.Message, "must be after") {
					msg = "End: must be after the start"
				}
				if pr.Field == "name" && len(targets) > 1 {
					msg = fmt.Sprintf("Name: %s (one window per service is named <name>-<service>)", pr.Message)
				}
				if !seen[msg] && !seen[pr.Field] {
					seen[msg] = true
					errs = append(errs, msg)
				}
			}
			continue
		}
		if err != nil {
			return c.Failed("checking the maintenance window", err)
		}
		w.CreatedBy, w.ManagedBy = c.Viewer.ActorName(), models.ManagedByAPI
		if svc != "" {
			w.ServiceID, w.ServiceName = &byName[svc].ID, svc
		}
		windows = append(windows, w)
	}
	if len(errs) > 0 {
		return p.mwRender(c, http.StatusUnprocessableEntity, f, errs)
	}
	err = p.Store.CreateMaintenanceWindows(ctx, windows)
	if errors.Is(err, models.ErrDuplicate) {
		return p.mwRender(c, http.StatusUnprocessableEntity, f, []string{"Name: " + strings.TrimSuffix(err.Error(), ": "+models.ErrDuplicate.Error()) + " exists already; choose another name"})
	}
	if err != nil {
		return c.Failed("creating the maintenance window", err)
	}
	p.forget()
	for _, w := range windows {
		if err := c.Audit("maintenance.create", "maintenance:"+w.Name, "", mwAuditText(w)); err != nil {
			return c.Failed("recording the change in the audit log", err)
		}
	}
	return c.SeeOther("/maintenance", fmt.Sprintf("%d maintenance window(s) created.", len(windows)))
}

// mwAuditText is a window as the audit log shows it.
func mwAuditText(w *models.MaintenanceWindow) string {
	b, _ := json.Marshal(w.Input())
	return string(b)
}

// mwLoadForEdit finds the window in the path and checks the viewer may
// change it (nil after answering).
func (p ServicePages) mwLoadForEdit(c *Ctx) (*models.MaintenanceWindow, error) {
	ctx := c.Request().Context()
	w, err := p.Store.MaintenanceWindowByName(ctx, c.Param("name"))
	if models.IsNotFound(err) {
		return nil, c.NotFound("maintenance window named " + strconv.Quote(c.Param("name")))
	}
	if err != nil {
		return nil, c.Failed("loading the maintenance window", err)
	}
	teamOf := map[string]string{}
	if w.ServiceID != nil {
		svcs, err := p.Store.ServiceOverviews(ctx)
		if err != nil {
			return nil, c.Failed("loading the services", err)
		}
		for _, s := range svcs {
			teamOf[s.ID] = svcDeref(s.TeamID)
		}
	}
	if !mwMayEdit(c, w.ServiceID, teamOf) {
		return nil, c.Forbidden("Only admins, and the admins of the team of the window's service, change this window.")
	}
	if w.ManagedBy == models.ManagedByConfig {
		return nil, c.ErrorPage(http.StatusConflict, "Managed by herald apply", "Maintenance window "+w.Name+" comes from the configuration file: change it there and run herald apply.")
	}
	return w, nil
}

func (p ServicePages) mwEnd(c *Ctx) error {
	w, err := p.mwLoadForEdit(c)
	if w == nil {
		return err
	}
	ended, err := p.Store.EndMaintenanceWindow(c.Request().Context(), w.Name, svcNow(c))
	switch {
	case errors.Is(err, models.ErrNoChange):
		return c.SeeOther("/maintenance", "Maintenance window "+w.Name+" was already over.")
	case errors.Is(err, models.ErrInvalid):
		return c.ErrorPage(http.StatusConflict, "Not started", "Maintenance window "+w.Name+" has not started yet: delete it instead.")
	case err != nil:
		return c.Failed("ending the maintenance window", err)
	}
	p.forget()
	if err := c.Audit("maintenance.end", "maintenance:"+w.Name, mwAuditText(w), mwAuditText(ended)); err != nil {
		return c.Failed("recording the change in the audit log", err)
	}
	return c.SeeOther("/maintenance", "Maintenance window "+w.Name+" ended; its alerts page again.")
}

func (p ServicePages) mwDelete(c *Ctx) error {
	w, err := p.mwLoadForEdit(c)
	if w == nil {
		return err
	}
	if err := p.Store.DeleteMaintenanceWindow(c.Request().Context(), w.Name); err != nil && !models.IsNotFound(err) {
		return c.Failed("deleting the maintenance window", err)
	}
	p.forget()
	if err := c.Audit("maintenance.delete", "maintenance:"+w.Name, mwAuditText(w), ""); err != nil {
		return c.Failed("recording the change in the audit log", err)
	}
	return c.SeeOther("/maintenance", "Maintenance window "+w.Name+" deleted.")
}
