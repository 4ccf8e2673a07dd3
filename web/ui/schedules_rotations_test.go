package ui

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications/schedule"
)

// rotationValues is the rotation form for a daily secondary rotation of
// payments handing off at 09:00 (New York, the schedule's zone) since
// 2026-12-01, members taking turns in the order given.
func rotationValues(members ...*models.Person) url.Values {
	v := url.Values{"name": {"backup"}, "role": {"secondary"}, "shift_kind": {"daily"}, "shift_count": {"1"},
		"handoff_time": {"09:00"}, "handoff_weekday": {"mon"}, "start_date": {"2026-12-01"}, "time_zone": {""}, "windows": {"0"},
		"action": {"save"}}
	for _, m := range members {
		v.Add("member", m.ID)
	}
	return v
}

// stored counts what the schedule tables and the audit log hold.
func (f *schedFix) stored(t *testing.T) (schedules, rotations, audits int64) {
	t.Helper()
	g := f.h.DB.Gorm
	for _, c := range []struct {
		model any
		n     *int64
	}{{&models.Schedule{}, &schedules}, {&models.Rotation{}, &rotations}, {&models.AuditEntry{}, &audits}} {
		if err := g.Model(c.model).Count(c.n).Error; err != nil {
			t.Fatal(err)
		}
	}
	return schedules, rotations, audits
}

func (f *schedFix) rotationNamed(t *testing.T, name string) *models.Rotation {
	t.Helper()
	rots, err := f.h.Store.Rotations(context.Background(), f.sched.ID)
	if err != nil {
		t.Fatal(err)
	}
	for i := range rots {
		if rots[i].Name == name {
			return &rots[i]
		}
	}
	return nil
}

func auditActors(t *testing.T, f *schedFix, subject, prefix string) []string {
	t.Helper()
	entries, err := f.h.Store.ScheduleAudit(context.Background(), subject)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Action, prefix) {
			out = append(out, e.Action+" "+e.Actor)
		}
	}
	return out
}

// Schedules: added, changed and deleted by a team admin and an admin,
// audited as them, and the engine's cache dropped each time.
func TestScheduleEditSchedules(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			f := newSchedFix(t, d, true)
			ctx := context.Background()
			for _, who := range []*client{f.h.signIn("tess", models.WebRoleMember, nil, f.payments.ID), f.h.signIn("ada", models.WebRoleAdmin, nil)} {
				name := "Backup " + who.User.Name
				expect(t, who.get("/schedules/payments"), http.StatusOK, "Add a schedule", "Add a rotation", "Edit schedule Payments",
					`/schedules/payments/schedules/`+f.sched.ID+`/edit`)
				expect(t, who.get("/schedules/payments/schedules/new"), http.StatusOK, "Add a schedule to payments", `name="time_zone"`)
				rec := who.post("/schedules/payments/schedules", url.Values{"name": {name}, "time_zone": {"Europe/London"}})
				expect(t, rec, http.StatusSeeOther)
				sc, err := f.h.Store.ScheduleByName(ctx, f.payments.ID, name)
				if err != nil || sc.TimeZone != "Europe/London" {
					t.Fatalf("created %+v, %v", sc, err)
				}
				expect(t, who.get("/schedules/payments/schedules/"+sc.ID+"/edit"), http.StatusOK, "Edit schedule "+name, "data-confirm=")
				expect(t, who.post("/schedules/payments/schedules/"+sc.ID, url.Values{"name": {name + " 2"}, "time_zone": {"Asia/Tokyo"}}), http.StatusSeeOther)
				sc2, err := f.h.Store.ScheduleByID(ctx, sc.ID)
				if err != nil || sc2.Name != name+" 2" || sc2.TimeZone != "Asia/Tokyo" || sc2.TeamID != f.payments.ID {
					t.Fatalf("updated %+v, %v", sc2, err)
				}
				expect(t, who.post("/schedules/payments/schedules/"+sc.ID+"/delete", nil), http.StatusSeeOther)
				if _, err := f.h.Store.ScheduleByID(ctx, sc.ID); !models.IsNotFound(err) {
					t.Fatalf("not deleted: %v", err)
				}
				want := []string{"schedule.create web:" + who.User.Name, "schedule.update web:" + who.User.Name, "schedule.delete web:" + who.User.Name}
				if got := auditActors(t, f, models.ScheduleSubject(sc.ID), "schedule."); !slices.Equal(got, want) {
					t.Fatalf("audit %v, want %v", got, want)
				}
			}
			// Deleting the team's only schedule takes payments off call at
			// once: the page dropped the engine's cache.
			admin := f.h.signIn("ada", models.WebRoleAdmin, nil)
			before, err := f.resolver.Lookup(ctx, "payments", models.RotationPrimary)
			if err != nil || before.Status != schedule.StatusCovered {
				t.Fatalf("before: %+v, %v", before, err)
			}
			expect(t, admin.post("/schedules/payments/schedules/"+f.sched.ID+"/delete", nil), http.StatusSeeOther)
			after, err := f.resolver.Lookup(ctx, "payments", models.RotationPrimary)
			if err != nil || after.Status == schedule.StatusCovered {
				t.Fatalf("after delete the engine still sees %+v, %v", after, err)
			}
			expect(t, admin.get("/schedules/payments"), http.StatusOK, "has no on-call schedule", "Add a schedule")
		})
	}
}

