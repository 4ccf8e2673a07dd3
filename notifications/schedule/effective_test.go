package schedule_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications/schedule"
)

func ptr(s string) *string { return &s }

// override of primary in schedule s1, created at minute n (its order).
func override(id, person string, replaced *string, from, to string, n int) models.ScheduleOverride {
	return models.ScheduleOverride{ID: id, ScheduleID: "s1", Role: pri, PersonID: person, ReplacedPersonID: replaced,
		StartsAt: ts(from), EndsAt: ts(to), CreatedAt: ts("2026-01-01T00:00:00Z").Add(time.Duration(n) * time.Minute)}
}

func timeOff(person, from, to string) models.TimeOff {
	return models.TimeOff{ID: person + from, PersonID: person, StartsAt: ts(from), EndsAt: ts(to)}
}

// TestOverridesSwapsTimeOff: the rules after the rotations' turns, on a
// daily 09:00 UTC rotation of a, b, c starting Monday 2 March.
func TestOverridesSwapsTimeOff(t *testing.T) {
	abc := rotation("weekly", pri, daily, 1, "09:00", "", "2026-03-02", "a", "b", "c")
	swap := func(id, person, replaced, from, to string) models.ScheduleOverride {
		o := override(id, person, ptr(replaced), from, to, 1)
		o.SwapID = ptr("swap-1")
		return o
	}
	tests := []struct {
		name      string
		overrides []models.ScheduleOverride
		off       []models.TimeOff
		inactive  []string
		want      []string
	}{
		{"rotation only", nil, nil, nil, []string{"a 03-02T09:00→03-03T09:00", "b 03-03T09:00→03-04T09:00", "c 03-04T09:00→03-05T09:00"}},
		{"an override covers the role for its period",
			[]models.ScheduleOverride{override("o1", "x", nil, "2026-03-02T12:00:00Z", "2026-03-03T12:00:00Z", 1)}, nil, nil,
			[]string{"a 03-02T09:00→03-02T12:00", "x 03-02T12:00→03-03T09:00 override/a", "x 03-03T09:00→03-03T12:00 override/b",
				"b 03-03T12:00→03-04T09:00", "c 03-04T09:00→03-05T09:00"}},
		{"an override replacing b leaves a's shift alone",
			[]models.ScheduleOverride{override("o1", "x", ptr("b"), "2026-03-02T12:00:00Z", "2026-03-03T12:00:00Z", 1)}, nil, nil,
			[]string{"a 03-02T09:00→03-03T09:00", "x 03-03T09:00→03-03T12:00 override/b", "b 03-03T12:00→03-04T09:00", "c 03-04T09:00→03-05T09:00"}},
		{"a newer override beats an older one",
			[]models.ScheduleOverride{
				override("new", "y", nil, "2026-03-03T00:00:00Z", "2026-03-03T06:00:00Z", 2),
				override("old", "x", nil, "2026-03-02T12:00:00Z", "2026-03-03T12:00:00Z", 1),
			}, nil, nil,
			[]string{"a 03-02T09:00→03-02T12:00", "x 03-02T12:00→03-03T00:00 override/a", "y 03-03T00:00→03-03T06:00 override/x",
				"x 03-03T06:00→03-03T09:00 override/a", "x 03-03T09:00→03-03T12:00 override/b", "b 03-03T12:00→03-04T09:00", "c 03-04T09:00→03-05T09:00"}},
		{"overrides chain: x covers a, then y covers x",
			[]models.ScheduleOverride{
				override("o1", "x", ptr("a"), "2026-03-02T09:00:00Z", "2026-03-03T09:00:00Z", 1),
				override("o2", "y", ptr("x"), "2026-03-02T18:00:00Z", "2026-03-02T20:00:00Z", 2),
			}, nil, nil,
			[]string{"x 03-02T09:00→03-02T18:00 override/a", "y 03-02T18:00→03-02T20:00 override/x", "x 03-02T20:00→03-03T09:00 override/a",
				"b 03-03T09:00→03-04T09:00", "c 03-04T09:00→03-05T09:00"}},
		{"a swap: c takes a's Monday, a takes c's Wednesday",
			[]models.ScheduleOverride{
				swap("s-a", "c", "a", "2026-03-02T09:00:00Z", "2026-03-03T09:00:00Z"),
				swap("s-c", "a", "c", "2026-03-04T09:00:00Z", "2026-03-05T09:00:00Z"),
			}, nil, nil,
			[]string{"c 03-02T09:00→03-03T09:00 swap/a", "b 03-03T09:00→03-04T09:00", "a 03-04T09:00→03-05T09:00 swap/c"}},
		{"time off moves a's shift to b from noon",
			nil, []models.TimeOff{timeOff("a", "2026-03-02T12:00:00Z", "2026-03-06T00:00:00Z")}, nil,
			[]string{"a 03-02T09:00→03-02T12:00", "b 03-02T12:00→03-03T09:00 time-off/a", "b 03-03T09:00→03-04T09:00", "c 03-04T09:00→03-05T09:00"}},
		{"a off and b off: c covers a's shift",
			nil, []models.TimeOff{timeOff("a", "2026-03-02T00:00:00Z", "2026-03-06T00:00:00Z"), timeOff("b", "2026-03-02T00:00:00Z", "2026-03-03T00:00:00Z")}, nil,
			[]string{"c 03-02T09:00→03-03T00:00 time-off/a", "b 03-03T00:00→03-03T09:00 time-off/a", "b 03-03T09:00→03-04T09:00", "c 03-04T09:00→03-05T09:00"}},
		{"everyone off: a gap",
			nil, []models.TimeOff{timeOff("a", "2026-03-02T00:00:00Z", "2026-03-09T00:00:00Z"), timeOff("b", "2026-03-02T00:00:00Z", "2026-03-09T00:00:00Z"),
				timeOff("c", "2026-03-03T09:00:00Z", "2026-03-04T09:00:00Z")}, nil,
			[]string{"c 03-02T09:00→03-03T09:00 time-off/a", "c 03-04T09:00→03-05T09:00"}},
		{"an inactive member never is on call", nil, nil, []string{"b"},
			[]string{"a 03-02T09:00→03-03T09:00", "c 03-03T09:00→03-04T09:00 time-off/b", "c 03-04T09:00→03-05T09:00"}},
		{"an override of someone no longer active is void", []models.ScheduleOverride{override("o1", "x", nil, "2026-03-02T12:00:00Z", "2026-03-03T12:00:00Z", 1)},
			nil, []string{"x"},
			[]string{"a 03-02T09:00→03-03T09:00", "b 03-03T09:00→03-04T09:00", "c 03-04T09:00→03-05T09:00"}},
		{"an override beats time off", []models.ScheduleOverride{override("o1", "a", nil, "2026-03-03T09:00:00Z", "2026-03-04T09:00:00Z", 1)},
			[]models.TimeOff{timeOff("a", "2026-03-02T00:00:00Z", "2026-03-09T00:00:00Z")}, nil,
			[]string{"b 03-02T09:00→03-03T09:00 time-off/a", "a 03-03T09:00→03-04T09:00 override/b", "c 03-04T09:00→03-05T09:00"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set := oneSchedule("UTC", abc)
			set.Schedules[0].Overrides = tc.overrides
			set.TimeOff, set.Inactive = tc.off, tc.inactive
			c := calendar(t, set)
			diffLines(t, "shifts", render(c.Shifts(ts("2026-03-02T00:00:00Z"), ts("2026-03-05T09:00:00Z"))), tc.want)
		})
	}
}

