package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/handlers"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
)

// The Iris-compatible API (/v0): an Iris client (irisclient, or anything
// signing as Iris does) points at Herald unchanged. The application is a
// Herald integration's name and its key the integration's key. An Iris
// incident id is Herald's incident number (what people see in Slack), so
// ids stay short and the same everywhere.

// IrisStore is what the Iris API reads and records; *models.Store
// implements it.
type IrisStore interface {
	IrisKeys
	IntegrationServiceIDs(ctx context.Context, integrationID string) ([]string, error)
	IrisIncidentView(ctx context.Context, number int64) (*models.IrisView, error)
	RecordIrisIncident(ctx context.Context, incidentID int64, plan string) error
	SetIrisOwner(ctx context.Context, incidentID int64, owner *string) error
	PersonByName(ctx context.Context, name string) (*models.Person, error)
	TeamByName(ctx context.Context, name string) (*models.Team, error)
	Template(ctx context.Context, name string) (*models.MessageTemplate, error)
}

// IrisIntake raises and changes incidents; *handlers.Intake implements it.
type IrisIntake interface {
	Open(ctx context.Context, a handlers.NewAlert) (*handlers.AlertResult, error)
	SetState(ctx context.Context, incidentID int64, state, by string) (*models.Incident, error)
}

// IrisPager pages dynamic targets and sends out-of-band notifications;
// *notifications.Engine implements it.
type IrisPager interface {
	PagePeople(ctx context.Context, incidentID int64, role, target, priority, note, by string) (int, error)
	Notify(ctx context.Context, o notifications.OutOfBand) (int, error)
}

// IrisOptions wires the Iris-compatible API.
type IrisOptions struct {
	Store  IrisStore
	Intake IrisIntake
	Pager  IrisPager
}

// irisDynamicPriority is the priority dynamic targets are paged at. Herald
// plans have no dynamic slots, so each dynamic target is paged once, at
// once, beside the plan's own steps.
const irisDynamicPriority = "high"

type irisAPI struct {
	IrisOptions
	log *slog.Logger
}

func registerIris(e *echo.Echo, o Options) {
	ir := o.Iris
	if ir.Store == nil || ir.Intake == nil || ir.Pager == nil {
		panic("web: Options.Iris needs Store, Intake and Pager")
	}
	clock, log := o.Clock, o.Log
	if clock == nil {
		clock = models.SystemClock{}
	}
	if log == nil {
		log = slog.Default()
	}
	h := &irisAPI{IrisOptions: *ir, log: log}
	auth := requireIris(ir.Store, clock, o.MaxBodyBytes)
	e.POST("/v0/incidents", h.create, auth)
	e.POST("/v0/incidents/claim", h.claimMany, auth)
	e.GET("/v0/incidents/:id", h.get, auth)
	e.POST("/v0/incidents/:id", h.claim, auth)
	e.POST("/v0/incidents/:id/resolve", h.resolve, auth)
	e.POST("/v0/notifications", h.notify, auth)
}

func irisFieldErr(c echo.Context, ferr *irisFieldError) error {
	return apiError(c, http.StatusBadRequest, ferr.Field, "%s", ferr.Msg)
}

// create raises an incident with a plan: 201 with its id.
func (h *irisAPI) create(c echo.Context) error {
	ctx, integ := c.Request().Context(), integrationOf(c)
	req, ferr := parseIrisCreate(irisBody(c))
	if ferr != nil {
		return irisFieldErr(c, ferr)
	}
	if req.Application != "" && req.Application != integ.Name {
		return apiError(c, http.StatusForbidden, "application", "application %s may not raise incidents as %q", integ.Name, req.Application)
	}
	for i, t := range req.DynamicTargets {
		if ferr := h.targetExists(ctx, fmt.Sprintf("dynamic_targets[%d]", i), t); ferr != nil {
			return irisFieldErr(c, ferr)
		}
	}
	res, err := h.Intake.Open(ctx, handlers.NewAlert{Integration: integ, Plan: req.Plan, Title: req.Title,
		Message: req.Message, Source: "iris", Context: req.Context, Labels: req.Labels})
	switch {
	case errors.Is(err, handlers.ErrUnknownPlan) && res == nil:
		return apiError(c, http.StatusNotFound, "plan", "no published escalation plan named %q", req.Plan)
	case errors.Is(err, handlers.ErrServiceNotAllowed):
		return apiError(c, http.StatusForbidden, "plan", "%v", err)
	case errors.Is(err, handlers.ErrInvalidAlert):
		return apiError(c, http.StatusBadRequest, "context", "%v", err)
	case err != nil && (res == nil || res.Incident == nil):
		return err
	case err != nil:
		// The incident exists (and shows in Slack): answering an error
		// would make the client raise it again.
		h.log.ErrorContext(ctx, "Iris incident raised but paging failed", "incident", res.Incident.Number, "plan", req.Plan, "err", err)
	}
	inc := res.Incident
	if err := h.Store.RecordIrisIncident(ctx, inc.ID, req.Plan); err != nil {
		h.log.ErrorContext(ctx, "recording the plan of an Iris incident", "incident", inc.Number, "err", err)
	}
	if strings.HasPrefix(res.Paging, handlers.PagingStarted) {
		h.pageDynamic(ctx, inc, integ.Name, req.DynamicTargets)
	}
	c.Response().Header().Set("Location", fmt.Sprintf("/v0/incidents/%d", inc.Number))
	return c.JSON(http.StatusCreated, inc.Number)
}

