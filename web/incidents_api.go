package web

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/handlers"
	"github.com/heraldhq/herald/models"
)

// IncidentsAPI is the alert intake the incidents API drives;
// *handlers.Intake implements it.
type IncidentsAPI interface {
	Open(ctx context.Context, a handlers.NewAlert) (*handlers.AlertResult, error)
	SetState(ctx context.Context, incidentID int64, state, by string) (*models.Incident, error)
	IncidentURL(number int64) string
}

// IncidentsStore is what the incidents API reads and records besides the
// intake; *models.Store implements it.
type IncidentsStore interface {
	IncidentByNumber(ctx context.Context, number int64) (*models.Incident, error)
	ListServiceIncidents(ctx context.Context, f models.ServiceIncidentFilter) ([]models.Incident, error)
	IntegrationServiceIDs(ctx context.Context, integrationID string) ([]string, error)
	ServiceByName(ctx context.Context, name string) (*models.Service, error)
	ServicesByID(ctx context.Context, ids []string) (map[string]*models.Service, error)
	APIAnswerFor(ctx context.Context, integrationID, key string) (*models.APIAnswer, error)
	SaveAPIAnswer(ctx context.Context, a models.APIAnswer) (*models.APIAnswer, error)
}

// incidentsAPI serves /api/v1/incidents to integrations (bearer keys).
type incidentsAPI struct {
	intake IncidentsAPI
	store  IncidentsStore
	clock  models.Clock
	log    *slog.Logger
}

func registerIncidentsAPI(e *echo.Echo, o Options) {
	a := &incidentsAPI{intake: o.Intake, store: o.IntakeStore, clock: o.Clock, log: o.Log}
	if a.clock == nil {
		a.clock = models.SystemClock{}
	}
	if a.log == nil {
		a.log = slog.Default()
	}
	auth := requireIntegration(o.IntegrationAuth)
	e.PUT("/api/v1/incidents", a.create, auth)
	e.GET("/api/v1/incidents", a.list, auth)
	e.GET("/api/v1/incidents/:number", a.get, auth)
	e.POST("/api/v1/incidents/:number", a.setState, auth)
	e.GET("/api/v1/openapi.json", serveOpenAPI)
}

// apiIncident is an incident as the API shows it.
type apiIncident struct {
	ID             int64           `json:"id"`
	Number         int64           `json:"number"`
	Title          string          `json:"title"`
	Message        string          `json:"message"`
	Severity       *string         `json:"severity"`
	State          string          `json:"state"`
	Service        *string         `json:"service"`
	Source         string          `json:"source"`
	Application    string          `json:"application"`
	DedupKey       *string         `json:"dedup_key"`
	Occurrences    int             `json:"occurrences"`
	LastSeenAt     *time.Time      `json:"last_seen_at"`
	DetectedAt     *time.Time      `json:"detected_at"`
	CreatedAt      time.Time       `json:"created_at"`
	AcknowledgedAt *time.Time      `json:"acknowledged_at"`
	ResolvedAt     *time.Time      `json:"resolved_at"`
	Context        json.RawMessage `json:"context"`
	URL            string          `json:"url"`
}

