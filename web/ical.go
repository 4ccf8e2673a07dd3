package web

import (
	"bytes"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// A small iCalendar (RFC 5545) writer for the on-call feeds: one
// VCALENDAR of VEVENTs with UTC times. Lines end in CRLF and are folded
// at 75 octets (never inside a UTF-8 character); TEXT values are escaped.

// icalEvent is one VEVENT.
type icalEvent struct {
	UID         string
	Start, End  time.Time
	Summary     string
	Description string
}

// icalCalendar is a published calendar.
type icalCalendar struct {
	Name string // X-WR-CALNAME
	// Refresh is how often clients should fetch the feed again
	// (REFRESH-INTERVAL, X-PUBLISHED-TTL).
	Refresh time.Duration
	Stamp   time.Time // DTSTAMP of every event: when the feed was made
	Events  []icalEvent
}

// icalMaxOctets is the longest a line may be, CRLF excluded.
const icalMaxOctets = 75

// encode writes the calendar.
func (c icalCalendar) encode() []byte {
	var b bytes.Buffer
	w := func(name, value string) { icalLine(&b, name+":"+value) }
	w("BEGIN", "VCALENDAR")
	w("VERSION", "2.0")
	w("PRODID", "-//Herald//On-call schedules//EN")
	w("CALSCALE", "GREGORIAN")
	w("METHOD", "PUBLISH")
	w("X-WR-CALNAME", icalText(c.Name))
	if c.Refresh > 0 {
		w("REFRESH-INTERVAL;VALUE=DURATION", icalDuration(c.Refresh))
		w("X-PUBLISHED-TTL", icalDuration(c.Refresh))
	}
	stamp := icalTime(c.Stamp)
	for _, e := range c.Events {
		w("BEGIN", "VEVENT")
		w("UID", icalText(e.UID))
		w("DTSTAMP", stamp)
		w("DTSTART", icalTime(e.Start))
		w("DTEND", icalTime(e.End))
		w("SUMMARY", icalText(e.Summary))
		if e.Description != "" {
			w("DESCRIPTION", icalText(e.Description))
		}
		w("TRANSP", "TRANSPARENT") // being on call does not make one busy
		w("END", "VEVENT")
	}
	w("END", "VCALENDAR")
	return b.Bytes()
}

// icalTime is a UTC DATE-TIME (form #2 of RFC 5545 3.3.5).
func icalTime(t time.Time) string { return t.UTC().Format("20060102T150405Z") }

// icalDuration is a DURATION in whole minutes (at least one).
func icalDuration(d time.Duration) string {
	if d%time.Hour == 0 {
		return fmt.Sprintf("PT%dH", d/time.Hour)
	}
	return fmt.Sprintf("PT%dM", max(d/time.Minute, 1))
}

// icalPlain is the text a TEXT value can carry: valid UTF-8, line breaks
// as "\n", and no control characters but tab and newline (RFC 5545
// allows no others in TEXT). icalText(s) reads back as icalPlain(s).
func icalPlain(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\r':
			return '\n'
		case r == '\t' || r == '\n':
			return r
		case r < 0x20 || r == 0x7f:
			return -1
		}
		return r
	}, s)
}

var icalEscaper = strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\n", `\n`)

// icalText escapes a TEXT value (RFC 5545 3.3.11).
func icalText(s string) string { return icalEscaper.Replace(icalPlain(s)) }

// icalLine writes a content line folded at 75 octets: a fold is CRLF and a
// space, and goes between UTF-8 characters.
func icalLine(b *bytes.Buffer, line string) {
	limit := icalMaxOctets
	for len(line) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(line[cut]) {
			cut--
		}
		b.WriteString(line[:cut])
		b.WriteString("\r\n ")
		line = line[cut:]
		limit = icalMaxOctets - 1 // the leading space counts
	}
	b.WriteString(line)
	b.WriteString("\r\n")
}
