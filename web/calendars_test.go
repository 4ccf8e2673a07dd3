package web_test

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/models"
)

// tokenAnswer is the answer of POST .../calendar-token.
type tokenAnswer struct {
	Kind, Subject, Token, Path string
	Rotated                    bool
}

// feedEvent is an event as a maintained iCalendar parser reads it.
type feedEvent struct {
	uid, summary, description string
	start, end                time.Time
}

func (e feedEvent) String() string {
	return fmt.Sprintf("%s→%s %s", e.start.UTC().Format("01-02T15:04"), e.end.UTC().Format("01-02T15:04"), e.summary)
}

// fetchFeed GETs a feed and parses it back with golang-ical, checking the
// framing the parser forgives: CRLF line ends, 75-octet lines, the
// content type.
func (env *onCallEnv) fetchFeed(path string) (*ics.Calendar, []feedEvent) {
	env.t.Helper()
	r := env.call(http.MethodGet, path, "")
	if r.Status != http.StatusOK || r.Header.Get("Content-Type") != "text/calendar; charset=utf-8" {
		env.t.Fatalf("GET feed: %d %s %s", r.Status, r.Header.Get("Content-Type"), r.Body)
	}
	if !bytes.HasSuffix(r.Body, []byte("\r\n")) {
		env.t.Fatal("the feed does not end with CRLF")
	}
	for i, line := range strings.Split(strings.TrimSuffix(string(r.Body), "\r\n"), "\r\n") {
		if len(line) > 75 || strings.ContainsAny(line, "\r\n") {
			env.t.Fatalf("feed line %d is %d octets or holds a bare line break: %q", i+1, len(line), line)
		}
	}
	cal, err := ics.ParseCalendar(bytes.NewReader(r.Body))
	if err != nil {
		env.t.Fatalf("parsing the feed: %v\n%s", err, r.Body)
	}
	var out []feedEvent
	for _, e := range cal.Events() {
		start, err := e.GetStartAt()
		check(env.t, err)
		end, err := e.GetEndAt()
		check(env.t, err)
		fe := feedEvent{uid: e.Id(), start: start, end: end}
		if p := e.GetProperty(ics.ComponentPropertySummary); p != nil {
			fe.summary = p.Value
		}
		if p := e.GetProperty(ics.ComponentPropertyDescription); p != nil {
			fe.description = p.Value
		}
		if p := e.GetProperty(ics.ComponentPropertyDtstamp); p == nil || !strings.HasSuffix(p.Value, "Z") {
			env.t.Errorf("event %s: DTSTAMP %v, want UTC", fe, p)
		}
		for _, prop := range []ics.ComponentProperty{ics.ComponentPropertyDtStart, ics.ComponentPropertyDtEnd} {
			if p := e.GetProperty(prop); !strings.HasSuffix(p.Value, "Z") || len(p.ICalParameters) > 0 {
				env.t.Errorf("event %s: %s:%s, want a UTC time", fe, prop, p.Value)
			}
		}
		out = append(out, fe)
	}
	return cal, out
}

func calendarProperty(cal *ics.Calendar, name string) string {
	for _, p := range cal.CalendarProperties {
		if p.IANAToken == name {
			return p.Value
		}
	}
	return ""
}

