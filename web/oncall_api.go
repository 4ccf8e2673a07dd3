package web

import (
	"context"
	"crypto/sha256"
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
)

// OnCallAPI answers who is on call, schedules' shifts and the calendar
// feeds, and manages the feeds' tokens; notifications.OnCallViews
// implements it. Not-found errors (models.IsNotFound) become 404s.
type OnCallAPI interface {
	TeamOnCall(ctx context.Context, team string, at time.Time) (*notifications.TeamOnCall, error)
	ScheduleShifts(ctx context.Context, scheduleID string, from, to time.Time) (*notifications.ScheduleShifts, error)
	ScheduleFeed(ctx context.Context, token string, from, to time.Time) (*notifications.CalendarFeed, error)
	PersonFeed(ctx context.Context, token string, from, to time.Time) (*notifications.CalendarFeed, error)
	// IssueCalendarToken makes a feed token for a schedule (by id) or a
	// person (by name), revoking the one it had (rotated).
	IssueCalendarToken(ctx context.Context, kind, subject string) (token string, rotated bool, err error)
	RevokeCalendarToken(ctx context.Context, kind, subject string) error
}

// Limits of the on-call endpoints.
const (
	// MaxShiftsRange bounds GET /api/v1/schedules/{id}/shifts.
	MaxShiftsRange = 93 * 24 * time.Hour
	// defaultShiftsRange is its range without `to`.
	defaultShiftsRange = 14 * 24 * time.Hour
	// maxTimeDistance bounds how far from now a queried time may be.
	maxTimeDistance = 10 * 366 * 24 * time.Hour
)

// registerOnCall serves the calendar feeds (their token is their key)
// and, with an admin key, the on-call admin endpoints (the admin key, like
// the rest of the admin API).
func registerOnCall(e *echo.Echo, o Options) {
	h := &onCallEndpoints{api: o.OnCall, clock: o.Clock}
	if h.clock == nil {
		h.clock = models.SystemClock{}
	}
	e.GET("/calendars/schedules/:file", h.scheduleFeed)
	e.GET("/calendars/people/:file", h.personFeed)
	if o.AdminAPIKey == "" {
		return
	}
	auth := (&adminAPI{keyHash: sha256.Sum256([]byte(o.AdminAPIKey))}).authenticate
	e.GET("/api/v1/teams/:team/oncall", h.teamOnCall, auth)
	e.GET("/api/v1/schedules/:id/shifts", h.shifts, auth)
	e.POST("/api/v1/schedules/:id/calendar-token", h.issueToken(models.CalendarTokenSchedule, "id"), auth)
	e.DELETE("/api/v1/schedules/:id/calendar-token", h.revokeToken(models.CalendarTokenSchedule, "id"), auth)
	e.POST("/api/v1/people/:name/calendar-token", h.issueToken(models.CalendarTokenPerson, "name"), auth)
	e.DELETE("/api/v1/people/:name/calendar-token", h.revokeToken(models.CalendarTokenPerson, "name"), auth)
}

type onCallEndpoints struct {
	api   OnCallAPI
	clock models.Clock
}

// pathParam is a path parameter unescaped: Echo routes on the raw path
// when the request escaped more than it had to (%2F), and leaves the
// parameters escaped then.
func pathParam(c echo.Context, name string) string {
	v := c.Param(name)
	if c.Request().URL.RawPath == "" {
		return v
	}
	if u, err := url.PathUnescape(v); err == nil {
		return u
	}
	return v
}

// parseQueryTime reads an RFC 3339 time parameter (name=v) within
// maxTimeDistance of now; ok is false when it is absent.
func parseQueryTime(name, v string, now time.Time) (t time.Time, ok bool, ferr *inputError) {
	if v == "" {
		return time.Time{}, false, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, false, inputErrorf(name, "%q is not an RFC 3339 time such as 2025-03-30T09:00:00Z", v)
	}
	if d := t.Sub(now); d > maxTimeDistance || d < -maxTimeDistance {
		return time.Time{}, false, inputErrorf(name, "%q is more than 10 years from now", v)
	}
	return t.UTC(), true, nil
}

