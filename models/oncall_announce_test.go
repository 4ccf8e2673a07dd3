package models_test

import (
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/models"
)

// TestOncallAnnouncements: a handoff is stored, with its jobs, only over
// the row its caller read: a stale reader (another replica, a restart
// that read before the change) stores and enqueues nothing. A summary
// firing is claimed once.
func TestOncallAnnouncements(t *testing.T) {
	t.Parallel()
	testdb.ForEachDialect(t, newClock(), func(t *testing.T, db *testdb.DB) {
		f := newSchedFixture(t, db)
		ctx, s := f.ctx, f.s
		job := func(key string) models.NewJob {
			return models.NewJob{Kind: "oncall.post", Payload: []byte(`{}`), DedupKey: key}
		}
		start := s.Clock().Now().Add(-time.Hour)
		alice := models.OncallAnnouncement{TeamID: f.team.ID, Role: models.RotationPrimary, PersonID: f.alice.ID, ShiftStart: start}
		bob := models.OncallAnnouncement{TeamID: f.team.ID, Role: models.RotationPrimary, PersonID: f.bob.ID, ShiftStart: start.Add(time.Hour)}

		steps := []struct {
			name       string
			prev       *models.OncallAnnouncement
			next       models.OncallAnnouncement
			key        string
			want       bool
			wantPerson string
		}{
			{"first sight", nil, alice, "", true, f.alice.ID},
			{"first sight again (a second replica)", nil, bob, "x", false, f.alice.ID},
			{"handoff", &alice, bob, "handoff-1", true, f.bob.ID},
			{"the same handoff from a stale read", &alice, bob, "handoff-2", false, f.bob.ID},
			{"back to alice", &bob, alice, "handoff-3", true, f.alice.ID},
		}
		for _, st := range steps {
			var jobs []models.NewJob
			if st.key != "" {
				jobs = append(jobs, job(st.key))
			}
			won, err := s.RecordOncallHandoff(ctx, st.prev, st.next, jobs...)
			if err != nil || won != st.want {
				t.Fatalf("%s: %v, %v; want %v", st.name, won, err, st.want)
			}
			rows, err := s.OncallAnnouncements(ctx)
			if err != nil || len(rows) != 1 || rows[0].PersonID != st.wantPerson {
				t.Fatalf("%s: rows %+v, %v; want %s", st.name, rows, err, st.wantPerson)
			}
		}
		for key, want := range map[string]bool{"x": false, "handoff-1": true, "handoff-2": false, "handoff-3": true} {
			var n int64
			if err := db.Gorm.Model(&models.Job{}).Where("dedup_key = ?", key).Count(&n).Error; err != nil {
				t.Fatal(err)
			}
			if (n == 1) != want {
				t.Errorf("job %s stored %d times, want stored %v", key, n, want)
			}
		}

		fire := time.Date(2026, 3, 9, 9, 0, 0, 0, time.UTC)
		for i, owner := range []string{"a", "b"} {
			won, err := s.ClaimOncallSummary(ctx, fire, owner, job("summary-"+owner))
			if err != nil || won != (i == 0) {
				t.Fatalf("claim by %s: %v, %v", owner, won, err)
			}
		}
		var n int64
		if err := db.Gorm.Model(&models.Job{}).Where("dedup_key LIKE ?", "summary-%").Count(&n).Error; err != nil || n != 1 {
			t.Errorf("%d summary jobs, %v; want 1", n, err)
		}

		if err := db.Gorm.Create(&models.TeamMember{TeamID: f.team.ID, PersonID: f.bob.ID}).Error; err != nil {
			t.Fatal(err)
		}
		teams, err := s.TeamsOfPerson(ctx, f.bob.ID)
		if err != nil || len(teams) != 1 || teams[0].Name != "payments" {
			t.Errorf("bob's teams %+v, %v", teams, err)
		}
		if teams, err := s.TeamsOfPerson(ctx, f.alice.ID); err != nil || len(teams) != 0 {
			t.Errorf("alice's teams %+v, %v; want none", teams, err)
		}
	})
}
