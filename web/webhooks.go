package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/handlers"
	"github.com/heraldhq/herald/models"
)

// AlertGroupReceiver acts on the alert groups monitoring systems post;
// *handlers.AlertGroups implements it.
type AlertGroupReceiver interface {
	ReceiveAlertGroup(ctx context.Context, g handlers.AlertGroup) (*handlers.AlertGroupResult, error)
}

// WebhookOptions wires the monitoring webhooks
// (/api/v1/webhooks/alertmanager, /grafana, /generic).
type WebhookOptions struct {
	Auth   IntegrationAuth
	Groups AlertGroupReceiver
	// MaxBodyBytes bounds a notification (default 1 MiB).
	MaxBodyBytes int64
}

// registerWebhooks adds the monitoring webhooks, each authenticated by an
// integration key before its body is read.
func registerWebhooks(e *echo.Echo, o Options) {
	w := &webhooks{groups: o.Webhooks.Groups, log: o.Log, maxBody: o.Webhooks.MaxBodyBytes}
	if w.maxBody <= 0 {
		w.maxBody = DefaultMaxBodyBytes
	}
	if w.log == nil {
		w.log = slog.Default()
	}
	g := e.Group("/api/v1/webhooks", requireIntegration(o.Webhooks.Auth))
	g.POST("/alertmanager", w.alertmanager)
	g.POST("/grafana", w.grafana)
	g.POST("/generic", w.generic)
}

type webhooks struct {
	groups  AlertGroupReceiver
	log     *slog.Logger
	maxBody int64
}

// parsedGroup is a parsed notification and what was odd about it.
type parsedGroup struct {
	handlers.AlertGroup
	Warnings []string
}

// groupParser parses a notification's body for an integration; service
// is the ?service= query parameter ("" when absent).
type groupParser func(body []byte, in *models.Integration, service string) (*parsedGroup, error)

func (w *webhooks) alertmanager(c echo.Context) error {
	return w.receive(c, func(body []byte, _ *models.Integration, service string) (*parsedGroup, error) {
		return parseAlertmanager(body, service)
	})
}

func (w *webhooks) grafana(c echo.Context) error {
	return w.receive(c, func(body []byte, _ *models.Integration, service string) (*parsedGroup, error) {
		return parseGrafana(body, service)
	})
}

func (w *webhooks) generic(c echo.Context) error {
	return w.receive(c, parseGeneric)
}

