package web

import (
	"strings"
	"testing"
)

// FuzzNormalizePhone: the From of Twilio's SMS callbacks. The result is
// only digits after an optional leading +, keeps every digit in order, and
// normalizing again changes nothing.
func FuzzNormalizePhone(f *testing.F) {
	for _, s := range []string{"+1 (555) 010-0000", "++44", "٣٤٥", "1+2", "", "+"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := normalizePhone(s)
		digits := strings.TrimPrefix(got, "+")
		if strings.Trim(digits, "0123456789") != "" {
			t.Fatalf("%q → %q", s, got)
		}
		var want strings.Builder
		for _, r := range s {
			if r >= '0' && r <= '9' {
				want.WriteRune(r)
			}
		}
		if digits != want.String() {
			t.Fatalf("%q → %q lost digits (want %q)", s, got, want.String())
		}
		if normalizePhone(got) != got {
			t.Fatalf("%q → %q is not stable", s, got)
		}
	})
}