func apiUTC(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func (a *incidentsAPI) show(inc *models.Incident, services map[string]*models.Service) apiIncident {
	out := apiIncident{
		ID: inc.ID, Number: inc.Number, Title: inc.Title, Message: inc.Summary, State: handlers.StateOf(inc),
		Source: inc.Source, Application: inc.Application, DedupKey: inc.DedupKey, Occurrences: inc.Occurrences,
		LastSeenAt: apiUTC(inc.LastSeenAt), DetectedAt: apiUTC(inc.DetectedAt), CreatedAt: inc.CreatedAt.UTC(),
		AcknowledgedAt: apiUTC(inc.AcknowledgedAt), ResolvedAt: apiUTC(inc.ResolvedAt),
		Context: json.RawMessage(`{}`), URL: a.intake.IncidentURL(inc.Number),
	}
	if s := apiSeverityName(inc.Severity); s != "" {
		out.Severity = &s
	}
	if inc.ServiceID != nil {
		if svc, ok := services[*inc.ServiceID]; ok {
			out.Service = &svc.Name
		}
	}
	if inc.Context != "" && json.Valid([]byte(inc.Context)) {
		out.Context = json.RawMessage(inc.Context)
	}
	return out
}

// showOne renders one incident with its service's name.
func (a *incidentsAPI) showOne(ctx context.Context, inc *models.Incident) (apiIncident, error) {
	var ids []string
	if inc.ServiceID != nil {
		ids = []string{*inc.ServiceID}
	}
	services, err := a.store.ServicesByID(ctx, ids)
	if err != nil {
		return apiIncident{}, err
	}
	return a.show(inc, services), nil
}

// incidentCreateAnswer is the answer to PUT /api/v1/incidents.
type incidentCreateAnswer struct {
	Number      int64  `json:"number"`
	ID          int64  `json:"id"`
	State       string `json:"state"`
	Paging      string `json:"paging"`
	Created     bool   `json:"created"`
	Occurrences int    `json:"occurrences"`
	URL         string `json:"url"`
}

// inFlightAfter is how long after an incident was created by a request
// with an Idempotency-Key a twin of that request is told to retry (the
// first is still paging) rather than given a reconstructed answer (the
// first died before recording its answer).
const inFlightAfter = 30 * time.Second

func (a *incidentsAPI) create(c echo.Context) error {
	ctx := c.Request().Context()
	integ := integrationOf(c)
	idemKey, ferr := parseIdempotencyKey(c.Request().Header.Values("Idempotency-Key"))
	if ferr != nil {
		return answerInputError(c, ferr)
	}
	body, err := readAPIBody(c, maxIncidentsAPIBody)
	if err != nil {
		return err
	}
	req, ferr := parseCreateRequest(body, a.clock.Now())
	if ferr != nil {
		return answerInputError(c, ferr)
	}
	if idemKey != "" {
		if ans, err := a.store.APIAnswerFor(ctx, integ.ID, idemKey); err == nil {
			return replayAnswer(c, ans)
		} else if !models.IsNotFound(err) {
			return err
		}
	}
	res, err := a.intake.Open(ctx, handlers.NewAlert{
		Integration: integ, Service: req.Service, Severity: req.Severity, Title: req.Title, Message: req.Message,
		DetectedAt: req.DetectedAt, Source: req.Source, DedupKey: req.DedupKey, Context: req.Context, IdempotencyKey: idemKey,
	})
	switch {
	case errors.Is(err, handlers.ErrUnknownService):
		return apiError(c, http.StatusNotFound, "service", "unknown service %q", req.Service)
	case errors.Is(err, handlers.ErrServiceNotAllowed):
		return apiError(c, http.StatusForbidden, "service", "this integration key may not raise incidents for service %q", req.Service)
	case errors.Is(err, handlers.ErrInvalidAlert):
		return apiError(c, http.StatusBadRequest, "", "%v", err)
	case err != nil && (res == nil || res.Incident == nil):
		return err
	case err != nil:
		// The incident is recorded (a retry would find it); only paging
		// failed, which the server log explains.
		a.log.ErrorContext(ctx, "incident raised but paging did not start", "incident", res.Incident.Number, "err", err)
		res.Paging = "paging did not start (see the server log); the incident is recorded"
	}
	inc := res.Incident
	ans := incidentCreateAnswer{Number: inc.Number, ID: inc.ID, State: handlers.StateOf(inc), Paging: res.Paging,
		Created: res.Created, Occurrences: inc.Occurrences, URL: a.intake.IncidentURL(inc.Number)}
	status := http.StatusOK
	if res.Created {
		status = http.StatusCreated
	}
	if idemKey == "" {
		return c.JSON(status, ans)
	}
	if !res.Created && createdWithKey(inc, integ.ID, idemKey) {
		// A twin of this request created the incident and has not recorded
		// its answer yet: still paging, or it died.
		if stored, err := a.store.APIAnswerFor(ctx, integ.ID, idemKey); err == nil {
			return replayAnswer(c, stored)
		}
		if a.clock.Now().Sub(inc.CreatedAt) < inFlightAfter {
			c.Response().Header().Set("Retry-After", "1")
			return apiError(c, http.StatusConflict, "Idempotency-Key", "a request with this Idempotency-Key is still being processed; retry")
		}
		status, ans.Created, ans.Paging = http.StatusCreated, true, "unknown: the request that created this incident did not finish; see its timeline"
	}
	b, err := json.Marshal(ans)
	if err != nil {
		return err
	}
	stored, err := a.store.SaveAPIAnswer(ctx, models.APIAnswer{IntegrationID: integ.ID, IdempotencyKey: idemKey, Status: status, Body: string(b)})
	if err != nil {
		return err
	}
	if stored.Body != string(b) {
		return replayAnswer(c, stored)
	}
	return c.JSONBlob(status, b)
}

// createdWithKey reports whether inc was created by a request with this
// integration's idempotency key (handlers.Intake.Open stores it as
// "api:<integration id>:<key>").
func createdWithKey(inc *models.Incident, integrationID, key string) bool {
	return inc.IdempotencyKey != nil && *inc.IdempotencyKey == "api:"+integrationID+":"+key
}

// replayAnswer answers with a stored first answer.
func replayAnswer(c echo.Context, ans *models.APIAnswer) error {
	c.Response().Header().Set("Idempotent-Replayed", "true")
	return c.JSONBlob(ans.Status, []byte(ans.Body))
}

func answerInputError(c echo.Context, ferr *inputError) error {
	return apiError(c, http.StatusBadRequest, ferr.Field, "%s", ferr.Error())
}

// incidentInScope loads an incident by the path's number and checks the
// integration may see it: 404 unknown, 403 another service's. It has
// answered when it returns nil.
func (a *incidentsAPI) incidentInScope(c echo.Context, number int64) (*models.Incident, error) {
	ctx := c.Request().Context()
	inc, err := a.store.IncidentByNumber(ctx, number)
	if models.IsNotFound(err) {
		return nil, apiError(c, http.StatusNotFound, "number", "no incident #%d", number)
	}
	if err != nil {
		return nil, err
	}
	ids, err := a.store.IntegrationServiceIDs(ctx, integrationOf(c).ID)
	if err != nil {
		return nil, err
	}
	if inc.ServiceID == nil || !slices.Contains(ids, *inc.ServiceID) {
		return nil, apiError(c, http.StatusForbidden, "number", "incident #%d is not of a service this integration key is scoped to", number)
	}
	return inc, nil
}

func (a *incidentsAPI) get(c echo.Context) error {
	number, ferr := parseAPINumber(c.Param("number"))
	if ferr != nil {
		return answerInputError(c, ferr)
	}
	inc, err := a.incidentInScope(c, number)
	if inc == nil {
		return err
	}
	out, err := a.showOne(c.Request().Context(), inc)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// incidentStateAnswer is an incident after a state change, and whether it changed.
type incidentStateAnswer struct {
	apiIncident
	Changed bool `json:"changed"`
}

func (a *incidentsAPI) setState(c echo.Context) error {
	ctx := c.Request().Context()
	number, ferr := parseAPINumber(c.Param("number"))
	if ferr != nil {
		return answerInputError(c, ferr)
	}
	body, err := readAPIBody(c, maxIncidentsAPIBody)
	if err != nil {
		return err
	}
	req, ferr := parseStateRequest(body)
	if ferr != nil {
		return answerInputError(c, ferr)
	}
	inc, err := a.incidentInScope(c, number)
	if inc == nil {
		return err
	}
	by := integrationOf(c).Name
	if req.By != "" {
		by = req.By + " via " + by
	}
	updated, err := a.intake.SetState(ctx, inc.ID, req.State, by)
	changed := true
	switch {
	case errors.Is(err, models.ErrNoChange):
		updated, changed = inc, false
	case errors.Is(err, handlers.ErrUnknownIncident):
		return apiError(c, http.StatusNotFound, "number", "no incident #%d", number)
	case errors.Is(err, handlers.ErrInvalidState):
		return apiError(c, http.StatusBadRequest, "state", "%v", err)
	case err != nil:
		return err
	}
	out, err := a.showOne(ctx, updated)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, incidentStateAnswer{apiIncident: out, Changed: changed})
}

// incidentListAnswer is one page of incidents.
type incidentListAnswer struct {
	Incidents  []apiIncident `json:"incidents"`
	NextCursor string        `json:"next_cursor,omitempty"`
}

func (a *incidentsAPI) list(c echo.Context) error {
	ctx := c.Request().Context()
	q, ferr := parseListQuery(c.QueryParams())
	if ferr != nil {
		return answerInputError(c, ferr)
	}
	ids, err := a.store.IntegrationServiceIDs(ctx, integrationOf(c).ID)
	if err != nil {
		return err
	}
	if q.Service != "" {
		svc, err := a.store.ServiceByName(ctx, q.Service)
		if models.IsNotFound(err) {
			return apiError(c, http.StatusNotFound, "service", "unknown service %q", q.Service)
		}
		if err != nil {
			return err
		}
		if !slices.Contains(ids, svc.ID) {
			return apiError(c, http.StatusForbidden, "service", "this integration key is not scoped to service %q", q.Service)
		}
		ids = []string{svc.ID}
	}
	incs, err := a.store.ListServiceIncidents(ctx, models.ServiceIncidentFilter{
		ServiceIDs: ids, State: q.State, Since: q.Since, BeforeNumber: q.Before, Limit: q.Limit + 1,
	})
	if err != nil {
		return err
	}
	out := incidentListAnswer{Incidents: []apiIncident{}}
	if len(incs) > q.Limit {
		incs = incs[:q.Limit]
		out.NextCursor = encodeIncidentCursor(incs[len(incs)-1].Number)
	}
	services, err := a.store.ServicesByID(ctx, ids)
	if err != nil {
		return err
	}
	for i := range incs {
		out.Incidents = append(out.Incidents, a.show(&incs[i], services))
	}
	return c.JSON(http.StatusOK, out)
}
