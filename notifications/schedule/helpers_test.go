package schedule_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications/schedule"
)

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// payments is a schedule created at created (to order schedules).
func newSchedule(id, name, zone string, created time.Time) models.Schedule {
	return models.Schedule{ID: id, TeamID: "team", Name: name, TimeZone: zone, CreatedAt: created}
}

// rotation builds a rotation; its id is its name.
func rotation(name, role, kind string, count int, handoff, weekday, start string, members ...string) models.Rotation {
	return models.Rotation{ID: name, Name: name, Role: role, ShiftKind: kind, ShiftCount: count, HandoffTime: handoff,
		HandoffWeekday: weekday, StartDate: start, Members: members}
}

func calendar(t testing.TB, set models.ScheduleSet) *schedule.Calendar {
	t.Helper()
	c, err := schedule.New(set)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// oneSchedule is a set of one schedule in zone with rotations (layered
// in the order given).
func oneSchedule(zone string, rots ...models.Rotation) models.ScheduleSet {
	for i := range rots {
		rots[i].Layer = i
		rots[i].ScheduleID = "s1"
	}
	return models.ScheduleSet{Schedules: []models.ScheduleData{{Schedule: newSchedule("s1", "Payments", zone, time.Time{}), Rotations: rots}}}
}

// render writes shifts as "person start→end [source/replaced]" in UTC,
// for compact expectations.
func render(shifts []schedule.Shift) []string {
	out := make([]string, len(shifts))
	for i, s := range shifts {
		line := fmt.Sprintf("%s %s→%s", s.PersonID, s.Start.UTC().Format("01-02T15:04"), s.End.UTC().Format("01-02T15:04"))
		if s.Source != models.SourceRotation {
			line += " " + s.Source
			if s.ReplacedPersonID != "" {
				line += "/" + s.ReplacedPersonID
			}
		}
		out[i] = line
	}
	return out
}

func diffLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\n got:\n  %s\nwant:\n  %s", what, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}
