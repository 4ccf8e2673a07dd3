package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/heraldhq/herald/internal/fakeclock"
	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/internal/testlog"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
	"github.com/heraldhq/herald/web"
)

const onCallAdminKey = "admin-key-for-oncall-tests"

// onCallStart is a Friday, two weeks before London's clocks go forward
// (2025-03-30 01:00 UTC).
var onCallStart = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)

// alicesFullName needs escaping in iCalendar text.
const alicesFullName = `Smith, Alice; \ "Ally"`

// onCallEnv is the on-call API and feeds over HTTP, on a fresh database
// with the real store and notifications.OnCallViews:
//
//	team payments, schedule Payments (Europe/London):
//	  primary   "daily"    daily 09:00, alice and bob from 2025-03-01
//	  primary   "weekend"  (higher layer) carol, Sat and Sun 10:00-12:00 only
//	  secondary "business" carol, Mon-Fri 09:00-17:00 only
//	  override  dave for alice, 2025-03-17 09:00-21:00 UTC
//	team search, schedule Search (UTC): primary "weekly", alice alone
//	team ops, no schedule: static primary alice, no secondary
type onCallEnv struct {
	t        *testing.T
	ctx      context.Context
	db       *testdb.DB
	clock    *fakeclock.Clock
	srv      *httptest.Server
	logs     *lockedBuffer
	people   map[string]*models.Person
	payments *models.Schedule
	search   *models.Schedule
	override *models.ScheduleOverride
}

func newOnCallEnv(t *testing.T, dialect string) *onCallEnv {
	t.Helper()
	env := &onCallEnv{t: t, ctx: context.Background(), clock: fakeclock.New(onCallStart), logs: &lockedBuffer{}, people: map[string]*models.Person{}}
	env.db = testdb.New(t, dialect, env.clock)
	s, by := env.db.Store, models.Actor{Name: "test"}
	now := env.clock.Now()
	for _, name := range []string{"alice", "bob", "carol", "dave"} {
		p := &models.Person{ID: uuid.NewString(), Name: name, Active: true, CreatedAt: now, UpdatedAt: now}
		if name == "alice" {
			slack := "U0ALICE"
			p.FullName, p.SlackUserID = alicesFullName, &slack
		}
		check(t, env.db.Gorm.Create(p).Error)
		env.people[name] = p
	}
	team := func(name string) *models.Team {
		tm := &models.Team{ID: uuid.NewString(), Name: name, CreatedAt: now, UpdatedAt: now}
		check(t, env.db.Gorm.Create(tm).Error)
		return tm
	}
	payments, search, ops := team("payments"), team("search"), team("ops")
	check(t, env.db.Gorm.Create(&models.OncallAssignment{TeamID: ops.ID, Role: models.RotationPrimary, PersonID: env.person("alice")}).Error)

	env.payments = &models.Schedule{TeamID: payments.ID, Name: "Payments", TimeZone: "Europe/London"}
	check(t, s.CreateSchedule(env.ctx, by, env.payments))
	weekend := []models.RotationWindow{{Weekdays: []string{"sat", "sun"}, Start: "10:00", End: "12:00"}}
	business := []models.RotationWindow{{Weekdays: []string{"mon", "tue", "wed", "thu", "fri"}, Start: "09:00", End: "17:00"}}
	for _, r := range []*models.Rotation{
		{Name: "daily", Role: models.RotationPrimary, ShiftKind: models.ShiftDaily, Members: []string{env.person("alice"), env.person("bob")}},
		{Name: "weekend", Role: models.RotationPrimary, ShiftKind: models.ShiftWeekly, HandoffWeekday: "mon", Windows: weekend, Members: []string{env.person("carol")}},
		{Name: "business", Role: models.RotationSecondary, ShiftKind: models.ShiftWeekly, HandoffWeekday: "mon", Windows: business, Members: []string{env.person("carol")}},
	} {
		r.ScheduleID, r.HandoffTime, r.StartDate = env.payments.ID, "09:00", "2025-03-01"
		check(t, s.CreateRotation(env.ctx, by, r))
	}
	alice := env.person("alice")
	env.override = &models.ScheduleOverride{ScheduleID: env.payments.ID, Role: models.RotationPrimary, PersonID: env.person("dave"),
		ReplacedPersonID: &alice, StartsAt: utc("2025-03-17T09:00:00Z"), EndsAt: utc("2025-03-17T21:00:00Z"), Reason: "dentist"}
	check(t, s.CreateOverride(env.ctx, by, env.override))

	env.search = &models.Schedule{TeamID: search.ID, Name: "Search", TimeZone: "UTC"}
	check(t, s.CreateSchedule(env.ctx, by, env.search))
	check(t, s.CreateRotation(env.ctx, by, &models.Rotation{ScheduleID: env.search.ID, Name: "weekly", Role: models.RotationPrimary,
		ShiftKind: models.ShiftWeekly, HandoffTime: "10:00", HandoffWeekday: "mon", StartDate: "2025-03-03", Members: []string{alice}}))

	log := slog.New(testlog.Wrap(t, slog.NewTextHandler(env.logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	e := web.New(web.Options{Log: log, Clock: env.clock, AdminAPIKey: onCallAdminKey, OnCall: notifications.OnCallViews{Store: s}})
	env.srv = httptest.NewServer(e)
	t.Cleanup(env.srv.Close)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", env.logs.String())
		}
	})
	return env
}

func (env *onCallEnv) person(name string) string { return env.people[name].ID }

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// call sends a request with key as the bearer token ("" for none).
func (env *onCallEnv) call(method, path, key string) apiResponse {
	env.t.Helper()
	req, err := http.NewRequest(method, env.srv.URL+path, nil)
	check(env.t, err)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := env.srv.Client().Do(req)
	check(env.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	check(env.t, err)
	return apiResponse{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// admin sends a request with the admin key and decodes a JSON answer
// into out (when not nil and the answer is JSON).
func (env *onCallEnv) admin(method, path string, out any) apiResponse {
	env.t.Helper()
	r := env.call(method, path, onCallAdminKey)
	if out != nil && r.Status < 300 {
		if err := json.Unmarshal(r.Body, out); err != nil {
			env.t.Fatalf("%s %s: %d %s: %v", method, path, r.Status, r.Body, err)
		}
	}
	return r
}

// wantAPIError checks an error answer: its status and the field it names.
func wantAPIError(t *testing.T, what string, r apiResponse, status int, field string) {
	t.Helper()
	var e web.APIError
	if r.Status != status || json.Unmarshal(r.Body, &e) != nil || e.Error == "" || e.Field != field {
		t.Errorf("%s: %d %s, want %d naming %q", what, r.Status, r.Body, status, field)
	}
}

// lockedBuffer is a log sink the server writes from its goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