// Bad schedule input re-renders the form naming the field; nothing is
// stored.
func TestScheduleEditScheduleValidation(t *testing.T) {
	f := newSchedFix(t, models.DialectSQLite, true)
	admin := f.h.signIn("ada", models.WebRoleAdmin, nil)
	s0, r0, a0 := f.stored(t)
	for _, tc := range []struct {
		form url.Values
		want string
	}{
		{url.Values{"name": {"Backup"}, "time_zone": {"Mars/Olympus"}}, "Time zone: unknown time zone"},
		{url.Values{"name": {"Backup"}, "time_zone": {""}}, "Time zone: required"},
		{url.Values{"name": {""}, "time_zone": {"UTC"}}, "Name: required"},
		{url.Values{"name": {"Payments"}, "time_zone": {"UTC"}}, "Name: team payments already has a schedule of this name"},
	} {
		expect(t, admin.post("/schedules/payments/schedules", tc.form), http.StatusUnprocessableEntity, "Please fix", tc.want, `aria-invalid="true"`)
	}
	expect(t, admin.post("/schedules/payments/schedules/"+f.sched.ID, url.Values{"name": {"Payments"}, "time_zone": {"Nowhere"}}),
		http.StatusUnprocessableEntity, "Time zone: unknown time zone")
	if s, r, a := f.stored(t); s != s0 || r != r0 || a != a0 {
		t.Fatalf("stored: schedules %d→%d, rotations %d→%d, audit %d→%d", s0, s, r0, r, a0, a)
	}
}

