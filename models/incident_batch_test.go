package models_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/internal/testlog"
	"github.com/heraldhq/herald/models"
)

// batchFixture is a database with a service and a published plan, and a
// running IncidentBatcher on it.
type batchFixture struct {
	ctx     context.Context
	db      *testdb.DB
	svc     *models.Service
	batcher *models.IncidentBatcher
}

func newBatchFixture(t *testing.T, dialect string) *batchFixture {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	f := &batchFixture{ctx: context.Background(), db: testdb.New(t, dialect, newClock())}
	f.svc = &models.Service{ID: uuid.NewString(), Name: "checkout", DefaultSeverity: models.SEV2, CreatedAt: t0, UpdatedAt: t0}
	plan := &models.Plan{ID: uuid.NewString(), Name: "shop", ActiveVersion: 1, CreatedAt: t0, UpdatedAt: t0}
	for _, row := range []any{f.svc, plan, &models.PlanVersion{PlanID: plan.ID, Version: 1, Definition: `{"steps":[]}`, CreatedBy: "test", CreatedAt: t0}} {
		if err := f.db.Gorm.Create(row).Error; err != nil {
			t.Fatal(err)
		}
	}
	f.batcher = models.NewIncidentBatcher(f.db.Store, testlog.Logger(t), 16, 2)
	done := f.batcher.Start(ctx)
	t.Cleanup(func() { cancel(); <-done })
	return f
}

// createAll runs the creations at once and returns their results in order.
func (f *batchFixture) createAll(t *testing.T, ns []models.NewIncident) ([]*models.Incident, []bool, []error) {
	t.Helper()
	incs, created, errs := make([]*models.Incident, len(ns)), make([]bool, len(ns)), make([]error, len(ns))
	var wg sync.WaitGroup
	for i := range ns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			incs[i], created[i], errs[i] = f.batcher.CreateIncident(f.ctx, ns[i])
		}()
	}
	wg.Wait()
	return incs, created, errs
}

func (f *batchFixture) count(t *testing.T, table, where string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := f.db.Gorm.Table(table).Where(where, args...).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// TestIncidentBatcherCreates: concurrent creations through the batcher
// store each incident with its number, "declared" entry, extra timeline
// entries, reminders, jobs and escalation, exactly as the store's own
// path does; a plan without a published version leaves Started false and
// no escalation.
func TestIncidentBatcherCreates(t *testing.T) {
	t.Parallel()
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			f := newBatchFixture(t, d)
			const n = 40
			ns := make([]models.NewIncident, n)
			escs := make([]*models.NewEscalation, n)
			for i := range ns {
				plan := "shop"
				if i%10 == 0 {
					plan = "unpublished"
				}
				escs[i] = &models.NewEscalation{Plan: plan, WakeChannel: "herald_test"}
				payload, _ := json.Marshal(map[string]int{"i": i})
				ns[i] = models.NewIncident{
					Title: fmt.Sprintf("  alert %d  ", i), Severity: models.SEV3, Source: "prometheus", Application: "prom",
					ServiceID: &f.svc.ID, Services: f.svc.Name, DedupKey: fmt.Sprintf("key-%d", i),
					Timeline:  []models.TimelineEvent{{Kind: models.TimelineNote, Text: fmt.Sprintf("note %d", i)}},
					Reminders: []models.NewReminder{{Name: "status", FirstRunAt: t0.Add(time.Hour)}},
					Jobs: func(inc *models.Incident) []models.NewJob {
						return []models.NewJob{{Kind: "test.job", Payload: payload}}
					},
					Escalation: escs[i],
				}
			}
			incs, created, errs := f.createAll(t, ns)
			numbers := map[int64]bool{}
			for i := range ns {
				if errs[i] != nil || !created[i] || incs[i] == nil {
					t.Fatalf("creation %d: %+v created=%v %v", i, incs[i], created[i], errs[i])
				}
				inc := incs[i]
				if inc.Title != fmt.Sprintf("alert %d", i) || inc.DedupKey == nil || *inc.DedupKey != fmt.Sprintf("key-%d", i) || inc.Occurrences != 1 {
					t.Errorf("creation %d stored %+v", i, inc)
				}
				numbers[inc.Number] = true
				if got := f.count(t, "timeline_events", "incident_id = ?", inc.ID); got != 2 {
					t.Errorf("incident %d has %d timeline entries, want declared + note", i, got)
				}
				if got := f.count(t, "recurring_notifications", "incident_id = ?", inc.ID); got != 1 {
					t.Errorf("incident %d has %d reminders", i, got)
				}
				wantEsc := int64(1)
				if i%10 == 0 {
					wantEsc = 0
				}
				if escs[i].Started != (wantEsc == 1) {
					t.Errorf("creation %d: Started=%v with plan %q", i, escs[i].Started, escs[i].Plan)
				}
				if got := f.count(t, "escalations", "incident_id = ? AND application = ? AND state = ?", inc.ID, "prom", models.EscalationActive); got != wantEsc {
					t.Errorf("incident %d has %d escalations, want %d", i, got, wantEsc)
				}
			}
			if len(numbers) != n {
				t.Errorf("%d distinct numbers for %d incidents", len(numbers), n)
			}
			for num := int64(1); num <= n; num++ {
				if !numbers[num] {
					t.Errorf("number %d missing: numbers are not 1..%d without gaps", num, n)
				}
			}
			if got := f.count(t, "jobs", "kind = ?", "test.job"); got != n {
				t.Errorf("%d jobs, want %d", got, n)
			}
			batches, batched := f.batcher.Stats()
			switch {
			case d == models.DialectSQLite && batches != 0:
				t.Errorf("SQLite creations were batched (%d batches)", batches)
			case d == models.DialectPostgres && (batched != n || batches >= n):
				t.Errorf("%d creations in %d batches: %d concurrent creations were not grouped", batched, batches, n)
			}
		})
	}
}

