package notifications_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/heraldhq/herald/internal/fakeclock"
	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/internal/testlog"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
)

// t0 is when every fake clock starts.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// quiet is a logger that keeps nothing but the suite log file (testlog),
// so the secrets scan sees what the engine and vendors log.
func quiet(t testing.TB) *slog.Logger { return testlog.Logger(t) }

// sent is one message a fake vendor accepted (or refused).
type sent struct {
	Vendor string
	At     time.Time // the fake clock when the vendor was called
	Msg    notifications.Message
}

// fakeVendor is a recording test double for an outside delivery service.
type fakeVendor struct {
	name  string
	modes []notifications.Mode
	clock models.Clock

	mu    sync.Mutex
	fail  error         // every Send fails with it when set
	delay time.Duration // Send takes this long (real time; honours ctx)
	calls []sent        // every call, failed or not
	ok    []sent        // accepted ones
	seq   atomic.Int64
}

func newFakeVendor(name string, clock models.Clock, modes ...notifications.Mode) *fakeVendor {
	if len(modes) == 0 {
		modes = []notifications.Mode{notifications.ModeSlack, notifications.ModeEmail, notifications.ModeSMS, notifications.ModeCall}
	}
	return &fakeVendor{name: name, modes: modes, clock: clock}
}

func (v *fakeVendor) Name() string                { return v.name }
func (v *fakeVendor) Modes() []notifications.Mode { return v.modes }

func (v *fakeVendor) Send(ctx context.Context, m notifications.Message) (string, error) {
	v.mu.Lock()
	fail, delay := v.fail, v.delay
	s := sent{Vendor: v.name, At: v.clock.Now(), Msg: m}
	v.calls = append(v.calls, s)
	v.mu.Unlock()
	if delay > 0 {
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-t.C:
		}
	}
	if fail != nil {
		return "", fail
	}
	v.mu.Lock()
	v.ok = append(v.ok, s)
	v.mu.Unlock()
	return fmt.Sprintf("%s-%d", v.name, v.seq.Add(1)), nil
}

func (v *fakeVendor) setFail(err error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.fail = err
}

func (v *fakeVendor) setDelay(d time.Duration) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.delay = d
}

func (v *fakeVendor) accepted() []sent {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]sent(nil), v.ok...)
}

func (v *fakeVendor) attempts() []sent {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]sent(nil), v.calls...)
}

func (v *fakeVendor) reset() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.calls, v.ok = nil, nil
}

// alert is one Alerter call.
type alert struct {
	IncidentID int64
	Text       string
}

type fakeAlerter struct {
	mu     sync.Mutex
	alerts []alert
}

func (a *fakeAlerter) Alert(_ context.Context, incidentID int64, text string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.alerts = append(a.alerts, alert{incidentID, text})
}

func (a *fakeAlerter) all() []alert {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]alert(nil), a.alerts...)
}

func (a *fakeAlerter) count(substr string) int {
	n := 0
	for _, x := range a.all() {
		if strings.Contains(x.Text, substr) {
			n++
		}
	}
	return n
}

// fixture is one database with an engine, a recording vendor for every
// mode and a recording alerter.
type fixture struct {
	t      testing.TB
	ctx    context.Context
	db     *testdb.DB
	store  *models.Store
	clock  *fakeclock.Clock
	vendor *fakeVendor
	alerts *fakeAlerter
	engine *notifications.Engine
}

func newFixture(t testing.TB, dialect string) *fixture {
	t.Helper()
	clock := fakeclock.New(t0)
	db := testdb.New(t, dialect, clock)
	f := &fixture{t: t, ctx: context.Background(), db: db, store: db.Store, clock: clock, alerts: &fakeAlerter{}}
	f.vendor = newFakeVendor("fake", clock)
	vs := notifications.NewVendors()
	if err := vs.Register(f.vendor); err != nil {
		t.Fatal(err)
	}
	f.engine = f.newEngine("engine-a", vs, notifications.EngineOptions{})
	return f
}

func (f *fixture) newEngine(owner string, vs *notifications.Vendors, o notifications.EngineOptions) *notifications.Engine {
	return f.newEngineOn(f.store, owner, vs, o)
}

func (f *fixture) newEngineOn(store *models.Store, owner string, vs *notifications.Vendors, o notifications.EngineOptions) *notifications.Engine {
	o.Owner = owner
	return notifications.NewEngine(store, vs, notifications.DirectoryRoles{Dir: store}, f.alerts, f.clock, quiet(f.t), o)
}

func (f *fixture) create(v any) {
	f.t.Helper()
	if err := f.db.Gorm.Create(v).Error; err != nil {
		f.t.Fatalf("creating %T: %v", v, err)
	}
}

type personOpt func(*models.Person)

func noSlack(p *models.Person)  { p.SlackUserID = nil }
func inactive(p *models.Person) { p.Active = false }

// person adds someone whose Slack user id is "U_" + upper-cased name.
func (f *fixture) person(name string, opts ...personOpt) *models.Person {
	f.t.Helper()
	slack := "U_" + strings.ToUpper(name)
	now := f.clock.Now()
	p := &models.Person{ID: uuid.NewString(), Name: name, FullName: strings.ToUpper(name[:1]) + name[1:], SlackUserID: &slack,
		Active: true, CreatedAt: now, UpdatedAt: now}
	for _, o := range opts {
		o(p)
	}
	f.create(p)
	return p
}

func (f *fixture) contact(p *models.Person, mode notifications.Mode, dest string, verified bool) *models.ContactMethod {
	f.t.Helper()
	now := f.clock.Now()
	cm := &models.ContactMethod{ID: uuid.Must(uuid.NewV7()).String(), PersonID: p.ID, Mode: string(mode), Destination: models.Secret(dest), CreatedAt: now}
	if verified {
		cm.VerifiedAt = &now
	}
	f.create(cm)
	return cm
}