// Who may not edit: every write is refused with 403 and nothing stored;
// the forms are refused too.
func TestScheduleEditPermissions(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			f := newSchedFix(t, d, true)
			rot := f.rotationNamed(t, "daily")
			base := "/schedules/payments"
			writes := []struct {
				path string
				form url.Values
			}{
				{base + "/schedules", url.Values{"name": {"X"}, "time_zone": {"UTC"}}},
				{base + "/schedules/" + f.sched.ID, url.Values{"name": {"X"}, "time_zone": {"UTC"}}},
				{base + "/schedules/" + f.sched.ID + "/delete", nil},
				{base + "/schedules/" + f.sched.ID + "/rotations", rotationValues(f.alice)},
				{base + "/rotations/" + rot.ID, rotationValues(f.alice)},
				{base + "/rotations/" + rot.ID + "/delete", nil},
			}
			forms := []string{base + "/schedules/new", base + "/schedules/" + f.sched.ID + "/edit",
				base + "/schedules/" + f.sched.ID + "/rotations/new", base + "/rotations/" + rot.ID + "/edit"}
			refused := []*client{
				f.h.signIn("vic", models.WebRoleViewer, &f.bob.ID),
				f.h.signIn("alice", models.WebRoleMember, &f.alice.ID), // in the team, not its admin
				f.h.signIn("olga", models.WebRoleMember, nil, f.search.ID),
			}
			admin := f.h.signIn("ada", models.WebRoleAdmin, nil)
			s0, r0, a0 := f.stored(t) // after the sign-ins, which audit role changes
			for _, who := range refused {
				page := who.get(base).Body.String()
				if strings.Contains(page, "Add a rotation") || strings.Contains(page, "/rotations/"+rot.ID+"/edit") {
					t.Fatalf("%s sees editing links", who.User.Name)
				}
				for _, w := range writes {
					expect(t, who.post(w.path, w.form), http.StatusForbidden, "Not allowed")
				}
				for _, path := range forms {
					expect(t, who.get(path), http.StatusForbidden)
				}
			}
			// Another team's rotation through this team's path is not found.
			expect(t, admin.post("/schedules/search/rotations/"+rot.ID+"/delete", nil), http.StatusNotFound)
			expect(t, admin.post("/schedules/search/schedules/"+f.sched.ID+"/delete", nil), http.StatusNotFound)
			expect(t, f.h.anonymous().get(base+"/schedules/new"), http.StatusSeeOther)
			if s, r, a := f.stored(t); s != s0 || r != r0 || a != a0 {
				t.Fatalf("stored: schedules %d→%d, rotations %d→%d, audit %d→%d", s0, s, r0, r, a0, a)
			}
		})
	}
}

