package ui

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/models"
)

func TestSchedulePagesNeedSignIn(t *testing.T) {
	f := newSchedFix(t, models.DialectSQLite, true)
	for _, path := range []string{"/schedules", "/schedules/payments", "/schedules/payments/overrides/new"} {
		rec := f.h.anonymous().get(path)
		if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/login?next=") {
			t.Fatalf("%s: %d %q", path, rec.Code, rec.Header().Get("Location"))
		}
	}
	rec := f.h.anonymous().postRaw("/schedules/payments/overrides", nil)
	expect(t, rec, http.StatusUnauthorized)
}

// The index shows each team with a schedule: who is on call now and next.
func TestScheduleIndex(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			f := newSchedFix(t, d, true)
			c := f.h.signIn("vic", models.WebRoleViewer, nil)
			// 2026-12-07 09:00 UTC is 04:00 in New York: the shift that began
			// at 09:00 on the 6th, then the 7th's.
			cur, next := f.dailyTurn(t, "2026-12-06"), f.dailyTurn(t, "2026-12-07")
			expect(t, c.get("/schedules"), http.StatusOK, "On-call schedules", `href="/schedules/payments"`, `href="/schedules/search"`,
				cur.FullName, next.FullName, "Mon 7 Dec 2026 14:00 UTC", "Carol Example")
		})
	}
}

func TestScheduleTeamPage(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			f := newSchedFix(t, d, true)
			viewer := f.h.signIn("vic", models.WebRoleViewer, nil)
			rec := viewer.get("/schedules/payments")
			expect(t, rec, http.StatusOK, "payments on call", "Week of Mon 7 Dec – Sun 13 Dec 2026", "Schedule Payments", "America/New_York",
				"Alice Example", "Bob Example", `rel="prev"`, "view=week&amp;start=2026-11-30", "view=week&amp;start=2026-12-14", "Month view", "Who may change this")
			if strings.Contains(rec.Body.String(), "Add an override") {
				t.Fatal("a viewer is offered the override form")
			}
			expect(t, viewer.get("/schedules/payments?view=month&start=2027-04-10"), http.StatusOK, "April 2027",
				`data-date="2027-03-29"`, `data-date="2027-05-02"`, "view=month&amp;start=2027-03-01", "view=month&amp;start=2027-05-01")
			expect(t, viewer.get("/schedules/payments?view=year"), http.StatusBadRequest, "view")
			expect(t, viewer.get("/schedules/payments?start=2026-13-01"), http.StatusBadRequest, "start")
			expect(t, viewer.get("/schedules/nosuch"), http.StatusNotFound, "nosuch")

			member := f.h.signIn("alice", models.WebRoleMember, &f.alice.ID)
			expect(t, member.get("/schedules/payments"), http.StatusOK, "Add an override")
			if strings.Contains(member.get("/schedules/payments").Body.String(), "Swap shifts") {
				t.Fatal("a member is offered swaps")
			}
			teamAdmin := f.h.signIn("tess", models.WebRoleMember, nil, f.payments.ID)
			expect(t, teamAdmin.get("/schedules/payments"), http.StatusOK, "Add an override", "Swap shifts")
			other := f.h.signIn("olga", models.WebRoleMember, nil, f.search.ID)
			if strings.Contains(other.get("/schedules/payments").Body.String(), "Add an override") {
				t.Fatal("another team's admin is offered the override form")
			}
		})
	}
}

// A secondary rotation covering weekday office hours only leaves gaps,
// shown as warnings on the days they fall.
func TestScheduleCalendarShowsGaps(t *testing.T) {
	f := newSchedFix(t, models.DialectSQLite, true)
	rot := &models.Rotation{ScheduleID: f.sched.ID, Name: "office", Role: models.RotationSecondary, ShiftKind: models.ShiftWeekly,
		HandoffTime: "09:00", HandoffWeekday: "mon", StartDate: "2026-11-02", Members: []string{f.bob.ID},
		Windows: models.RotationWindows{{Weekdays: []string{"mon", "tue", "wed", "thu", "fri"}, Start: "09:00", End: "17:00"}}}
	if err := f.h.Store.CreateRotation(t.Context(), models.Actor{Name: "test"}, rot); err != nil {
		t.Fatal(err)
	}
	c := f.h.signIn("vic", models.WebRoleViewer, nil)
	rec := c.inZone("America/New_York", http.MethodGet, "/schedules/payments?start=2026-12-07", nil)
	expect(t, rec, http.StatusOK, "gaps in this week", "only mon,tue,wed,thu,fri 09:00–17:00")
	mon := daySection(t, rec.Body.String(), "2026-12-07")
	last := -1
	for _, want := range []string{`class="shift gap"`, "No secondary 00:00–09:00", "Bob Example <span class=\"times\">09:00–17:00", "No secondary 17:00–24:00"} {
		i := strings.Index(mon, want)
		if i < last {
			t.Fatalf("Monday lacks %q, or not in time order:\n%s", want, mon)
		}
		last = i
	}
	if sun := daySection(t, rec.Body.String(), "2026-12-13"); !strings.Contains(sun, "No secondary 00:00–24:00") {
		t.Fatalf("Sunday lacks its whole-day gap:\n%s", sun)
	}
}

// Days are the viewer's days: across a daylight-saving change (New York
// springs forward on Sunday 8 March 2026, Paris on 29 March) each day
// shows who is on call at the right local times.
func TestScheduleCalendarAcrossDST(t *testing.T) {
	f := newSchedFix(t, models.DialectSQLite, true)
	c := f.h.signIn("vic", models.WebRoleViewer, nil)
	for _, start := range []string{"2026-03-02", "2026-03-09"} {
		body := c.inZone("America/New_York", http.MethodGet, "/schedules/payments?view=week&start="+start, nil).Body.String()
		day, _ := time.Parse("2006-01-02", start)
		for i := range 7 {
			date := day.AddDate(0, 0, i).Format("2006-01-02")
			prev := day.AddDate(0, 0, i-1).Format("2006-01-02")
			cell := daySection(t, body, date)
			for _, want := range []string{f.dailyTurn(t, prev).FullName + ` <span class="times">00:00–09:00`,
				f.dailyTurn(t, date).FullName + ` <span class="times">09:00–24:00`} {
				if !strings.Contains(cell, want) {
					t.Fatalf("%s (New York) lacks %q:\n%s", date, want, cell)
				}
			}
		}
	}
	// In Paris the 09:00 New York handoff is 15:00, then 14:00 from 8
	// March (New York changed), then 15:00 again from 29 March.
	for date, hhmm := range map[string]string{"2026-03-07": "15:00", "2026-03-08": "14:00", "2026-03-28": "14:00", "2026-03-29": "15:00"} {
		body := c.inZone("Europe/Paris", http.MethodGet, "/schedules/payments?view=month&start="+date, nil).Body.String()
		cell := daySection(t, body, date)
		if want := f.dailyTurn(t, date).FullName + ` <span class="times">` + hhmm + `–24:00`; !strings.Contains(cell, want) {
			t.Fatalf("%s (Paris) lacks %q:\n%s", date, want, cell)
		}
	}
}
