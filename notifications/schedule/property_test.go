package schedule_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications/schedule"
)

var propertyZones = []string{"UTC", "America/New_York", "Europe/London", "Australia/Sydney", "Asia/Kolkata"}

// randomSet is a random team: one to four primary layers (any kind, count,
// zone, handoff, windows), a secondary, time off and overrides.
func randomSet(r *rand.Rand) models.ScheduleSet {
	people := []string{"p0", "p1", "p2", "p3", "p4", "p5"}
	pick := func() string { return people[r.IntN(len(people))] }
	hhmm := func() string { return fmt.Sprintf("%02d:%02d", r.IntN(24), r.IntN(4)*15) }
	base := time.Date(2026, 2, 20, 0, 0, 0, 0, time.UTC)
	var rots []models.Rotation
	for i := range 1 + r.IntN(4) {
		kind := models.ShiftKinds[r.IntN(3)]
		rot := rotation(fmt.Sprintf("r%d", i), pri, kind, 1+r.IntN(3), hhmm(), "", base.AddDate(0, 0, r.IntN(20)).Format(models.DateLayout))
		if kind == models.ShiftWeekly {
			rot.HandoffWeekday = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}[r.IntN(7)]
		}
		rot.TimeZone = propertyZones[r.IntN(len(propertyZones))]
		for range 1 + r.IntN(4) {
			rot.Members = append(rot.Members, pick())
		}
		if r.IntN(2) == 0 {
			rot.Windows = models.RotationWindows{{Weekdays: []string{"mon", "wed", "fri", "sun"}[:1+r.IntN(4)], Start: hhmm(), End: hhmm()}}
			if rot.Windows[0].Start == rot.Windows[0].End {
				rot.Windows = nil
			}
		}
		rots = append(rots, rot)
	}
	rots = append(rots, rotation("second", sec, models.ShiftDaily, 1, "10:00", "", "2026-02-20", "p0", "p1"))
	set := oneSchedule(propertyZones[r.IntN(len(propertyZones))], rots...)
	instant := func() time.Time { return base.Add(time.Duration(r.IntN(40*24*60)) * time.Minute) }
	for i := range r.IntN(5) {
		start := instant()
		o := models.ScheduleOverride{ID: fmt.Sprintf("o%d", i), ScheduleID: "s1", Role: pri, PersonID: pick(), StartsAt: start,
			EndsAt: start.Add(time.Duration(1+r.IntN(72)) * time.Hour), CreatedAt: base.Add(time.Duration(r.IntN(1000)) * time.Second)}
		if r.IntN(2) == 0 {
			o.ReplacedPersonID = ptr(pick())
		}
		set.Schedules[0].Overrides = append(set.Schedules[0].Overrides, o)
	}
	for range r.IntN(5) {
		start := instant()
		set.TimeOff = append(set.TimeOff, models.TimeOff{PersonID: pick(), StartsAt: start, EndsAt: start.Add(time.Duration(1+r.IntN(96)) * time.Hour)})
	}
	if r.IntN(4) == 0 {
		set.Inactive = []string{pick()}
	}
	return set
}

// TestOnePrimaryProperty: for random teams, the primary timeline never
// has two people at once; at any instant some primary layer (or an
// override for everyone) covers, exactly one primary is on call, and
// OnCall agrees with the timeline.
func TestOnePrimaryProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 2026))
	from, to := ts("2026-03-01T00:00:00Z"), ts("2026-03-22T00:00:00Z")
	for iter := range 200 {
		set := randomSet(r)
		c := calendar(t, set)
		shifts := c.RoleShifts(from, to, pri)
		for i := 1; i < len(shifts); i++ {
			if shifts[i].Start.Before(shifts[i-1].End) {
				t.Fatalf("set %d: shifts overlap: %v and %v", iter, shifts[i-1], shifts[i])
			}
		}
		layers := c.LayerShifts(from, to)
		for range 50 {
			at := from.Add(time.Duration(r.Int64N(int64(to.Sub(from)))))
			holding := 0
			var held schedule.Shift
			for _, s := range shifts {
				if s.Contains(at) {
					holding++
					held = s
				}
			}
			covered := false
			for _, s := range layers {
				covered = covered || (s.Role == pri && s.Contains(at))
			}
			for _, o := range set.Schedules[0].Overrides {
				covered = covered || (o.ReplacedPersonID == nil && !at.Before(o.StartsAt) && at.Before(o.EndsAt))
			}
			if covered && holding != 1 {
				t.Fatalf("set %d at %s: %d primaries on call, want exactly 1 (a layer or override covers)", iter, at, holding)
			}
			if holding > 1 {
				t.Fatalf("set %d at %s: %d primaries on call", iter, at, holding)
			}
			on, ok := c.OnCall(at, pri)
			if ok != (holding == 1) || (ok && (on.PersonID != held.PersonID || on.Source != held.Source || on.RotationID != held.RotationID)) {
				t.Fatalf("set %d at %s: OnCall = %+v, %v; the timeline has %+v (%d)", iter, at, on, ok, held, holding)
			}
		}
	}
}