// A rotation added, edited and deleted by a team admin and an admin: the
// calendar shows it on the right days and the engine sees it at once.
func TestScheduleRotationLifecycle(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			f := newSchedFix(t, d, true)
			ctx := context.Background()
			tess := f.h.signIn("tess", models.WebRoleMember, nil, f.payments.ID)
			admin := f.h.signIn("ada", models.WebRoleAdmin, nil)
			if a, err := f.resolver.Lookup(ctx, "payments", models.RotationSecondary); err != nil || a.Status == schedule.StatusCovered {
				t.Fatalf("secondary before: %+v, %v", a, err) // cached: nobody
			}
			expect(t, tess.get("/schedules/payments/schedules/"+f.sched.ID+"/rotations/new"), http.StatusOK, "Add a rotation to Payments",
				`value="2026-12-07"`, `<label for="add_member">`)
			rec := tess.post("/schedules/payments/schedules/"+f.sched.ID+"/rotations", rotationValues(f.bob, f.alice))
			if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/schedules/payments#calendar" {
				t.Fatalf("%d %q\n%s", rec.Code, rec.Header().Get("Location"), truncate(rec.Body.String(), 3000))
			}
			r := f.rotationNamed(t, "backup")
			if r == nil || r.Role != "secondary" || r.ShiftKind != "daily" || r.ShiftCount != 1 || r.HandoffWeekday != "" || r.Layer != 1 ||
				!slices.Equal(r.Members, []string{f.bob.ID, f.alice.ID}) {
				t.Fatalf("stored %+v", r)
			}
			// 09:00 New York is 14:00 UTC: bob's turn (the 7th since 1
			// December, counting from 0: 6, even) runs from the 7th at
			// 14:00 UTC to the 8th; alice's before and after it.
			if a, err := f.resolver.Lookup(ctx, "payments", models.RotationSecondary); err != nil || a.Status != schedule.StatusCovered || a.Shift.PersonID != f.alice.ID {
				t.Fatalf("engine after create: %+v, %v", a, err)
			}
			body := tess.get("/schedules/payments").Body.String()
			for _, tc := range []struct{ date, want string }{
				{"2026-12-07", `<span class="role">secondary</span> Alice Example <span class="times">00:00–14:00</span>`},
				{"2026-12-07", `<span class="role">secondary</span> Bob Example <span class="times">14:00–24:00</span>`},
				{"2026-12-08", `<span class="role">secondary</span> Bob Example <span class="times">00:00–14:00</span>`},
				{"2026-12-08", `<span class="role">secondary</span> Alice Example <span class="times">14:00–24:00</span>`},
			} {
				if cell := daySection(t, body, tc.date); !strings.Contains(cell, tc.want) {
					t.Fatalf("%s lacks %q:\n%s", tc.date, tc.want, cell)
				}
			}
			expect(t, admin.get("/schedules/payments/rotations/"+r.ID+"/edit"), http.StatusOK, "Edit rotation backup", `name="layer" value="1"`,
				`name="member" value="`+f.bob.ID+`"`)
			// The admin makes it weekly on Mondays, alice first, weekdays
			// 22:00 to 06:00 only, in London, on layer 0.
			form := rotationValues(f.alice, f.bob)
			form.Set("shift_kind", "weekly")
			form.Set("shift_count", "2")
			form.Set("time_zone", "Europe/London")
			form.Set("layer", "0")
			form.Set("windows", "1")
			form["w0.days"] = []string{"mon", "tue"}
			form.Set("w0.start", "22:00")
			form.Set("w0.end", "06:00")
			expect(t, admin.post("/schedules/payments/rotations/"+r.ID, form), http.StatusSeeOther)
			r2 := f.rotationNamed(t, "backup")
			if r2.ShiftKind != "weekly" || r2.ShiftCount != 2 || r2.HandoffWeekday != "mon" || r2.TimeZone != "Europe/London" || r2.Layer != 0 ||
				!slices.Equal(r2.Members, []string{f.alice.ID, f.bob.ID}) || len(r2.Windows) != 1 ||
				!slices.Equal(r2.Windows[0].Weekdays, []string{"mon", "tue"}) || r2.Windows[0].End != "06:00" {
				t.Fatalf("updated %+v", r2)
			}
			expect(t, admin.get("/schedules/payments"), http.StatusOK, "2 weeks", "only mon,tue 22:00–06:00")
			expect(t, tess.post("/schedules/payments/rotations/"+r.ID+"/delete", nil), http.StatusSeeOther)
			if f.rotationNamed(t, "backup") != nil {
				t.Fatal("not deleted")
			}
			if a, err := f.resolver.Lookup(ctx, "payments", models.RotationSecondary); err != nil || a.Status == schedule.StatusCovered {
				t.Fatalf("engine after delete: %+v, %v", a, err)
			}
			want := []string{"rotation.create web:tess", "rotation.update web:ada", "rotation.delete web:tess"}
			if got := auditActors(t, f, models.ScheduleSubject(f.sched.ID), "rotation."); !slices.Equal(got[1:], want) { // [0]: the fixture's
				t.Fatalf("audit %v, want %v", got, want)
			}
		})
	}
}

