package ui

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/models"
)

// svcFixture is two teams with a plan and a service each, the harness
// built on them, and a count of cache forgets.
type svcFixture struct {
	h                *harness
	teamA, teamB     *models.Team
	planA, planB     *models.Plan
	checkout, ledger *models.Service
	forgets          int
}

func newSvcFixture(t *testing.T, dialect string) *svcFixture {
	t.Helper()
	f := &svcFixture{}
	f.h = newHarness(t, dialect, func(h *harness) []Page {
		return []Page{ServicePages{Store: h.Store, Forget: func() { f.forgets++ }}}
	})
	ctx := context.Background()
	now := f.h.Clock.Now()
	mk := func(v any) {
		if err := f.h.DB.Gorm.Create(v).Error; err != nil {
			t.Fatal(err)
		}
	}
	f.teamA = &models.Team{ID: uuid.NewString(), Name: "payments", CreatedAt: now, UpdatedAt: now}
	f.teamB = &models.Team{ID: uuid.NewString(), Name: "ledger-team", CreatedAt: now, UpdatedAt: now}
	mk(f.teamA)
	mk(f.teamB)
	f.planA = &models.Plan{ID: uuid.NewString(), Name: "payments-plan", TeamID: &f.teamA.ID, CreatedAt: now, UpdatedAt: now}
	f.planB = &models.Plan{ID: uuid.NewString(), Name: "ledger-plan", TeamID: &f.teamB.ID, CreatedAt: now, UpdatedAt: now}
	mk(f.planA)
	mk(f.planB)
	var err error
	if f.checkout, err = f.h.Store.CreateService(ctx, models.ServiceInput{Name: "checkout", TeamID: f.teamA.ID, PlanID: f.planA.ID, DefaultSeverity: models.SEV2}); err != nil {
		t.Fatal(err)
	}
	if f.ledger, err = f.h.Store.CreateService(ctx, models.ServiceInput{Name: "ledger", TeamID: f.teamB.ID, DefaultSeverity: models.SEV3}); err != nil {
		t.Fatal(err)
	}
	return f
}

