package handlers

import (
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/models"
)

func TestParseOncall(t *testing.T) {
	tests := []struct {
		name, in string
		want     oncallRequest
		wantErr  string
	}{
		{"nothing: my teams", "  ", oncallRequest{}, ""},
		{"a team", "payments", oncallRequest{Team: "payments"}, ""},
		{"help", "HELP", oncallRequest{Help: true}, ""},
		{"help with more", "help me", oncallRequest{}, "takes nothing"},
		{"two teams", "payments search", oncallRequest{}, "name one team"},
		{"team with markup", "<#C1|payments>", oncallRequest{}, "not a team name"},
		{"cover me for 2h", "cover 2h", oncallRequest{Cover: true, For: 2 * time.Hour, Role: "primary"}, ""},
		{"cover 30m", "cover 30m", oncallRequest{Cover: true, For: 30 * time.Minute, Role: "primary"}, ""},
		{"cover 1d", "Cover 1D", oncallRequest{Cover: true, For: 24 * time.Hour, Role: "primary"}, ""},
		{"cover 1h30m", "cover 1h30m", oncallRequest{Cover: true, For: 90 * time.Minute, Role: "primary"}, ""},
		{"cover someone", "cover <@U0BOB|bob> 2h payments secondary",
			oncallRequest{Cover: true, UserID: "U0BOB", For: 2 * time.Hour, Team: "payments", Role: "secondary"}, ""},
		{"label with spaces", "cover <@W0BOB|Bob Smith> for 2h",
			oncallRequest{Cover: true, UserID: "W0BOB", For: 2 * time.Hour, Role: "primary"}, ""},
		{"any order", "cover shadow payments 45m <@U1>",
			oncallRequest{Cover: true, UserID: "U1", For: 45 * time.Minute, Team: "payments", Role: "shadow"}, ""},
		{"a handle", "cover @bob 2h", oncallRequest{Cover: true, Person: "bob", For: 2 * time.Hour, Role: "primary"}, ""},
		{"until", "cover until 18:00 payments", oncallRequest{Cover: true, Until: "18:00", Team: "payments", Role: "primary"}, ""},
		{"until one digit hour", "cover until 9:05", oncallRequest{Cover: true, Until: "9:05", Role: "primary"}, ""},
		{"no duration", "cover payments", oncallRequest{}, "for how long"},
		{"bad duration", "cover 2x", oncallRequest{}, "`2x` is not a duration"},
		{"units out of order", "cover 30m2h", oncallRequest{}, "is not a duration"},
		{"unit twice", "cover 1h1h", oncallRequest{}, "is not a duration"},
		{"number alone", "cover 2", oncallRequest{}, "is not a duration"},
		{"zero", "cover 0m", oncallRequest{}, "too short"},
		{"too long", "cover 15d", oncallRequest{}, "too long"},
		{"huge number", "cover 99999999999h", oncallRequest{}, "is not a duration"},
		{"two durations", "cover 2h 3h", oncallRequest{}, "not both"},
		{"duration and until", "cover 2h until 18:00", oncallRequest{}, "not both"},
		{"until without time", "cover until", oncallRequest{}, "needs a time of day"},
		{"until bad time", "cover until 25:00", oncallRequest{}, "not a time of day"},
		{"until 6pm", "cover until 6pm", oncallRequest{}, "not a time of day"},
		{"two people", "cover <@U1> <@U2> 2h", oncallRequest{}, "one person"},
		{"person and handle", "cover <@U1> @bob 2h", oncallRequest{}, "one person"},
		{"channel is no person", "cover <@C1> 2h", oncallRequest{}, "is not a person"},
		{"two roles", "cover 2h primary secondary", oncallRequest{}, "one role"},
		{"two teams", "cover 2h payments search", oncallRequest{}, "name one team"},
		{"too long text", "cover " + strings.Repeat("x", maxOncallText), oncallRequest{}, "characters"},
		{"invalid utf-8", "cover 2h \xff", oncallRequest{}, "UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseOncall(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseOncall(%q) = %+v, %v; want an error with %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("parseOncall(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestNextClockTime(t *testing.T) {
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 28, 17, 30, 0, 0, time.UTC) // 17:30 GMT, Saturday before the clocks change
	for _, tt := range []struct {
		h, m int
		want time.Time
	}{
		{18, 0, time.Date(2026, 3, 28, 18, 0, 0, 0, time.UTC)},
		{17, 30, time.Date(2026, 3, 29, 16, 30, 0, 0, time.UTC)}, // now is not "after now": tomorrow, in BST
		{9, 0, time.Date(2026, 3, 29, 8, 0, 0, 0, time.UTC)},
	} {
		if got := nextClockTime(now, london, tt.h, tt.m); !got.Equal(tt.want) {
			t.Errorf("%02d:%02d = %s, want %s", tt.h, tt.m, got, tt.want)
		}
	}
}

// FuzzParseOncall: never panics; an accepted cover has exactly one of a
// duration within bounds and a valid end time, a known role, at most one
// person; an accepted team name is one word without markup; errors are
// worded for people (non-empty, no Go syntax).
func FuzzParseOncall(f *testing.F) {
	for _, s := range []string{
		"", "payments", "help", "cover 2h", "cover <@U1|bob> 1h30m payments secondary", "cover until 18:00",
		"cover @bob 1d", "cover 2h 3h", "cover <@U1", "cover <@U1|a b> x y", "cover 1d1h1m", "cover until 9:5",
		"\xff", "cover 00000m", "cover 14d", "cover  for  for 2h", "<@U1>", "cover <>",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := parseOncall(s)
		if err != nil {
			if msg := err.Error(); msg == "" || strings.Contains(msg, "%!") {
				t.Fatalf("error %q for %q", msg, s)
			}
			return
		}
		if r.Team != "" && (strings.ContainsFunc(r.Team, func(c rune) bool { return c == ' ' || c == '\n' || c == '\t' }) || strings.ContainsAny(r.Team, "<>`*")) {
			t.Fatalf("team %q from %q", r.Team, s)
		}
		if !r.Cover {
			if r.For != 0 || r.Until != "" || r.UserID != "" || r.Person != "" || r.Role != "" {
				t.Fatalf("cover fields without cover: %+v from %q", r, s)
			}
			return
		}
		if (r.For == 0) == (r.Until == "") {
			t.Fatalf("want exactly one of For and Until: %+v from %q", r, s)
		}
		if r.For != 0 && (r.For < minCover || r.For > maxCover) {
			t.Fatalf("duration %s out of bounds from %q", r.For, s)
		}
		if r.Until != "" {
			if _, _, err := parseClockTime(r.Until); err != nil {
				t.Fatalf("until %q accepted from %q: %v", r.Until, s, err)
			}
		}
		if r.Role != models.RotationPrimary && r.Role != models.RotationSecondary && r.Role != models.RotationShadow {
			t.Fatalf("role %q from %q", r.Role, s)
		}
		if r.UserID != "" && (r.Person != "" || !isSlackUserID(r.UserID)) {
			t.Fatalf("person %+v from %q", r, s)
		}
	})
}
