package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/models"
)

// IntegrationAdmin manages integration keys. The AdminAPI given to the
// server implements it to serve /api/v1/integrations.
type IntegrationAdmin interface {
	// CreateIntegration returns the new integration's key: shown once.
	CreateIntegration(ctx context.Context, n models.NewIntegration) (string, error)
	// RotateIntegration returns a new primary key; the old one stays
	// valid as the secondary until FinishIntegrationRotation.
	RotateIntegration(ctx context.Context, name string) (string, error)
	// FinishIntegrationRotation drops the secondary key and says whether
	// there was one.
	FinishIntegrationRotation(ctx context.Context, name string) (bool, error)
	RevokeIntegration(ctx context.Context, name string) error
	Integrations(ctx context.Context) ([]models.IntegrationSummary, error)
}

// registerIntegrations adds the integration endpoints when the admin API
// implements IntegrationAdmin (the OpenAPI route test notices if it does
// not).
func (a *adminAPI) registerIntegrations(g *echo.Group) {
	ia, ok := a.api.(IntegrationAdmin)
	if !ok {
		return
	}
	h := &integrationAdmin{admin: a, api: ia}
	g.POST("/integrations", h.create)
	g.GET("/integrations", h.list)
	g.POST("/integrations/:name/rotate", h.rotate)
	g.POST("/integrations/:name/finish-rotation", h.finishRotation)
	g.POST("/integrations/:name/revoke", h.revoke)
}

type integrationAdmin struct {
	admin *adminAPI
	api   IntegrationAdmin
}

// integrationKeyAnswer carries a key: the only time it is shown.
type integrationKeyAnswer struct {
	Name string `json:"name"`
	Key  string `json:"key"`
}

// parseNewIntegration validates a POST /api/v1/integrations body.
func parseNewIntegration(body []byte) (models.NewIntegration, *inputError) {
	var n models.NewIntegration
	obj, ferr := decodeJSONObject(body, "name", "services", "quota_per_minute")
	if ferr != nil {
		return n, ferr
	}
	if n.Name, ferr = jsonStringField(obj, "name"); ferr != nil {
		return n, ferr
	}
	if n.Name = strings.TrimSpace(n.Name); n.Name == "" {
		return n, inputErrorf("name", "is required")
	}
	if err := models.ValidIntegrationName(n.Name); err != nil {
		return n, inputErrorf("name", "1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
	}
	raw, ok := obj["services"]
	if !ok {
		return n, inputErrorf("services", "is required: the names of the services the key may raise incidents for")
	}
	if err := json.Unmarshal(raw, &n.Services); err != nil {
		return n, inputErrorf("services", "must be an array of service names")
	}
	if len(n.Services) == 0 {
		return n, inputErrorf("services", "needs at least one service")
	}
	for i, s := range n.Services {
		if strings.TrimSpace(s) == "" {
			return n, inputErrorf("services", "service %d is empty", i+1)
		}
	}
	if raw, ok := obj["quota_per_minute"]; ok {
		if err := json.Unmarshal(raw, &n.QuotaPerMinute); err != nil || n.QuotaPerMinute < 0 || n.QuotaPerMinute > models.MaxIntegrationQuota {
			return n, inputErrorf("quota_per_minute", "must be a whole number from 0 (unlimited) to %d", models.MaxIntegrationQuota)
		}
	}
	return n, nil
}

func (h *integrationAdmin) create(c echo.Context) error {
	body, err := h.admin.readBody(c)
	if err != nil {
		return err
	}
	n, ferr := parseNewIntegration(body)
	if ferr != nil {
		return answerInputError(c, ferr)
	}
	key, err := h.api.CreateIntegration(c.Request().Context(), n)
	switch {
	case errors.Is(err, models.ErrIntegrationExists):
		return apiError(c, http.StatusConflict, "name", "an integration named %q exists", n.Name)
	case models.IsNotFound(err):
		return apiError(c, http.StatusNotFound, "services", "%v", err)
	case errors.Is(err, models.ErrInvalid):
		return apiError(c, http.StatusBadRequest, "", "%v", err)
	case err != nil:
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusCreated, integrationKeyAnswer{Name: n.Name, Key: key})
}

func (h *integrationAdmin) list(c echo.Context) error {
	ins, err := h.api.Integrations(c.Request().Context())
	if err != nil {
		return err
	}
	if ins == nil {
		ins = []models.IntegrationSummary{}
	}
	return c.JSON(http.StatusOK, map[string]any{"integrations": ins})
}

// unknownIntegration answers 404 for a name nobody has.
func unknownIntegration(c echo.Context, err error) (bool, error) {
	if models.IsNotFound(err) {
		return true, apiError(c, http.StatusNotFound, "name", "no integration named %q", c.Param("name"))
	}
	return false, err
}

func (h *integrationAdmin) rotate(c echo.Context) error {
	key, err := h.api.RotateIntegration(c.Request().Context(), c.Param("name"))
	if done, err := unknownIntegration(c, err); done || err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, integrationKeyAnswer{Name: c.Param("name"), Key: key})
}

func (h *integrationAdmin) finishRotation(c echo.Context) error {
	had, err := h.api.FinishIntegrationRotation(c.Request().Context(), c.Param("name"))
	if done, err := unknownIntegration(c, err); done || err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"name": c.Param("name"), "secondary_dropped": had})
}

func (h *integrationAdmin) revoke(c echo.Context) error {
	err := h.api.RevokeIntegration(c.Request().Context(), c.Param("name"))
	if done, err := unknownIntegration(c, err); done || err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"name": c.Param("name"), "revoked": true})
}
