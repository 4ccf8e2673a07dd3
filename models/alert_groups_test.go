package models_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/models"
)

// TestRecordIncidentAlerts: new alerts and status changes are transitions
// and get their timeline entries; a repeat changes nothing; a "firing" of
// an episode already resolved (same start) is stale; a re-fire (later
// start) is a transition; 20 concurrent identical notifications record
// each transition once.
func TestRecordIncidentAlerts(t *testing.T) {
	t.Parallel()
	testdb.ForEachDialect(t, newClock(), func(t *testing.T, db *testdb.DB) {
		ctx := context.Background()
		svc := &models.Service{ID: models.NewIntegrationID(), Name: "checkout", DefaultSeverity: models.SEV3, CreatedAt: t0, UpdatedAt: t0}
		if err := db.Gorm.Create(svc).Error; err != nil {
			t.Fatal(err)
		}
		inc, _, err := db.Store.CreateIncident(ctx, models.NewIncident{Title: "High error rate", ServiceID: &svc.ID, DedupKey: "alertmanager:g", Source: "alertmanager"})
		if err != nil {
			t.Fatal(err)
		}
		notes := func(_ *models.Incident, ts []models.AlertTransition) ([]models.TimelineEvent, []models.NewJob) {
			var out []models.TimelineEvent
			for _, tr := range ts {
				out = append(out, models.TimelineEvent{Kind: models.TimelineNote, Text: tr.From + "→" + tr.Alert.Status + " " + tr.Alert.Fingerprint})
			}
			return out, nil
		}
		// Nanoseconds and a zone: stored in UTC to the microsecond, and a
		// re-sent start still compares equal.
		start := time.Date(2026, 3, 1, 11, 58, 3, 456789123, time.FixedZone("CET", 3600))
		later := start.Add(time.Hour)
		firing := []models.IncidentAlert{{Fingerprint: "a", Status: models.AlertFiring, Labels: `{"instance":"web-1"}`, StartsAt: &start}}
		record := func(alerts []models.IncidentAlert) []models.AlertTransition {
			t.Helper()
			ts, err := db.Store.RecordIncidentAlerts(ctx, inc.ID, alerts, notes)
			if err != nil {
				t.Fatal(err)
			}
			return ts
		}

		var wg sync.WaitGroup
		var mu sync.Mutex
		total := 0
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ts, err := db.Store.RecordIncidentAlerts(ctx, inc.ID, firing, notes)
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				total += len(ts)
				mu.Unlock()
			}()
		}
		wg.Wait()
		if total != 1 {
			t.Fatalf("20 concurrent identical notifications recorded %d transitions, want 1", total)
		}
		if ts := record(firing); len(ts) != 0 {
			t.Errorf("a repeat: %+v", ts)
		}

		two := append(firing, models.IncidentAlert{Fingerprint: "b", Status: models.AlertFiring, StartsAt: &later})
		if ts := record(two); len(ts) != 1 || ts[0].Alert.Fingerprint != "b" || ts[0].From != "" {
			t.Errorf("a joining alert: %+v", ts)
		}
		end := start.Add(30 * time.Minute)
		resolvedA := []models.IncidentAlert{{Fingerprint: "a", Status: models.AlertResolved, Labels: `{"instance":"web-1"}`, StartsAt: &start, EndsAt: &end}}
		if ts := record(resolvedA); len(ts) != 1 || ts[0].From != models.AlertFiring || ts[0].Alert.Status != models.AlertResolved {
			t.Errorf("a resolution: %+v", ts)
		}
		if ts := record(firing); len(ts) != 0 {
			t.Errorf("a stale firing of the resolved episode: %+v", ts)
		}
		refire := []models.IncidentAlert{{Fingerprint: "a", Status: models.AlertFiring, StartsAt: &later}}
		if ts := record(refire); len(ts) != 1 || ts[0].From != models.AlertResolved {
			t.Errorf("a re-fire: %+v", ts)
		}

		alerts, err := db.Store.IncidentAlerts(ctx, inc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(alerts) != 2 || alerts[0].Status != models.AlertFiring || !alerts[0].StartsAt.Equal(later.Truncate(time.Microsecond)) || !alerts[0].UpdatedAt.Equal(t0) || alerts[1].Labels != "{}" {
			t.Errorf("stored alerts %+v", alerts)
		}
		tl, err := db.Store.Timeline(ctx, inc.ID)
		if err != nil {
			t.Fatal(err)
		}
		var texts []string
		for _, e := range tl[1:] { // after "declared"
			texts = append(texts, e.Text)
		}
		want := []string{"→firing a", "→firing b", "firing→resolved a", "resolved→firing a"}
		if len(texts) != len(want) {
			t.Fatalf("timeline %q, want %q", texts, want)
		}
		for i := range want {
			if texts[i] != want[i] {
				t.Errorf("timeline %q, want %q", texts, want)
				break
			}
		}

		got, err := db.Store.IncidentForDedupKey(ctx, svc.ID, "alertmanager:g")
		if err != nil || got.ID != inc.ID {
			t.Errorf("IncidentForDedupKey = %+v %v", got, err)
		}
		if _, err := db.Store.IncidentForDedupKey(ctx, svc.ID, "alertmanager:other"); !models.IsNotFound(err) {
			t.Errorf("unknown group: %v", err)
		}
	})
}
