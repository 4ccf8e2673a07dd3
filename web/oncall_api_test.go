package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/notifications"
)

// renderShift is "person start→end source" in UTC, for compact
// expectations.
func renderShift(s *notifications.ShiftView) string {
	if s == nil {
		return "<none>"
	}
	line := fmt.Sprintf("%s %s→%s %s", s.Person.Name, s.Start.UTC().Format("01-02T15:04"), s.End.UTC().Format("01-02T15:04"), s.Source)
	if s.ReplacedPerson != nil {
		line += "/" + s.ReplacedPerson.Name
	}
	return line
}

// renderRole is "role status person [shift] next [next]".
func renderRole(r notifications.RoleOnCall) string {
	who := "-"
	if r.Person != nil {
		who = r.Person.Name
	}
	return fmt.Sprintf("%s %s %s [%s] next [%s]", r.Role, r.Status, who, renderShift(r.Shift), renderShift(r.Next))
}

// TestTeamOnCallAPI: who is on call for each role of a team at an
// instant, from its schedules (rotations, windows, overrides), a gap, or
// the static assignment; and the errors.
func TestTeamOnCallAPI(t *testing.T) {
	t.Parallel()
	for _, dialect := range testdb.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			env := newOnCallEnv(t, dialect)
			for _, tc := range []struct {
				team, at string
				want     []string
			}{
				{"payments", "", []string{ // now: Friday 09:26 UTC
					"primary scheduled bob [bob 03-14T09:00→03-15T09:00 rotation] next [alice 03-15T09:00→03-15T10:00 rotation]",
					"secondary scheduled carol [carol 03-14T09:00→03-14T17:00 rotation] next [carol 03-17T09:00→03-17T17:00 rotation]",
				}},
				{"payments", "2025-03-17T12:00:00Z", []string{ // dave covers alice
					"primary scheduled dave [dave 03-17T09:00→03-17T21:00 override/alice] next [alice 03-17T21:00→03-18T09:00 rotation]",
					"secondary scheduled carol [carol 03-17T09:00→03-17T17:00 rotation] next [carol 03-18T09:00→03-18T17:00 rotation]",
				}},
				{"payments", "2025-03-15T11:00:00%2B00:00", []string{ // Saturday: the weekend layer; no secondary
					"primary scheduled carol [carol 03-15T10:00→03-15T12:00 rotation] next [alice 03-15T12:00→03-16T09:00 rotation]",
					"secondary gap - [<none>] next [carol 03-17T09:00→03-17T17:00 rotation]",
				}},
				{"payments", "2025-02-20T12:00:00Z", []string{ // before the rotations start: nobody, no static assignment
					"primary nobody - [<none>] next [alice 03-01T09:00→03-02T09:00 rotation]",
					"secondary nobody - [<none>] next [carol 03-03T09:00→03-03T17:00 rotation]",
				}},
				{"ops", "", []string{
					"primary static alice [<none>] next [<none>]",
					"secondary nobody - [<none>] next [<none>]",
				}},
			} {
				path := "/api/v1/teams/" + tc.team + "/oncall"
				if tc.at != "" {
					path += "?at=" + tc.at
				}
				var got notifications.TeamOnCall
				if r := env.admin(http.MethodGet, path, &got); r.Status != http.StatusOK {
					t.Fatalf("GET %s: %d %s", path, r.Status, r.Body)
				}
				var lines []string
				for _, r := range got.Roles {
					lines = append(lines, renderRole(r))
				}
				if strings.Join(lines, "\n") != strings.Join(tc.want, "\n") {
					t.Errorf("GET %s:\n got:\n  %s\nwant:\n  %s", path, strings.Join(lines, "\n  "), strings.Join(tc.want, "\n  "))
				}
				if got.Team != tc.team {
					t.Errorf("GET %s: team %q", path, got.Team)
				}
			}

			var now notifications.TeamOnCall
			env.admin(http.MethodGet, "/api/v1/teams/payments/oncall", &now)
			primary := now.Roles[0]
			if !now.At.Equal(onCallStart) || primary.Shift.ScheduleID != env.payments.ID || primary.Shift.RotationName != "daily" ||
				primary.Shift.RotationID == "" || primary.Description != "primary, Payments daily" || primary.Source != "rotation" {
				t.Errorf("the primary's details: %+v at %s", primary, now.At)
			}
			var static notifications.TeamOnCall
			env.admin(http.MethodGet, "/api/v1/teams/ops/oncall", &static)
			if p := static.Roles[0].Person; p == nil || p.SlackUserID != "U0ALICE" || p.FullName != alicesFullName || static.Roles[0].Source != "static" {
				t.Errorf("the static primary: %+v", static.Roles[0])
			}

			wantAPIError(t, "unknown team", env.call(http.MethodGet, "/api/v1/teams/nope/oncall", onCallAdminKey), http.StatusNotFound, "team")
			if r := env.call(http.MethodGet, "/api/v1/teams/no%2Fpe%20x/oncall", onCallAdminKey); r.Status != http.StatusNotFound || !strings.Contains(string(r.Body), `\"no/pe x\"`) {
				t.Errorf("an escaped team name: %d %s, want 404 naming it unescaped", r.Status, r.Body)
			}
			for _, at := range []string{"tomorrow", "2025-03-14", "2025-03-14T09:00:00", url.QueryEscape("2025-03-14 09:00:00Z"), "2999-01-01T00:00:00Z"} {
				wantAPIError(t, "at="+at, env.call(http.MethodGet, "/api/v1/teams/payments/oncall?at="+at, onCallAdminKey), http.StatusBadRequest, "at")
			}
			for _, key := range []string{"", "wrong"} {
				if r := env.call(http.MethodGet, "/api/v1/teams/payments/oncall", key); r.Status != http.StatusUnauthorized || r.Header.Get("WWW-Authenticate") == "" {
					t.Errorf("key %q: %d %s, want 401", key, r.Status, r.Body)
				}
			}
		})
	}
}

