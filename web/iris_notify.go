package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
)

// notify is POST /v0/notifications: an out-of-band message, sent on the
// calling integration's behalf (its people's per-application preferences
// apply). Iris answers 200 with an empty list; so does Herald, with the
// number of messages queued in X-Herald-Queued.
func (h *irisAPI) notify(c echo.Context) error {
	ctx, integ := c.Request().Context(), integrationOf(c)
	n, ferr := parseIrisNotification(irisBody(c))
	if ferr != nil {
		return irisFieldErr(c, ferr)
	}
	subject, body := n.Subject, n.Body
	if n.Template != "" {
		if subject, body, ferr = h.renderTemplate(c, n, integ.Name); ferr != nil {
			return irisFieldErr(c, ferr)
		}
	}
	queued := 0
	for _, t := range n.Targets {
		o := notifications.OutOfBand{Role: t.Role, Target: t.Target, Priority: n.Priority, Mode: n.Mode,
			Subject: subject, Body: body, Application: integ.Name}
		if n.Priority != "" {
			o.Mode = "" // a priority overrides a mode, as in Iris
		}
		got, err := h.Pager.Notify(ctx, o)
		switch {
		case errors.Is(err, notifications.ErrInvalidPage) && n.List:
			// Iris sends a target list best-effort: a bad entry is skipped.
			h.log.WarnContext(ctx, "Iris notification target skipped", "application", integ.Name, "role", t.Role, "target", t.Target, "err", err)
		case errors.Is(err, notifications.ErrInvalidPage):
			return apiError(c, http.StatusBadRequest, "", "%v", err)
		case err != nil:
			return err
		}
		queued += got
	}
	c.Response().Header().Set("X-Herald-Queued", strconv.Itoa(queued))
	return c.JSONBlob(http.StatusOK, []byte("[]"))
}

// renderTemplate renders a notification's template with its context, in
// the template's text for the mode the message is most likely to go by:
// the forced mode, else the priority's first default mode, else the first
// mode the template has (slack, email, sms, call). A template sees
// .Context (the context object) and .Application.
func (h *irisAPI) renderTemplate(c echo.Context, n *irisNotification, app string) (subject, body string, ferr *irisFieldError) {
	row, err := h.Store.Template(c.Request().Context(), n.Template)
	if models.IsNotFound(err) {
		return "", "", irisBad("template", "no template named %q", n.Template)
	}
	if err != nil {
		return "", "", irisBad("template", "could not be loaded")
	}
	var modes notifications.TemplateModes
	if err := json.Unmarshal([]byte(row.Definition), &modes); err != nil {
		return "", "", irisBad("template", "template %q is not valid: %v", n.Template, err)
	}
	var order []notifications.Mode
	if n.Mode != "" && n.Priority == "" {
		order = append(order, n.Mode)
	}
	order = append(order, notifications.DefaultModes[n.Priority]...)
	order = append(order, notifications.ModeSlack, notifications.ModeEmail, notifications.ModeSMS, notifications.ModeCall)
	content, found := notifications.TemplateContent{}, false
	for _, m := range order {
		if content, found = modes[string(m)]; found {
			break
		}
	}
	if !found {
		return "", "", irisBad("template", "template %q has no text for any mode", n.Template)
	}
	vars := n.Context
	if vars == nil {
		vars = map[string]any{}
	}
	data := map[string]any{"Context": vars, "Application": app}
	subject = n.Subject
	if content.Subject != "" {
		if subject, err = notifications.RenderTemplate(content.Subject, data); err != nil {
			return "", "", irisBad("template", "subject of %q: %v", n.Template, err)
		}
	}
	if body, err = notifications.RenderTemplate(content.Body, data); err != nil {
		return "", "", irisBad("template", "body of %q: %v", n.Template, err)
	}
	if len(body) > notifications.MaxOutOfBandBody {
		return "", "", irisBad("template", "rendered body is longer than %d bytes", notifications.MaxOutOfBandBody)
	}
	return subject, body, nil
}
