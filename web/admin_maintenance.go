package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/models"
)

// MaintenanceAPI is what the admin API's maintenance windows drive;
// *handlers.Maintenance implements it.
type MaintenanceAPI interface {
	CreateWindow(ctx context.Context, in models.MaintenanceInput, by string) (*models.MaintenanceWindow, error)
	Windows(ctx context.Context) ([]models.MaintenanceWindow, error)
	DeleteWindow(ctx context.Context, name string) error
}

// maxMaintenanceBody bounds a window's JSON.
const maxMaintenanceBody = 64 << 10

// registerMaintenance serves the admin API's maintenance windows (the
// admin key, like the rest of the admin API):
// POST /api/v1/maintenance creates one, GET lists them, DELETE
// /api/v1/maintenance/{name} removes one the API made.
func registerMaintenance(e *echo.Echo, o Options) {
	auth := (&adminAPI{keyHash: sha256.Sum256([]byte(o.AdminAPIKey))}).authenticate
	m := &maintenanceEndpoints{api: o.Maintenance, clock: o.Clock}
	if m.clock == nil {
		m.clock = models.SystemClock{}
	}
	e.POST("/api/v1/maintenance", m.create, auth)
	e.GET("/api/v1/maintenance", m.list, auth)
	e.DELETE("/api/v1/maintenance/:name", m.remove, auth)
}

type maintenanceEndpoints struct {
	api   MaintenanceAPI
	clock models.Clock
}

// maintenanceRequest is the body of POST /api/v1/maintenance.
type maintenanceRequest struct {
	models.MaintenanceInput
	CreatedBy string `json:"created_by"`
}

// maintenanceWindow is a window as the API shows it.
type maintenanceWindow struct {
	ID string `json:"id"`
	models.MaintenanceInput
	CreatedBy string    `json:"created_by"`
	ManagedBy string    `json:"managed_by"`
	CreatedAt time.Time `json:"created_at"`
	// Active says whether the window holds alerts now; Until is when the
	// current occurrence ends.
	Active bool       `json:"active"`
	Until  *time.Time `json:"until,omitempty"`
}

// maintenanceProblems is the 400 answer naming every bad field.
type maintenanceProblems struct {
	APIError
	Problems models.InputErrors `json:"problems"`
}

func (m *maintenanceEndpoints) show(w *models.MaintenanceWindow) maintenanceWindow {
	out := maintenanceWindow{ID: w.ID, MaintenanceInput: w.Input(), CreatedBy: w.CreatedBy, ManagedBy: w.ManagedBy, CreatedAt: w.CreatedAt.UTC()}
	if _, end, ok := w.OccurrenceAt(m.clock.Now()); ok {
		out.Active, out.Until = true, &end
	}
	return out
}

func (m *maintenanceEndpoints) create(c echo.Context) error {
	body, err := readAPIBody(c, maxMaintenanceBody)
	if err != nil {
		return err
	}
	req, field, err := parseMaintenanceRequest(body)
	if err != nil {
		return apiError(c, http.StatusBadRequest, field, "%s", err.Error())
	}
	w, err := m.api.CreateWindow(c.Request().Context(), req.MaintenanceInput, strings.TrimSpace(req.CreatedBy))
	var problems models.InputErrors
	switch {
	case errors.As(err, &problems) && len(problems) > 0:
		return c.JSON(http.StatusBadRequest, maintenanceProblems{
			APIError: APIError{Error: fmt.Sprintf("%d problem(s), nothing created: %s", len(problems), problems.Error()), Field: problems[0].Field},
			Problems: problems,
		})
	case errors.Is(err, models.ErrDuplicate):
		return apiError(c, http.StatusConflict, "name", "a maintenance window named %q exists already", req.Name)
	case err != nil:
		return err
	}
	return c.JSON(http.StatusCreated, m.show(w))
}

func (m *maintenanceEndpoints) list(c echo.Context) error {
	ws, err := m.api.Windows(c.Request().Context())
	if err != nil {
		return err
	}
	out := make([]maintenanceWindow, len(ws))
	for i := range ws {
		out[i] = m.show(&ws[i])
	}
	return c.JSON(http.StatusOK, map[string]any{"windows": out})
}

func (m *maintenanceEndpoints) remove(c echo.Context) error {
	name := c.Param("name")
	err := m.api.DeleteWindow(c.Request().Context(), name)
	switch {
	case models.IsNotFound(err):
		return apiError(c, http.StatusNotFound, "name", "no maintenance window named %q", name)
	case errors.Is(err, models.ErrManagedByConfig):
		return apiError(c, http.StatusConflict, "name", "maintenance window %q comes from the configuration file: remove it there and run herald apply", name)
	case err != nil:
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// parseMaintenanceRequest decodes a window strictly: one JSON object, no
// unknown fields. Its error names the field at fault.
func parseMaintenanceRequest(body []byte) (*maintenanceRequest, string, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, "", errors.New("body must be a JSON object describing the window")
	}
	var req maintenanceRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return nil, maintenanceErrField(err), fmt.Errorf("body is not a valid window: %s", maintenanceErrText(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, "", errors.New("body must hold one JSON object, nothing after it")
	}
	return &req, "", nil
}

// maintenanceErrField names the field a decoding error is about, if it is
// about one.
func maintenanceErrField(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return maintenanceFieldPath(te.Field)
	}
	if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return strings.Trim(f, `"`)
	}
	return ""
}

func maintenanceErrText(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("%s must be %s, not %s", maintenanceFieldPath(te.Field), maintenanceKind(te.Type.Kind().String()), te.Value)
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

func maintenanceKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "map", "struct":
		return "an object"
	case "slice":
		return "an array"
	}
	return k
}

// maintenanceFieldPath is a decoding error's field as the client wrote it:
// without the Go name of the embedded struct that holds it.
func maintenanceFieldPath(f string) string {
	return strings.TrimPrefix(f, "MaintenanceInput.")
}