// TestWindowsAndLayers: windows restrict a layer (overnight ones pass
// midnight); where layers of a role overlap the last defined wins, also
// across schedules (the later created).
func TestWindowsAndLayers(t *testing.T) {
	business := rotation("business", pri, weekly, 1, "09:00", "mon", "2026-03-02", "a", "b")
	business.Windows = models.RotationWindows{{Weekdays: []string{"mon", "tue", "wed", "thu", "fri"}, Start: "09:00", End: "17:00"}}
	nights := rotation("nights", pri, daily, 1, "22:00", "", "2026-03-01", "n1", "n2")
	nights.Windows = models.RotationWindows{{Weekdays: []string{"mon"}, Start: "22:00", End: "06:00"}}
	always := rotation("always", pri, daily, 1, "09:00", "", "2026-03-01", "z")

	c := calendar(t, oneSchedule("UTC", always, business, nights))
	got := render(c.Shifts(ts("2026-03-02T00:00:00Z"), ts("2026-03-04T00:00:00Z")))
	diffLines(t, "three layers", got, []string{
		"z 03-02T00:00→03-02T09:00", "a 03-02T09:00→03-02T17:00", "z 03-02T17:00→03-02T22:00",
		// n2: the nights shift from Monday 22:00 is the second since 1 March.
		"n2 03-02T22:00→03-03T06:00", "z 03-03T06:00→03-03T09:00", "a 03-03T09:00→03-03T17:00", "z 03-03T17:00→03-04T00:00",
	})

	cov := c.Coverage(ts("2026-03-02T00:00:00Z"), ts("2026-03-04T00:00:00Z"), pri)
	if len(cov.Gaps) != 0 {
		t.Errorf("gaps = %v, want none (z covers all day)", cov.Gaps)
	}
	var overlaps []string
	for _, o := range cov.Overlaps {
		overlaps = append(overlaps, fmt.Sprintf("%s→%s %d layers, %s wins", o.Start.Format("01-02T15:04"), o.End.Format("01-02T15:04"), len(o.Shifts), o.Shifts[len(o.Shifts)-1].RotationName))
	}
	diffLines(t, "overlaps", overlaps, []string{
		"03-02T09:00→03-02T17:00 2 layers, business wins", "03-02T22:00→03-03T06:00 2 layers, nights wins", "03-03T09:00→03-03T17:00 2 layers, business wins",
	})

	// Only the business hours layer: nights and weekends are gaps.
	c = calendar(t, oneSchedule("UTC", business))
	cov = c.Coverage(ts("2026-03-06T00:00:00Z"), ts("2026-03-10T00:00:00Z"), pri)
	diffLines(t, "gaps", gaps(cov), []string{"03-06T00:00→03-06T09:00", "03-06T17:00→03-09T09:00", "03-09T17:00→03-10T00:00"})
	if _, ok := c.OnCall(ts("2026-03-07T12:00:00Z"), pri); ok {
		t.Error("someone is on call on Saturday outside the windows")
	}
	if !c.Scheduled(ts("2026-03-07T12:00:00Z"), pri) {
		t.Error("Saturday is not a schedule gap")
	}

	// Two schedules: the later created wins where both cover.
	early := models.ScheduleData{Schedule: newSchedule("s-early", "Early", "UTC", ts("2026-01-01T00:00:00Z")),
		Rotations: []models.Rotation{rotation("e", pri, daily, 1, "09:00", "", "2026-03-01", "early")}}
	late := models.ScheduleData{Schedule: newSchedule("s-late", "Late", "UTC", ts("2026-02-01T00:00:00Z")),
		Rotations: []models.Rotation{rotation("l", pri, daily, 1, "09:00", "", "2026-03-03", "late")}}
	c = calendar(t, models.ScheduleSet{Schedules: []models.ScheduleData{late, early}})
	diffLines(t, "two schedules", render(c.Shifts(ts("2026-03-02T09:00:00Z"), ts("2026-03-04T09:00:00Z"))), []string{
		"early 03-02T09:00→03-03T09:00", "late 03-03T09:00→03-04T09:00"})
}

