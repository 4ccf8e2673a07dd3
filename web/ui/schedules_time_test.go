package ui

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseLocalTime(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	howe, err := time.LoadLocation("Australia/Lord_Howe") // 30-minute changes
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		in      string
		loc     *time.Location
		want    time.Time // UTC
		skipped bool
		bad     bool
	}{
		{in: "2026-12-08T10:00", loc: ny, want: time.Date(2026, 12, 8, 15, 0, 0, 0, time.UTC)},
		{in: "2026-07-08 10:00:30", loc: ny, want: time.Date(2026, 7, 8, 14, 0, 30, 0, time.UTC)},
		{in: "2026-03-08T01:59", loc: ny, want: time.Date(2026, 3, 8, 6, 59, 0, 0, time.UTC)},
		{in: "2026-03-08T02:30", loc: ny, skipped: true},
		{in: "2026-03-08T03:00", loc: ny, want: time.Date(2026, 3, 8, 7, 0, 0, 0, time.UTC)},
		{in: "2026-11-01T01:30", loc: ny, want: time.Date(2026, 11, 1, 5, 30, 0, 0, time.UTC)}, // the first, EDT
		{in: "2026-11-01T02:00", loc: ny, want: time.Date(2026, 11, 1, 7, 0, 0, 0, time.UTC)},
		{in: "2026-10-04T02:15", loc: howe, skipped: true},
		{in: "2026-04-05T01:45", loc: howe, want: time.Date(2026, 4, 4, 14, 45, 0, 0, time.UTC)}, // the first, +11
		{in: "2026-01-01T00:00", loc: time.UTC, want: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
		{in: "", loc: ny, bad: true},
		{in: "2026-02-30T10:00", loc: ny, bad: true},
		{in: "2026-12-08T24:00", loc: ny, bad: true},
		{in: "0001-01-01T00:00", loc: ny, bad: true},
		{in: "tomorrow", loc: ny, bad: true},
	} {
		got, err := parseLocalTime(tc.in, tc.loc)
		switch {
		case tc.skipped:
			if !errors.Is(err, errNoSuchLocalTime) {
				t.Errorf("%q: got %v, %v; want a skipped-time error", tc.in, got, err)
			}
		case tc.bad:
			if err == nil {
				t.Errorf("%q: got %v, want an error", tc.in, got)
			}
		case err != nil || !got.Equal(tc.want):
			t.Errorf("%q in %s: got %v, %v; want %v", tc.in, tc.loc, got.UTC(), err, tc.want)
		}
	}
}

// FuzzParseLocalTime: any input either fails or gives an instant whose
// wall-clock time in the zone is what was typed.
func FuzzParseLocalTime(f *testing.F) {
	for _, s := range []string{"2026-03-08T02:30", "2026-11-01 01:30:00", "2026-12-08T10:00", "", "x", "9999-12-31T23:59"} {
		f.Add(s, "America/New_York")
	}
	f.Add("2026-10-04T02:15", "Australia/Lord_Howe")
	f.Fuzz(func(t *testing.T, s, zone string) {
		loc, err := time.LoadLocation(zone)
		if err != nil || zone == "Local" {
			loc = time.UTC
		}
		got, err := parseLocalTime(s, loc)
		if err != nil {
			return
		}
		var wall time.Time
		for _, layout := range localLayouts {
			if w, err := time.Parse(layout, strings.TrimSpace(s)); err == nil {
				wall = w
				break
			}
		}
		if !sameWall(got.In(loc), wall) {
			t.Fatalf("%q in %s gave %v", s, zone, got.In(loc))
		}
	})
}
