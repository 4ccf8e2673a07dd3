package handlers

import (
	"testing"
	"time"
)

func TestNextWorkingStart(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	hours := [2]int{9 * 60, 18 * 60}
	tests := []struct {
		name string
		now  time.Time
		loc  *time.Location
		want time.Time
	}{
		{"inside, Wednesday", time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC), time.UTC, time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)},
		{"before opening", time.Date(2026, 3, 4, 7, 30, 0, 0, time.UTC), time.UTC, time.Date(2026, 3, 4, 9, 0, 0, 0, time.UTC)},
		{"at closing", time.Date(2026, 3, 4, 18, 0, 0, 0, time.UTC), time.UTC, time.Date(2026, 3, 5, 9, 0, 0, 0, time.UTC)},
		{"Friday night to Monday", time.Date(2026, 3, 6, 22, 0, 0, 0, time.UTC), time.UTC, time.Date(2026, 3, 9, 9, 0, 0, 0, time.UTC)},
		{"Sunday", time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), time.UTC, time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)},
		// Paris springs forward on Sunday 29 March 2026: Monday 09:00 is 07:00 UTC.
		{"across DST, Paris", time.Date(2026, 3, 28, 12, 0, 0, 0, time.UTC), paris, time.Date(2026, 3, 30, 7, 0, 0, 0, time.UTC)},
		{"in Paris hours though 08:30 UTC", time.Date(2026, 3, 4, 8, 30, 0, 0, time.UTC), paris, time.Date(2026, 3, 4, 8, 30, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := nextWorkingStart(tt.now, tt.loc, hours); !got.Equal(tt.want) {
				t.Errorf("nextWorkingStart(%s) = %s, want %s", tt.now, got.UTC(), tt.want)
			}
		})
	}
}
