package ui

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications/schedule"
)

// schedFix is a UI with the schedule pages on a database holding two
// teams: payments (alice, bob; a daily primary rotation handing off at
// 09:00 New York time since 2026-03-01, alice first) and search (carol).
// dave is inactive.
type schedFix struct {
	h                       *harness
	resolver                *schedule.Resolver
	payments, search        *models.Team
	sched                   *models.Schedule
	alice, bob, carol, dave *models.Person
}

func newSchedFix(t *testing.T, dialect string, withCache bool) *schedFix {
	t.Helper()
	f := &schedFix{}
	f.h = newHarness(t, dialect, func(h *harness) []Page {
		// The engine's cache as wired in production, but without the
		// version check, so only an Invalidate shows a change.
		f.resolver = schedule.NewResolver(h.Store, h.Clock, schedule.ResolverOptions{TTL: 24 * time.Hour, VersionCheck: -1})
		var cache OnCallCache
		if withCache {
			cache = f.resolver
		}
		return []Page{NewSchedulePages(h.Store, cache, h.Clock)}
	})
	g, now := f.h.DB.Gorm, f.h.Clock.Now()
	person := func(name string, active bool) *models.Person {
		p := &models.Person{ID: uuid.NewString(), Name: name, FullName: strings.ToUpper(name[:1]) + name[1:] + " Example", Active: active, CreatedAt: now, UpdatedAt: now}
		if err := g.Create(p).Error; err != nil {
			t.Fatal(err)
		}
		return p
	}
	f.alice, f.bob, f.carol, f.dave = person("alice", true), person("bob", true), person("carol", true), person("dave", false)
	team := func(name string, members ...*models.Person) *models.Team {
		tm := &models.Team{ID: uuid.NewString(), Name: name, CreatedAt: now, UpdatedAt: now}
		if err := g.Create(tm).Error; err != nil {
			t.Fatal(err)
		}
		for _, m := range members {
			if err := g.Create(&models.TeamMember{TeamID: tm.ID, PersonID: m.ID}).Error; err != nil {
				t.Fatal(err)
			}
		}
		return tm
	}
	f.payments, f.search = team("payments", f.alice, f.bob), team("search", f.carol)
	ctx, by := context.Background(), models.Actor{Name: "test"}
	f.sched = &models.Schedule{TeamID: f.payments.ID, Name: "Payments", TimeZone: "America/New_York"}
	if err := f.h.Store.CreateSchedule(ctx, by, f.sched); err != nil {
		t.Fatal(err)
	}
	rot := &models.Rotation{ScheduleID: f.sched.ID, Name: "daily", Role: models.RotationPrimary, ShiftKind: models.ShiftDaily,
		HandoffTime: "09:00", StartDate: "2026-03-01", Members: []string{f.alice.ID, f.bob.ID}}
	if err := f.h.Store.CreateRotation(ctx, by, rot); err != nil {
		t.Fatal(err)
	}
	searchSched := &models.Schedule{TeamID: f.search.ID, Name: "Search", TimeZone: "UTC"}
	if err := f.h.Store.CreateSchedule(ctx, by, searchSched); err != nil {
		t.Fatal(err)
	}
	if err := f.h.Store.CreateRotation(ctx, by, &models.Rotation{ScheduleID: searchSched.ID, Name: "weekly", Role: models.RotationPrimary,
		ShiftKind: models.ShiftWeekly, HandoffTime: "10:00", HandoffWeekday: "mon", StartDate: "2026-01-05", Members: []string{f.carol.ID}}); err != nil {
		t.Fatal(err)
	}
	return f
}

// dailyTurn is who the payments rotation puts on call from 09:00 New York
// time on date (YYYY-MM-DD) until 09:00 the next day.
func (f *schedFix) dailyTurn(t *testing.T, date string) *models.Person {
	d, err := time.Parse("2006-01-02", date)
	if err != nil {
		t.Fatal(err)
	}
	if int(d.Sub(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)).Hours()/24)%2 == 0 {
		return f.alice
	}
	return f.bob
}

// overrides lists payments' stored overrides.
func (f *schedFix) overrides(t *testing.T) []models.ScheduleOverride {
	t.Helper()
	var out []models.ScheduleOverride
	if err := f.h.DB.Gorm.Order("created_at, id").Find(&out).Error; err != nil {
		t.Fatal(err)
	}
	return out
}

// inZone requests path with the browser's time zone cookie set.
func (c *client) inZone(tz, method, path string, form url.Values) *httptest.ResponseRecorder {
	var req *http.Request
	if method == http.MethodPost {
		if form == nil {
			form = url.Values{}
		}
		form.Set(csrfField, c.CSRF)
		req = httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(method, path, nil)
	}
	req.AddCookie(&http.Cookie{Name: tzCookie, Value: tz})
	return c.do(req)
}

// daySection is the calendar cell of date in a rendered page.
func daySection(t *testing.T, body, date string) string {
	t.Helper()
	i := strings.Index(body, `data-date="`+date+`"`)
	if i < 0 {
		t.Fatalf("no day %s in the calendar:\n%s", date, truncate(body, 3000))
	}
	rest := body[i:]
	if j := strings.Index(rest, "</section>"); j >= 0 {
		rest = rest[:j]
	}
	return rest
}