// webhookAnswer is what a monitoring system is told.
type webhookAnswer struct {
	Incident int64    `json:"incident,omitempty"` // the incident's number
	Action   string   `json:"action"`
	State    string   `json:"state,omitempty"` // OPEN, CLAIMED or RESOLVED
	Paging   string   `json:"paging,omitempty"`
	Changes  int      `json:"changes"` // alert transitions recorded
	Reason   string   `json:"reason,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
}

// receive reads, parses and hands on one notification: 413 over the size
// limit, 400 naming the field for a bad payload, 404 and 403 for a
// service that is unknown or not the key's; nothing is stored then.
func (w *webhooks) receive(c echo.Context, parse groupParser) error {
	body, err := readAPIBody(c, w.maxBody)
	if err != nil {
		return err
	}
	in := integrationOf(c)
	g, err := parse(body, in, strings.TrimSpace(c.QueryParam("service")))
	var fe *fieldError
	if errors.As(err, &fe) {
		return apiError(c, http.StatusBadRequest, fe.Field, "%s", fe.Msg)
	}
	if err != nil {
		return err
	}
	g.Integration = in
	ctx := c.Request().Context()
	res, err := w.groups.ReceiveAlertGroup(ctx, g.AlertGroup)
	switch {
	case errors.Is(err, handlers.ErrUnknownService):
		return apiError(c, http.StatusNotFound, "service", "%s", err)
	case errors.Is(err, handlers.ErrServiceNotAllowed):
		return apiError(c, http.StatusForbidden, "service", "%s", err)
	case errors.Is(err, handlers.ErrInvalidAlert):
		return apiError(c, http.StatusBadRequest, "", "%s", err)
	case err != nil:
		return fmt.Errorf("receiving a %s alert group: %w", g.Source, err)
	}
	ans := webhookAnswer{Action: res.Action, Paging: res.Paging, Changes: res.Changes, Reason: res.Reason, Warnings: g.Warnings}
	if res.Incident != nil {
		ans.Incident, ans.State = res.Incident.Number, handlers.StateOf(res.Incident)
	}
	w.log.InfoContext(ctx, "alert group received", "source", g.Source, "integration", in.Name, "service", g.Service,
		"action", res.Action, "incident", ans.Incident, "changes", res.Changes)
	status := http.StatusOK
	if res.Created {
		status = http.StatusCreated
	}
	return c.JSON(status, ans)
}

// fieldError is a bad payload: which field (a dotted JSON path such as
// "alerts.0.status") and what is wrong. The answer is a 400 naming it.
type fieldError struct {
	Field string
	Msg   string
}

func (e *fieldError) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return e.Field + ": " + e.Msg
}

func badField(field, format string, args ...any) *fieldError {
	return &fieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// decodeJSON decodes one JSON value into v; a syntax error, a value of the
// wrong type (named by its field) or trailing data is a fieldError.
func decodeJSON(body []byte, v any, useNumber bool) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return badField("", "empty body: send the notification as JSON")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if useNumber {
		dec.UseNumber()
	}
	err := dec.Decode(v)
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return badField("", "malformed JSON at byte %d: %s", se.Offset, se.Error())
	case errors.As(err, &te):
		if te.Field == "" {
			return badField("", "must be a JSON object, not %s", te.Value)
		}
		return badField(te.Field, "must be %s, not %s", jsonTypeName(te.Type.Kind().String()), te.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badField("", "malformed JSON: the body ends too early")
	case err != nil:
		return badField("", "malformed JSON: %s", err.Error())
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return badField("", "malformed JSON: more data after the JSON value")
	}
	return nil
}

func jsonTypeName(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "map", "struct":
		return "an object (of strings)"
	case "slice", "array":
		return "an array"
	case "int", "int64", "float64":
		return "a number"
	case "bool":
		return "true or false"
	}
	return "a " + kind
}

// alertSeverity maps a monitoring system's severity word onto Herald's:
// critical → SEV1 (CRIT), error/major → SEV2 (ERR), warning → SEV3 (WARN),
// info → SEV4; also sev1-sev4, 1-4 and Herald's names.
func alertSeverity(v string) (models.Severity, bool) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "critical", "crit", "fatal", "emergency", "page":
		return models.SEV1, true
	case "error", "err", "major", "high":
		return models.SEV2, true
	case "warning", "warn", "minor", "medium":
		return models.SEV3, true
	case "info", "informational", "notice", "low", "none":
		return models.SEV4, true
	}
	s, err := models.ParseSeverity(v)
	return s, err == nil
}

// oneLine is text fit for a title: one line, no control characters,
// at most max runes (an ellipsis marks a cut).
func oneLine(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f || r == utf8.RuneError {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	return clip(s, max)
}

// clip cuts text to at most max runes, marking the cut.
func clip(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:max-1])) + "…"
}

// runbookLink accepts an http(s) address that is safe inside Slack's
// <link> markup.
func runbookLink(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 2048 || strings.ContainsAny(s, "<>| \t\r\n\"") {
		return "", false
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", false
	}
	return s, true
}

// contextJSON encodes an alert's context; maps encode with sorted keys,
// so the same notification gives the same context.
func contextJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		// Only strings, maps of strings and numbers go in: cannot fail.
		panic(fmt.Sprintf("encoding alert context: %v", err))
	}
	return string(b)
}

// Title and text limits.
const (
	maxGroupTitle   = models.MaxTitleLength
	maxGroupMessage = 4000
	maxAlertName    = 200
)