// parseShiftsRange reads the from and to parameters of the shifts
// endpoint: from defaults to now, to to from + 14 days; to must be after
// from, at most MaxShiftsRange later.
func parseShiftsRange(fromParam, toParam string, now time.Time) (from, to time.Time, ferr *inputError) {
	from, hasFrom, ferr := parseQueryTime("from", fromParam, now)
	if ferr != nil {
		return from, to, ferr
	}
	to, hasTo, ferr := parseQueryTime("to", toParam, now)
	if ferr != nil {
		return from, to, ferr
	}
	if !hasFrom {
		from = now.UTC()
	}
	if !hasTo {
		to = from.Add(defaultShiftsRange)
	}
	switch {
	case !to.After(from):
		return from, to, inputErrorf("to", "%s must be after from (%s)", to.Format(time.RFC3339), from.Format(time.RFC3339))
	case to.Sub(from) > MaxShiftsRange:
		return from, to, inputErrorf("to", "the range from %s to %s is longer than %d days", from.Format(time.RFC3339), to.Format(time.RFC3339), MaxShiftsRange/(24*time.Hour))
	}
	return from, to, nil
}

func (h *onCallEndpoints) teamOnCall(c echo.Context) error {
	now := h.clock.Now().UTC()
	at, ok, ferr := parseQueryTime("at", c.QueryParam("at"), now)
	if ferr != nil {
		return answerInputError(c, ferr)
	}
	if !ok {
		at = now
	}
	team := pathParam(c, "team")
	out, err := h.api.TeamOnCall(c.Request().Context(), team, at)
	if models.IsNotFound(err) {
		return apiError(c, http.StatusNotFound, "team", "no team named %q", team)
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (h *onCallEndpoints) shifts(c echo.Context) error {
	from, to, ferr := parseShiftsRange(c.QueryParam("from"), c.QueryParam("to"), h.clock.Now())
	if ferr != nil {
		return answerInputError(c, ferr)
	}
	id := pathParam(c, "id")
	out, err := h.api.ScheduleShifts(c.Request().Context(), id, from, to)
	if models.IsNotFound(err) {
		return apiError(c, http.StatusNotFound, "id", "no schedule with id %q", id)
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// calendarTokenAnswer carries a feed token: the only time it is shown.
type calendarTokenAnswer struct {
	Kind    string `json:"kind"`
	Subject string `json:"subject"`
	Token   string `json:"token"`
	// Path is the feed's URL path, under Herald's base URL.
	Path    string `json:"path"`
	Rotated bool   `json:"rotated"`
}

// feedPath is the URL path of a feed.
func feedPath(kind, token string) string {
	if kind == models.CalendarTokenPerson {
		return "/calendars/people/" + token + ".ics"
	}
	return "/calendars/schedules/" + token + ".ics"
}

func (h *onCallEndpoints) issueToken(kind, param string) echo.HandlerFunc {
	return func(c echo.Context) error {
		subject := pathParam(c, param)
		token, rotated, err := h.api.IssueCalendarToken(c.Request().Context(), kind, subject)
		if models.IsNotFound(err) {
			return apiError(c, http.StatusNotFound, param, "no %s %s %q", kind, subjectWord(param), subject)
		}
		if err != nil {
			return err
		}
		c.Response().Header().Set("Cache-Control", "no-store")
		return c.JSON(http.StatusCreated, calendarTokenAnswer{Kind: kind, Subject: subject, Token: token, Path: feedPath(kind, token), Rotated: rotated})
	}
}

func (h *onCallEndpoints) revokeToken(kind, param string) echo.HandlerFunc {
	return func(c echo.Context) error {
		subject := pathParam(c, param)
		err := h.api.RevokeCalendarToken(c.Request().Context(), kind, subject)
		if models.IsNotFound(err) {
			return apiError(c, http.StatusNotFound, param, "no calendar token in force for %s %s %q (or no such %s)", kind, subjectWord(param), subject, kind)
		}
		if err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	}
}

func subjectWord(param string) string {
	if param == "id" {
		return "with id"
	}
	return "named"
}
