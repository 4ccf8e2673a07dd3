package ui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/heraldhq/herald/models"
)

// IntegrationStore keeps integrations and their keys; *models.Store is
// one.
type IntegrationStore interface {
	IntegrationSummaries(ctx context.Context) ([]models.IntegrationSummary, error)
	IntegrationByName(ctx context.Context, name string) (*models.Integration, error)
	CreateIntegration(ctx context.Context, n models.NewIntegration) (*models.Integration, string, error)
	MintIntegrationKey(ctx context.Context, integrationID string, keepOld bool) (string, error)
	DropSecondaryKey(ctx context.Context, integrationID string) error
	RevokeIntegration(ctx context.Context, integrationID string) error
	ServiceTeams(ctx context.Context, names []string) (map[string]string, error)
}

func (p ServicePages) mountIntegrations(r *Router) {
	r.GET("/integrations", p.inList, NeedViewer)
	r.GET("/integrations/new", p.inNewForm, NeedMember)
	r.POST("/integrations", p.inCreate, NeedMember)
	r.GET("/integrations/:name", p.inDetail, NeedViewer)
	r.POST("/integrations/:name/rotate", p.inRotate, NeedMember)
	r.POST("/integrations/:name/finish-rotation", p.inFinish, NeedMember)
	r.POST("/integrations/:name/revoke", p.inRevoke, NeedMember)
}

type inRow struct {
	models.IntegrationSummary
	Status            string
	Created, LastUsed Time
	CanManage         bool
}

// inStatus says whether an integration's key works.
func inStatus(s models.IntegrationSummary) string {
	switch {
	case s.Revoked:
		return "revoked"
	case s.HasSecondary:
		return "rotating (old and new keys work)"
	}
	return "active"
}

// inMayManage: admins manage every integration; a team admin one scoped
// only to services of teams they administer.
func inMayManage(c *Ctx, services []string, teams map[string]string) bool {
	if c.Viewer.IsAdmin() {
		return true
	}
	if len(services) == 0 {
		return false
	}
	for _, s := range services {
		team, ok := teams[s]
		if !ok || !c.Viewer.CanEditTeam(team) {
			return false
		}
	}
	return true
}

func (p ServicePages) inRows(c *Ctx) ([]inRow, error) {
	ctx := c.Request().Context()
	ins, err := p.Store.IntegrationSummaries(ctx)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, in := range ins {
		names = append(names, in.Services...)
	}
	teams, err := p.Store.ServiceTeams(ctx, names)
	if err != nil {
		return nil, err
	}
	out := make([]inRow, 0, len(ins))
	for _, in := range ins {
		row := inRow{IntegrationSummary: in, Status: inStatus(in), Created: c.Viewer.At(in.CreatedAt), CanManage: inMayManage(c, in.Services, teams)}
		if in.LastUsedAt != nil {
			row.LastUsed = c.Viewer.At(*in.LastUsedAt)
		}
		out = append(out, row)
	}
	return out, nil
}

type inListView struct {
	Rows      []inRow
	CanCreate bool
}

func (p ServicePages) inList(c *Ctx) error {
	rows, err := p.inRows(c)
	if err != nil {
		return c.Failed("loading the integrations", err)
	}
	return c.Page(http.StatusOK, "integrations_list.html", "Integrations", inListView{Rows: rows, CanCreate: c.Viewer.IsAdmin() || c.Viewer.TeamAdmin()})
}

type inDetailView struct {
	Row        inRow
	Webhooks   []inWebhook
	Examples   []inExample
	Heartbeats []svcHeartbeatRow
}

func (p ServicePages) inDetail(c *Ctx) error {
	rows, err := p.inRows(c)
	if err != nil {
		return c.Failed("loading the integrations", err)
	}
	for _, row := range rows {
		if row.Name != c.Param("name") {
			continue
		}
		hbs, err := p.Store.Heartbeats(c.Request().Context())
		if err != nil {
			return c.Failed("loading the heartbeats", err)
		}
		base := c.s.base.String()
		v := inDetailView{Row: row, Webhooks: inWebhooks(base, row.Services), Examples: inExamples(base, inFirst(row.Services), ""),
			Heartbeats: svcHeartbeatRows(c, hbs, func(h models.HeartbeatStatus) bool { return h.IntegrationName == row.Name })}
		return c.Page(http.StatusOK, "integrations_detail.html", "Integration "+row.Name, v)
	}
	return c.NotFound("integration named " + strconv.Quote(c.Param("name")))
}