// TestScheduleShiftsAPI: a schedule's shifts over a range (those crossing
// its ends whole), each role's gaps and overlaps, the default and maximum
// ranges, and the errors.
func TestScheduleShiftsAPI(t *testing.T) {
	t.Parallel()
	for _, dialect := range testdb.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			env := newOnCallEnv(t, dialect)
			base := "/api/v1/schedules/" + env.payments.ID + "/shifts"
			var got notifications.ScheduleShifts
			if r := env.admin(http.MethodGet, base+"?from=2025-03-15T00:00:00Z&to=2025-03-17T00:00:00Z", &got); r.Status != http.StatusOK {
				t.Fatalf("shifts: %d %s", r.Status, r.Body)
			}
			var lines []string
			for i := range got.Shifts {
				lines = append(lines, got.Shifts[i].Role+" "+renderShift(&got.Shifts[i]))
			}
			want := []string{
				"primary bob 03-14T09:00→03-15T09:00 rotation", // whole: started before the range
				"primary alice 03-15T09:00→03-15T10:00 rotation",
				"primary carol 03-15T10:00→03-15T12:00 rotation",
				"primary alice 03-15T12:00→03-16T09:00 rotation",
				"primary bob 03-16T09:00→03-16T10:00 rotation",
				"primary carol 03-16T10:00→03-16T12:00 rotation",
				"primary bob 03-16T12:00→03-17T09:00 rotation", // whole: ends after the range
			}
			if strings.Join(lines, "\n") != strings.Join(want, "\n") {
				t.Errorf("shifts:\n got:\n  %s\nwant:\n  %s", strings.Join(lines, "\n  "), strings.Join(want, "\n  "))
			}
			if got.Schedule.Name != "Payments" || got.Schedule.TimeZone != "Europe/London" || !got.From.Equal(utc("2025-03-15T00:00:00Z")) {
				t.Errorf("schedule %+v from %s", got.Schedule, got.From)
			}
			var cov []string
			for _, c := range got.Coverage {
				for _, g := range c.Gaps {
					cov = append(cov, fmt.Sprintf("%s gap %s→%s", c.Role, g.Start.Format("01-02T15:04"), g.End.Format("01-02T15:04")))
				}
				for _, o := range c.Overlaps {
					var who []string
					for _, s := range o.Shifts {
						who = append(who, s.Person.Name+"/"+s.RotationName)
					}
					cov = append(cov, fmt.Sprintf("%s overlap %s→%s %s", c.Role, o.Start.Format("01-02T15:04"), o.End.Format("01-02T15:04"), strings.Join(who, ",")))
				}
			}
			wantCov := []string{
				"primary overlap 03-15T10:00→03-15T12:00 alice/daily,carol/weekend",
				"primary overlap 03-16T10:00→03-16T12:00 bob/daily,carol/weekend",
				"secondary gap 03-15T00:00→03-17T00:00",
			}
			if strings.Join(cov, "\n") != strings.Join(wantCov, "\n") {
				t.Errorf("coverage:\n got:\n  %s\nwant:\n  %s", strings.Join(cov, "\n  "), strings.Join(wantCov, "\n  "))
			}

			var def notifications.ScheduleShifts
			env.admin(http.MethodGet, base, &def)
			if !def.From.Equal(onCallStart) || !def.To.Equal(onCallStart.Add(14*24*time.Hour)) || len(def.Shifts) < 14 {
				t.Errorf("default range %s→%s, %d shifts", def.From, def.To, len(def.Shifts))
			}
			if r := env.admin(http.MethodGet, base+"?from=2025-03-01T00:00:00Z&to=2025-06-02T00:00:00Z", nil); r.Status != http.StatusOK {
				t.Errorf("a 93-day range: %d %s", r.Status, r.Body)
			}

			for _, bad := range []struct{ query, field string }{
				{"from=yesterday", "from"},
				{"to=2025-13-01T00:00:00Z", "to"},
				{"from=2025-03-15T00:00:00Z&to=2025-03-15T00:00:00Z", "to"},
				{"from=2025-03-15T00:00:00Z&to=2025-03-14T00:00:00Z", "to"},
				{"to=2025-03-01T00:00:00Z", "to"}, // before now, the default from
				{"from=2025-03-01T00:00:00Z&to=2025-06-02T00:00:01Z", "to"},
			} {
				wantAPIError(t, bad.query, env.call(http.MethodGet, base+"?"+bad.query, onCallAdminKey), http.StatusBadRequest, bad.field)
			}
			wantAPIError(t, "unknown schedule", env.call(http.MethodGet, "/api/v1/schedules/nope/shifts", onCallAdminKey), http.StatusNotFound, "id")
			if r := env.call(http.MethodGet, base, ""); r.Status != http.StatusUnauthorized {
				t.Errorf("no key: %d", r.Status)
			}
		})
	}
}