func (f *fixture) team(name string, manager *models.Person, members ...*models.Person) *models.Team {
	f.t.Helper()
	now := f.clock.Now()
	tm := &models.Team{ID: uuid.NewString(), Name: name, CreatedAt: now, UpdatedAt: now}
	if manager != nil {
		tm.ManagerID = &manager.ID
	}
	f.create(tm)
	for _, m := range members {
		f.create(&models.TeamMember{TeamID: tm.ID, PersonID: m.ID})
	}
	return tm
}

func (f *fixture) oncall(tm *models.Team, role string, p *models.Person) {
	f.t.Helper()
	f.create(&models.OncallAssignment{TeamID: tm.ID, Role: role, PersonID: p.ID})
}

func (f *fixture) prefer(p *models.Person, priority, modes string) {
	f.t.Helper()
	f.create(&models.PriorityMode{PersonID: p.ID, Priority: priority, Modes: modes})
}

// plan creates a plan with def as its active version 1.
func (f *fixture) plan(name string, def models.PlanDefinition) *models.PlanVersion {
	f.t.Helper()
	now := f.clock.Now()
	p := &models.Plan{ID: uuid.NewString(), Name: name, ActiveVersion: 0, CreatedAt: now, UpdatedAt: now}
	f.create(p)
	return f.publish(name, def)
}

// publish adds the next version of a plan and makes it active.
func (f *fixture) publish(name string, def models.PlanDefinition) *models.PlanVersion {
	f.t.Helper()
	var p models.Plan
	if err := f.db.Gorm.Where("name = ?", name).Take(&p).Error; err != nil {
		f.t.Fatal(err)
	}
	raw, err := json.Marshal(def)
	if err != nil {
		f.t.Fatal(err)
	}
	pv := &models.PlanVersion{PlanID: p.ID, Version: p.ActiveVersion + 1, Definition: string(raw), CreatedBy: "test", CreatedAt: f.clock.Now()}
	f.create(pv)
	if err := f.db.Gorm.Model(&models.Plan{}).Where("id = ?", p.ID).Update("active_version", pv.Version).Error; err != nil {
		f.t.Fatal(err)
	}
	return pv
}

func (f *fixture) incident(title string) *models.Incident {
	f.t.Helper()
	inc, _, err := f.store.CreateIncident(f.ctx, models.NewIncident{Title: title, Severity: models.SEV2, Summary: "summary of " + title})
	if err != nil {
		f.t.Fatal(err)
	}
	return inc
}

// escalate declares an incident and starts its escalation with plan.
func (f *fixture) escalate(title, plan string) *models.Incident {
	f.t.Helper()
	inc := f.incident(title)
	if err := f.engine.Escalate(f.ctx, inc.ID, plan); err != nil {
		f.t.Fatalf("escalating %q with %q: %v", title, plan, err)
	}
	return inc
}

// tick runs one escalation pass and one send pass of engine e.
func (f *fixture) tickWith(e *notifications.Engine) {
	f.t.Helper()
	if _, err := e.EscalateDue(f.ctx); err != nil {
		f.t.Fatalf("EscalateDue: %v", err)
	}
	if _, err := e.SendDue(f.ctx); err != nil {
		f.t.Fatalf("SendDue: %v", err)
	}
}

func (f *fixture) tick() { f.t.Helper(); f.tickWith(f.engine) }

// runUntil ticks once a minute (fake time) from now up to t0+until.
func (f *fixture) runUntil(until time.Duration) {
	f.t.Helper()
	for {
		f.tick()
		if !f.clock.Now().Before(t0.Add(until)) {
			return
		}
		f.clock.Advance(time.Minute)
	}
}

func (f *fixture) escalation(inc *models.Incident) *models.Escalation {
	f.t.Helper()
	e, err := f.store.EscalationOf(f.ctx, inc.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return e
}

func (f *fixture) messages(inc *models.Incident) []models.Message {
	f.t.Helper()
	ms, err := f.store.MessagesOf(f.ctx, inc.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return ms
}

func (f *fixture) changes(m models.Message) []models.MessageChange {
	f.t.Helper()
	cs, err := f.store.MessageChanges(f.ctx, m.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return cs
}

// pages lists the accepted messages of an incident as "dest@minute",
// sorted, out-of-band ones left out.
func pages(ss []sent, incidentID int64) []string {
	var out []string
	for _, s := range ss {
		if s.Msg.IncidentID != incidentID || !strings.HasPrefix(s.Msg.Subject, "[") {
			continue
		}
		out = append(out, fmt.Sprintf("%s@%d", s.Msg.Destination, int(s.At.Sub(t0)/time.Minute)))
	}
	sort.Strings(out)
	return out
}

func user(name, priority string, wait, repeat int) models.PlanNotification {
	return models.PlanNotification{Role: notifications.RoleUser, Target: name, Priority: priority, WaitMinutes: wait, Repeat: repeat}
}

func steps(ss ...[]models.PlanNotification) models.PlanDefinition {
	var d models.PlanDefinition
	for _, s := range ss {
		d.Steps = append(d.Steps, models.PlanStep{Notifications: s})
	}
	return d
}

func step(ns ...models.PlanNotification) []models.PlanNotification { return ns }

func sortedEqual(a, b []string) bool {
	a, b = append([]string(nil), a...), append([]string(nil), b...)
	sort.Strings(a)
	sort.Strings(b)
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func forEachDialect(t *testing.T, fn func(t *testing.T, f *fixture)) {
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			fn(t, newFixture(t, d))
		})
	}
}