func inFirst(services []string) string {
	if len(services) == 0 {
		return ""
	}
	return services[0]
}

// inForm is the new-integration form.
type inForm struct {
	Name     string
	Services []string
	Quota    string
}

type inFormView struct {
	Form     inForm
	Services []models.ServiceOverview // the viewer may scope a key to
	Errors   []string
}

func (p ServicePages) inRenderForm(c *Ctx, code int, f inForm, errs []string) error {
	svcs, err := p.Store.ServiceOverviews(c.Request().Context())
	if err != nil {
		return c.Failed("loading the services", err)
	}
	v := inFormView{Form: f, Errors: errs}
	for _, s := range svcs {
		if c.Viewer.CanEditTeam(svcDeref(s.TeamID)) {
			v.Services = append(v.Services, s)
		}
	}
	return c.Page(code, "integrations_form.html", "New integration", v)
}

func (p ServicePages) inNewForm(c *Ctx) error {
	if !c.Viewer.IsAdmin() && !c.Viewer.TeamAdmin() {
		return c.Forbidden("Only admins and team admins create integrations.")
	}
	f := inForm{Quota: "0"}
	if s := c.QueryParam("service"); s != "" {
		f.Services = []string{s}
	}
	return p.inRenderForm(c, http.StatusOK, f, nil)
}

