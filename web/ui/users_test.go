package ui

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/models"
)

func TestUsersPage(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			r := newPeopleRig(t, d)
			ctx := context.Background()
			role := func(c *client) string {
				t.Helper()
				u, err := r.Store.WebUserByID(ctx, c.User.ID)
				if err != nil {
					t.Fatal(err)
				}
				return u.Role
			}
			// Admins only.
			expect(t, r.member.get("/users"), http.StatusForbidden, "admin")
			expect(t, r.member.post("/users/"+r.member.User.ID+"/role", url.Values{"role": {"admin"}}), http.StatusForbidden)
			if role(r.member) != models.WebRoleMember {
				t.Fatal("a member made themselves admin")
			}
			expect(t, r.admin.get("/users"), http.StatusOK, `href="/users/`+r.member.User.ID+`"`, `href="/people/ada"`, "one-time link", "(you)")
			expect(t, r.admin.get("/users/"+r.member.User.ID), http.StatusOK, "Team admin of", "payments", `<option value="`+r.ada.ID+`" selected>`)
			expect(t, r.admin.get("/users/nope"), http.StatusNotFound)

			// The last admin cannot demote themselves.
			expect(t, r.admin.post("/users/"+r.admin.User.ID+"/role", url.Values{"role": {"member"}}), http.StatusConflict, "last admin")
			if role(r.admin) != models.WebRoleAdmin {
				t.Fatal("the last admin was demoted")
			}
			expect(t, r.admin.post("/users/"+r.admin.User.ID+"/disable", nil), http.StatusConflict, "your own account")

			// Bad input names the field; nothing changes.
			expect(t, r.admin.post("/users/"+r.member.User.ID+"/role", url.Values{"role": {"owner"}}), http.StatusUnprocessableEntity, "Role: choose admin, member or viewer")
			expect(t, r.admin.post("/users/"+r.viewer.User.ID+"/role", url.Values{"role": {"viewer"}, "team": {r.team.ID}}), http.StatusUnprocessableEntity, "Team admin of: a viewer")
			expect(t, r.admin.post("/users/"+r.member.User.ID+"/role", url.Values{"role": {"member"}, "team": {"no-such-team"}}), http.StatusUnprocessableEntity, "Team admin of:")
			if teams, _ := r.Store.WebTeamAdminOf(ctx, r.member.User.ID); len(teams) != 0 {
				t.Fatalf("teams after refusals: %v", teams)
			}

			// Make ada team admin of payments; promote sam; then root may step down.
			if rec := r.admin.post("/users/"+r.member.User.ID+"/role", url.Values{"role": {"member"}, "team": {r.team.ID}}); rec.Code != http.StatusSeeOther {
				t.Fatalf("team admin: %d %s", rec.Code, rec.Body)
			}
			if teams, _ := r.Store.WebTeamAdminOf(ctx, r.member.User.ID); len(teams) != 1 || teams[0] != r.team.ID {
				t.Fatalf("ada's teams = %v", teams)
			}
			expect(t, r.admin.get("/users"), http.StatusOK, "payments")
			if rec := r.admin.post("/users/"+r.stranger.User.ID+"/role", url.Values{"role": {"admin"}}); rec.Code != http.StatusSeeOther {
				t.Fatalf("promote: %d", rec.Code)
			}
			if rec := r.admin.post("/users/"+r.admin.User.ID+"/role", url.Values{"role": {"member"}}); rec.Code != http.StatusSeeOther {
				t.Fatalf("stepping down with another admin: %d %s", rec.Code, rec.Body)
			}
			if role(r.admin) != models.WebRoleMember {
				t.Fatal("root is still admin")
			}
			// root is no longer an admin: the users page is closed to them.
			expect(t, r.admin.get("/users"), http.StatusForbidden)
			sam := r.stranger

			// Link sam to bob, then unlink; disable and enable vic.
			if rec := sam.post("/users/"+sam.User.ID+"/person", url.Values{"person": {r.bob.ID}}); rec.Code != http.StatusSeeOther {
				t.Fatalf("link: %d", rec.Code)
			}
			expect(t, sam.post("/users/"+sam.User.ID+"/person", url.Values{"person": {"ghost"}}), http.StatusUnprocessableEntity, "Person: no such person")
			rec := sam.get("/me")
			if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/people/bob" {
				t.Fatalf("/me after linking: %d %q", rec.Code, rec.Header().Get("Location"))
			}
			if rec := sam.post("/users/"+r.viewer.User.ID+"/disable", nil); rec.Code != http.StatusSeeOther {
				t.Fatalf("disable: %d", rec.Code)
			}
			rec = r.viewer.get("/people")
			if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/login") {
				t.Fatalf("a disabled user's session still works: %d", rec.Code)
			}
			expect(t, sam.get("/users"), http.StatusOK, "disabled")
			if rec := sam.post("/users/"+r.viewer.User.ID+"/enable", nil); rec.Code != http.StatusSeeOther {
				t.Fatalf("enable: %d", rec.Code)
			}
			for action, want := range map[string]int{"web_user.role": 3, "web_user.person": 1, "web_user.disable": 1, "web_user.enable": 1} {
				got := r.audit(action)
				// signIn's own role changes are audited by "test".
				n := 0
				for _, a := range got {
					if strings.HasPrefix(a.Actor, "web:") {
						n++
					}
				}
				if n != want {
					t.Errorf("%s: %d web audit entries, want %d: %+v", action, n, want, got)
				}
			}
		})
	}
}
