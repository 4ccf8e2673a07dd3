package models_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/models"
)

// schedFixture is a database with a team and people.
type schedFixture struct {
	t     *testing.T
	ctx   context.Context
	db    *testdb.DB
	s     *models.Store
	team  *models.Team
	by    models.Actor
	alice *models.Person
	bob   *models.Person
	carol *models.Person
}

func newSchedFixture(t *testing.T, db *testdb.DB) *schedFixture {
	f := &schedFixture{t: t, ctx: context.Background(), db: db, s: db.Store, by: models.Actor{Name: "alice"}}
	now := db.Store.Clock().Now()
	person := func(name string, active bool) *models.Person {
		p := &models.Person{ID: uuid.NewString(), Name: name, Active: active, CreatedAt: now, UpdatedAt: now}
		if err := db.Gorm.Create(p).Error; err != nil {
			t.Fatal(err)
		}
		return p
	}
	f.alice, f.bob, f.carol = person("alice", true), person("bob", true), person("carol", false)
	f.team = &models.Team{ID: uuid.NewString(), Name: "payments", CreatedAt: now, UpdatedAt: now}
	if err := db.Gorm.Create(f.team).Error; err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *schedFixture) rotation(scheduleID, name string, members ...string) *models.Rotation {
	return &models.Rotation{ScheduleID: scheduleID, Name: name, Role: models.RotationPrimary, ShiftKind: models.ShiftWeekly,
		HandoffTime: "09:00", HandoffWeekday: "Monday", StartDate: "2026-03-02", Members: members}
}

