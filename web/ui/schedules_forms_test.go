package ui

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications/schedule"
)

// coverForm is an override of payments' primary, tomorrow 10:00-18:00 in
// the viewer's zone (UTC unless the test sets one).
func coverForm(f *schedFix, person *models.Person) url.Values {
	return url.Values{"schedule": {f.sched.ID}, "role": {"primary"}, "person": {person.ID},
		"starts": {"2026-12-08T10:00"}, "ends": {"2026-12-08T18:00"}, "reason": {"dentist"}}
}

// Who may add an override: the boundaries, each leaving nothing stored
// when refused.
func TestScheduleOverridePermissions(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			f := newSchedFix(t, d, true)
			refused := []struct {
				name   string
				client *client
				form   url.Values
			}{
				{"viewer", f.h.signIn("vic", models.WebRoleViewer, &f.bob.ID), coverForm(f, f.bob)},
				{"admin of another team", f.h.signIn("olga", models.WebRoleMember, nil, f.search.ID), coverForm(f, f.bob)},
				{"member of another team covering themselves", f.h.signIn("carol", models.WebRoleMember, &f.carol.ID), coverForm(f, f.carol)},
				{"member covering someone else", f.h.signIn("alice", models.WebRoleMember, &f.alice.ID), coverForm(f, f.bob)},
				{"member not linked to a person", f.h.signIn("nobody", models.WebRoleMember, nil), coverForm(f, f.bob)},
			}
			for _, tc := range refused {
				expect(t, tc.client.post("/schedules/payments/overrides", tc.form), http.StatusForbidden, "Not allowed")
				if tc.name != "member covering someone else" { // may see the form, for themselves
					expect(t, tc.client.get("/schedules/payments/overrides/new"), http.StatusForbidden)
				}
				if got := f.overrides(t); len(got) != 0 {
					t.Fatalf("%s: stored %+v", tc.name, got)
				}
			}
			// Without the CSRF token nothing is stored either.
			admin := f.h.signIn("ada", models.WebRoleAdmin, nil)
			expect(t, admin.postRaw("/schedules/payments/overrides", coverForm(f, f.bob)), http.StatusForbidden, "Form expired")

			allowed := []struct {
				name   string
				client *client
				person *models.Person
			}{
				{"member covering themselves", f.h.signIn("alice", models.WebRoleMember, &f.alice.ID), f.alice},
				{"team admin", f.h.signIn("tess", models.WebRoleMember, nil, f.payments.ID), f.bob},
				{"admin", admin, f.carol},
			}
			for i, tc := range allowed {
				expect(t, tc.client.get("/schedules/payments/overrides/new"), http.StatusOK, "Add an override", `type="datetime-local"`)
				rec := tc.client.post("/schedules/payments/overrides", coverForm(f, tc.person))
				if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/schedules/payments?view=week&start=2026-12-08" {
					t.Fatalf("%s: %d %q\n%s", tc.name, rec.Code, rec.Header().Get("Location"), truncate(rec.Body.String(), 2000))
				}
				got := f.overrides(t)
				if len(got) != i+1 {
					t.Fatalf("%s: %d overrides stored", tc.name, len(got))
				}
				o := got[i]
				want := time.Date(2026, 12, 8, 10, 0, 0, 0, time.UTC)
				if o.PersonID != tc.person.ID || !o.StartsAt.Equal(want) || !o.EndsAt.Equal(want.Add(8*time.Hour)) || o.Reason != "dentist" ||
					o.CreatedBy != "web:"+tc.client.User.Name {
					t.Fatalf("%s: stored %+v", tc.name, o)
				}
			}
			audit, err := f.h.Store.ScheduleAudit(t.Context(), models.ScheduleSubject(f.sched.ID))
			if err != nil {
				t.Fatal(err)
			}
			var actors []string
			for _, e := range audit {
				if e.Action == "override.create" {
					actors = append(actors, e.Actor)
				}
			}
			if strings.Join(actors, ",") != "web:alice,web:tess,web:ada" {
				t.Fatalf("audit actors %v", actors)
			}
		})
	}
}