// TestScheduleFeed: a schedule's feed over HTTP, parsed back by
// golang-ical: its events from 30 days ago to 90 days ahead, whole,
// handing off at 09:00 London time across the change to summer time,
// summaries and descriptions round-tripping escapes, stable ids; the
// token is rotated, revoked and refused like an unknown one; it never
// reaches the log.
func TestScheduleFeed(t *testing.T) {
	t.Parallel()
	for _, dialect := range testdb.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			env := newOnCallEnv(t, dialect)
			tokenPath := "/api/v1/schedules/" + env.payments.ID + "/calendar-token"
			var tok tokenAnswer
			r := env.admin(http.MethodPost, tokenPath, &tok)
			if r.Status != http.StatusCreated || r.Header.Get("Cache-Control") != "no-store" || tok.Rotated ||
				tok.Kind != models.CalendarTokenSchedule || tok.Path != "/calendars/schedules/"+tok.Token+".ics" {
				t.Fatalf("issue: %d %s", r.Status, r.Body)
			}
			cal, events := env.fetchFeed(tok.Path)
			if got := calendarProperty(cal, "X-WR-CALNAME"); got != "On call: Payments" {
				t.Errorf("X-WR-CALNAME %q", got)
			}
			if calendarProperty(cal, "REFRESH-INTERVAL") != "PT1H" || calendarProperty(cal, "X-PUBLISHED-TTL") != "PT1H" {
				t.Errorf("refresh: %q %q", calendarProperty(cal, "REFRESH-INTERVAL"), calendarProperty(cal, "X-PUBLISHED-TTL"))
			}
			var rendered []string
			uids := map[string]bool{}
			for _, e := range events {
				rendered = append(rendered, e.String())
				if uids[e.uid] || !strings.HasSuffix(e.uid, "@herald") {
					t.Errorf("event %s: uid %q repeated or malformed", e, e.uid)
				}
				uids[e.uid] = true
			}
			alice := "On call (primary): " + alicesFullName
			for _, want := range []string{
				"03-01T09:00→03-02T09:00 " + alice, // the first shift (the window starts on 02-12)
				// London goes to summer time at 03-30 01:00 UTC: the 09:00
				// handoff moves from 09:00 to 08:00 UTC, the weekend window
				// from 10:00 to 09:00 UTC.
				"03-29T12:00→03-30T08:00 " + alice,
				"03-30T08:00→03-30T09:00 On call (primary): bob",
				"03-30T09:00→03-30T11:00 On call (primary): carol",
				"03-31T08:00→03-31T16:00 On call (secondary): carol",
				"03-17T09:00→03-17T21:00 On call (primary): dave",
			} {
				if !slices.Contains(rendered, want) {
					t.Errorf("no event %q in the feed:\n  %s", want, strings.Join(rendered, "\n  "))
				}
			}
			last := events[len(events)-1]
			if h := last.end.UTC().Hour(); last.end.Before(onCallStart.Add(90*24*time.Hour)) || (h != 8 && h != 16) {
				t.Errorf("the last event %s is cut at the window's end, not whole", last)
			}
			for _, e := range events {
				switch {
				case strings.HasSuffix(e.summary, "dave"):
					if want := "primary, override in Payments\nInstead of " + alicesFullName; e.description != want {
						t.Errorf("override description %q, want %q", e.description, want)
					}
				case e.summary == alice && e.description != "primary, Payments daily":
					t.Errorf("alice's description %q", e.description)
				}
			}

			// A day later the same shifts keep their ids.
			env.clock.Advance(24 * time.Hour)
			_, later := env.fetchFeed(tok.Path)
			kept := 0
			for _, e := range later {
				if uids[e.uid] {
					kept++
				}
			}
			if kept != len(events) { // none started before the window, the last were whole
				t.Errorf("a day later only %d of %d event ids are the same", kept, len(events))
			}

			var tok2 tokenAnswer
			if r := env.admin(http.MethodPost, tokenPath, &tok2); r.Status != http.StatusCreated || !tok2.Rotated || tok2.Token == tok.Token {
				t.Fatalf("rotate: %d %s", r.Status, r.Body)
			}
			wantNoFeed(t, env, "the rotated-out token", tok.Path)
			env.fetchFeed(tok2.Path)
			if r := env.admin(http.MethodDelete, tokenPath, nil); r.Status != http.StatusNoContent {
				t.Fatalf("revoke: %d %s", r.Status, r.Body)
			}
			wantNoFeed(t, env, "the revoked token", tok2.Path)
			wantAPIError(t, "revoke again", env.call(http.MethodDelete, tokenPath, onCallAdminKey), http.StatusNotFound, "id")
			wantAPIError(t, "a token for an unknown schedule", env.call(http.MethodPost, "/api/v1/schedules/nope/calendar-token", onCallAdminKey), http.StatusNotFound, "id")
			for _, method := range []string{http.MethodPost, http.MethodDelete} {
				if r := env.call(method, tokenPath, ""); r.Status != http.StatusUnauthorized {
					t.Errorf("%s without the key: %d", method, r.Status)
				}
			}
			var tok3 tokenAnswer
			env.admin(http.MethodPost, tokenPath, &tok3)
			for what, path := range map[string]string{
				"no .ics":             strings.TrimSuffix(tok3.Path, ".ics"),
				"another suffix":      strings.TrimSuffix(tok3.Path, ".ics") + ".ical",
				"garbage":             "/calendars/schedules/garbage.ics",
				"wrong secret":        tok3.Path[:len(tok3.Path)-6] + otherPair(tok3.Path[len(tok3.Path)-6:len(tok3.Path)-4]) + ".ics",
				"as a person's token": "/calendars/people/" + tok3.Token + ".ics",
			} {
				wantNoFeed(t, env, what, path)
			}
			var stored []models.CalendarToken
			check(t, env.db.Gorm.Find(&stored).Error)
			logs := env.logs.String()
			for _, tk := range []string{tok.Token, tok2.Token, tok3.Token} {
				secret := tk[len(tk)-20:]
				if strings.Contains(logs, secret) {
					t.Errorf("a calendar token reached the log")
				}
				for _, row := range stored {
					if strings.Contains(row.TokenHash, secret) {
						t.Errorf("a calendar token is stored as it is")
					}
				}
			}
			if !strings.Contains(logs, "/calendars/schedules/:file") {
				t.Errorf("feed requests are not logged by their route")
			}
		})
	}
}

