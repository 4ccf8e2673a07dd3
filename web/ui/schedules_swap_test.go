package ui

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/models"
)

func swapForm(f *schedFix) url.Values {
	return url.Values{"schedule": {f.sched.ID}, "role": {"primary"},
		"person": {f.alice.ID}, "starts": {"2026-12-09T14:00"}, "ends": {"2026-12-10T14:00"},
		"person_b": {f.bob.ID}, "starts_b": {"2026-12-10T14:00"}, "ends_b": {"2026-12-11T14:00"}, "reason": {"trade"}}
}

// Swaps are for admins and the team's admins; deleting one deletes both
// halves. Members delete only their own covers.
func TestScheduleSwapsAndDeletes(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			f := newSchedFix(t, d, true)
			alice := f.h.signIn("alice", models.WebRoleMember, &f.alice.ID)
			viewer := f.h.signIn("vic", models.WebRoleViewer, nil)
			other := f.h.signIn("olga", models.WebRoleMember, nil, f.search.ID)
			tess := f.h.signIn("tess", models.WebRoleMember, nil, f.payments.ID)
			for _, c := range []*client{alice, viewer, other} {
				expect(t, c.post("/schedules/payments/swaps", swapForm(f)), http.StatusForbidden)
				expect(t, c.get("/schedules/payments/swaps/new"), http.StatusForbidden)
			}
			if got := f.overrides(t); len(got) != 0 {
				t.Fatalf("refused swaps stored %+v", got)
			}
			bad := swapForm(f)
			bad.Set("person_b", f.alice.ID)
			bad.Set("ends_b", "2026-12-10T13:00")
			expect(t, tess.post("/schedules/payments/swaps", bad), http.StatusUnprocessableEntity,
				"Second person: is the first person", "Second end: must be after the start")
			expect(t, tess.get("/schedules/payments/swaps/new"), http.StatusOK, "Swap shifts", "Second start")
			expect(t, tess.post("/schedules/payments/swaps", swapForm(f)), http.StatusSeeOther)
			swap := f.overrides(t)
			if len(swap) != 2 || swap[0].SwapID == nil || swap[0].PersonID != f.bob.ID || swap[1].PersonID != f.alice.ID {
				t.Fatalf("swap stored %+v", swap)
			}
			expect(t, tess.get("/schedules/payments?start=2026-12-09"), http.StatusOK, "Delete swap", `<span class="badge">swap</span>`, "web:tess")

			// Alice covers herself; Bob's cover is tess's doing.
			expect(t, alice.post("/schedules/payments/overrides", coverForm(f, f.alice)), http.StatusSeeOther)
			expect(t, tess.post("/schedules/payments/overrides", coverForm(f, f.bob)), http.StatusSeeOther)
			all := f.overrides(t)
			aliceCover, bobCover := all[2], all[3]
			del := func(c *client, id string) int {
				return c.post("/schedules/payments/overrides/"+id+"/delete", nil).Code
			}
			for _, tc := range []struct {
				name string
				c    *client
				id   string
				want int
			}{
				{"viewer", viewer, aliceCover.ID, http.StatusForbidden},
				{"another team's admin", other, aliceCover.ID, http.StatusForbidden},
				{"member, someone else's cover", alice, bobCover.ID, http.StatusForbidden},
				{"member, a swap they are in", alice, swap[1].ID, http.StatusForbidden},
				{"unknown", tess, "nosuch", http.StatusNotFound},
				{"member, own cover", alice, aliceCover.ID, http.StatusSeeOther},
				{"team admin, a swap", tess, swap[0].ID, http.StatusSeeOther},
			} {
				if got := del(tc.c, tc.id); got != tc.want {
					t.Fatalf("%s: status %d, want %d", tc.name, got, tc.want)
				}
			}
			if left := f.overrides(t); len(left) != 1 || left[0].ID != bobCover.ID {
				t.Fatalf("left %+v", left)
			}
			// An override of another team's schedule is not found here.
			searchScheds, err := f.h.Store.Schedules(t.Context(), f.search.ID)
			if err != nil {
				t.Fatal(err)
			}
			o := &models.ScheduleOverride{ScheduleID: searchScheds[0].ID, Role: "primary", PersonID: f.carol.ID,
				StartsAt: f.h.Clock.Now(), EndsAt: f.h.Clock.Now().Add(3600e9)}
			if err := f.h.Store.CreateOverride(t.Context(), models.Actor{Name: "test"}, o); err != nil {
				t.Fatal(err)
			}
			if got := del(tess, o.ID); got != http.StatusNotFound {
				t.Fatalf("another team's override: %d", got)
			}
			audit, err := f.h.Store.ScheduleAudit(t.Context(), models.ScheduleSubject(f.sched.ID))
			if err != nil {
				t.Fatal(err)
			}
			var dels []string
			for _, e := range audit {
				if e.Action == "override.delete" || e.Action == "swap.delete" {
					dels = append(dels, e.Action+" by "+e.Actor)
				}
			}
			if len(dels) != 2 || dels[0] != "override.delete by web:alice" || dels[1] != "swap.delete by web:tess" {
				t.Fatalf("audit %v", dels)
			}
		})
	}
}