func gaps(c schedule.Coverage) []string {
	var out []string
	for _, g := range c.Gaps {
		out = append(out, g.Start.Format("01-02T15:04")+"→"+g.End.Format("01-02T15:04"))
	}
	return out
}

// TestFollowTheSun: three regional layers 08:00-16:00 local. In winter
// they leave 05:00-08:00 UTC uncovered and London and New York overlap
// 13:00-16:00; once New York moves to summer time (8 March) its day
// starts and ends an hour earlier: the overlap grows, a new gap opens.
func TestFollowTheSun(t *testing.T) {
	region := func(name, zone string, members ...string) models.Rotation {
		r := rotation(name, pri, daily, 1, "08:00", "", "2026-03-01", members...)
		r.TimeZone = zone
		r.Windows = models.RotationWindows{{Weekdays: []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}, Start: "08:00", End: "16:00"}}
		return r
	}
	c := calendar(t, oneSchedule("UTC", region("APAC", "Australia/Sydney", "s1", "s2"), region("EMEA", "Europe/London", "l1"), region("AMER", "America/New_York", "n1")))
	winter := c.Coverage(ts("2026-03-03T00:00:00Z"), ts("2026-03-04T00:00:00Z"), pri)
	diffLines(t, "winter gaps", gaps(winter), []string{"03-03T05:00→03-03T08:00"})
	diffLines(t, "winter overlaps", overlapSpans(winter), []string{"03-03T13:00→03-03T16:00 EMEA+AMER"})

	summer := c.Coverage(ts("2026-03-10T00:00:00Z"), ts("2026-03-11T00:00:00Z"), pri)
	diffLines(t, "summer gaps", gaps(summer), []string{"03-10T05:00→03-10T08:00", "03-10T20:00→03-10T21:00"})
	diffLines(t, "summer overlaps", overlapSpans(summer), []string{"03-10T12:00→03-10T16:00 EMEA+AMER"})

	// AMER is the top layer: it wins the overlap.
	on, ok := c.OnCall(ts("2026-03-10T14:00:00Z"), pri)
	if !ok || on.PersonID != "n1" || on.RotationName != "AMER" {
		t.Errorf("on call at 14:00 UTC = %+v, %v; want n1 of AMER", on, ok)
	}
}

