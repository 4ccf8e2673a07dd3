package schedule_test

import (
	"testing"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications/schedule"
)

const (
	hourly = models.ShiftHourly
	daily  = models.ShiftDaily
	weekly = models.ShiftWeekly
	pri    = models.RotationPrimary
	sec    = models.RotationSecondary
)

// TestRotationShifts: each shift kind hands off at its time (and day),
// members in turn, from the first handoff on, clipped to the range.
func TestRotationShifts(t *testing.T) {
	tests := []struct {
		name     string
		zone     string
		rot      models.Rotation
		from, to string
		want     []string
	}{
		{"daily at 09:00 over a week", "UTC", rotation("r", pri, daily, 1, "09:00", "", "2026-03-02", "a", "b", "c"),
			"2026-03-02T00:00:00Z", "2026-03-09T00:00:00Z", []string{
				"a 03-02T09:00→03-03T09:00", "b 03-03T09:00→03-04T09:00", "c 03-04T09:00→03-05T09:00", "a 03-05T09:00→03-06T09:00",
				"b 03-06T09:00→03-07T09:00", "c 03-07T09:00→03-08T09:00", "a 03-08T09:00→03-09T00:00"}},
		{"every two days at 18:30", "UTC", rotation("r", pri, daily, 2, "18:30", "", "2026-03-01", "a", "b"),
			"2026-03-01T00:00:00Z", "2026-03-09T00:00:00Z", []string{
				"a 03-01T18:30→03-03T18:30", "b 03-03T18:30→03-05T18:30", "a 03-05T18:30→03-07T18:30", "b 03-07T18:30→03-09T00:00"}},
		{"every 12 hours from 08:00", "UTC", rotation("r", pri, hourly, 12, "08:00", "", "2026-03-02", "a", "b", "c"),
			"2026-03-02T00:00:00Z", "2026-03-04T00:00:00Z", []string{
				"a 03-02T08:00→03-02T20:00", "b 03-02T20:00→03-03T08:00", "c 03-03T08:00→03-03T20:00", "a 03-03T20:00→03-04T00:00"}},
		{"hourly, four members", "UTC", rotation("r", pri, hourly, 1, "08:00", "", "2026-03-02", "a", "b", "c", "d"),
			"2026-03-02T08:00:00Z", "2026-03-02T13:00:00Z", []string{
				"a 03-02T08:00→03-02T09:00", "b 03-02T09:00→03-02T10:00", "c 03-02T10:00→03-02T11:00", "d 03-02T11:00→03-02T12:00", "a 03-02T12:00→03-02T13:00"}},
		{"weekly on Monday, starting on a Wednesday", "UTC", rotation("r", pri, weekly, 1, "09:00", "Monday", "2026-03-04", "a", "b", "c"),
			"2026-03-01T00:00:00Z", "2026-03-30T00:00:00Z", []string{
				"a 03-09T09:00→03-16T09:00", "b 03-16T09:00→03-23T09:00", "c 03-23T09:00→03-30T00:00"}},
		{"fortnightly on Friday 17:00 London, across BST", "Europe/London", rotation("r", pri, weekly, 2, "17:00", "fri", "2026-03-06", "a", "b"),
			"2026-03-06T00:00:00Z", "2026-04-17T00:00:00Z", []string{
				"a 03-06T17:00→03-20T17:00", "b 03-20T17:00→04-03T16:00", "a 04-03T16:00→04-17T00:00"}},
		{"a range long after the start", "UTC", rotation("r", pri, daily, 1, "09:00", "", "2026-01-01", "a", "b", "c"),
			"2026-03-02T12:00:00Z", "2026-03-03T12:00:00Z", []string{"a 03-02T12:00→03-03T09:00", "b 03-03T09:00→03-03T12:00"}},
		{"a range before the start", "UTC", rotation("r", pri, daily, 1, "09:00", "", "2026-03-10", "a"),
			"2026-03-02T00:00:00Z", "2026-03-09T00:00:00Z", nil},
		{"the rotation's own zone beats the schedule's", "UTC", func() models.Rotation {
			r := rotation("r", pri, daily, 1, "09:00", "", "2026-03-02", "a", "b")
			r.TimeZone = "Asia/Tokyo"
			return r
		}(), "2026-03-02T00:00:00Z", "2026-03-03T12:00:00Z", []string{"a 03-02T00:00→03-03T00:00", "b 03-03T00:00→03-03T12:00"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := calendar(t, oneSchedule(tc.zone, tc.rot))
			diffLines(t, "shifts", render(c.Shifts(ts(tc.from), ts(tc.to))), tc.want)
		})
	}
}