// Bad rotations re-render the form (422) naming the field; nothing is
// stored.
func TestScheduleRotationValidation(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			f := newSchedFix(t, d, true)
			admin := f.h.signIn("ada", models.WebRoleAdmin, nil)
			daily := f.rotationNamed(t, "daily")
			s0, r0, a0 := f.stored(t)
			cases := []struct {
				name string
				edit func(url.Values)
				want []string
			}{
				{"bad zone", func(v url.Values) { v.Set("time_zone", "Mars/Olympus") }, []string{"Time zone: unknown time zone", `name="time_zone" value="Mars/Olympus"`}},
				{"bad handoff", func(v url.Values) { v.Set("handoff_time", "25:00") }, []string{"Handoff time: &#34;25:00&#34; is not a time of day"}},
				{"no handoff", func(v url.Values) { v.Del("handoff_time") }, []string{"Handoff time: required"}},
				{"no members", func(v url.Values) { v.Del("member") }, []string{"Members: required: one or more people"}},
				{"unknown person", func(v url.Values) { v.Add("member", "nobody") }, []string{"Member 2: unknown person", "unknown person</span>"}},
				{"window end equals start", func(v url.Values) {
					v.Set("windows", "1")
					v["w0.days"] = []string{"mon"}
					v.Set("w0.start", "09:00")
					v.Set("w0.end", "09:00")
				}, []string{"Window 1, end: equals start", `id="w0-end" name="w0.end" value="09:00" aria-invalid="true"`}},
				{"window bad end", func(v url.Values) {
					v.Set("windows", "1")
					v["w0.days"] = []string{"mon"}
					v.Set("w0.start", "09:00")
					v.Set("w0.end", "9pm")
				}, []string{"Window 1, end: &#34;9pm&#34; is not a time of day"}},
				{"window without days", func(v url.Values) {
					v.Set("windows", "1")
					v.Set("w0.start", "09:00")
					v.Set("w0.end", "17:00")
				}, []string{"Window 1, days: required"}},
				{"bad role", func(v url.Values) { v.Set("role", "boss") }, []string{"Role: &#34;boss&#34; is not a rotation role"}},
				{"bad shift count", func(v url.Values) { v.Set("shift_count", "two") }, []string{"Shift length: &#34;two&#34; is not a whole number"}},
				{"shift count too large", func(v url.Values) { v.Set("shift_count", "400") }, []string{"Shift length: must be between 1 and 366"}},
				{"weekly without a day", func(v url.Values) { v.Set("shift_kind", "weekly"); v.Set("handoff_weekday", "") }, []string{"Handoff day: required for weekly shifts"}},
				{"bad start date", func(v url.Values) { v.Set("start_date", "2026-13-01") }, []string{"Start date: &#34;2026-13-01&#34; is not a date"}},
				{"name taken", func(v url.Values) { v.Set("name", "daily") }, []string{"Name: another rotation of this schedule has this name"}},
			}
			for _, tc := range cases {
				form := rotationValues(f.bob)
				tc.edit(form)
				rec := admin.post("/schedules/payments/schedules/"+f.sched.ID+"/rotations", form)
				expect(t, rec, http.StatusUnprocessableEntity, append([]string{"Please fix", `action="/schedules/payments/schedules/` + f.sched.ID + `/rotations"`}, tc.want...)...)
			}
			// Editing: a bad layer, and the validation of an update.
			form := rotationValues(f.bob)
			form.Set("layer", "-1")
			expect(t, admin.post("/schedules/payments/rotations/"+daily.ID, form), http.StatusUnprocessableEntity, "Layer: &#34;-1&#34; is not a whole number")
			form.Set("layer", "0")
			form.Set("handoff_time", "9")
			expect(t, admin.post("/schedules/payments/rotations/"+daily.ID, form), http.StatusUnprocessableEntity, "Handoff time:")
			if s, r, a := f.stored(t); s != s0 || r != r0 || a != a0 {
				t.Fatalf("stored: schedules %d→%d, rotations %d→%d, audit %d→%d", s0, s, r0, r, a0, a)
			}
			if got := f.rotationNamed(t, "daily"); got.HandoffTime != "09:00" || !slices.Equal(got.Members, []string{f.alice.ID, f.bob.ID}) {
				t.Fatalf("daily changed: %+v", got)
			}
		})
	}
}