func (f *schedFixture) version() int64 {
	f.t.Helper()
	v, err := f.s.SchedulesVersion(f.ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	return v
}

func (f *schedFixture) must(err error) {
	f.t.Helper()
	if err != nil {
		f.t.Fatal(err)
	}
}

// TestScheduleStore: create, list, update and delete schedules, rotations,
// overrides, swaps and time off; every change bumps the version and
// writes an audit row naming who made it.
func TestScheduleStore(t *testing.T) {
	t.Parallel()
	testdb.ForEachDialect(t, newClock(), func(t *testing.T, db *testdb.DB) {
		f := newSchedFixture(t, db)
		ctx := f.ctx
		v0 := f.version()
		slackUser, err := f.s.UpsertSlackUser(ctx, models.SlackUser{ID: "U1", DisplayName: "Alice"})
		f.must(err)
		f.by.UserID = &slackUser.ID

		sc := &models.Schedule{TeamID: f.team.ID, Name: " Payments ", TimeZone: "Europe/London"}
		f.must(f.s.CreateSchedule(ctx, f.by, sc))
		if sc.ID == "" || sc.Name != "Payments" {
			t.Fatalf("created %+v; want an id and the trimmed name", sc)
		}
		dup := &models.Schedule{TeamID: f.team.ID, Name: "Payments", TimeZone: "UTC"}
		if err := f.s.CreateSchedule(ctx, f.by, dup); !errors.Is(err, models.ErrDuplicate) {
			t.Errorf("a second Payments: err = %v, want ErrDuplicate", err)
		}
		other := &models.Schedule{TeamID: f.team.ID, Name: "Nights", TimeZone: "UTC"}
		f.must(f.s.CreateSchedule(ctx, f.by, other))
		list, err := f.s.Schedules(ctx, f.team.ID)
		f.must(err)
		if len(list) != 2 || list[0].Name != "Nights" || list[1].Name != "Payments" {
			t.Errorf("Schedules = %+v, want Nights and Payments", list)
		}
		sc.Name, sc.TimeZone = "Payments EU", "Europe/Paris"
		f.must(f.s.UpdateSchedule(ctx, f.by, sc))
		if got, err := f.s.ScheduleByName(ctx, f.team.ID, "Payments EU"); err != nil || got.TimeZone != "Europe/Paris" {
			t.Errorf("after update: %+v, %v", got, err)
		}

		weekly := f.rotation(sc.ID, "weekly", f.bob.ID, f.alice.ID, f.carol.ID)
		f.must(f.s.CreateRotation(ctx, f.by, weekly))
		nights := f.rotation(sc.ID, "nights", f.alice.ID)
		nights.ShiftKind, nights.HandoffWeekday, nights.ShiftCount = models.ShiftHourly, "", 12
		nights.Windows = models.RotationWindows{{Weekdays: []string{"Friday", "sat"}, Start: "22:00", End: "06:00"}}
		f.must(f.s.CreateRotation(ctx, f.by, nights))
		rots, err := f.s.Rotations(ctx, sc.ID)
		f.must(err)
		if len(rots) != 2 || rots[0].Name != "weekly" || rots[0].Layer != 0 || rots[1].Layer != 1 || rots[0].HandoffWeekday != "mon" {
			t.Fatalf("rotations = %+v; want weekly (layer 0, mon) then nights (layer 1)", rots)
		}
		if !slices.Equal(rots[0].Members, []string{f.bob.ID, f.alice.ID, f.carol.ID}) {
			t.Errorf("members = %v, want bob, alice, carol in order", rots[0].Members)
		}
		if len(rots[1].Windows) != 1 || !slices.Equal(rots[1].Windows[0].Weekdays, []string{"fri", "sat"}) || rots[1].Windows[0].End != "06:00" {
			t.Errorf("windows = %+v", rots[1].Windows)
		}
		weekly.Members = []string{f.alice.ID, f.bob.ID}
		weekly.Layer = 5
		f.must(f.s.UpdateRotation(ctx, f.by, weekly))
		got, err := f.s.RotationByID(ctx, weekly.ID)
		f.must(err)
		if !slices.Equal(got.Members, []string{f.alice.ID, f.bob.ID}) || got.Layer != 5 || got.ScheduleID != sc.ID {
			t.Errorf("after update: %+v", got)
		}

		start := t0.Add(24 * time.Hour)
		ov := &models.ScheduleOverride{ScheduleID: sc.ID, Role: models.RotationPrimary, PersonID: f.bob.ID, ReplacedPersonID: &f.alice.ID,
			StartsAt: start, EndsAt: start.Add(8 * time.Hour), Reason: "dentist"}
		f.must(f.s.CreateOverride(ctx, f.by, ov))
		gone := &models.ScheduleOverride{ScheduleID: sc.ID, Role: models.RotationSecondary, PersonID: f.carol.ID, StartsAt: start, EndsAt: start.Add(time.Hour)}
		f.must(f.s.CreateOverride(ctx, f.by, gone))
		pair, err := f.s.CreateSwap(ctx, f.by, models.Swap{ScheduleID: sc.ID, Role: models.RotationPrimary,
			PersonA: f.alice.ID, StartsA: start.Add(48 * time.Hour), EndsA: start.Add(72 * time.Hour),
			PersonB: f.bob.ID, StartsB: start.Add(96 * time.Hour), EndsB: start.Add(120 * time.Hour)})
		f.must(err)
		if len(pair) != 2 || pair[0].PersonID != f.bob.ID || *pair[0].ReplacedPersonID != f.alice.ID || pair[1].PersonID != f.alice.ID ||
			pair[0].SwapID == nil || *pair[0].SwapID != *pair[1].SwapID || pair[0].CreatedBy != "alice" {
			t.Errorf("swap = %+v", pair)
		}
		off := &models.TimeOff{PersonID: f.alice.ID, StartsAt: start, EndsAt: start.Add(240 * time.Hour), Reason: "holiday"}
		f.must(f.s.CreateTimeOff(ctx, f.by, off))
		farOff := &models.TimeOff{PersonID: f.bob.ID, StartsAt: start.Add(1000 * time.Hour), EndsAt: start.Add(1100 * time.Hour)}
		f.must(f.s.CreateTimeOff(ctx, f.by, farOff))

		set, err := f.s.TeamScheduleSet(ctx, "payments", start, start.Add(200*time.Hour))
		f.must(err)
		if len(set.Schedules) != 2 || set.Schedules[1].Schedule.ID != sc.ID || len(set.Schedules[1].Rotations) != 2 || len(set.Schedules[1].Overrides) != 4 {
			t.Fatalf("set = %+v; want Nights (empty) and Payments EU with 2 rotations and 4 overrides", set)
		}
		if len(set.TimeOff) != 1 || set.TimeOff[0].ID != off.ID {
			t.Errorf("time off = %+v, want only alice's (bob's is after the range)", set.TimeOff)
		}
		// carol left the rotation with the update, but has an override.
		if !slices.Equal(set.Inactive, []string{f.carol.ID}) {
			t.Errorf("inactive = %v, want carol", set.Inactive)
		}
		if _, err := f.s.TeamScheduleSet(ctx, "nope", start, start); !models.IsNotFound(err) {
			t.Errorf("unknown team: err = %v, want not found", err)
		}

		f.must(f.s.DeleteOverride(ctx, f.by, pair[1].ID)) // the whole swap
		ovs, err := f.s.Overrides(ctx, start.Add(-time.Hour), start.Add(200*time.Hour), sc.ID)
		f.must(err)
		if len(ovs) != 2 || ovs[0].ID != ov.ID || ovs[1].ID != gone.ID {
			t.Errorf("after deleting a swap half: %+v, want the dentist override and carol's", ovs)
		}
		f.must(f.s.DeleteTimeOff(ctx, f.by, farOff.ID))
		f.must(f.s.DeleteRotation(ctx, f.by, nights.ID))

		audit, err := f.s.ScheduleAudit(ctx, models.ScheduleSubject(sc.ID))
		f.must(err)
		var actions []string
		for _, a := range audit {
			actions = append(actions, a.Action)
			if a.Actor != "alice" || a.ActorID == nil || *a.ActorID != slackUser.ID || a.IncidentID != nil {
				t.Errorf("audit %s: actor %q (%v), incident %v; want alice, her Slack user, none", a.Action, a.Actor, a.ActorID, a.IncidentID)
			}
		}
		want := []string{"schedule.create", "schedule.update", "rotation.create", "rotation.create", "rotation.update",
			"override.create", "override.create", "swap.create", "swap.delete", "rotation.delete"}
		if !slices.Equal(actions, want) {
			t.Errorf("audit actions = %v, want %v", actions, want)
		}
		if !strings.Contains(audit[1].Before, `"Name":"Payments"`) || !strings.Contains(audit[1].After, `"Name":"Payments EU"`) {
			t.Errorf("update audit before %s after %s", audit[1].Before, audit[1].After)
		}
		personAudit, err := f.s.ScheduleAudit(ctx, models.PersonSubject(f.bob.ID))
		f.must(err)
		if len(personAudit) != 2 || personAudit[1].Action != "time_off.delete" {
			t.Errorf("bob's audit = %+v, want time off create and delete", personAudit)
		}
		if v := f.version(); v != v0+14 {
			t.Errorf("version %d, want %d (14 changes)", v, v0+14)
		}

		f.must(f.s.DeleteSchedule(ctx, f.by, sc.ID))
		if n := count(t, db, "schedule_rotations") + count(t, db, "rotation_members") + count(t, db, "schedule_overrides"); n != 0 {
			t.Errorf("%d rows left after deleting the schedule, want none", n)
		}
		if _, err := f.s.ScheduleByID(ctx, sc.ID); !models.IsNotFound(err) {
			t.Errorf("deleted schedule: err = %v", err)
		}
		if err := f.s.DeleteSchedule(ctx, f.by, sc.ID); !models.IsNotFound(err) {
			t.Errorf("deleting twice: err = %v, want not found", err)
		}
	})
}

// TestScheduleValidation: bad input is refused naming each field, and
// changes nothing.
func TestScheduleValidation(t *testing.T) {
	t.Parallel()
	testdb.ForEachDialect(t, newClock(), func(t *testing.T, db *testdb.DB) {
		f := newSchedFixture(t, db)
		ctx := f.ctx
		sc := &models.Schedule{TeamID: f.team.ID, Name: "Payments", TimeZone: "UTC"}
		f.must(f.s.CreateSchedule(ctx, f.by, sc))
		v := f.version()
		start := t0
		tests := []struct {
			name  string
			do    func() error
			field string
			text  string
		}{
			{"bad zone", func() error {
				return f.s.CreateSchedule(ctx, f.by, &models.Schedule{TeamID: f.team.ID, Name: "x", TimeZone: "Europe/Londn"})
			}, "time_zone", `unknown time zone "Europe/Londn"`},
			{"unknown team", func() error {
				return f.s.CreateSchedule(ctx, f.by, &models.Schedule{TeamID: "nope", Name: "x", TimeZone: "UTC"})
			}, "team", `unknown team "nope"`},
			{"bad name", func() error {
				return f.s.CreateSchedule(ctx, f.by, &models.Schedule{TeamID: f.team.ID, Name: "a;b", TimeZone: "UTC"})
			}, "name", "not a valid name"},
			{"no members", func() error { return f.s.CreateRotation(ctx, f.by, f.rotation(sc.ID, "r")) }, "members", "required"},
			{"unknown member", func() error { return f.s.CreateRotation(ctx, f.by, f.rotation(sc.ID, "r", f.alice.ID, "ghost")) }, "members[1]", `unknown person "ghost"`},
			{"bad handoff time", func() error {
				r := f.rotation(sc.ID, "r", f.alice.ID)
				r.HandoffTime = "25:00"
				return f.s.CreateRotation(ctx, f.by, r)
			}, "handoff_time", "not a time of day"},
			{"weekly without a day", func() error {
				r := f.rotation(sc.ID, "r", f.alice.ID)
				r.HandoffWeekday = ""
				return f.s.CreateRotation(ctx, f.by, r)
			}, "handoff_weekday", "required for weekly"},
			{"bad kind", func() error {
				r := f.rotation(sc.ID, "r", f.alice.ID)
				r.ShiftKind = "monthly"
				return f.s.CreateRotation(ctx, f.by, r)
			}, "shift_kind", `"monthly" is not a shift kind`},
			{"bad window", func() error {
				r := f.rotation(sc.ID, "r", f.alice.ID)
				r.Windows = models.RotationWindows{{Weekdays: []string{"mon", "funday"}, Start: "09:00", End: "09:00"}}
				return f.s.CreateRotation(ctx, f.by, r)
			}, "windows[0].weekdays[1]", `"funday" is not a day`},
			{"bad start date", func() error {
				r := f.rotation(sc.ID, "r", f.alice.ID)
				r.StartDate = "02/03/2026"
				return f.s.CreateRotation(ctx, f.by, r)
			}, "start_date", "not a date"},
			{"override ending before it starts", func() error {
				return f.s.CreateOverride(ctx, f.by, &models.ScheduleOverride{ScheduleID: sc.ID, Role: "primary", PersonID: f.alice.ID, StartsAt: start, EndsAt: start.Add(-time.Hour)})
			}, "ends_at", "must be after starts_at"},
			{"override of an unknown person", func() error {
				return f.s.CreateOverride(ctx, f.by, &models.ScheduleOverride{ScheduleID: sc.ID, Role: "primary", PersonID: "ghost", StartsAt: start, EndsAt: start.Add(time.Hour)})
			}, "person", `unknown person "ghost"`},
			{"override of a bad role", func() error {
				return f.s.CreateOverride(ctx, f.by, &models.ScheduleOverride{ScheduleID: sc.ID, Role: "boss", PersonID: f.alice.ID, StartsAt: start, EndsAt: start.Add(time.Hour)})
			}, "role", `"boss" is not a rotation role`},
			{"swap with oneself", func() error {
				_, err := f.s.CreateSwap(ctx, f.by, models.Swap{ScheduleID: sc.ID, Role: "primary", PersonA: f.alice.ID, PersonB: f.alice.ID,
					StartsA: start, EndsA: start.Add(time.Hour), StartsB: start.Add(2 * time.Hour), EndsB: start.Add(3 * time.Hour)})
				return err
			}, "person_b", "a swap needs two people"},
			{"swap half ending first", func() error {
				_, err := f.s.CreateSwap(ctx, f.by, models.Swap{ScheduleID: sc.ID, Role: "primary", PersonA: f.alice.ID, PersonB: f.bob.ID,
					StartsA: start, EndsA: start.Add(time.Hour), StartsB: start.Add(2 * time.Hour), EndsB: start.Add(time.Hour)})
				return err
			}, "ends_at_b", "must be after starts_at_b"},
			{"time off ending first", func() error {
				return f.s.CreateTimeOff(ctx, f.by, &models.TimeOff{PersonID: f.alice.ID, StartsAt: start, EndsAt: start})
			}, "ends_at", "must be after starts_at"},
		}
		for _, tc := range tests {
			err := tc.do()
			var ie models.InputErrors
			if !errors.As(err, &ie) {
				t.Errorf("%s: err = %v, want InputErrors", tc.name, err)
				continue
			}
			found := false
			for _, p := range ie {
				found = found || (p.Field == tc.field && strings.Contains(p.Message, tc.text))
			}
			if !found {
				t.Errorf("%s: %v; want %s: …%s…", tc.name, err, tc.field, tc.text)
			}
		}
		if err := f.s.CreateSchedule(ctx, models.Actor{}, &models.Schedule{TeamID: f.team.ID, Name: "x", TimeZone: "UTC"}); !errors.Is(err, models.ErrNoActor) {
			t.Errorf("no actor: err = %v, want ErrNoActor", err)
		}
		if got := f.version(); got != v {
			t.Errorf("refused changes moved the version from %d to %d", v, got)
		}
		if n := count(t, db, "schedule_rotations") + count(t, db, "schedule_overrides") + count(t, db, "time_off"); n != 0 {
			t.Errorf("refused changes stored %d rows", n)
		}
	})
}
