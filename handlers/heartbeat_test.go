package handlers_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/heraldhq/herald/handlers"
	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/models"
)

func (f *noiseFixture) checkDue(want int) {
	f.t.Helper()
	n, err := f.beats.CheckDue(f.ctx)
	if err != nil || n != want {
		f.t.Fatalf("CheckDue at %s = %d, %v; want %d", f.clock.Now().Format(time.RFC3339), n, err, want)
	}
}

func (f *noiseFixture) heartbeatIncidents() []models.Incident {
	f.t.Helper()
	var out []models.Incident
	if err := f.db.Gorm.Where("source = ?", "heartbeat").Order("number").Find(&out).Error; err != nil {
		f.t.Fatal(err)
	}
	return out
}

// TestHeartbeatMissAndCheckIn: a missed check-in opens one incident per
// outage (pages with the service's plan); the next check-in resolves it,
// saying so; the next miss opens a new one.
func TestHeartbeatMissAndCheckIn(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			f := newNoiseFixture(t, d)
			f.clock.Set(noiseT0.Add(5*time.Minute - time.Second))
			f.checkDue(0)
			f.clock.Set(noiseT0.Add(5 * time.Minute))
			f.checkDue(1)
			incs := f.heartbeatIncidents()
			if len(incs) != 1 {
				t.Fatalf("%d incidents", len(incs))
			}
			inc := incs[0]
			if inc.Title != "Heartbeat missed: prometheus has not checked in for 5 minutes" || inc.Severity != models.SEV2 || inc.Application != "prometheus" ||
				inc.DedupKey == nil || *inc.DedupKey != models.HeartbeatDedupKey(f.prom.ID) {
				t.Errorf("incident = %+v", inc)
			}
			if e := f.escalation(inc.ID); e == nil || e.State != models.EscalationActive {
				t.Errorf("the missed heartbeat pages nobody: %+v", e)
			}
			// Still missing: no second incident, nor an occurrence.
			for _, after := range []time.Duration{30 * time.Second, 5 * time.Minute} {
				f.clock.Advance(after)
				f.checkDue(0)
			}
			if incs := f.heartbeatIncidents(); len(incs) != 1 || incs[0].Occurrences != 1 {
				t.Fatalf("incidents while still missing = %+v", incs)
			}

			f.clock.Set(noiseT0.Add(12 * time.Minute))
			out, err := f.beats.CheckIn(f.ctx, f.prom, "")
			if err != nil || len(out) != 1 || out[0].Service != "checkout" || out[0].Interval != "5m" || out[0].ResolvedIncident == nil || *out[0].ResolvedIncident != inc.Number ||
				!out[0].NextDueAt.Equal(noiseT0.Add(17*time.Minute)) {
				t.Fatalf("CheckIn = %+v, %v", out, err)
			}
			got, err := f.db.Store.IncidentByID(f.ctx, inc.ID)
			if err != nil || got.IsOpen() {
				t.Fatalf("incident after the check-in = %+v, %v", got, err)
			}
			if !f.timelineHas(inc.ID, "prometheus checked in again after 12 minutes: the heartbeat is back, so Herald resolves this incident automatically.") ||
				!f.timelineHas(inc.ID, "Resolved by a heartbeat check-in of prometheus") {
				t.Error("the timeline does not say why it resolved")
			}
			if e := f.escalation(inc.ID); e.State != models.EscalationResolved {
				t.Errorf("escalation after the check-in = %+v", e)
			}
			// A check-in with nothing missed resolves nothing.
			f.clock.Advance(time.Minute)
			if out, err := f.beats.CheckIn(f.ctx, f.prom, "checkout"); err != nil || out[0].ResolvedIncident != nil {
				t.Errorf("CheckIn = %+v, %v", out, err)
			}
			f.clock.Advance(5*time.Minute - time.Second)
			f.checkDue(0)
			f.clock.Advance(time.Second)
			f.checkDue(1)
			if incs := f.heartbeatIncidents(); len(incs) != 2 || !incs[1].IsOpen() || incs[1].Number == inc.Number {
				t.Errorf("the second outage = %+v", incs)
			}

			for _, service := range []string{"search", "nope"} {
				if _, err := f.beats.CheckIn(f.ctx, f.prom, service); !errors.Is(err, models.ErrNoHeartbeat) {
					t.Errorf("CheckIn for %s: %v", service, err)
				}
			}
		})
	}
}

// TestHeartbeatMissInMaintenance: a heartbeat missed in a maintenance
// window is recorded and pages nobody.
func TestHeartbeatMissInMaintenance(t *testing.T) {
	f := newNoiseFixture(t, models.DialectSQLite)
	f.clock.Set(mustTime(t, "2026-03-01T12:58:00Z"))
	if _, err := f.beats.CheckIn(f.ctx, f.prom, "checkout"); err != nil {
		t.Fatal(err)
	}
	f.clock.Set(mustTime(t, "2026-03-01T13:03:00Z"))
	f.checkDue(1)
	incs := f.heartbeatIncidents()
	if len(incs) != 1 || f.escalation(incs[0].ID) != nil || !f.timelineHas(incs[0].ID, `Not paged: maintenance window "checkout-migration"`) {
		t.Errorf("heartbeat incident in a window = %+v", incs)
	}
}

// racingStore checks the integration in just before the checker marks the
// heartbeat missed, as a check-in landing mid-check would.
type racingStore struct {
	*models.Store
	integrationID string
}

func (r racingStore) MarkHeartbeatMissed(ctx context.Context, integrationID, serviceID string, now time.Time) (bool, error) {
	if _, err := r.CheckInHeartbeats(ctx, r.integrationID, ""); err != nil {
		return false, err
	}
	return r.Store.MarkHeartbeatMissed(ctx, integrationID, serviceID, now)
}

// TestHeartbeatCheckInDuringCheck: the incident opened for a miss that a
// check-in ended meanwhile is resolved at once.
func TestHeartbeatCheckInDuringCheck(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			f := newNoiseFixture(t, d)
			beats := handlers.NewHeartbeats(f.deps, racingStore{Store: f.db.Store, integrationID: f.prom.ID}, f.intake)
			f.clock.Set(noiseT0.Add(6 * time.Minute))
			if n, err := beats.CheckDue(f.ctx); err != nil || n != 0 {
				t.Fatalf("CheckDue = %d, %v", n, err)
			}
			incs := f.heartbeatIncidents()
			if len(incs) != 1 || incs[0].IsOpen() || !f.timelineHas(incs[0].ID, "checked in again while the incident was being opened") {
				t.Fatalf("incidents = %+v", incs)
			}
			// The monitor is healthy: nothing is due.
			f.checkDue(0)
		})
	}
}