// Bad input re-renders the form naming the field; nothing is stored.
func TestScheduleOverrideValidation(t *testing.T) {
	f := newSchedFix(t, models.DialectSQLite, true)
	admin := f.h.signIn("ada", models.WebRoleAdmin, nil)
	cases := []struct {
		name string
		edit func(url.Values)
		want []string
	}{
		{"end before start", func(v url.Values) { v.Set("ends", "2026-12-08T09:00") }, []string{"End: must be after the start",
			`name="ends" value="2026-12-08T09:00" required aria-invalid="true"`, `<p class="field-error">must be after the start</p>`}},
		{"too long", func(v url.Values) { v.Set("ends", "2027-01-20T10:00") }, []string{"End: at most 31 days after the start"}},
		{"in the past", func(v url.Values) { v.Set("starts", "2026-12-01T10:00"); v.Set("ends", "2026-12-02T10:00") }, []string{"End: is in the past"}},
		{"too far ahead", func(v url.Values) { v.Set("starts", "2028-01-01T10:00"); v.Set("ends", "2028-01-02T10:00") }, []string{"Start: at most a year ahead"}},
		{"no start", func(v url.Values) { v.Del("starts") }, []string{"Start: required (date and time in America/New_York)"}},
		{"not a time", func(v url.Values) { v.Set("ends", "tomorrow") }, []string{"End: &#34;tomorrow&#34; is not a date and time"}},
		{"skipped by the clocks", func(v url.Values) { v.Set("starts", "2027-03-14T02:30"); v.Set("ends", "2027-03-14T08:00") },
			[]string{"Start: 2027-03-14 02:30 does not exist in America/New_York"}},
		{"inactive person", func(v url.Values) { v.Set("person", f.dave.ID) }, []string{"Person: not an active Herald person"}},
		{"unknown person", func(v url.Values) { v.Set("person", "nobody") }, []string{"Person: not an active Herald person"}},
		{"replacing themselves", func(v url.Values) { v.Set("replaced", f.bob.ID) }, []string{"Replacing: is the person covering"}},
		{"another team's schedule", func(v url.Values) { v.Set("schedule", "x") }, []string{"Schedule: choose one of the team"}},
		{"bad role", func(v url.Values) { v.Set("role", "boss") }, []string{"Role: choose primary, secondary or shadow"}},
		{"long reason", func(v url.Values) { v.Set("reason", strings.Repeat("x", 501)) }, []string{"Reason: at most 500 characters"}},
	}
	for _, tc := range cases {
		form := coverForm(f, f.bob)
		tc.edit(form)
		rec := admin.inZone("America/New_York", http.MethodPost, "/schedules/payments/overrides", form)
		expect(t, rec, http.StatusUnprocessableEntity, append([]string{"Please fix", `<form method="post" action="/schedules/payments/overrides"`}, tc.want...)...)
		if got := f.overrides(t); len(got) != 0 {
			t.Fatalf("%s: stored %+v", tc.name, got)
		}
	}
	// Times are the viewer's: 10:00 in New York is 15:00 UTC in December,
	// and 01:30 on the night the clocks go back is the first 01:30 (EDT).
	form := coverForm(f, f.bob)
	expect(t, admin.inZone("America/New_York", http.MethodPost, "/schedules/payments/overrides", form), http.StatusSeeOther)
	form.Set("starts", "2027-11-07T01:30")
	form.Set("ends", "2027-11-07T03:00")
	expect(t, admin.inZone("America/New_York", http.MethodPost, "/schedules/payments/overrides", form), http.StatusSeeOther)
	got := f.overrides(t)
	if len(got) != 2 || !got[0].StartsAt.Equal(time.Date(2026, 12, 8, 15, 0, 0, 0, time.UTC)) ||
		!got[1].StartsAt.Equal(time.Date(2027, 11, 7, 5, 30, 0, 0, time.UTC)) || !got[1].EndsAt.Equal(time.Date(2027, 11, 7, 8, 0, 0, 0, time.UTC)) {
		t.Fatalf("stored %+v", got)
	}
}

// The override shows on the calendar, highlighted, and the engine's
// cached lookup sees it at once because the page drops the cache.
func TestScheduleOverrideReachesEngine(t *testing.T) {
	for _, withCache := range []bool{true, false} {
		f := newSchedFix(t, models.DialectSQLite, withCache)
		ctx := context.Background()
		before, err := f.resolver.Lookup(ctx, "payments", models.RotationPrimary)
		if err != nil {
			t.Fatal(err)
		}
		if before.Status != schedule.StatusCovered || before.Shift.PersonID != f.dailyTurn(t, "2026-12-06").ID {
			t.Fatalf("before: %+v", before)
		}
		admin := f.h.signIn("ada", models.WebRoleAdmin, nil)
		form := coverForm(f, f.carol)
		form.Set("starts", "2026-12-07T08:00")
		form.Set("ends", "2026-12-07T20:00")
		expect(t, admin.post("/schedules/payments/overrides", form), http.StatusSeeOther)
		after, err := f.resolver.Lookup(ctx, "payments", models.RotationPrimary)
		if err != nil {
			t.Fatal(err)
		}
		if sees := after.Shift.PersonID == f.carol.ID; sees != withCache {
			t.Fatalf("cache dropped %v: engine sees %+v", withCache, after)
		}
		if withCache {
			cell := daySection(t, admin.get("/schedules/payments").Body.String(), "2026-12-07")
			if !strings.Contains(cell, `class="shift override"`) || !strings.Contains(cell, "Carol Example") {
				t.Fatalf("override not highlighted:\n%s", cell)
			}
		}
	}
}