// TestDaylightSaving: daily and weekly handoffs stay at their local time
// (the shift over the change is 23 or 25 hours, 167 or 169 for a week);
// hourly shifts are real hours, so their local time moves.
func TestDaylightSaving(t *testing.T) {
	tests := []struct {
		name     string
		zone     string
		rot      models.Rotation
		from, to string
		want     []string
	}{
		{"New York spring, daily 09:00", "America/New_York", rotation("r", pri, daily, 1, "09:00", "", "2026-03-06", "a", "b"),
			"2026-03-06T00:00:00Z", "2026-03-10T00:00:00Z", []string{
				"a 03-06T14:00→03-07T14:00", "b 03-07T14:00→03-08T13:00", "a 03-08T13:00→03-09T13:00", "b 03-09T13:00→03-10T00:00"}},
		{"New York autumn, daily 09:00", "America/New_York", rotation("r", pri, daily, 1, "09:00", "", "2026-10-30", "a", "b"),
			"2026-10-30T00:00:00Z", "2026-11-03T00:00:00Z", []string{
				"a 10-30T13:00→10-31T13:00", "b 10-31T13:00→11-01T14:00", "a 11-01T14:00→11-02T14:00", "b 11-02T14:00→11-03T00:00"}},
		{"London spring, daily 09:00", "Europe/London", rotation("r", pri, daily, 1, "09:00", "", "2026-03-27", "a", "b"),
			"2026-03-27T00:00:00Z", "2026-03-30T08:00:00Z", []string{
				"a 03-27T09:00→03-28T09:00", "b 03-28T09:00→03-29T08:00", "a 03-29T08:00→03-30T08:00"}},
		{"London autumn, daily 09:00", "Europe/London", rotation("r", pri, daily, 1, "09:00", "", "2026-10-23", "a", "b"),
			"2026-10-23T00:00:00Z", "2026-10-26T09:00:00Z", []string{
				"a 10-23T08:00→10-24T08:00", "b 10-24T08:00→10-25T09:00", "a 10-25T09:00→10-26T09:00"}},
		{"Sydney autumn (April), daily 09:00", "Australia/Sydney", rotation("r", pri, daily, 1, "09:00", "", "2026-04-03", "a", "b"),
			"2026-04-02T00:00:00Z", "2026-04-05T23:00:00Z", []string{
				"a 04-02T22:00→04-03T22:00", "b 04-03T22:00→04-04T23:00", "a 04-04T23:00→04-05T23:00"}},
		{"Sydney spring (October), daily 09:00", "Australia/Sydney", rotation("r", pri, daily, 1, "09:00", "", "2026-10-02", "a", "b"),
			"2026-10-01T00:00:00Z", "2026-10-04T22:00:00Z", []string{
				"a 10-01T23:00→10-02T23:00", "b 10-02T23:00→10-03T22:00", "a 10-03T22:00→10-04T22:00"}},
		{"New York spring, every 12 real hours", "America/New_York", rotation("r", pri, hourly, 12, "08:00", "", "2026-03-07", "a", "b"),
			"2026-03-07T00:00:00Z", "2026-03-09T01:00:00Z", []string{
				"a 03-07T13:00→03-08T01:00", "b 03-08T01:00→03-08T13:00", "a 03-08T13:00→03-09T01:00"}},
		{"New York spring, weekly Sunday 09:00", "America/New_York", rotation("r", pri, weekly, 1, "09:00", "sun", "2026-03-01", "a", "b"),
			"2026-03-01T00:00:00Z", "2026-03-15T13:00:00Z", []string{"a 03-01T14:00→03-08T13:00", "b 03-08T13:00→03-15T13:00"}},
		{"London autumn, weekly Sunday 09:00", "Europe/London", rotation("r", pri, weekly, 1, "09:00", "sun", "2026-10-18", "a", "b"),
			"2026-10-18T00:00:00Z", "2026-11-01T09:00:00Z", []string{"a 10-18T08:00→10-25T09:00", "b 10-25T09:00→11-01T09:00"}},
		{"New York, a handoff time the spring change skips", "America/New_York", rotation("r", pri, daily, 1, "02:30", "", "2026-03-07", "a", "b"),
			"2026-03-07T00:00:00Z", "2026-03-09T06:30:00Z", []string{"a 03-07T07:30→03-08T06:30", "b 03-08T06:30→03-09T06:30"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := calendar(t, oneSchedule(tc.zone, tc.rot))
			got := c.Shifts(ts(tc.from), ts(tc.to))
			diffLines(t, "shifts", render(got), tc.want)
			// OnCall answers the whole shift from any instant inside it.
			for _, s := range got {
				mid := s.Start.Add(s.End.Sub(s.Start) / 2)
				on, ok := c.OnCall(mid, pri)
				if !ok || on.PersonID != s.PersonID || !on.Start.Equal(s.Start) || (s.End.Before(ts(tc.to)) && !on.End.Equal(s.End)) {
					t.Errorf("OnCall(%s) = %v, %v; want the shift %v", mid, render([]schedule.Shift{on}), ok, render([]schedule.Shift{s}))
				}
			}
		})
	}
}