// pageDynamic pages each dynamic target once. The incident is already
// raised: a failure is logged, not answered.
func (h *irisAPI) pageDynamic(ctx context.Context, inc *models.Incident, app string, targets []irisTarget) {
	for _, t := range targets {
		n, err := h.Pager.PagePeople(ctx, inc.ID, t.Role, t.Target, irisDynamicPriority, "", app)
		switch {
		case err != nil:
			h.log.ErrorContext(ctx, "paging an Iris dynamic target", "incident", inc.Number, "role", t.Role, "target", t.Target, "err", err)
		case n == 0:
			h.log.WarnContext(ctx, "Iris dynamic target resolves to nobody", "incident", inc.Number, "role", t.Role, "target", t.Target)
		}
	}
}

// targetExists checks that a person or team named by a role exists, so a
// typo is a 400 before anything is raised.
func (h *irisAPI) targetExists(ctx context.Context, field string, t irisTarget) *irisFieldError {
	var err error
	what := "team"
	switch t.Role {
	case notifications.RoleSlackChannel:
		return nil
	case notifications.RoleUser:
		what = "person"
		var p *models.Person
		if p, err = h.Store.PersonByName(ctx, t.Target); err == nil && !p.Active {
			return irisBad(field+".target", "%s is not active", t.Target)
		}
	default:
		_, err = h.Store.TeamByName(ctx, t.Target)
	}
	if models.IsNotFound(err) {
		return irisBad(field+".target", "no %s named %q", what, t.Target)
	}
	if err != nil {
		return irisBad(field+".target", "could not be checked")
	}
	return nil
}

// irisIncident is Iris's incident JSON. created and updated are Unix
// seconds; active and resolved are 0 or 1, as Iris's MySQL answered;
// current_step counts from 1 once paging started.
type irisIncident struct {
	ID          int64           `json:"id"`
	Plan        string          `json:"plan"`
	Created     int64           `json:"created"`
	Updated     int64           `json:"updated"`
	Context     json.RawMessage `json:"context"`
	Owner       *string         `json:"owner"`
	Active      int             `json:"active"`
	Resolved    int             `json:"resolved"`
	Application string          `json:"application"`
	CurrentStep int             `json:"current_step"`
	Title       string          `json:"title"`
}

func irisIncidentJSON(v *models.IrisView) irisIncident {
	inc := v.Incident
	out := irisIncident{ID: inc.Number, Plan: v.Plan, Created: inc.CreatedAt.Unix(), Updated: inc.UpdatedAt.Unix(),
		Context: json.RawMessage(`{}`), Application: inc.Application, Title: inc.Title}
	var obj map[string]json.RawMessage
	if json.Unmarshal([]byte(inc.Context), &obj) == nil && obj != nil {
		out.Context = json.RawMessage(inc.Context)
	}
	if v.Owner != "" {
		out.Owner = &v.Owner
	}
	if v.Active {
		out.Active = 1
	}
	if !inc.IsOpen() {
		out.Resolved = 1
	}
	if v.Escalated {
		out.CurrentStep = v.Step + 1
	}
	return out
}

// load finds an incident by its id for the calling integration: 400 for
// a malformed id, 404 for none, 403 for one raised by another
// application for a service outside the caller's scope.
func (h *irisAPI) load(c echo.Context, field string, raw string) (*models.IrisView, error) {
	ctx, integ := c.Request().Context(), integrationOf(c)
	number, err := parseIrisID(raw)
	if err != nil {
		return nil, apiError(c, http.StatusBadRequest, field, "%v", err)
	}
	v, err := h.Store.IrisIncidentView(ctx, number)
	if models.IsNotFound(err) {
		return nil, apiError(c, http.StatusNotFound, field, "no incident %d", number)
	}
	if err != nil {
		return nil, err
	}
	if v.Incident.Application == integ.Name {
		return v, nil
	}
	if sid := v.Incident.ServiceID; sid != nil {
		ids, err := h.Store.IntegrationServiceIDs(ctx, integ.ID)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			if id == *sid {
				return v, nil
			}
		}
	}
	return nil, apiError(c, http.StatusForbidden, field, "incident %d was not raised by application %s, nor for one of its services", number, integ.Name)
}

