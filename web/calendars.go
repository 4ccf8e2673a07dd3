package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
)

// The iCalendar feeds: GET /calendars/schedules/{token}.ics (one
// schedule) and /calendars/people/{token}.ics (one person, every
// schedule). The token in the URL is the only key: a calendar client
// sends no header. A refused token is a 404, as an unknown path would be,
// so a guess learns nothing.

// Feed window and refresh.
const (
	feedPast    = 30 * 24 * time.Hour
	feedAhead   = 90 * 24 * time.Hour
	feedRefresh = time.Hour
)

// feedToken is the token of a feed's file name ({token}.ics); ok is false
// for any other name.
func feedToken(file string) (string, bool) {
	token, ok := strings.CutSuffix(file, ".ics")
	if !ok || token == "" || len(token) > 256 {
		return "", false
	}
	return token, true
}

func (h *onCallEndpoints) scheduleFeed(c echo.Context) error {
	return h.feed(c, h.api.ScheduleFeed)
}

func (h *onCallEndpoints) personFeed(c echo.Context) error {
	return h.feed(c, h.api.PersonFeed)
}

func (h *onCallEndpoints) feed(c echo.Context, load func(ctx context.Context, token string, from, to time.Time) (*notifications.CalendarFeed, error)) error {
	token, ok := feedToken(c.Param("file"))
	if !ok {
		return echo.NewHTTPError(http.StatusNotFound, "no such calendar")
	}
	now := h.clock.Now().UTC()
	feed, err := load(c.Request().Context(), token, now.Add(-feedPast), now.Add(feedAhead))
	if models.IsNotFound(err) {
		return echo.NewHTTPError(http.StatusNotFound, "no such calendar")
	}
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "private, no-store")
	return c.Blob(http.StatusOK, "text/calendar; charset=utf-8", feedCalendar(feed, now).encode())
}

// feedCalendar turns a feed into iCalendar events: "On call (primary):
// Alice" (a person's feed names the schedule too, "On call (primary,
// Payments): Alice"), the source described.
func feedCalendar(f *notifications.CalendarFeed, now time.Time) icalCalendar {
	cal := icalCalendar{Name: "On call: " + f.Name, Refresh: feedRefresh, Stamp: now, Events: make([]icalEvent, 0, len(f.Shifts))}
	for _, s := range f.Shifts {
		label := s.Role
		if f.Kind == models.CalendarTokenPerson {
			label += ", " + s.ScheduleName
		}
		desc := s.Description
		if s.ReplacedPerson != nil {
			desc += "\nInstead of " + s.ReplacedPerson.Display()
		}
		cal.Events = append(cal.Events, icalEvent{
			UID: shiftUID(s), Start: s.Start, End: s.End, Description: desc,
			Summary: fmt.Sprintf("On call (%s): %s", label, s.Person.Display()),
		})
	}
	return cal
}

// shiftUID identifies a shift across fetches of any feed: the same
// schedule, rotation or override, role, person and start.
func shiftUID(s notifications.ShiftView) string {
	by := "rotation:" + s.RotationID
	if s.OverrideID != "" {
		by = "override:" + s.OverrideID
	}
	sum := sha256.Sum256([]byte(strings.Join([]string{s.ScheduleID, by, s.Role, s.Person.ID, s.Start.UTC().Format(time.RFC3339)}, "\x00")))
	return hex.EncodeToString(sum[:16]) + "@herald"
}
