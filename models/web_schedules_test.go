package models_test

import (
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/models"
)

func TestWebScheduleReads(t *testing.T) {
	t.Parallel()
	testdb.ForEachDialect(t, newClock(), func(t *testing.T, db *testdb.DB) {
		f := newSchedFixture(t, db)
		people, err := f.s.ActivePeopleByName(f.ctx)
		f.must(err)
		if len(people) != 2 || people[0].Name != "alice" || people[1].Name != "bob" {
			t.Fatalf("active people %+v", people) // carol is inactive
		}
		sc := &models.Schedule{TeamID: f.team.ID, Name: "Payments", TimeZone: "UTC"}
		f.must(f.s.CreateSchedule(f.ctx, f.by, sc))
		now := f.s.Clock().Now()
		o := &models.ScheduleOverride{ScheduleID: sc.ID, Role: models.RotationPrimary, PersonID: f.bob.ID, StartsAt: now, EndsAt: now.Add(time.Hour)}
		f.must(f.s.CreateOverride(f.ctx, f.by, o))
		got, err := f.s.ScheduleOverrideByID(f.ctx, o.ID)
		f.must(err)
		if got.PersonID != f.bob.ID || got.ScheduleID != sc.ID || !got.StartsAt.Equal(o.StartsAt) {
			t.Fatalf("override %+v", got)
		}
		if _, err := f.s.ScheduleOverrideByID(f.ctx, "nosuch"); !models.IsNotFound(err) {
			t.Fatalf("unknown override: %v", err)
		}
	})
}
