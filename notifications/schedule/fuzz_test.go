package schedule_test

import (
	"testing"
	"time"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications/schedule"
)

// FuzzRotationInput: whatever people type for a rotation, Validate either
// refuses it or the rotation compiles and computes a sane timeline (no
// two primaries at once, shifts inside the range).
func FuzzRotationInput(f *testing.F) {
	f.Add("daily", 1, "09:00", "", "2026-03-02", "Europe/London", "mon", "09:00", "17:00")
	f.Add("weekly", 2, "17:30", "Friday", "2026-03-06", "", "sat", "22:00", "06:00")
	f.Add("hourly", 12, "08:00", "", "2026-03-07", "America/New_York", "", "", "")
	f.Add("weekly", 0, "24:00", "funday", "2026-02-30", "Local", "sun", "9:00", "09:00")
	f.Fuzz(func(t *testing.T, kind string, count int, handoff, weekday, start, zone, wday, wstart, wend string) {
		r := models.Rotation{ID: "r", ScheduleID: "s1", Name: "r", Role: models.RotationPrimary, ShiftKind: kind, ShiftCount: count,
			HandoffTime: handoff, HandoffWeekday: weekday, StartDate: start, TimeZone: zone, Members: []string{"a", "b"}}
		if wday != "" || wstart != "" || wend != "" {
			r.Windows = models.RotationWindows{{Weekdays: []string{wday}, Start: wstart, End: wend}}
		}
		if r.Validate() != nil {
			return
		}
		c, err := schedule.New(oneSchedule("UTC", r))
		if err != nil {
			t.Fatalf("a valid rotation %+v does not compile: %v", r, err)
		}
		first, err := time.Parse(models.DateLayout, r.StartDate)
		if err != nil {
			t.Fatal(err)
		}
		from, to := first.Add(-48*time.Hour), first.Add(10*24*time.Hour)
		shifts := c.Shifts(from, to)
		for i, s := range shifts {
			if !s.Start.Before(s.End) || s.Start.Before(from) || s.End.After(to) || (i > 0 && s.Start.Before(shifts[i-1].End)) {
				t.Fatalf("bad timeline for %+v: %v", r, render(shifts))
			}
		}
	})
}
