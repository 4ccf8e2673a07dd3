package web

import (
	"strings"
	"testing"
	"time"
)

var parseNow = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)

// FuzzShiftsRange: whatever the query parameters, the shifts range is
// either refused naming from or to, or a range of at most MaxShiftsRange
// within ten years of now.
func FuzzShiftsRange(f *testing.F) {
	for _, seed := range [][2]string{
		{"", ""}, {"2025-03-15T00:00:00Z", "2025-03-17T00:00:00Z"}, {"2025-03-15T00:00:00+01:00", ""},
		{"", "2025-03-01T00:00:00Z"}, {"2025-03-01T00:00:00.999999999Z", "2025-06-02T00:00:00Z"},
		{"yesterday", ""}, {"9999-12-31T23:59:59Z", ""}, {"0000-01-01T00:00:00Z", "2025-03-15T00:00:00Z"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, fromParam, toParam string) {
		from, to, ferr := parseShiftsRange(fromParam, toParam, parseNow)
		if ferr != nil {
			if ferr.Field != "from" && ferr.Field != "to" {
				t.Fatalf("(%q, %q): error naming %q: %v", fromParam, toParam, ferr.Field, ferr)
			}
			return
		}
		if !to.After(from) || to.Sub(from) > MaxShiftsRange || from.Location() != time.UTC || to.Location() != time.UTC {
			t.Fatalf("(%q, %q) accepted as %s → %s", fromParam, toParam, from, to)
		}
		if d := from.Sub(parseNow); d > maxTimeDistance || d < -maxTimeDistance {
			t.Fatalf("(%q, %q): from %s is too far from now", fromParam, toParam, from)
		}
	})
}

// TestShiftsRange: the defaults and each refusal.
func TestShiftsRange(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		from, to   string
		want, fail string // want "from→to" or the field refused
	}{
		{"", "", "2025-03-14T09:26:53Z→2025-03-28T09:26:53Z", ""},
		{"2025-03-15T00:00:00+01:00", "", "2025-03-14T23:00:00Z→2025-03-28T23:00:00Z", ""},
		{"", "2025-03-15T00:00:00Z", "2025-03-14T09:26:53Z→2025-03-15T00:00:00Z", ""},
		{"2025-03-01T00:00:00Z", "2025-06-02T00:00:00Z", "2025-03-01T00:00:00Z→2025-06-02T00:00:00Z", ""},
		{"2025-03-01T00:00:00Z", "2025-06-02T00:00:01Z", "", "to"},
		{"2025-03-15T00:00:00Z", "2025-03-15T00:00:00Z", "", "to"},
		{"", "2025-03-14T09:26:53Z", "", "to"},
		{"2025-03-15", "", "", "from"},
		{"", "soon", "", "to"},
		{"2036-01-01T00:00:00Z", "", "", "from"},
	} {
		from, to, ferr := parseShiftsRange(tc.from, tc.to, parseNow)
		switch {
		case tc.fail != "" && (ferr == nil || ferr.Field != tc.fail):
			t.Errorf("(%q, %q): %v, want refused naming %s", tc.from, tc.to, ferr, tc.fail)
		case tc.fail == "" && ferr != nil:
			t.Errorf("(%q, %q): %v", tc.from, tc.to, ferr)
		case tc.fail == "" && from.Format(time.RFC3339)+"→"+to.Format(time.RFC3339) != tc.want:
			t.Errorf("(%q, %q): %s→%s, want %s", tc.from, tc.to, from.Format(time.RFC3339), to.Format(time.RFC3339), tc.want)
		}
	}
}

// FuzzFeedToken: a feed file name gives a token only when it is
// "<token>.ics", and the token is the name without the suffix.
func FuzzFeedToken(f *testing.F) {
	for _, s := range []string{"hcal_0123_abc.ics", ".ics", "x.ics.ics", "x.ical", "", strings.Repeat("a", 300) + ".ics"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, file string) {
		token, ok := feedToken(file)
		if !ok {
			return
		}
		if token == "" || token+".ics" != file || len(token) > 256 {
			t.Fatalf("feedToken(%q) = %q", file, token)
		}
	})
}
