package ui

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/models"
)

func TestAuditPage(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			h := newHarness(t, d, func(h *harness) []Page { return []Page{AuditPages{Audit: h.Store}} })
			ctx := context.Background()
			for i := 0; i < auditPerPage+5; i++ {
				e := models.AuditEntry{Actor: "web:ann", Action: "plan.publish", Subject: fmt.Sprintf("plan:p%d", i), Before: "v1", After: "<b>v2</b>"}
				if i%2 == 1 {
					e.Actor, e.Subject = "web:bob", "schedule:s1"
				}
				if err := h.Store.AddAudit(ctx, e); err != nil {
					t.Fatal(err)
				}
				h.Clock.Advance(1)
			}
			expect(t, h.signIn("mia", models.WebRoleMember, nil).get("/audit"), http.StatusForbidden, "needs the admin role")
			admin := h.signIn("ann", models.WebRoleAdmin, nil)
			rec := admin.get("/audit")
			// The sign-in helper's role change is audited too.
			expect(t, rec, http.StatusOK, "entries, newest first", "&lt;b&gt;v2&lt;/b&gt;", `rel="next"`)
			if strings.Contains(rec.Body.String(), "<b>v2</b>") {
				t.Fatal("audit text rendered as HTML")
			}
			rec = admin.get("/audit?actor=web:bob&subject=schedule:")
			expect(t, rec, http.StatusOK, "27 entries")
			if strings.Contains(rec.Body.String(), "plan:p") {
				t.Fatal("filter leaked other entries")
			}
			expect(t, admin.get("/audit?subject="+strings.Repeat("x", 201)), http.StatusBadRequest)
		})
	}
}
