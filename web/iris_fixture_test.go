package web_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/heraldhq/herald/handlers"
	"github.com/heraldhq/herald/internal/fakeclock"
	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/internal/testlog"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
	"github.com/heraldhq/herald/web"
)

// irisT0 is 1 772 366 402 s: mid 5-second window, late in a 30-second one.
var irisT0 = time.Date(2026, 3, 1, 12, 0, 2, 0, time.UTC)

// irisSink records what vendors were asked to send, in every mode.
type irisSink struct {
	mu   sync.Mutex
	sent []notifications.Message
}

func (s *irisSink) Name() string { return "sink" }
func (s *irisSink) Modes() []notifications.Mode {
	return []notifications.Mode{notifications.ModeSlack, notifications.ModeEmail, notifications.ModeSMS, notifications.ModeCall}
}
func (s *irisSink) Send(_ context.Context, m notifications.Message) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, m)
	return fmt.Sprint("v", len(s.sent)), nil
}

func (s *irisSink) messages() []notifications.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]notifications.Message(nil), s.sent...)
}

// irisFixture is a real Herald HTTP server with the Iris API on a fresh
// database: plans "db" (pages ann, template with .Context) and "web"
// (pages bob), people ann, bob and inactive cat, team dba (bob), and the
// application Autoalerts with a key.
type irisFixture struct {
	t      *testing.T
	ctx    context.Context
	db     *testdb.DB
	store  *models.Store
	clock  *fakeclock.Clock
	engine *notifications.Engine
	sink   *irisSink
	srv    *httptest.Server
	app    *models.Integration
	key    string
	plans  map[string]*models.Plan
}

func newIrisFixture(t *testing.T, dialect string) *irisFixture {
	clock := fakeclock.New(irisT0)
	db := testdb.New(t, dialect, clock)
	f := &irisFixture{t: t, ctx: context.Background(), db: db, store: db.Store, clock: clock, sink: &irisSink{}, plans: map[string]*models.Plan{}}
	vs := notifications.NewVendors()
	check(t, vs.Register(f.sink))
	log := testlog.Logger(t)
	f.engine = notifications.NewEngine(db.Store, vs, notifications.DirectoryRoles{Dir: db.Store}, nil, clock, log, notifications.EngineOptions{Owner: "test"})
	deps := handlers.Deps{Store: db.Store, Clock: clock, Log: log, Intake: db.Store, Pager: f.engine,
		Settings: handlers.Settings{BotName: "incident", IncidentChannelName: "incidents"}}
	app := web.New(web.Options{Clock: clock, Log: log, Iris: &web.IrisOptions{Store: db.Store, Intake: handlers.NewIntake(deps), Pager: f.engine}})
	f.srv = httptest.NewServer(app)
	t.Cleanup(f.srv.Close)

	ann := f.person("ann", true)
	bob := f.person("bob", true)
	f.person("cat", false)
	now := clock.Now()
	team := &models.Team{ID: uuid.NewString(), Name: "dba", CreatedAt: now, UpdatedAt: now}
	f.create(team)
	f.create(&models.TeamMember{TeamID: team.ID, PersonID: bob.ID})
	_ = ann
	f.create(&models.MessageTemplate{Name: "iris", UpdatedAt: now, Definition: `{"slack":{"subject":"[{{.Priority}}] {{.Title}}","body":"{{.Context.notes}} on {{.Context.host}} (code {{.ClaimCode}})"},` +
		`"email":{"subject":"{{.Application}}: {{.Context.host}}","body":"mail {{.Context.notes}}"}}`})
	dbStep := models.PlanNotification{Role: notifications.RoleUser, Target: "ann", Priority: "low", WaitMinutes: 10, Repeat: 0, Template: "iris"}
	f.plan("db", models.PlanStep{Notifications: []models.PlanNotification{dbStep}})
	f.plan("web", models.PlanStep{Notifications: []models.PlanNotification{{Role: notifications.RoleUser, Target: "bob", Priority: "low", WaitMinutes: 10}}})
	f.app, f.key = f.integration("Autoalerts", 0)
	return f
}

func (f *irisFixture) create(v any) {
	f.t.Helper()
	check(f.t, f.db.Gorm.Create(v).Error)
}

func (f *irisFixture) person(name string, active bool) *models.Person {
	now := f.clock.Now()
	slackID := "U" + strings.ToUpper(name)
	p := &models.Person{ID: uuid.NewString(), Name: name, FullName: name, SlackUserID: &slackID, Active: true, CreatedAt: now, UpdatedAt: now}
	f.create(p)
	if !active {
		check(f.t, f.db.Gorm.Model(p).Update("active", false).Error)
	}
	return p
}