// TestIncidentBatcherDedup: 20 identical alerts at once through the
// batcher open one incident with 20 occurrences, as on the store's path.
func TestIncidentBatcherDedup(t *testing.T) {
	t.Parallel()
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			f := newBatchFixture(t, d)
			ns := make([]models.NewIncident, 20)
			for i := range ns {
				ns[i] = models.NewIncident{Title: "disk full", ServiceID: &f.svc.ID, DedupKey: "disk/db-1", Escalation: &models.NewEscalation{Plan: "shop"}}
			}
			incs, created, errs := f.createAll(t, ns)
			ids, made := map[int64]bool{}, 0
			for i := range ns {
				if errs[i] != nil {
					t.Fatal(errs[i])
				}
				ids[incs[i].ID] = true
				if created[i] {
					made++
				}
			}
			if made != 1 || len(ids) != 1 {
				t.Fatalf("created %d incidents (%d ids), want 1", made, len(ids))
			}
			var occ int64
			if err := f.db.Gorm.Raw(`SELECT occurrences FROM incidents`).Scan(&occ).Error; err != nil || occ != 20 {
				t.Fatalf("occurrences %d %v, want 20", occ, err)
			}
			if got := f.count(t, "escalations", "1 = 1"); got != 1 {
				t.Errorf("%d escalations, want 1 (a repeat does not page again)", got)
			}
		})
	}
}

// TestIncidentBatcherOneBadCreation: a creation the database refuses (its
// service does not exist) fails alone; the others of its batch are stored.
func TestIncidentBatcherOneBadCreation(t *testing.T) {
	t.Parallel()
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			f := newBatchFixture(t, d)
			missing := uuid.NewString()
			ns := make([]models.NewIncident, 12)
			for i := range ns {
				ns[i] = models.NewIncident{Title: fmt.Sprintf("alert %d", i), ServiceID: &f.svc.ID, DedupKey: fmt.Sprintf("k%d", i)}
			}
			ns[5].ServiceID = &missing
			_, created, errs := f.createAll(t, ns)
			for i := range ns {
				if i == 5 {
					if errs[i] == nil {
						t.Errorf("the creation for a missing service succeeded")
					}
					continue
				}
				if errs[i] != nil || !created[i] {
					t.Errorf("creation %d failed with the bad one: created=%v %v", i, created[i], errs[i])
				}
			}
			if got := f.count(t, "incidents", "1 = 1"); got != 11 {
				t.Errorf("%d incidents stored, want 11", got)
			}
		})
	}
}

// TestIncidentBatcherRefusesInvalid: validation happens before queueing,
// with the store's errors.
func TestIncidentBatcherRefusesInvalid(t *testing.T) {
	t.Parallel()
	f := newBatchFixture(t, testdb.Dialects[0])
	for _, n := range []models.NewIncident{{Title: "   "}, {Title: "x", Severity: 9}} {
		if _, _, err := f.batcher.CreateIncident(f.ctx, n); err == nil {
			t.Errorf("%+v accepted", n)
		}
	}
	if got := f.count(t, "incidents", "1 = 1"); got != 0 {
		t.Errorf("%d incidents stored", got)
	}
}
