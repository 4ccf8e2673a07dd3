package ui

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications/schedule"
)

// Time off: the person themselves, team admins and admins record it;
// nobody else; the engine sees it at once.
func TestScheduleEditTimeOff(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			f := newSchedFix(t, d, true)
			ctx := context.Background()
			count := func() int64 {
				var n int64
				if err := f.h.DB.Gorm.Model(&models.TimeOff{}).Count(&n).Error; err != nil {
					t.Fatal(err)
				}
				return n
			}
			off := func(p *models.Person) url.Values {
				return url.Values{"person": {p.ID}, "starts": {"2026-12-07T08:00"}, "ends": {"2026-12-09T08:00"}, "reason": {"flu"}}
			}
			alice := f.h.signIn("alice", models.WebRoleMember, &f.alice.ID)
			refused := []struct {
				who  *client
				form url.Values
			}{
				{f.h.signIn("vic", models.WebRoleViewer, &f.bob.ID), off(f.bob)},
				{alice, off(f.bob)}, // someone else
				{f.h.signIn("olga", models.WebRoleMember, nil, f.search.ID), off(f.bob)},
				{f.h.signIn("carol", models.WebRoleMember, &f.carol.ID), off(f.carol)}, // not in payments
			}
			for _, tc := range refused {
				expect(t, tc.who.post("/schedules/payments/time-off", tc.form), http.StatusForbidden)
			}
			if n := count(); n != 0 {
				t.Fatalf("%d stored", n)
			}
			expect(t, alice.get("/schedules/payments/time-off"), http.StatusOK, "Record time off", "Alice Example (you)")
			bad := off(f.alice)
			bad.Set("ends", "2026-12-07T07:00")
			expect(t, alice.post("/schedules/payments/time-off", bad), http.StatusUnprocessableEntity, "Until: must be after the start")
			// Alice is on call now (the fixture's daily turn): her time
			// off hands her shift to bob at once.
			if a, _ := f.resolver.Lookup(ctx, "payments", models.RotationPrimary); a.Shift.PersonID != f.dailyTurn(t, "2026-12-06").ID {
				t.Fatalf("before: %+v", a)
			}
			expect(t, alice.post("/schedules/payments/time-off", off(f.alice)), http.StatusSeeOther)
			tess := f.h.signIn("tess", models.WebRoleMember, nil, f.payments.ID)
			expect(t, tess.post("/schedules/payments/time-off", off(f.bob)), http.StatusSeeOther)
			offs, err := f.h.Store.TimeOffOf(ctx, f.h.Clock.Now(), f.h.Clock.Now().AddDate(1, 0, 0))
			if err != nil || len(offs) != 2 {
				t.Fatalf("stored %+v, %v", offs, err)
			}
			if a, _ := f.resolver.Lookup(ctx, "payments", models.RotationPrimary); a.Status == schedule.StatusCovered && a.Shift.PersonID == f.alice.ID {
				t.Fatalf("engine still has alice on call: %+v", a)
			}
			var alicesOff, bobsOff string
			for _, o := range offs {
				if o.PersonID == f.alice.ID {
					alicesOff = o.ID
				} else {
					bobsOff = o.ID
				}
			}
			expect(t, alice.post("/schedules/payments/time-off/"+bobsOff+"/delete", nil), http.StatusForbidden)
			expect(t, alice.post("/schedules/payments/time-off/"+alicesOff+"/delete", nil), http.StatusSeeOther)
			expect(t, tess.post("/schedules/payments/time-off/"+bobsOff+"/delete", nil), http.StatusSeeOther)
			if n := count(); n != 0 {
				t.Fatalf("%d left", n)
			}
			want := []string{"time_off.create web:alice", "time_off.delete web:alice"}
			if got := auditActors(t, f, models.PersonSubject(f.alice.ID), "time_off."); !slices.Equal(got, want) {
				t.Fatalf("audit %v, want %v", got, want)
			}
		})
	}
}