func overlapSpans(c schedule.Coverage) []string {
	var out []string
	for _, o := range c.Overlaps {
		s := o.Start.Format("01-02T15:04") + "→" + o.End.Format("01-02T15:04") + " "
		for i, sh := range o.Shifts {
			if i > 0 {
				s += "+"
			}
			s += sh.RotationName
		}
		out = append(out, s)
	}
	return out
}

// TestDescribeAndValidation: a shift says where it came from; stored data
// that does not compile is refused naming the rotation and field.
func TestDescribeAndValidation(t *testing.T) {
	for _, tc := range []struct {
		s    schedule.Shift
		want string
	}{
		{schedule.Shift{Role: pri, ScheduleName: "Payments", RotationName: "weekly", Source: models.SourceRotation}, "primary, Payments weekly"},
		{schedule.Shift{Role: pri, ScheduleName: "Payments", RotationName: "Payments", Source: models.SourceRotation}, "primary, Payments"},
		{schedule.Shift{Role: sec, ScheduleName: "Payments", RotationName: "weekly", Source: models.SourceTimeOff}, "secondary, Payments weekly, covering time off"},
		{schedule.Shift{Role: pri, ScheduleName: "Payments", Source: models.SourceOverride}, "primary, override in Payments"},
		{schedule.Shift{Role: pri, ScheduleName: "Payments", Source: models.SourceSwap}, "primary, swap in Payments"},
	} {
		if got := tc.s.Describe(); got != tc.want {
			t.Errorf("Describe() = %q, want %q", got, tc.want)
		}
	}
	bad := rotation("r", pri, daily, 1, "9am", "", "2026-03-02", "a")
	if _, err := schedule.New(oneSchedule("UTC", bad)); err == nil || err.Error() != `schedule "Payments", rotation "r": handoff_time: "9am" is not a time of day (HH:MM, 24-hour, like 02:30)` {
		t.Errorf("bad handoff: err = %v", err)
	}
	if _, err := schedule.New(oneSchedule("Mars/Olympus", rotation("r", pri, daily, 1, "09:00", "", "2026-03-02", "a"))); err == nil {
		t.Error("an unknown zone compiled")
	}
}
