package models_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/models"
)

func addTeamRow(t *testing.T, db *testdb.DB, name string) *models.Team {
	t.Helper()
	team := &models.Team{ID: uuid.NewString(), Name: name, CreatedAt: t0, UpdatedAt: t0}
	check(t, db.Gorm.Create(team).Error)
	return team
}

// TestServiceWrites: services are created and edited with every problem
// named at its field; names are unique and stay on update.
func TestServiceWrites(t *testing.T) {
	t.Parallel()
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			db := testdb.New(t, d, newClock())
			team := addTeamRow(t, db, "payments")
			plan := &models.Plan{ID: uuid.NewString(), Name: "pay-plan", TeamID: &team.ID, CreatedAt: t0, UpdatedAt: t0}
			check(t, db.Gorm.Create(plan).Error)

			fields := func(err error) string {
				var problems models.InputErrors
				if !errors.As(err, &problems) {
					t.Fatalf("want InputErrors, got %v", err)
				}
				var out []string
				for _, p := range problems {
					out = append(out, p.Field)
				}
				return strings.Join(out, ",")
			}
			_, err := db.Store.CreateService(ctx, models.ServiceInput{Name: "bad name", TeamID: "nope", PlanID: "nope", Description: strings.Repeat("x", 1001)})
			if got := fields(err); got != "name,description,default_severity,team,plan" {
				t.Errorf("problems at %s", got)
			}
			svc, err := db.Store.CreateService(ctx, models.ServiceInput{Name: "checkout", TeamID: team.ID, PlanID: plan.ID, DefaultSeverity: models.SEV2, WorkingHoursOnly: true})
			check(t, err)
			if svc.TeamID == nil || *svc.TeamID != team.ID || svc.PlanID == nil || svc.DefaultSeverity != models.SEV2 || !svc.WorkingHoursOnly {
				t.Errorf("stored %+v", svc)
			}
			if _, err := db.Store.CreateService(ctx, models.ServiceInput{Name: "checkout", DefaultSeverity: models.SEV3}); fields(err) != "name" {
				t.Errorf("a second checkout: %v", err)
			}
			up, err := db.Store.UpdateService(ctx, svc.ID, models.ServiceInput{Name: "renamed", Description: "cart", DefaultSeverity: models.SEV4})
			check(t, err)
			got, err := db.Store.ServiceByName(ctx, "checkout")
			check(t, err)
			if up.Name != "checkout" || got.Description != "cart" || got.TeamID != nil || got.PlanID != nil || got.DefaultSeverity != models.SEV4 || got.WorkingHoursOnly {
				t.Errorf("after update %+v", got)
			}
			if _, err := db.Store.UpdateService(ctx, uuid.NewString(), models.ServiceInput{DefaultSeverity: models.SEV1}); !models.IsNotFound(err) {
				t.Errorf("updating nothing: %v", err)
			}
			teams, err := db.Store.ServiceTeams(ctx, []string{"checkout", "ghost"})
			check(t, err)
			if len(teams) != 1 || teams["checkout"] != "" {
				t.Errorf("service teams %v", teams)
			}
		})
	}
}

// TestServiceOverviews: team and plan names, open incidents and the last
// alert (the newest incident's last sighting) per service.
func TestServiceOverviews(t *testing.T) {
	t.Parallel()
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			clock := newClock()
			db := testdb.New(t, d, clock)
			team := addTeamRow(t, db, "payments")
			pay, err := db.Store.CreateService(ctx, models.ServiceInput{Name: "pay", TeamID: team.ID, DefaultSeverity: models.SEV3})
			check(t, err)
			addService(t, db, "quiet")
			for i := range 3 {
				inc, _, err := db.Store.CreateIncident(ctx, models.NewIncident{Title: "t", Severity: models.SEV2, Source: "api", ServiceID: &pay.ID})
				check(t, err)
				if i == 0 {
					check(t, db.Gorm.Model(&models.Incident{}).Where("id = ?", inc.ID).Updates(map[string]any{"status": models.StatusResolved, "resolved_at": clock.Now()}).Error)
				}
				clock.Advance(time.Minute)
			}
			rows, err := db.Store.ServiceOverviews(ctx)
			check(t, err)
			if len(rows) != 2 || rows[0].Name != "pay" || rows[1].Name != "quiet" {
				t.Fatalf("rows %+v", rows)
			}
			p, q := rows[0], rows[1]
			if p.TeamName != "payments" || p.PlanName != "" || p.OpenIncidents != 2 || p.LastAlertAt == nil || !p.LastAlertAt.Equal(t0.Add(2*time.Minute)) {
				t.Errorf("pay %+v last %v", p, p.LastAlertAt)
			}
			if q.OpenIncidents != 0 || q.LastAlertAt != nil || q.TeamName != "" {
				t.Errorf("quiet %+v", q)
			}
		})
	}
}

// TestMaintenanceWindowWrites: windows are created all or none; a running
// one ends early, a config one, an upcoming one or one over do not.
func TestMaintenanceWindowWrites(t *testing.T) {
	t.Parallel()
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			clock := newClock()
			db := testdb.New(t, d, clock)
			svc := addService(t, db, "pay")
			end := t0.Add(time.Hour)
			later := t0.Add(2 * time.Hour)
			win := func(name string, start time.Time, end *time.Time) *models.MaintenanceWindow {
				return &models.MaintenanceWindow{Name: name, ServiceID: &svc.ID, StartsAt: start, EndsAt: end, Reason: "r", CreatedBy: "web:ann"}
			}
			check(t, db.Store.CreateMaintenanceWindows(ctx, []*models.MaintenanceWindow{win("now", t0.Add(-time.Minute), &end), win("soon", end, &later)}))
			err := db.Store.CreateMaintenanceWindows(ctx, []*models.MaintenanceWindow{win("fresh", t0, &end), win("now", t0, &end)})
			if !errors.Is(err, models.ErrDuplicate) || !strings.Contains(err.Error(), `"now"`) {
				t.Errorf("duplicate: %v", err)
			}
			if _, err := db.Store.MaintenanceWindowByName(ctx, "fresh"); !models.IsNotFound(err) {
				t.Errorf("fresh stored despite the duplicate: %v", err)
			}
			cfg := win("cfg", t0.Add(-time.Minute), &end)
			cfg.ManagedBy = models.ManagedByConfig
			check(t, db.Store.CreateMaintenanceWindow(ctx, cfg))

			clock.Advance(10 * time.Minute)
			ended, err := db.Store.EndMaintenanceWindow(ctx, "now", clock.Now())
			check(t, err)
			if ended.EndsAt == nil || !ended.EndsAt.Equal(clock.Now()) || ended.ServiceName != "pay" {
				t.Errorf("ended %+v", ended)
			}
			active, err := db.Store.ActiveMaintenance(ctx, svc.ID, clock.Now())
			check(t, err)
			for _, w := range active {
				if w.Name == "now" {
					t.Error("an ended window is still active")
				}
			}
			for name, want := range map[string]error{"now": models.ErrNoChange, "soon": models.ErrInvalid, "cfg": models.ErrManagedByConfig} {
				if _, err := db.Store.EndMaintenanceWindow(ctx, name, clock.Now()); !errors.Is(err, want) {
					t.Errorf("ending %s: %v, want %v", name, err, want)
				}
			}
			if _, err := db.Store.EndMaintenanceWindow(ctx, "ghost", clock.Now()); !models.IsNotFound(err) {
				t.Errorf("ending a ghost: %v", err)
			}
		})
	}
}
