package models_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/models"
)

// addService stores a service without a plan.
func addService(t *testing.T, db *testdb.DB, name string) *models.Service {
	t.Helper()
	svc := &models.Service{ID: uuid.NewString(), Name: name, DefaultSeverity: models.SEV3, CreatedAt: t0, UpdatedAt: t0}
	if err := db.Gorm.Create(svc).Error; err != nil {
		t.Fatal(err)
	}
	return svc
}

// TestListServiceIncidents: only the given services' incidents, newest
// first, filtered by state (open = unacknowledged, claimed, resolved) and
// creation time, paged below a number; bad filters are ErrInvalid.
func TestListServiceIncidents(t *testing.T) {
	t.Parallel()
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			clock := newClock()
			db := testdb.New(t, d, clock)
			pay, web, other := addService(t, db, "payments"), addService(t, db, "web"), addService(t, db, "other")
			numbers := map[string]int64{}
			raise := func(title string, svc *models.Service) *models.Incident {
				n := models.NewIncident{Title: title, Severity: models.SEV2, Source: "api"}
				if svc != nil {
					n.ServiceID = &svc.ID
				}
				inc, created, err := db.Store.CreateIncident(ctx, n)
				if err != nil || !created {
					t.Fatalf("raising %s: %v %v", title, created, err)
				}
				numbers[title] = inc.Number
				clock.Advance(time.Minute)
				return inc
			}
			raise("p1", pay)
			raise("w1", web)
			raise("o1", other)
			claimed := raise("p2", pay)
			resolved := raise("w2", web)
			raise("p3", pay)
			raise("declared in Slack", nil) // of no service
			now := clock.Now()
			check(t, db.Gorm.Model(&models.Incident{}).Where("id = ?", claimed.ID).Update("acknowledged_at", now).Error)
			check(t, db.Gorm.Model(&models.Incident{}).Where("id = ?", resolved.ID).Updates(map[string]any{"status": models.StatusResolved, "resolved_at": now}).Error)

			since := t0.Add(3 * time.Minute) // p2 on
			tests := []struct {
				name string
				f    models.ServiceIncidentFilter
				want []string
			}{
				{"every state, newest first", models.ServiceIncidentFilter{ServiceIDs: []string{pay.ID, web.ID}, Limit: 10}, []string{"p3", "w2", "p2", "w1", "p1"}},
				{"one service", models.ServiceIncidentFilter{ServiceIDs: []string{pay.ID}, Limit: 10}, []string{"p3", "p2", "p1"}},
				{"open is unacknowledged", models.ServiceIncidentFilter{ServiceIDs: []string{pay.ID, web.ID}, State: models.AlertStateOpen, Limit: 10}, []string{"p3", "w1", "p1"}},
				{"claimed", models.ServiceIncidentFilter{ServiceIDs: []string{pay.ID, web.ID}, State: models.AlertStateClaimed, Limit: 10}, []string{"p2"}},
				{"resolved", models.ServiceIncidentFilter{ServiceIDs: []string{pay.ID, web.ID}, State: models.AlertStateResolved, Limit: 10}, []string{"w2"}},
				{"since", models.ServiceIncidentFilter{ServiceIDs: []string{pay.ID, web.ID}, Since: &since, Limit: 10}, []string{"p3", "w2", "p2"}},
				{"first page", models.ServiceIncidentFilter{ServiceIDs: []string{pay.ID, web.ID}, Limit: 2}, []string{"p3", "w2"}},
				{"next page", models.ServiceIncidentFilter{ServiceIDs: []string{pay.ID, web.ID}, BeforeNumber: numbers["w2"], Limit: 2}, []string{"p2", "w1"}},
				{"no services, nothing", models.ServiceIncidentFilter{Limit: 10}, nil},
			}
			for _, tt := range tests {
				got, err := db.Store.ListServiceIncidents(ctx, tt.f)
				if err != nil {
					t.Fatalf("%s: %v", tt.name, err)
				}
				var titles []string
				for _, inc := range got {
					titles = append(titles, inc.Title)
				}
				if len(titles) != len(tt.want) {
					t.Errorf("%s: got %v, want %v", tt.name, titles, tt.want)
					continue
				}
				for i := range titles {
					if titles[i] != tt.want[i] {
						t.Errorf("%s: got %v, want %v", tt.name, titles, tt.want)
						break
					}
				}
			}
			for _, bad := range []models.ServiceIncidentFilter{
				{ServiceIDs: []string{pay.ID}, Limit: 0},
				{ServiceIDs: []string{pay.ID}, Limit: models.MaxServiceIncidentsLimit + 1},
				{ServiceIDs: []string{pay.ID}, Limit: 5, State: "OPEN"},
			} {
				if _, err := db.Store.ListServiceIncidents(ctx, bad); !errors.Is(err, models.ErrInvalid) {
					t.Errorf("filter %+v: %v, want ErrInvalid", bad, err)
				}
			}
		})
	}
}

func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