// audits lists the audit entries about subjects starting with prefix.
func (f *svcFixture) audits(t *testing.T, prefix string) []models.AuditEntry {
	t.Helper()
	out, _, err := f.h.Store.ListAudit(context.Background(), models.AuditFilter{SubjectPrefix: prefix, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (f *svcFixture) service(t *testing.T, name string) *models.Service {
	t.Helper()
	s, err := f.h.Store.ServiceByName(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestServicePagesRead: the list and a service's page show its team,
// plan, integrations, maintenance, heartbeats and incidents to any
// signed-in user; nobody signed in is sent to sign in.
func TestServicePagesRead(t *testing.T) {
	t.Parallel()
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			f := newSvcFixture(t, d)
			h, ctx := f.h, context.Background()
			inc, _, err := h.Store.CreateIncident(ctx, models.NewIncident{Title: "5xx above 5%", Severity: models.SEV1, Source: "api", ServiceID: &f.checkout.ID})
			if err != nil {
				t.Fatal(err)
			}
			prom, _, err := h.Store.CreateIntegration(ctx, models.NewIntegration{Name: "prometheus", Services: []string{"checkout"}})
			if err != nil {
				t.Fatal(err)
			}
			seen := h.Clock.Now().Add(-10 * time.Minute)
			if err := h.DB.Gorm.Create(&models.Heartbeat{IntegrationID: prom.ID, ServiceID: f.checkout.ID, IntervalSeconds: 300, Severity: models.SEV2,
				LastSeenAt: &seen, CreatedAt: seen, UpdatedAt: seen}).Error; err != nil {
				t.Fatal(err)
			}
			end := h.Clock.Now().Add(time.Hour)
			if err := h.Store.CreateMaintenanceWindow(ctx, &models.MaintenanceWindow{Name: "db-upgrade", ServiceID: &f.checkout.ID, StartsAt: h.Clock.Now().Add(-time.Minute),
				EndsAt: &end, Reason: "Postgres 18", CreatedBy: "web:ann"}); err != nil {
				t.Fatal(err)
			}

			expect(t, h.anonymous().get("/services"), http.StatusSeeOther)
			viewer := h.signIn("vic", models.WebRoleViewer, nil)
			rec := viewer.get("/services")
			expect(t, rec, http.StatusOK, "checkout", "payments", "payments-plan", "SEV2 (major)", "ledger", "none: pages nobody")
			if strings.Contains(rec.Body.String(), "New service") || strings.Contains(rec.Body.String(), "/services/checkout/edit") {
				t.Error("a viewer is offered edits")
			}
			rec = viewer.get("/services/checkout")
			expect(t, rec, http.StatusOK, "prometheus", "db-upgrade", "Postgres 18", "active", "overdue", "5xx above 5%", "/incidents/"+strconv.FormatInt(inc.Number, 10))
			expect(t, viewer.get("/services/ghost"), http.StatusNotFound, "ghost")
			expect(t, viewer.get("/services/new"), http.StatusForbidden)
			expect(t, viewer.get("/services/checkout/edit"), http.StatusForbidden)

			// A beat now: ok.
			now := h.Clock.Now()
			if err := h.DB.Gorm.Model(&models.Heartbeat{}).Where("integration_id = ?", prom.ID).Update("last_seen_at", now).Error; err != nil {
				t.Fatal(err)
			}
			rec = viewer.get("/services/checkout")
			expect(t, rec, http.StatusOK, `hb-ok">ok<`)
		})
	}
}

// TestServiceWrites: viewers cannot write; a team admin creates and edits
// their team's services only, and cannot move one to another team;
// admins can; bad input re-renders naming the field; every change is
// audited and drops the caches.
func TestServicePageWrites(t *testing.T) {
	t.Parallel()
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			f := newSvcFixture(t, d)
			h := f.h
			form := func(kv ...string) url.Values {
				v := url.Values{"default_severity": {"3"}}
				for i := 0; i+1 < len(kv); i += 2 {
					v.Set(kv[i], kv[i+1])
				}
				return v
			}
			count := func() int {
				rows, err := h.Store.ServiceOverviews(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				return len(rows)
			}

			viewer := h.signIn("vic", models.WebRoleViewer, nil)
			expect(t, viewer.post("/services", form("name", "web", "team", f.teamA.ID)), http.StatusForbidden)
			member := h.signIn("mia", models.WebRoleMember, nil)
			expect(t, member.post("/services", form("name", "web", "team", f.teamA.ID)), http.StatusForbidden)
			ta := h.signIn("tad", models.WebRoleMember, nil, f.teamA.ID)
			expect(t, ta.post("/services", form("name", "web", "team", f.teamB.ID)), http.StatusForbidden, "own teams")
			expect(t, ta.post("/services", form("name", "web")), http.StatusForbidden)
			expect(t, ta.post("/services", form("name", "web", "team", f.teamA.ID, "plan", f.planB.ID)), http.StatusForbidden, "another team")
			if n := count(); n != 2 || f.forgets != 0 {
				t.Fatalf("refused writes stored something: %d services, %d forgets", n, f.forgets)
			}

			// Validation re-renders the form, naming the field.
			rec := ta.post("/services", form("name", "bad name!", "team", f.teamA.ID, "description", "kept"))
			expect(t, rec, http.StatusUnprocessableEntity, "Name: ", "is not a valid name", "kept")
			expect(t, ta.post("/services", form("name", "checkout", "team", f.teamA.ID)), http.StatusUnprocessableEntity, "Name: a service named")
			expect(t, ta.post("/services", form("name", "web", "team", f.teamA.ID, "default_severity", "9")), http.StatusUnprocessableEntity, "Default severity:")
			if n := count(); n != 2 {
				t.Fatalf("invalid forms stored: %d services", n)
			}

			expect(t, ta.get("/services/new"), http.StatusOK, "New service", "payments-plan")
			rec = ta.post("/services", form("name", "web", "team", f.teamA.ID, "plan", f.planA.ID, "default_severity", "2", "working_hours_only", "on"))
			expect(t, rec, http.StatusSeeOther)
			web := f.service(t, "web")
			if web.TeamID == nil || *web.TeamID != f.teamA.ID || web.PlanID == nil || *web.PlanID != f.planA.ID || web.DefaultSeverity != models.SEV2 || !web.WorkingHoursOnly {
				t.Errorf("stored %+v", web)
			}
			if f.forgets != 1 {
				t.Errorf("forgets %d after a create", f.forgets)
			}
			if a := f.audits(t, "service:web"); len(a) != 1 || a[0].Action != "service.create" || a[0].Actor != "web:tad" || !strings.Contains(a[0].After, `"team":"payments"`) {
				t.Errorf("audit %+v", a)
			}

			// Another team's service: not editable.
			expect(t, ta.get("/services/ledger/edit"), http.StatusForbidden)
			expect(t, ta.post("/services/ledger", form("team", f.teamB.ID, "description", "mine now")), http.StatusForbidden)
			// Nor may a team admin move theirs away.
			expect(t, ta.post("/services/checkout", form("team", f.teamB.ID)), http.StatusForbidden, "cannot move")
			if s := f.service(t, "checkout"); *s.TeamID != f.teamA.ID || f.service(t, "ledger").Description != "" {
				t.Error("a refused edit changed a service")
			}
			expect(t, ta.get("/services/checkout/edit"), http.StatusOK, "Only an admin moves")
			expect(t, ta.post("/services/checkout", form("team", f.teamA.ID, "plan", f.planA.ID, "default_severity", "0")), http.StatusUnprocessableEntity, "Default severity:")
			expect(t, ta.post("/services/checkout", form("team", f.teamA.ID, "plan", f.planA.ID, "description", "the cart", "default_severity", "1")), http.StatusSeeOther)
			if s := f.service(t, "checkout"); s.Description != "the cart" || s.DefaultSeverity != models.SEV1 {
				t.Errorf("edit not saved: %+v", s)
			}

			// An admin moves a service between teams; before and after are audited.
			admin := h.signIn("ann", models.WebRoleAdmin, nil)
			expect(t, admin.post("/services/ledger", form("team", f.teamA.ID, "name", "renamed")), http.StatusSeeOther)
			if s := f.service(t, "ledger"); *s.TeamID != f.teamA.ID {
				t.Errorf("admin move not saved: %+v", s)
			}
			a := f.audits(t, "service:ledger")
			if len(a) != 1 || a[0].Action != "service.update" || !strings.Contains(a[0].Before, `"team":"ledger-team"`) || !strings.Contains(a[0].After, `"team":"payments"`) {
				t.Errorf("audit %+v", a)
			}
			if f.forgets != 3 {
				t.Errorf("forgets %d, want 3", f.forgets)
			}
		})
	}
}
