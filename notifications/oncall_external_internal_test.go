package notifications

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestParseOncallResponse(t *testing.T) {
	got, err := parseOncallResponse([]byte(` [{"user": "foo", "start": 1487426400, "end": 1487469600, "full_name": "Foo Icecream", "contacts": {"sms": "+1 123-456-7890"}},
		{"user": "bar"}] `))
	if err != nil || len(got) != 2 || got[0].User != "foo" || !got[0].End.Equal(time.Unix(1487469600, 0)) || !got[1].Start.IsZero() {
		t.Fatalf("parse = %+v, %v", got, err)
	}
	if got, err := parseOncallResponse([]byte("[]")); err != nil || len(got) != 0 {
		t.Errorf("empty list = %+v, %v", got, err)
	}
	for body, want := range map[string]string{
		"":                                    "not a JSON list",
		"null":                                "not a JSON list",
		`{"user": "foo"}`:                     "not a JSON list",
		`[{"user": "foo"}] trailing`:          "not a list of on-call entries",
		`[{"user": 7}]`:                       "not a list of on-call entries",
		`[{"user": "foo", "start": 1.5}]`:     "not a list of on-call entries",
		`[null]`:                              "entry 0 has no user",
		`[{"user": "a"}, {"full_name": "x"}]`: "entry 1 has no user",
		`[{"user": "a\nb"}]`:                  "entry 0: the user is not a handle",
		`[{"user": "a", "end": -1}]`:          "entry 0: end -1 is not a time",
		`[{"user": "a", "start": 20, "end": 10}]`:                      "entry 0 ends before it starts",
		"[" + strings.Repeat(`{"user": "a"},`, 100) + `{"user": "a"}]`: "more than 100",
	} {
		if _, err := parseOncallResponse([]byte(body)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%.40q: %v, want %q", body, err, want)
		}
	}
}

func FuzzParseOncallResponse(f *testing.F) {
	for _, s := range []string{
		`[{"user": "foo", "start": 1487426400, "end": 1487469600, "full_name": "Foo", "contacts": {"im": "foo"}}]`,
		`[]`, `null`, `[null]`, `[{"user": ""}]`, `[{"user": "a", "end": 253402300800}]`, `[{"user": "\u00e9"}]`, `[{"user": "a"}]]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		shifts, err := parseOncallResponse(body)
		if err != nil {
			if shifts != nil {
				t.Fatalf("error %v with shifts %+v", err, shifts)
			}
			return
		}
		if len(shifts) > maxOncallEntries {
			t.Fatalf("%d entries accepted", len(shifts))
		}
		for _, s := range shifts {
			if s.User == "" || len(s.User) > maxOncallUser || !utf8.ValidString(s.User) || strings.ContainsAny(s.User, "\n\r\x00") {
				t.Fatalf("user %q accepted", s.User)
			}
			if !s.Start.IsZero() && !s.End.IsZero() && s.End.Before(s.Start) {
				t.Fatalf("shift %+v ends before it starts", s)
			}
		}
	})
}