func (f *irisFixture) plan(name string, steps ...models.PlanStep) {
	now := f.clock.Now()
	p := &models.Plan{ID: uuid.NewString(), Name: name, ActiveVersion: 1, CreatedAt: now, UpdatedAt: now}
	f.create(p)
	raw, err := json.Marshal(models.PlanDefinition{Steps: steps})
	check(f.t, err)
	f.create(&models.PlanVersion{PlanID: p.ID, Version: 1, Definition: string(raw), CreatedBy: "test", CreatedAt: now})
	f.plans[name] = p
}

// integration creates an application (a Herald integration) and mints
// its key.
func (f *irisFixture) integration(name string, quota int) (*models.Integration, string) {
	now := f.clock.Now()
	in := &models.Integration{ID: models.NewIntegrationID(), Name: name, QuotaPerMinute: quota, CreatedAt: now, UpdatedAt: now}
	f.create(in)
	key, err := f.store.MintIntegrationKey(f.ctx, in.ID, false)
	check(f.t, err)
	return in, key
}

// scope limits an integration to a new service escalating with plan.
func (f *irisFixture) scope(in *models.Integration, service, plan string) {
	now := f.clock.Now()
	svc := &models.Service{ID: uuid.NewString(), Name: service, PlanID: &f.plans[plan].ID, DefaultSeverity: models.SEV3, CreatedAt: now, UpdatedAt: now}
	f.create(svc)
	f.create(&models.IntegrationService{IntegrationID: in.ID, ServiceID: svc.ID})
}

// irisSign is how an Iris client signs, written out independently of the
// server's code: urlsafe_b64encode(HMAC-SHA512(key, "%s %s %s %s" %
// (window, method, path, body))).
func irisSign(app, key string, window int64, method, pathQuery string, body []byte) string {
	m := hmac.New(sha512.New, []byte(key))
	m.Write([]byte(fmt.Sprintf("%d %s %s %s", window, method, pathQuery, body)))
	return "hmac " + app + ":" + base64.URLEncoding.EncodeToString(m.Sum(nil))
}

// window5 is the clock's current 5-second window.
func (f *irisFixture) window5() int64 { return f.clock.Now().Unix() / 5 }

type irisResp struct {
	status int
	header http.Header
	body   []byte
}

func (r irisResp) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response %s is not a JSON object: %v", r.body, err)
	}
	return m
}

// raw sends a request with the given Authorization header.
func (f *irisFixture) raw(method, pathQuery, auth string, body []byte) irisResp {
	f.t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+pathQuery, bytes.NewReader(body))
	check(f.t, err)
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := f.srv.Client().Do(req)
	check(f.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	check(f.t, err)
	return irisResp{status: resp.StatusCode, header: resp.Header, body: b}
}

// do sends a request signed by Autoalerts in the current window.
func (f *irisFixture) do(method, pathQuery, body string) irisResp {
	f.t.Helper()
	return f.raw(method, pathQuery, irisSign(f.app.Name, f.key, f.window5(), method, pathQuery, []byte(body)), []byte(body))
}

// raise creates an incident and returns its id (Herald's number).
func (f *irisFixture) raise(plan, context string) int64 {
	f.t.Helper()
	r := f.do("POST", "/v0/incidents", `{"plan":"`+plan+`","context":`+context+`}`)
	if r.status != http.StatusCreated {
		f.t.Fatalf("create: %d %s", r.status, r.body)
	}
	var id int64
	check(f.t, json.Unmarshal(r.body, &id))
	return id
}

func (f *irisFixture) incident(number int64) *models.Incident {
	f.t.Helper()
	inc, err := f.store.IncidentByNumber(f.ctx, number)
	check(f.t, err)
	return inc
}

func (f *irisFixture) count(table string) int64 {
	f.t.Helper()
	var n int64
	check(f.t, f.db.Gorm.Table(table).Count(&n).Error)
	return n
}

// tick runs the engine once: due checks planned, due pages sent.
func (f *irisFixture) tick() {
	f.t.Helper()
	_, err := f.engine.EscalateDue(f.ctx)
	check(f.t, err)
	_, err = f.engine.SendDue(f.ctx)
	check(f.t, err)
}

// wantError checks an error answer: status, and the field it names.
func wantError(t *testing.T, r irisResp, status int, field, contains string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d (%s), want %d", r.status, r.body, status)
	}
	var e web.APIError
	if err := json.Unmarshal(r.body, &e); err != nil || e.Error == "" {
		t.Fatalf("error body %s: %v", r.body, err)
	}
	if e.Field != field || !strings.Contains(e.Error, contains) {
		t.Fatalf("error %+v, want field %q and text containing %q", e, field, contains)
	}
}