// irisAnswered reports whether load already wrote the (error) response.
func irisAnswered(c echo.Context) bool { return c.Response().Committed }

func (h *irisAPI) get(c echo.Context) error {
	v, err := h.load(c, "id", c.Param("id"))
	if err != nil || irisAnswered(c) {
		return err
	}
	return c.JSON(http.StatusOK, irisIncidentJSON(v))
}

// setOwner claims an incident for owner, or unclaims it (nil): paging
// stops or resumes. A claim of an incident already claimed keeps the
// first owner, as a second Slack click does.
func (h *irisAPI) setOwner(ctx context.Context, app string, inc *models.Incident, owner *string) error {
	state, by := handlers.StateOpen, app
	if owner != nil {
		state, by = handlers.StateClaimed, *owner
	}
	_, err := h.Intake.SetState(ctx, inc.ID, state, by)
	if errors.Is(err, models.ErrNoChange) {
		return nil
	}
	if err != nil {
		return err
	}
	return h.Store.SetIrisOwner(ctx, inc.ID, owner)
}

// ownerExists checks a claimer is an active person.
func (h *irisAPI) ownerExists(ctx context.Context, owner *string) *irisFieldError {
	if owner == nil {
		return nil
	}
	p, err := h.Store.PersonByName(ctx, *owner)
	switch {
	case models.IsNotFound(err) || (err == nil && !p.Active):
		return irisBad("owner", "no active person named %q", *owner)
	case err != nil:
		return irisBad("owner", "could not be checked")
	}
	return nil
}

// claim is POST /v0/incidents/{id} {"owner": name|null}.
func (h *irisAPI) claim(c echo.Context) error {
	ctx, integ := c.Request().Context(), integrationOf(c)
	owner, ferr := parseIrisClaim(irisBody(c))
	if ferr != nil {
		return irisFieldErr(c, ferr)
	}
	v, err := h.load(c, "id", c.Param("id"))
	if err != nil || irisAnswered(c) {
		return err
	}
	if ferr := h.ownerExists(ctx, owner); ferr != nil {
		return irisFieldErr(c, ferr)
	}
	if err := h.setOwner(ctx, integ.Name, v.Incident, owner); err != nil {
		return err
	}
	if v, err = h.Store.IrisIncidentView(ctx, v.Incident.Number); err != nil {
		return err
	}
	out := irisIncidentJSON(v)
	return c.JSON(http.StatusOK, map[string]any{"incident_id": v.Incident.Number, "owner": out.Owner, "active": v.Active})
}

// claimMany is POST /v0/incidents/claim {owner, incident_ids}: every id is
// checked before anything changes; the answer sorts them by whether they
// ended up claimed (no longer escalating) or not.
func (h *irisAPI) claimMany(c echo.Context) error {
	ctx, integ := c.Request().Context(), integrationOf(c)
	owner, ids, ferr := parseIrisClaimMany(irisBody(c))
	if ferr != nil {
		return irisFieldErr(c, ferr)
	}
	if ferr := h.ownerExists(ctx, owner); ferr != nil {
		return irisFieldErr(c, ferr)
	}
	views := make([]*models.IrisView, len(ids))
	for i, id := range ids {
		v, err := h.load(c, fmt.Sprintf("incident_ids[%d]", i), fmt.Sprint(id))
		if err != nil || irisAnswered(c) {
			return err
		}
		views[i] = v
	}
	claimed, unclaimed := []int64{}, []int64{}
	for _, v := range views {
		if err := h.setOwner(ctx, integ.Name, v.Incident, owner); err != nil {
			return err
		}
		now, err := h.Store.IrisIncidentView(ctx, v.Incident.Number)
		if err != nil {
			return err
		}
		if now.Active {
			unclaimed = append(unclaimed, now.Incident.Number)
		} else {
			claimed = append(claimed, now.Incident.Number)
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"owner": owner, "claimed": claimed, "unclaimed": unclaimed})
}

// resolve is POST /v0/incidents/{id}/resolve {"resolved": bool}.
func (h *irisAPI) resolve(c echo.Context) error {
	ctx, integ := c.Request().Context(), integrationOf(c)
	resolved, ferr := parseIrisResolve(irisBody(c))
	if ferr != nil {
		return irisFieldErr(c, ferr)
	}
	v, err := h.load(c, "id", c.Param("id"))
	if err != nil || irisAnswered(c) {
		return err
	}
	switch {
	case resolved:
		_, err = h.Intake.SetState(ctx, v.Incident.ID, handlers.StateResolved, integ.Name)
	case !v.Incident.IsOpen():
		_, err = h.Intake.SetState(ctx, v.Incident.ID, handlers.StateOpen, integ.Name)
	}
	if err != nil && !errors.Is(err, models.ErrNoChange) {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"incident_id": v.Incident.Number, "resolved": resolved})
}
