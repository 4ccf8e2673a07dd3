package models_test

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/models"
)

// TestIrisIncidentView: the plan is the one recorded at creation (kept on
// a second record), else the escalation's; the owner is the escalation's
// claimer, else the Iris client's while the incident is claimed; active
// is "open, unclaimed, still escalating".
func TestIrisIncidentView(t *testing.T) {
	t.Parallel()
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			db := testdb.New(t, d, newClock())
			s := db.Store
			mustOK := func(err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
			}
			view := func(number int64) *models.IrisView {
				t.Helper()
				v, err := s.IrisIncidentView(ctx, number)
				mustOK(err)
				return v
			}

			// Raised with a plan but never escalated (held by a window).
			held, _, err := s.CreateIncident(ctx, models.NewIncident{Title: "held", Application: "app"})
			mustOK(err)
			mustOK(s.RecordIrisIncident(ctx, held.ID, "db"))
			mustOK(s.RecordIrisIncident(ctx, held.ID, "other"))
			if v := view(held.Number); v.Plan != "db" || v.Owner != "" || !v.Active || v.Escalated {
				t.Fatalf("held: %+v", v)
			}
			owner := "ann"
			mustOK(s.SetIrisOwner(ctx, held.ID, &owner))
			if v := view(held.Number); v.Owner != "" {
				t.Fatalf("owner shown while unclaimed: %+v", v)
			}
			now := t0
			_, err = s.ChangeIncident(ctx, held.ID, nil, func(inc *models.Incident) (models.Change, error) {
				inc.AcknowledgedAt = &now
				return models.Change{Action: "incident.ack"}, nil
			})
			mustOK(err)
			if v := view(held.Number); v.Owner != "ann" || v.Active {
				t.Fatalf("claimed without an escalation: %+v", v)
			}

			// Raised elsewhere, escalating: plan and owner from the escalation.
			p := &models.Plan{ID: uuid.NewString(), Name: "web", ActiveVersion: 1, CreatedAt: t0, UpdatedAt: t0}
			mustOK(db.Gorm.Create(p).Error)
			pv := &models.PlanVersion{PlanID: p.ID, Version: 1, Definition: `{"steps":[]}`, CreatedBy: "t", CreatedAt: t0}
			mustOK(db.Gorm.Create(pv).Error)
			api, _, err := s.CreateIncident(ctx, models.NewIncident{Title: "api", Application: "app"})
			mustOK(err)
			_, err = s.StartEscalation(ctx, api.ID, pv.ID)
			mustOK(err)
			if v := view(api.Number); v.Plan != "web" || !v.Escalated || v.Step != 0 || !v.Active {
				t.Fatalf("escalating: %+v", v)
			}
			mustOK(s.SetIrisOwner(ctx, api.ID, &owner)) // no Iris row: nothing to set
			_, err = s.StopEscalation(ctx, api.ID, models.EscalationClaimed, "bob")
			mustOK(err)
			if v := view(api.Number); v.Owner != "bob" || v.Active {
				t.Fatalf("claimed by the engine: %+v", v)
			}
			if _, err := s.IrisIncidentView(ctx, 999); !models.IsNotFound(err) {
				t.Fatalf("unknown number: %v", err)
			}
		})
	}
}