// inParseForm reads the form; problems name its fields.
func inParseForm(name string, services []string, quota string) (models.NewIntegration, []string) {
	var errs []string
	n := models.NewIntegration{Name: strings.TrimSpace(name)}
	switch {
	case n.Name == "":
		errs = append(errs, "Name: required")
	case n.Name == "new":
		errs = append(errs, `Name: "new" is reserved; choose another name`)
	case models.ValidIntegrationName(n.Name) != nil:
		errs = append(errs, "Name: 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
	}
	for _, s := range services {
		if s = strings.TrimSpace(s); s != "" {
			n.Services = append(n.Services, s)
		}
	}
	if len(n.Services) == 0 {
		errs = append(errs, "Services: choose at least one service the key may raise incidents for")
	}
	q, err := strconv.Atoi(strings.TrimSpace(quota))
	if strings.TrimSpace(quota) == "" {
		q, err = 0, nil
	}
	if err != nil || q < 0 || q > models.MaxIntegrationQuota {
		errs = append(errs, fmt.Sprintf("Quota per minute: a whole number from 0 (unlimited) to %d", models.MaxIntegrationQuota))
	}
	n.QuotaPerMinute = q
	return n, errs
}

func (p ServicePages) inCreate(c *Ctx) error {
	ctx := c.Request().Context()
	form, err := c.FormParams()
	if err != nil {
		return c.ErrorPage(http.StatusBadRequest, "Bad form", "The form could not be read.")
	}
	f := inForm{Name: form.Get("name"), Services: form["services"], Quota: form.Get("quota")}
	n, errs := inParseForm(f.Name, f.Services, f.Quota)
	teams, err := p.Store.ServiceTeams(ctx, n.Services)
	if err != nil {
		return c.Failed("loading the services", err)
	}
	for _, s := range n.Services {
		team, ok := teams[s]
		if !ok {
			errs = append(errs, fmt.Sprintf("Services: there is no service %q", s))
			continue
		}
		if !c.Viewer.CanEditTeam(team) {
			return c.Forbidden(fmt.Sprintf("You may not create an integration for service %s: team admins scope keys to their own teams' services only.", s))
		}
	}
	if len(errs) > 0 {
		return p.inRenderForm(c, http.StatusUnprocessableEntity, f, errs)
	}
	in, key, err := p.Store.CreateIntegration(ctx, n)
	switch {
	case errors.Is(err, models.ErrIntegrationExists):
		return p.inRenderForm(c, http.StatusUnprocessableEntity, f, []string{fmt.Sprintf("Name: an integration named %q exists already", n.Name)})
	case models.IsNotFound(err):
		return p.inRenderForm(c, http.StatusUnprocessableEntity, f, []string{"Services: a service was deleted meanwhile; choose again"})
	case err != nil:
		return c.Failed("creating the integration", err)
	}
	p.forget()
	after, _ := json.Marshal(map[string]any{"name": in.Name, "services": n.Services, "quota_per_minute": n.QuotaPerMinute})
	if err := c.Audit("integration.create", "integration:"+in.Name, "", string(after)); err != nil {
		return c.Failed("recording the change in the audit log", err)
	}
	return p.inShowKey(c, in.Name, n.Services, key, "created", false)
}

type inKeyView struct {
	Name, Key, Done string
	OldKept         bool
	Webhooks        []inWebhook
	Examples        []inExample
}

// inShowKey renders the one page a key is ever shown on; nothing keeps
// it (the page is not cached: Cache-Control no-store).
func (p ServicePages) inShowKey(c *Ctx, name string, services []string, key, done string, oldKept bool) error {
	base := c.s.base.String()
	return c.Page(http.StatusOK, "integrations_key.html", "Key of "+name, inKeyView{Name: name, Key: key, Done: done, OldKept: oldKept,
		Webhooks: inWebhooks(base, services), Examples: inExamples(base, inFirst(services), key)})
}

// inLoadForEdit finds the integration in the path and checks the viewer
// may manage it (nil after answering).
func (p ServicePages) inLoadForEdit(c *Ctx) (*models.Integration, []string, error) {
	ctx := c.Request().Context()
	in, err := p.Store.IntegrationByName(ctx, c.Param("name"))
	if models.IsNotFound(err) {
		return nil, nil, c.NotFound("integration named " + strconv.Quote(c.Param("name")))
	}
	if err != nil {
		return nil, nil, c.Failed("loading the integration", err)
	}
	var services []string
	sums, err := p.Store.IntegrationSummaries(ctx)
	if err != nil {
		return nil, nil, c.Failed("loading the integration", err)
	}
	for _, s := range sums {
		if s.Name == in.Name {
			services = s.Services
		}
	}
	teams, err := p.Store.ServiceTeams(ctx, services)
	if err != nil {
		return nil, nil, c.Failed("loading the services", err)
	}
	if !inMayManage(c, services, teams) {
		return nil, nil, c.Forbidden("Only admins, and team admins for integrations scoped only to their teams' services, manage this integration.")
	}
	return in, services, nil
}

// inState is an integration's keys as the audit log shows them: whether
// each exists, never the keys.
func inState(in *models.Integration) string {
	b, _ := json.Marshal(map[string]any{"revoked": in.RevokedAt != nil, "has_key": in.KeyHash != nil, "has_secondary_key": in.SecondaryKeyHash != nil})
	return string(b)
}

func (p ServicePages) inRotate(c *Ctx) error {
	in, services, err := p.inLoadForEdit(c)
	if in == nil {
		return err
	}
	key, err := p.Store.MintIntegrationKey(c.Request().Context(), in.ID, true)
	if err != nil {
		return c.Failed("rotating the key", err)
	}
	p.forget()
	oldKept := in.KeyHash != nil && in.RevokedAt == nil
	after := map[string]any{"revoked": false, "has_key": true, "has_secondary_key": oldKept}
	b, _ := json.Marshal(after)
	if err := c.Audit("integration.rotate", "integration:"+in.Name, inState(in), string(b)); err != nil {
		return c.Failed("recording the change in the audit log", err)
	}
	return p.inShowKey(c, in.Name, services, key, "rotated", oldKept)
}

func (p ServicePages) inFinish(c *Ctx) error {
	in, _, err := p.inLoadForEdit(c)
	if in == nil {
		return err
	}
	if in.SecondaryKeyHash == nil {
		return c.SeeOther("/integrations/"+in.Name, "No rotation to finish: only one key works.")
	}
	if err := p.Store.DropSecondaryKey(c.Request().Context(), in.ID); err != nil {
		return c.Failed("finishing the rotation", err)
	}
	p.forget()
	before := inState(in)
	in.SecondaryKeyHash = nil
	if err := c.Audit("integration.finish_rotation", "integration:"+in.Name, before, inState(in)); err != nil {
		return c.Failed("recording the change in the audit log", err)
	}
	return c.SeeOther("/integrations/"+in.Name, "Rotation finished: the old key of "+in.Name+" no longer works.")
}

func (p ServicePages) inRevoke(c *Ctx) error {
	in, _, err := p.inLoadForEdit(c)
	if in == nil {
		return err
	}
	if err := p.Store.RevokeIntegration(c.Request().Context(), in.ID); err != nil {
		return c.Failed("revoking the integration", err)
	}
	p.forget()
	before := inState(in)
	in.KeyHash, in.SecondaryKeyHash = nil, nil
	now := svcNow(c)
	in.RevokedAt = &now
	if err := c.Audit("integration.revoke", "integration:"+in.Name, before, inState(in)); err != nil {
		return c.Failed("recording the change in the audit log", err)
	}
	return c.SeeOther("/integrations/"+in.Name, "Integration "+in.Name+" revoked: its keys no longer work. Rotate to issue a new key.")
}