// otherPair is two characters other than s.
func otherPair(s string) string {
	if s == "AA" {
		return "BB"
	}
	return "AA"
}

func wantNoFeed(t *testing.T, env *onCallEnv, what, path string) {
	t.Helper()
	if r := env.call(http.MethodGet, path, ""); r.Status != http.StatusNotFound || strings.Contains(string(r.Body), "BEGIN:VCALENDAR") {
		t.Errorf("%s (%s): %d %s, want 404", what, path, r.Status, r.Body)
	}
}

// TestPersonFeed: a person's feed shows their shifts in every team's
// schedules as paging sees them (not where an override or a higher layer
// replaced them); unknown people and revoked tokens are 404s.
func TestPersonFeed(t *testing.T) {
	t.Parallel()
	for _, dialect := range testdb.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			env := newOnCallEnv(t, dialect)
			var tok tokenAnswer
			if r := env.admin(http.MethodPost, "/api/v1/people/alice/calendar-token", &tok); r.Status != http.StatusCreated || tok.Path != "/calendars/people/"+tok.Token+".ics" {
				t.Fatalf("issue: %d %s", r.Status, r.Body)
			}
			cal, events := env.fetchFeed(tok.Path)
			if got := calendarProperty(cal, "X-WR-CALNAME"); got != "On call: "+alicesFullName {
				t.Errorf("X-WR-CALNAME %q", got)
			}
			var rendered []string
			for _, e := range events {
				rendered = append(rendered, e.String())
				if !strings.HasSuffix(e.summary, ": "+alicesFullName) {
					t.Errorf("someone else's shift in alice's feed: %s", e)
				}
			}
			for _, want := range []string{
				"03-15T09:00→03-15T10:00 On call (primary, Payments): " + alicesFullName,
				"03-15T12:00→03-16T09:00 On call (primary, Payments): " + alicesFullName,
				"03-17T21:00→03-18T09:00 On call (primary, Payments): " + alicesFullName, // after dave's override
				"03-10T10:00→03-17T10:00 On call (primary, Search): " + alicesFullName,
			} {
				if !slices.Contains(rendered, want) {
					t.Errorf("no event %q in alice's feed:\n  %s", want, strings.Join(rendered, "\n  "))
				}
			}
			for _, e := range rendered {
				if strings.HasPrefix(e, "03-17T09:00") && strings.Contains(e, "Payments") {
					t.Errorf("alice's feed shows the shift dave covers: %s", e)
				}
			}
			wantAPIError(t, "unknown person", env.call(http.MethodPost, "/api/v1/people/nobody/calendar-token", onCallAdminKey), http.StatusNotFound, "name")
			wantNoFeed(t, env, "as a schedule's token", "/calendars/schedules/"+tok.Token+".ics")
			if r := env.admin(http.MethodDelete, "/api/v1/people/alice/calendar-token", nil); r.Status != http.StatusNoContent {
				t.Fatalf("revoke: %d %s", r.Status, r.Body)
			}
			wantNoFeed(t, env, "the revoked token", tok.Path)
			wantAPIError(t, "revoke for an unknown person", env.call(http.MethodDelete, "/api/v1/people/nobody/calendar-token", onCallAdminKey), http.StatusNotFound, "name")
		})
	}
}
