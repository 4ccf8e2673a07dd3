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
)

// TestMaintenancePages: windows are made in the viewer's zone for
// services, a team's services or (admins) all; team admins only for their
// teams; viewers never; bad input re-renders naming the field; ending
// early and deleting are checked the same way; every change is audited
// and drops the caches.
func TestMaintenancePages(t *testing.T) {
	t.Parallel()
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			f := newSvcFixture(t, d)
			h, ctx := f.h, context.Background()
			windows := func() []models.MaintenanceWindow {
				ws, err := h.Store.MaintenanceWindows(ctx)
				if err != nil {
					t.Fatal(err)
				}
				return ws
			}
			form := func(kv ...string) url.Values {
				v := url.Values{"name": {"upgrade"}, "start": {"2026-12-07T10:30"}, "end": {"2026-12-07T12:00"}, "reason": {"Postgres 18"}}
				for i := 0; i+1 < len(kv); i += 2 {
					if kv[i] == "services" {
						v.Add(kv[i], kv[i+1])
						continue
					}
					v.Set(kv[i], kv[i+1])
				}
				return v
			}

			expect(t, h.anonymous().get("/maintenance"), http.StatusSeeOther)
			viewer := h.signIn("vic", models.WebRoleViewer, nil)
			rec := viewer.get("/maintenance")
			expect(t, rec, http.StatusOK, "Maintenance windows", "No window is active.")
			if strings.Contains(rec.Body.String(), "Plan maintenance") {
				t.Error("a viewer is offered the form")
			}
			expect(t, viewer.post("/maintenance", form("services", "checkout")), http.StatusForbidden)

			ta := h.signIn("tad", models.WebRoleMember, nil, f.teamA.ID)
			// Times are read in the viewer's zone.
			if err := h.DB.Gorm.Model(&models.WebUser{}).Where("id = ?", ta.User.ID).Update("time_zone", "Europe/Paris").Error; err != nil {
				t.Fatal(err)
			}
			expect(t, ta.post("/maintenance", form("services", "ledger")), http.StatusForbidden, "ledger")
			expect(t, ta.post("/maintenance", form("team", f.teamB.ID)), http.StatusForbidden)
			expect(t, ta.post("/maintenance", form("all_services", "on")), http.StatusForbidden)
			if len(windows()) != 0 || f.forgets != 0 {
				t.Fatal("a refused window was stored")
			}
			for _, tc := range []struct {
				form url.Values
				want string
			}{
				{form("services", "checkout", "end", "2026-12-07T09:00"), "End: must be after the start"},
				{form("services", "checkout", "reason", ""), "Reason: required"},
				{form("services", "checkout", "start", "tomorrow"), "Start: &#34;tomorrow&#34; is not a date and time"},
				{form("services", "checkout", "name", "no spaces"), "Name: "},
				{form(), "Services: choose at least one"},
				{form("services", "ghost"), "Services: there is no service"},
			} {
				expect(t, ta.post("/maintenance", tc.form), http.StatusUnprocessableEntity, tc.want, "Plan maintenance")
			}
			if len(windows()) != 0 {
				t.Fatal("an invalid window was stored")
			}

			expect(t, ta.post("/maintenance", form("services", "checkout", "cancel_pending", "on")), http.StatusSeeOther)
			ws := windows()
			if len(ws) != 1 {
				t.Fatalf("windows %+v", ws)
			}
			w := ws[0]
			if w.Name != "upgrade" || w.ServiceName != "checkout" || !w.StartsAt.Equal(time.Date(2026, 12, 7, 9, 30, 0, 0, time.UTC)) ||
				w.EndsAt == nil || !w.EndsAt.Equal(time.Date(2026, 12, 7, 11, 0, 0, 0, time.UTC)) || !w.CancelPending || w.CreatedBy != "web:tad" || w.ManagedBy != models.ManagedByAPI {
				t.Errorf("stored %+v", w)
			}
			expect(t, ta.post("/maintenance", form("services", "checkout")), http.StatusUnprocessableEntity, "Name: ", "exists already")
			// A team's services, one window each.
			mk := func(name, svc string) {
				t.Helper()
				if _, err := h.Store.CreateService(ctx, models.ServiceInput{Name: svc, TeamID: f.teamA.ID, DefaultSeverity: models.SEV3}); err != nil {
					t.Fatal(err)
				}
			}
			mk("", "cart")
			expect(t, ta.post("/maintenance", form("name", "deploy", "team", f.teamA.ID)), http.StatusSeeOther)
			names := map[string]bool{}
			for _, w := range windows() {
				names[w.Name] = true
			}
			if !names["deploy-cart"] || !names["deploy-checkout"] || len(names) != 3 {
				t.Errorf("windows %v", names)
			}
			if a := f.audits(t, "maintenance:"); len(a) != 3 || a[0].Action != "maintenance.create" || !strings.Contains(a[0].After, `"reason":"Postgres 18"`) {
				t.Errorf("audit %+v", a)
			}

			// Shown on the service's page and the list, in the viewer's zone.
			expect(t, ta.get("/maintenance"), http.StatusOK, "Upcoming", "upgrade", "CET", "Delete")
			expect(t, viewer.get("/services/checkout"), http.StatusOK, "upgrade", "upcoming")

			// Not started: cannot end, can delete.
			expect(t, ta.post("/maintenance/upgrade/end", nil), http.StatusConflict, "delete it instead")
			h.Clock.Advance(45 * time.Minute) // 9:45 UTC: upgrade (9:30-11:00) is on; sessions last an hour
			expect(t, viewer.get("/services/checkout"), http.StatusOK, "upgrade", "active")
			expect(t, ta.get("/maintenance"), http.StatusOK, "Active now", "End now")
			expect(t, viewer.post("/maintenance/upgrade/end", nil), http.StatusForbidden)
			other := h.signIn("bob", models.WebRoleMember, nil, f.teamB.ID)
			expect(t, other.post("/maintenance/upgrade/end", nil), http.StatusForbidden)
			expect(t, other.post("/maintenance/upgrade/delete", nil), http.StatusForbidden)
			before := f.forgets
			expect(t, ta.post("/maintenance/upgrade/end", nil), http.StatusSeeOther)
			got, err := h.Store.MaintenanceWindowByName(ctx, "upgrade")
			if err != nil || got.EndsAt == nil || !got.EndsAt.Equal(h.Clock.Now()) {
				t.Fatalf("ended %+v %v", got, err)
			}
			expect(t, ta.post("/maintenance/upgrade/end", nil), http.StatusSeeOther) // already over: says so
			expect(t, ta.post("/maintenance/deploy-cart/delete", nil), http.StatusSeeOther)
			if _, err := h.Store.MaintenanceWindowByName(ctx, "deploy-cart"); !models.IsNotFound(err) {
				t.Errorf("deleted window: %v", err)
			}
			if f.forgets != before+2 {
				t.Errorf("forgets %d, want %d", f.forgets, before+2)
			}
			var actions []string
			for _, e := range f.audits(t, "maintenance:") {
				actions = append(actions, e.Action)
			}
			if got := strings.Join(actions[:2], ","); got != "maintenance.delete,maintenance.end" {
				t.Errorf("audited %s", got)
			}
			expect(t, ta.post("/maintenance/ghost/delete", nil), http.StatusNotFound)

			// Windows of every service, and the file's, are for admins and
			// the file only.
			admin := h.signIn("ann", models.WebRoleAdmin, nil)
			expect(t, admin.post("/maintenance", form("name", "freeze", "all_services", "on", "start", "2026-12-07T10:00")), http.StatusSeeOther)
			if w, err := h.Store.MaintenanceWindowByName(ctx, "freeze"); err != nil || w.ServiceID != nil {
				t.Fatalf("freeze %+v %v", w, err)
			}
			expect(t, ta.post("/maintenance/freeze/delete", nil), http.StatusForbidden)
			end := h.Clock.Now().Add(time.Hour)
			if err := h.Store.CreateMaintenanceWindow(ctx, &models.MaintenanceWindow{Name: "from-file", ServiceID: &f.checkout.ID, StartsAt: h.Clock.Now(), EndsAt: &end,
				Reason: "r", CreatedBy: "apply", ManagedBy: models.ManagedByConfig}); err != nil {
				t.Fatal(err)
			}
			expect(t, admin.post("/maintenance/from-file/delete", nil), http.StatusConflict, "configuration file")
			expect(t, admin.post("/maintenance/freeze/delete", nil), http.StatusSeeOther)
		})
	}
}

// FuzzMaintenanceLocalTime: the datetime-local parser never panics and
// gives back minutes it was given.
func FuzzMaintenanceLocalTime(f *testing.F) {
	f.Add("2026-12-07T10:30")
	f.Add("2026-03-29T02:30:00")
	f.Add("")
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text string) {
		at, err := mwParseLocal(text, paris)
		if err == nil && at.IsZero() && strings.TrimSpace(text) != "0001-01-01T00:00" {
			t.Errorf("%q: a zero time without error", text)
		}
	})
}
