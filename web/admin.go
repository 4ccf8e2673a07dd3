package web

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/notifications"
)

// AdminAPI is what the admin REST API drives: configuration as code and
// out-of-band messages.
type AdminAPI interface {
	ApplyConfig(ctx context.Context, yaml []byte, prune, dryRun bool) (*notifications.Report, error)
	ExportConfig(ctx context.Context, includeSecrets bool) ([]byte, error)
	Notify(ctx context.Context, o notifications.OutOfBand) (int, error)
	SendVerification(ctx context.Context, contactMethodID string) error
	VerifyContact(ctx context.Context, contactMethodID, code string) error
}

// adminAPI serves /api/v1 for administrators, authenticated with
// HERALD_ADMIN_API_KEY as a bearer token.
type adminAPI struct {
	api     AdminAPI
	keyHash [32]byte
	maxBody int64
}

func registerAdmin(e *echo.Echo, api AdminAPI, key string, maxBody int64) {
	a := &adminAPI{api: api, keyHash: sha256.Sum256([]byte(key)), maxBody: maxBody}
	g := e.Group("/api/v1", a.authenticate)
	g.GET("/config", a.export)
	g.PUT("/config", a.apply)
	g.POST("/notifications", a.notify)
	a.registerVerification(g)
	a.registerIntegrations(g)
}

// authenticate compares digests in constant time, before any body is read.
func (a *adminAPI) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		token, ok := bearerToken(c.Request().Header.Get("Authorization"))
		got := sha256.Sum256([]byte(token))
		if !ok || subtle.ConstantTimeCompare(got[:], a.keyHash[:]) != 1 {
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="herald-admin"`)
			return echo.NewHTTPError(http.StatusUnauthorized, "missing or wrong admin API key (Authorization: Bearer <HERALD_ADMIN_API_KEY>)")
		}
		return next(c)
	}
}

func (a *adminAPI) readBody(c echo.Context) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, a.maxBody))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, echo.NewHTTPError(http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is larger than %d bytes", a.maxBody))
	}
	if err != nil {
		return nil, echo.NewHTTPError(http.StatusBadRequest, "could not read request body")
	}
	return body, nil
}

func queryBool(c echo.Context, name string) (bool, error) {
	v := c.QueryParam(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("query parameter %s=%q: expected true or false", name, v))
	}
	return b, nil
}

// configProblems is the 400 answer listing every problem of a file.
type configProblems struct {
	Error    string                     `json:"error"`
	Problems []notifications.FieldError `json:"problems"`
}

func (a *adminAPI) apply(c echo.Context) error {
	prune, err := queryBool(c, "prune")
	if err != nil {
		return err
	}
	dryRun, err := queryBool(c, "dry_run")
	if err != nil {
		return err
	}
	body, err := a.readBody(c)
	if err != nil {
		return err
	}
	report, err := a.api.ApplyConfig(c.Request().Context(), body, prune, dryRun)
	var problems notifications.Errors
	if errors.As(err, &problems) {
		return c.JSON(http.StatusBadRequest, configProblems{Error: fmt.Sprintf("%d problem(s); nothing applied", len(problems)), Problems: problems})
	}
	if errors.Is(err, notifications.ErrInvalidCatalog) {
		return echo.NewHTTPError(http.StatusBadRequest, err.Error())
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, report)
}

func (a *adminAPI) export(c echo.Context) error {
	secrets, err := queryBool(c, "include_secrets")
	if err != nil {
		return err
	}
	out, err := a.api.ExportConfig(c.Request().Context(), secrets)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.Blob(http.StatusOK, "application/yaml", out)
}

// notifyRequest is the JSON body of POST /api/v1/notifications.
type notifyRequest struct {
	Role     string `json:"role"`
	Target   string `json:"target"`
	Priority string `json:"priority"`
	Mode     string `json:"mode"`
	Subject  string `json:"subject"`
	Body     string `json:"body"`
}

func (a *adminAPI) notify(c echo.Context) error {
	body, err := a.readBody(c)
	if err != nil {
		return err
	}
	var req notifyRequest
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "body must be a JSON object with role, target, priority or mode, subject and body: "+err.Error())
	}
	n, err := a.api.Notify(c.Request().Context(), notifications.OutOfBand{
		Role: req.Role, Target: req.Target, Priority: req.Priority, Mode: notifications.Mode(req.Mode), Subject: req.Subject, Body: req.Body,
	})
	if errors.Is(err, notifications.ErrInvalidPage) {
		return echo.NewHTTPError(http.StatusBadRequest, err.Error())
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, map[string]int{"queued": n})
}
