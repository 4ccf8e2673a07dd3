package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/models"
)

// HeartbeatReceiver records heartbeat check-ins; *handlers.Heartbeats
// implements it.
type HeartbeatReceiver interface {
	CheckIn(ctx context.Context, integ *models.Integration, service string) ([]models.HeartbeatCheckIn, error)
}

// maxHeartbeatBody bounds a check-in's body: it names a service at most.
const maxHeartbeatBody = 4 << 10

// registerHeartbeat serves POST /api/v1/heartbeat, authenticated with the
// integration's key (before the body is read) and counted against its
// quota.
func registerHeartbeat(e *echo.Echo, o Options) {
	h := &heartbeatEndpoint{receiver: o.Heartbeats}
	e.POST("/api/v1/heartbeat", h.checkIn, requireIntegration(o.IntegrationAuth))
}

type heartbeatEndpoint struct {
	receiver HeartbeatReceiver
}

// heartbeatAnswer is the answer to a check-in.
type heartbeatAnswer struct {
	Integration string                    `json:"integration"`
	CheckedIn   []models.HeartbeatCheckIn `json:"checked_in"`
}

func (h *heartbeatEndpoint) checkIn(c echo.Context) error {
	in := integrationOf(c)
	body, err := readAPIBody(c, maxHeartbeatBody)
	if err != nil {
		return err
	}
	service, field, err := parseHeartbeatRequest(body, c.QueryParam("service"))
	if err != nil {
		return apiError(c, http.StatusBadRequest, field, "%s", err.Error())
	}
	out, err := h.receiver.CheckIn(c.Request().Context(), in, service)
	if errors.Is(err, models.ErrNoHeartbeat) {
		if service != "" {
			return apiError(c, http.StatusNotFound, "service", "integration %s has no heartbeat monitor for service %q (declare it under heartbeats: in the configuration)", in.Name, service)
		}
		return apiError(c, http.StatusNotFound, "", "integration %s has no heartbeat monitor (declare one under heartbeats: in the configuration)", in.Name)
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, heartbeatAnswer{Integration: in.Name, CheckedIn: out})
}

// parseHeartbeatRequest reads the service a check-in is for: the query's
// ?service= or the body's {"service": "..."}, or neither (every monitor of
// the integration). The error names the field at fault.
func parseHeartbeatRequest(body []byte, query string) (service, field string, err error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return checkServiceName("service", query)
	}
	var req struct {
		Service *string `json:"service"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field == "service" {
			return "", "service", errors.New("service must be a string")
		}
		return "", "", fmt.Errorf(`body must be empty or a JSON object {"service": "<name>"}: %s`, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return "", "", errors.New("body must hold one JSON object, nothing after it")
	}
	if req.Service == nil {
		return checkServiceName("service", query)
	}
	if query != "" && query != *req.Service {
		return "", "service", fmt.Errorf("the query names service %q and the body %q: name one", query, *req.Service)
	}
	return checkServiceName("service", *req.Service)
}

func checkServiceName(field, name string) (string, string, error) {
	if len(name) > 64 {
		return "", field, errors.New("service names are at most 64 characters")
	}
	return name, "", nil
}
