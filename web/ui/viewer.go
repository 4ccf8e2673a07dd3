package ui

import (
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/models"
)

// Viewer is the signed-in user of a request and what they may do.
type Viewer struct {
	User models.WebUser
	// CSRF is the session's form token.
	CSRF string
	// Location is the zone times are shown in; ZoneName names it.
	Location  *time.Location
	ZoneName  string
	teamAdmin map[string]bool
}

func rank(role string) int {
	switch role {
	case models.WebRoleAdmin:
		return 3
	case models.WebRoleMember:
		return 2
	case models.WebRoleViewer:
		return 1
	}
	return 0
}

// Has reports whether the viewer's role is at least need.
func (v *Viewer) Has(need Need) bool {
	switch need {
	case NeedNothing:
		return true
	case NeedViewer:
		return rank(v.User.Role) >= 1
	case NeedMember:
		return rank(v.User.Role) >= 2
	case NeedAdmin:
		return rank(v.User.Role) >= 3
	}
	return false
}

// IsAdmin reports whether the viewer is an admin.
func (v *Viewer) IsAdmin() bool { return v.Has(NeedAdmin) }

// CanEditTeam reports whether the viewer may edit a team's plans,
// schedules and services: admins, and members who are that team's admin.
func (v *Viewer) CanEditTeam(teamID string) bool {
	return v.IsAdmin() || (v.Has(NeedMember) && teamID != "" && v.teamAdmin[teamID])
}

// TeamAdmin reports whether the viewer administers any team.
func (v *Viewer) TeamAdmin() bool { return v.Has(NeedMember) && len(v.teamAdmin) > 0 }

// CanEditPerson reports whether the viewer may change a person's contact
// methods and preferences: the person themselves, or an admin.
func (v *Viewer) CanEditPerson(personID string) bool {
	if v.IsAdmin() {
		return true
	}
	return v.Has(NeedMember) && v.User.PersonID != nil && *v.User.PersonID == personID
}

// ActorName is how the audit log names the viewer.
func (v *Viewer) ActorName() string { return "web:" + v.User.Name }

// SlackUserID is the viewer's Slack user id when they signed in with
// Slack (or a link made for a Slack user), else "".
func (v *Viewer) SlackUserID() string {
	if id, ok := strings.CutPrefix(v.User.Subject, "slack:"); ok {
		return id
	}
	return ""
}

// Time is a moment shown in the viewer's zone, with the zone named.
type Time struct {
	ISO   string // RFC 3339 in UTC, for <time datetime>
	Human string // "Sun 6 Dec 2026 14:05 CET"
	Zone  string // "Europe/Paris"
}

// At formats t for the viewer.
func (v *Viewer) At(t time.Time) Time {
	loc := v.Location
	if loc == nil {
		loc = time.UTC
	}
	lt := t.In(loc)
	return Time{ISO: t.UTC().Format(time.RFC3339), Human: lt.Format("Mon 2 Jan 2006 15:04 MST"), Zone: v.ZoneName}
}

// locationFor picks the zone to show times in: the user's own setting,
// else the browser's (ui.js stores it in a cookie), else UTC.
func (s *Server) locationFor(c echo.Context, u *models.WebUser) (*time.Location, string) {
	for _, name := range []string{u.TimeZone, cookieValue(c, tzCookie)} {
		if name == "" || len(name) > 64 {
			continue
		}
		if loc, err := time.LoadLocation(name); err == nil {
			return loc, name
		}
	}
	return time.UTC, "UTC"
}

func cookieValue(c echo.Context, name string) string {
	ck, err := c.Cookie(name)
	if err != nil {
		return ""
	}
	return ck.Value
}