// The member list's buttons post the form back changed; nothing is stored
// until save.
func TestScheduleRotationMemberButtons(t *testing.T) {
	f := newSchedFix(t, models.DialectSQLite, true)
	admin := f.h.signIn("ada", models.WebRoleAdmin, nil)
	path := "/schedules/payments/schedules/" + f.sched.ID + "/rotations"
	order := func(body string) []string {
		var ids []string
		for _, part := range strings.Split(body, `name="member" value="`)[1:] {
			ids = append(ids, part[:strings.Index(part, `"`)])
		}
		return ids
	}
	_, r0, a0 := f.stored(t)
	for _, tc := range []struct {
		action, add string
		want        []string
	}{
		{"up:1", "", []string{f.bob.ID, f.alice.ID, f.carol.ID}},
		{"up:0", "", []string{f.alice.ID, f.bob.ID, f.carol.ID}},
		{"down:0", "", []string{f.bob.ID, f.alice.ID, f.carol.ID}},
		{"down:2", "", []string{f.alice.ID, f.bob.ID, f.carol.ID}},
		{"remove:1", "", []string{f.alice.ID, f.carol.ID}},
		{"add-member", f.alice.ID, []string{f.alice.ID, f.bob.ID, f.carol.ID, f.alice.ID}},
	} {
		form := rotationValues(f.alice, f.bob, f.carol)
		form.Set("action", tc.action)
		form.Set("add_member", tc.add)
		rec := admin.post(path, form)
		expect(t, rec, http.StatusOK, `name="name" value="backup"`)
		if got := order(rec.Body.String()); !slices.Equal(got, tc.want) {
			t.Fatalf("%s: order %v, want %v", tc.action, got, tc.want)
		}
	}
	form := rotationValues(f.alice)
	form.Set("action", "add-member")
	expect(t, admin.post(path, form), http.StatusUnprocessableEntity, "Add a person: choose a person to add")
	form.Set("action", "add-window")
	expect(t, admin.post(path, form), http.StatusOK, `name="windows" value="1"`, `id="w0-mon" name="w0.days" value="mon" checked`)
	form.Set("action", "explode:1")
	expect(t, admin.post(path, form), http.StatusBadRequest)
	if _, r, a := f.stored(t); r != r0 || a != a0 {
		t.Fatalf("stored: rotations %d→%d, audit %d→%d", r0, r, a0, a)
	}
}

// The form's field paths map to its keys and labels.
func TestScheduleRotationFieldKeys(t *testing.T) {
	for path, want := range map[string]string{"members[3]": "m3", "windows[1].weekdays[0]": "w1.days", "windows[0].weekdays": "w0.days",
		"windows[2].end": "w2.end", "handoff_time": "handoff_time", "windows": "windows"} {
		if got := rotationFieldKey(path); got != want {
			t.Errorf("%s → %s, want %s", path, got, want)
		}
	}
	for key, want := range map[string]string{"m3": "Member 4", "w1.days": "Window 2, days", "shift_count": "Shift length", "bogus": "Form"} {
		if got := rotationFieldLabel(key); got != want {
			t.Errorf("%s → %s, want %s", key, got, want)
		}
	}
}

// FuzzScheduleRotationForm: any post parses within bounds and never
// panics, whatever its buttons and numbered fields say.
func FuzzScheduleRotationForm(f *testing.F) {
	f.Add("name=a&member=x&member=y&windows=2&w0.days=mon&w0.start=09:00&w1.end=1", "up:1")
	f.Add("windows=99999999999&member=&shift_count=-3&layer=x", "remove-window:0")
	f.Add("w0.days=mon&w0.days=mon&windows=1", "add-window")
	f.Add("", "down:100")
	f.Fuzz(func(t *testing.T, query, action string) {
		v, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		rf := parseRotationForm(v)
		if a, err := parseRotationAction(action); err == nil {
			rf.apply(a)
		}
		r := rf.rotation("s", true)
		_ = r.Validate()
		if len(rf.Members) > models.MaxRotationMembers || len(rf.Windows) > models.MaxRotationWindows {
			t.Fatalf("unbounded: %d members, %d windows", len(rf.Members), len(rf.Windows))
		}
		for _, w := range rf.Windows {
			if len(w.Days) > 7 || len(w.Start) > maxRotationField || len(w.End) > maxRotationField {
				t.Fatalf("unbounded window %+v", w)
			}
		}
	})
}
