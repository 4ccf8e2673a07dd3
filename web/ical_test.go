package web

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	ics "github.com/arran4/golang-ical"
)

// parseBack reads an encoded calendar with golang-ical, after checking the
// framing its reader forgives (CRLF, 75-octet lines, folds between UTF-8
// characters).
func parseBack(t testing.TB, raw []byte) *ics.Calendar {
	t.Helper()
	if !bytes.HasSuffix(raw, []byte("\r\n")) {
		t.Fatalf("does not end with CRLF: %q", raw)
	}
	for i, line := range strings.Split(strings.TrimSuffix(string(raw), "\r\n"), "\r\n") {
		if len(line) > icalMaxOctets || strings.ContainsAny(line, "\r\n") {
			t.Fatalf("line %d: %d octets or a bare line break: %q", i+1, len(line), line)
		}
		if !utf8.ValidString(line) { // the encoder writes valid UTF-8 only: a fold split a character
			t.Fatalf("line %d splits a UTF-8 character: %q", i+1, line)
		}
	}
	cal, err := ics.ParseCalendar(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("golang-ical cannot parse it: %v\n%s", err, raw)
	}
	return cal
}

func eventText(t testing.TB, cal *ics.Calendar, prop ics.ComponentProperty) string {
	t.Helper()
	events := cal.Events()
	if len(events) != 1 {
		t.Fatalf("%d events, want 1", len(events))
	}
	p := events[0].GetProperty(prop)
	if p == nil {
		t.Fatalf("no %s", prop)
	}
	return p.Value
}

// TestICalText: TEXT values are escaped as RFC 5545 says, long lines
// folded at 75 octets, and a maintained parser reads back what was
// written.
func TestICalText(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, escaped, readBack string }{
		{"On call (primary): Alice", "On call (primary): Alice", "On call (primary): Alice"},
		{"Smith, Alice; dev", `Smith\, Alice\; dev`, "Smith, Alice; dev"},
		{`C:\ops\n`, `C:\\ops\\n`, `C:\ops\n`},
		{`already\,escaped`, `already\\\,escaped`, `already\,escaped`},
		{"two\nlines", `two\nlines`, "two\nlines"},
		{"crlf\r\nand cr\rend", `crlf\nand cr\nend`, "crlf\nand cr\nend"},
		{"tab\tbell\a nul\x00", "tab\tbell nul", "tab\tbell nul"},
		{"bad \xff utf-8", "bad \uFFFD utf-8", "bad \uFFFD utf-8"},
		{`"quoted": yes`, `"quoted": yes`, `"quoted": yes`},
	} {
		if got := icalText(tc.in); got != tc.escaped {
			t.Errorf("icalText(%q) = %q, want %q", tc.in, got, tc.escaped)
		}
		raw := icalCalendar{Name: tc.in, Stamp: time.Unix(0, 0), Events: []icalEvent{{UID: "u", Summary: tc.in, Description: tc.in, Start: time.Unix(0, 0), End: time.Unix(3600, 0)}}}.encode()
		cal := parseBack(t, raw)
		if got := eventText(t, cal, ics.ComponentPropertySummary); got != tc.readBack {
			t.Errorf("SUMMARY of %q read back as %q", tc.in, got)
		}
	}

	long := strings.Repeat("Ünïcødé, text; ", 20) + strings.Repeat("x", 80) + "🙂🙂🙂"
	raw := icalCalendar{Name: long, Stamp: time.Unix(0, 0), Events: []icalEvent{{UID: "u", Summary: long, Description: long, Start: time.Unix(0, 0), End: time.Unix(60, 0)}}}.encode()
	if !bytes.Contains(raw, []byte("\r\n ")) {
		t.Fatal("a long line was not folded")
	}
	cal := parseBack(t, raw)
	for _, prop := range []ics.ComponentProperty{ics.ComponentPropertySummary, ics.ComponentPropertyDescription} {
		if got := eventText(t, cal, prop); got != long {
			t.Errorf("%s read back as %q", prop, got)
		}
	}
}

// TestICalCalendar: the calendar's properties and an event's, in UTC.
func TestICalCalendar(t *testing.T) {
	t.Parallel()
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2025, 3, 30, 9, 0, 0, 0, london) // summer time: 08:00 UTC
	raw := icalCalendar{Name: "On call: Payments", Refresh: time.Hour, Stamp: time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC),
		Events: []icalEvent{{UID: "abc@herald", Start: start, End: start.Add(24 * time.Hour), Summary: "s"}}}.encode()
	for _, want := range []string{"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:", "X-WR-CALNAME:On call: Payments\r\n",
		"REFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n", "X-PUBLISHED-TTL:PT1H\r\n", "DTSTAMP:20250314T092653Z\r\n",
		"DTSTART:20250330T080000Z\r\n", "DTEND:20250331T080000Z\r\n", "UID:abc@herald\r\n", "END:VCALENDAR\r\n"} {
		if !bytes.Contains(raw, []byte(want)) {
			t.Errorf("no %q in\n%s", want, raw)
		}
	}
	if bytes.Contains(raw, []byte("DESCRIPTION")) {
		t.Error("an empty description was written")
	}
	ev := parseBack(t, raw).Events()[0]
	if got, err := ev.GetStartAt(); err != nil || !got.Equal(start) {
		t.Errorf("DTSTART read back as %s, %v", got, err)
	}
	for d, want := range map[time.Duration]string{time.Hour: "PT1H", 90 * time.Minute: "PT90M", time.Second: "PT1M", 24 * time.Hour: "PT24H"} {
		if got := icalDuration(d); got != want {
			t.Errorf("icalDuration(%s) = %s, want %s", d, got, want)
		}
	}
}

// FuzzICalText: whatever the text, the feed's lines stay within 75
// octets, CRLF-terminated, and golang-ical reads back icalPlain of it.
func FuzzICalText(f *testing.F) {
	for _, s := range []string{"", "a,b;c\\d\ne", strings.Repeat("é", 80), "\\n\\,", "\r\n\r", "x\x00\x1f\x7f", "\xff\xfe", strings.Repeat("🙂", 30) + " "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		raw := icalCalendar{Name: s, Stamp: time.Unix(0, 0), Events: []icalEvent{{UID: s, Summary: s, Description: s, Start: time.Unix(0, 0), End: time.Unix(60, 0)}}}.encode()
		cal := parseBack(t, raw)
		want := icalPlain(s)
		if got := eventText(t, cal, ics.ComponentPropertySummary); got != want {
			t.Fatalf("SUMMARY of %q read back as %q, want %q", s, got, want)
		}
		if s != "" {
			if got := eventText(t, cal, ics.ComponentPropertyDescription); got != want {
				t.Fatalf("DESCRIPTION of %q read back as %q, want %q", s, got, want)
			}
		}
	})
}
