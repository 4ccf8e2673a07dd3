package models_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/heraldhq/herald/internal/fakeclock"
	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/models"
)

// escFixture is a database with one person, one plan version and helpers
// to start escalations and plan messages directly through the store.
type escFixture struct {
	t     *testing.T
	ctx   context.Context
	db    *testdb.DB
	s     *models.Store
	clock *fakeclock.Clock
	alice *models.Person
	pv    *models.PlanVersion
}

func newEscFixture(t *testing.T, db *testdb.DB, clock *fakeclock.Clock) *escFixture {
	t.Helper()
	f := &escFixture{t: t, ctx: context.Background(), db: db, s: db.Store, clock: clock}
	f.alice = f.person("alice", true)
	now := clock.Now()
	plan := &models.Plan{ID: uuid.NewString(), Name: "p", ActiveVersion: 1, CreatedAt: now, UpdatedAt: now}
	f.create(plan)
	f.pv = &models.PlanVersion{PlanID: plan.ID, Version: 1, Definition: `{"steps":[]}`, CreatedAt: now}
	f.create(f.pv)
	return f
}

func (f *escFixture) create(v any) {
	f.t.Helper()
	if err := f.db.Gorm.Create(v).Error; err != nil {
		f.t.Fatalf("creating %T: %v", v, err)
	}
}

func (f *escFixture) person(name string, active bool) *models.Person {
	f.t.Helper()
	now := f.clock.Now()
	p := &models.Person{ID: uuid.NewString(), Name: name, Active: active, CreatedAt: now, UpdatedAt: now}
	f.create(p)
	return p
}

func (f *escFixture) start() (*models.Incident, *models.Escalation) {
	f.t.Helper()
	inc, _, err := f.s.CreateIncident(f.ctx, models.NewIncident{Title: "x"})
	if err != nil {
		f.t.Fatal(err)
	}
	e, err := f.s.StartEscalation(f.ctx, inc.ID, f.pv.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return inc, e
}

func (f *escFixture) msg(inc *models.Incident, e *models.Escalation, step, n, k int) models.Message {
	now := f.clock.Now()
	return models.Message{IncidentID: &inc.ID, EscalationID: &e.ID, PlanVersionID: &f.pv.ID, Step: step, Notification: n, SendIndex: k,
		PersonID: &f.alice.ID, Mode: "slack", Priority: "low", Status: models.MessageQueued, NotBefore: now, CreatedAt: now}
}

// plan leases the due escalations as owner and stores a check of e
// (which must be due) planning msgs; the others stay leased.
func (f *escFixture) plan(owner string, e *models.Escalation, u models.EscalationUpdate, msgs ...models.Message) int {
	f.t.Helper()
	due, err := f.s.LeaseDueEscalations(f.ctx, owner, 100, time.Minute)
	if err != nil {
		f.t.Fatal(err)
	}
	for i := range due {
		if due[i].ID == e.ID {
			n, err := f.s.FinishEscalationCheck(f.ctx, &due[i], u, msgs)
			if err != nil {
				f.t.Fatal(err)
			}
			return n
		}
	}
	f.t.Fatalf("escalation %d not due", e.ID)
	return 0
}

func (f *escFixture) escalation(inc *models.Incident) *models.Escalation {
	f.t.Helper()
	e, err := f.s.EscalationOf(f.ctx, inc.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return e
}

func (f *escFixture) messages(inc *models.Incident) []models.Message {
	f.t.Helper()
	ms, err := f.s.MessagesOf(f.ctx, inc.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return ms
}

func (f *escFixture) changes(id int64) []models.MessageChange {
	f.t.Helper()
	cs, err := f.s.MessageChanges(f.ctx, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return cs
}

func forEachEscDB(t *testing.T, fn func(t *testing.T, f *escFixture)) {
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			clock := newClock()
			fn(t, newEscFixture(t, testdb.New(t, d, clock), clock))
		})
	}
}

func TestStartEscalationOnce(t *testing.T) {
	t.Parallel()
	forEachEscDB(t, func(t *testing.T, f *escFixture) {
		inc, e := f.start()
		if e.ID == 0 || e.State != models.EscalationActive || e.Step != 0 || e.NextCheckAt == nil || !e.NextCheckAt.Equal(t0) {
			t.Fatalf("started %+v", e)
		}
		if _, err := f.s.StartEscalation(f.ctx, inc.ID, f.pv.ID); !errors.Is(err, models.ErrEscalationExists) {
			t.Fatalf("second start: %v", err)
		}
		if got := f.escalation(inc); got.ID != e.ID || got.PlanVersionID != f.pv.ID {
			t.Fatalf("EscalationOf = %+v", got)
		}
	})
}

func TestLeaseDueEscalations(t *testing.T) {
	t.Parallel()
	forEachEscDB(t, func(t *testing.T, f *escFixture) {
		_, b := f.start()
		later := t0.Add(5 * time.Minute)
		f.plan("x", b, models.EscalationUpdate{StepStartedAt: t0, NextCheckAt: &later, State: models.EscalationActive})
		incA, a := f.start()

		due, err := f.s.LeaseDueEscalations(f.ctx, "one", 10, time.Minute)
		if err != nil || len(due) != 1 || due[0].ID != a.ID || *due[0].LeaseOwner != "one" {
			t.Fatalf("lease = %+v, %v; want only the due one", due, err)
		}
		if again, _ := f.s.LeaseDueEscalations(f.ctx, "two", 10, time.Minute); len(again) != 0 {
			t.Fatalf("a leased escalation was leased again: %+v", again)
		}
		// The lease runs out: another engine takes over, and the first
		// one's late result is refused.
		f.clock.Advance(61 * time.Second)
		taken, _ := f.s.LeaseDueEscalations(f.ctx, "two", 10, time.Minute)
		if len(taken) != 1 || taken[0].ID != a.ID {
			t.Fatalf("takeover = %+v", taken)
		}
		n, err := f.s.FinishEscalationCheck(f.ctx, &due[0], models.EscalationUpdate{Step: 1, StepStartedAt: t0, State: models.EscalationActive},
			[]models.Message{f.msg(incA, a, 0, 0, 0)})
		if !errors.Is(err, models.ErrNoChange) || n != 0 || len(f.messages(incA)) != 0 {
			t.Fatalf("late check: %d, %v", n, err)
		}
		if _, err := f.s.FinishEscalationCheck(f.ctx, &taken[0], models.EscalationUpdate{Step: 1, StepStartedAt: t0, State: models.EscalationActive}, nil); err != nil {
			t.Fatal(err)
		}
		if e := f.escalation(incA); e.Step != 1 || e.LeaseOwner != nil || e.LeaseUntil != nil || e.NextCheckAt != nil {
			t.Fatalf("after check: %+v", e)
		}

		// Claimed escalations are never due.
		f.clock.Set(t0.Add(10 * time.Minute))
		incC, _ := f.start()
		if _, err := f.s.StopEscalation(f.ctx, incC.ID, models.EscalationClaimed, "bob"); err != nil {
			t.Fatal(err)
		}
		due, _ = f.s.LeaseDueEscalations(f.ctx, "three", 10, time.Minute)
		if len(due) != 1 || due[0].ID != b.ID {
			t.Fatalf("due at 10 min = %+v, want only b", due)
		}
	})
}

func TestFinishEscalationCheckPlansOnce(t *testing.T) {
	t.Parallel()
	forEachEscDB(t, func(t *testing.T, f *escFixture) {
		inc, e := f.start()
		now := f.clock.Now()
		u := models.EscalationUpdate{StepStartedAt: now, NextCheckAt: &now, State: models.EscalationActive}
		first := []models.Message{f.msg(inc, e, 0, 0, 0), f.msg(inc, e, 0, 1, 0), f.msg(inc, e, 0, 1, 1)}
		if n := f.plan("a", e, u, first...); n != 3 {
			t.Fatalf("planned %d, want 3", n)
		}
		// A second engine plans the same sends (and one more): only the new
		// one is stored.
		again := append(append([]models.Message(nil), first...), f.msg(inc, e, 0, 0, 1))
		if n := f.plan("b", e, u, again...); n != 1 {
			t.Fatalf("planned %d on replay, want 1", n)
		}
		if n := len(f.messages(inc)); n != 4 {
			t.Fatalf("%d messages, want 4", n)
		}
		got, err := f.s.PlannedSends(f.ctx, e.ID, 0)
		if err != nil || len(got) != 2 || got[0] != 2 || got[1] != 2 {
			t.Fatalf("PlannedSends = %v, %v", got, err)
		}
		if got, _ := f.s.PlannedSends(f.ctx, e.ID, 1); len(got) != 0 {
			t.Fatalf("PlannedSends of step 2 = %v", got)
		}
	})
}

func TestLeaseQueuedMessages(t *testing.T) {
	t.Parallel()
	forEachEscDB(t, func(t *testing.T, f *escFixture) {
		inc, e := f.start()
		later := f.msg(inc, e, 0, 0, 1)
		later.NotBefore = t0.Add(time.Minute)
		now := f.clock.Now()
		f.plan("a", e, models.EscalationUpdate{StepStartedAt: now, NextCheckAt: &now, State: models.EscalationActive}, f.msg(inc, e, 0, 0, 0), later)
		note := models.Message{IncidentID: &inc.ID, PersonID: &f.alice.ID, Mode: "slack", Priority: "low", OutOfBand: true, Status: models.MessageQueued, NotBefore: t0.Add(-time.Hour), CreatedAt: now}
		if err := f.s.QueueMessages(f.ctx, []models.Message{note}); err != nil {
			t.Fatal(err)
		}
		got, err := f.s.LeaseQueuedMessages(f.ctx, "a", 10, 30*time.Second)
		if err != nil || len(got) != 2 {
			t.Fatalf("leased %+v, %v; want the due page and the note", got, err)
		}
		if got[0].OutOfBand || !got[1].OutOfBand {
			t.Errorf("pages go before out-of-band notes: %+v", got)
		}
		for _, m := range got {
			if m.Status != models.MessageSending || m.Attempts != 1 || *m.LeaseOwner != "a" || !m.LeaseUntil.Equal(t0.Add(30*time.Second)) {
				t.Errorf("leased %+v", m)
			}
		}
		if again, _ := f.s.LeaseQueuedMessages(f.ctx, "b", 10, 30*time.Second); len(again) != 0 {
			t.Fatalf("leased twice: %+v", again)
		}

		// The plan runs out: its last pages still go.
		f.clock.Advance(time.Minute)
		if _, err := f.s.FinishEscalationCheck(f.ctx, leaseOne(t, f), models.EscalationUpdate{Step: 1, StepStartedAt: t0, State: models.EscalationExhausted}, nil); err != nil {
			t.Fatal(err)
		}
		if got, _ := f.s.LeaseQueuedMessages(f.ctx, "b", 10, 30*time.Second); len(got) != 1 || got[0].SendIndex != 1 {
			t.Fatalf("messages of an exhausted escalation: %+v, want the page due at 1 min", got)
		}

		// A claimed escalation's queued pages are not sent.
		inc2, e2 := f.start()
		f.plan("a", e2, models.EscalationUpdate{StepStartedAt: f.clock.Now(), State: models.EscalationActive}, f.msg(inc2, e2, 0, 0, 0))
		if err := f.db.Gorm.Model(&models.Escalation{}).Where("id = ?", e2.ID).Update("state", models.EscalationClaimed).Error; err != nil {
			t.Fatal(err)
		}
		if got, _ := f.s.LeaseQueuedMessages(f.ctx, "b", 10, 30*time.Second); len(got) != 0 {
			t.Fatalf("leased a claimed escalation's page: %+v", got)
		}
	})
}

func leaseOne(t *testing.T, f *escFixture) *models.Escalation {
	t.Helper()
	due, err := f.s.LeaseDueEscalations(f.ctx, "x", 1, time.Minute)
	if err != nil || len(due) != 1 {
		t.Fatalf("lease: %+v %v", due, err)
	}
	return &due[0]
}

func TestStopAndResumeEscalation(t *testing.T) {
	t.Parallel()
	forEachEscDB(t, func(t *testing.T, f *escFixture) {
		inc, e := f.start()
		next := t0.Add(3 * time.Minute)
		f.plan("a", e, models.EscalationUpdate{Step: 1, StepStartedAt: t0.Add(-2 * time.Minute), NextCheckAt: &next, State: models.EscalationActive},
			f.msg(inc, e, 1, 0, 0), f.msg(inc, e, 1, 0, 1))
		sent, err := f.s.LeaseQueuedMessages(f.ctx, "a", 1, 30*time.Second)
		if err != nil || len(sent) != 1 {
			t.Fatal(err)
		}
		if ok, err := f.s.FinishMessage(f.ctx, &sent[0], models.MessageOutcome{Status: models.MessageSent, Vendor: "v", Detail: "accepted"}); !ok || err != nil {
			t.Fatalf("finish: %v %v", ok, err)
		}

		f.clock.Set(t0.Add(time.Minute)) // claimed 3 minutes into step 2
		before, err := f.s.StopEscalation(f.ctx, inc.ID, models.EscalationClaimed, "bob")
		if err != nil || before.State != models.EscalationActive {
			t.Fatalf("stop: %+v %v", before, err)
		}
		if _, err := f.s.StopEscalation(f.ctx, inc.ID, models.EscalationClaimed, "carol"); !errors.Is(err, models.ErrNoChange) {
			t.Fatalf("second claim: %v", err)
		}
		ms := f.messages(inc)
		if ms[0].Status != models.MessageSent || ms[1].Status != models.MessageSuppressed {
			t.Fatalf("statuses %s %s", ms[0].Status, ms[1].Status)
		}
		if cs := f.changes(ms[1].ID); len(cs) != 1 || cs[0].ToStatus != models.MessageSuppressed || cs[0].Detail != "escalation claimed by bob" {
			t.Fatalf("suppressed change log %+v", cs)
		}
		c := f.escalation(inc)
		if c.State != models.EscalationClaimed || c.ClaimedBy != "bob" || !c.ClaimedAt.Equal(t0.Add(time.Minute)) || c.NextCheckAt != nil {
			t.Fatalf("claimed: %+v", c)
		}

		f.clock.Set(t0.Add(21 * time.Minute)) // unclaimed 20 minutes later
		if err := f.s.ResumeEscalation(f.ctx, inc.ID); err != nil {
			t.Fatal(err)
		}
		r := f.escalation(inc)
		if r.State != models.EscalationActive || r.Step != 1 || r.ClaimedBy != "" || r.ClaimedAt != nil || r.LeaseOwner != nil {
			t.Fatalf("resumed: %+v", r)
		}
		if want := t0.Add(18 * time.Minute); !r.StepStartedAt.Equal(want) {
			t.Errorf("step started %v, want %v (the 20 claimed minutes do not count)", r.StepStartedAt, want)
		}
		if r.NextCheckAt == nil || !r.NextCheckAt.Equal(f.clock.Now()) {
			t.Errorf("next check %v, want now", r.NextCheckAt)
		}
		ms = f.messages(inc)
		if ms[1].Status != models.MessageQueued || !ms[1].NotBefore.Equal(f.clock.Now()) {
			t.Fatalf("suppressed page after unclaim: %+v", ms[1])
		}
		if cs := f.changes(ms[1].ID); len(cs) != 2 || cs[1].FromStatus != models.MessageSuppressed || cs[1].ToStatus != models.MessageQueued {
			t.Fatalf("change log %+v", cs)
		}
		if err := f.s.ResumeEscalation(f.ctx, inc.ID); !errors.Is(err, models.ErrNoChange) {
			t.Fatalf("resuming an active escalation: %v", err)
		}

		// Resolve works from active, claimed and exhausted; not twice.
		if _, err := f.s.StopEscalation(f.ctx, inc.ID, models.EscalationResolved, "dana"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.StopEscalation(f.ctx, inc.ID, models.EscalationResolved, "dana"); !errors.Is(err, models.ErrNoChange) {
			t.Fatalf("second resolve: %v", err)
		}
		if err := f.s.ResumeEscalation(f.ctx, inc.ID); !errors.Is(err, models.ErrNoChange) {
			t.Fatalf("resuming a resolved escalation: %v", err)
		}
		inc2, e2 := f.start()
		f.plan("a", e2, models.EscalationUpdate{Step: 3, StepStartedAt: t0, State: models.EscalationExhausted})
		if _, err := f.s.StopEscalation(f.ctx, inc2.ID, models.EscalationClaimed, "x"); !errors.Is(err, models.ErrNoChange) {
			t.Fatalf("claiming an exhausted escalation: %v", err)
		}
		if _, err := f.s.StopEscalation(f.ctx, inc2.ID, models.EscalationResolved, "x"); err != nil {
			t.Fatalf("resolving an exhausted escalation: %v", err)
		}
		if _, err := f.s.StopEscalation(f.ctx, 999999, models.EscalationClaimed, "x"); !models.IsNotFound(err) {
			t.Fatalf("stopping a missing escalation: %v", err)
		}
	})
}

// TestStopDropsCheckInProgress: a check leased before a claim cannot store
// its result, even after the escalation is unclaimed.
func TestStopDropsCheckInProgress(t *testing.T) {
	t.Parallel()
	forEachEscDB(t, func(t *testing.T, f *escFixture) {
		inc, e := f.start()
		stale := leaseOne(t, f)
		if _, err := f.s.StopEscalation(f.ctx, inc.ID, models.EscalationClaimed, "bob"); err != nil {
			t.Fatal(err)
		}
		if err := f.s.ResumeEscalation(f.ctx, inc.ID); err != nil {
			t.Fatal(err)
		}
		_, err := f.s.FinishEscalationCheck(f.ctx, stale, models.EscalationUpdate{Step: 5, StepStartedAt: t0, State: models.EscalationExhausted}, []models.Message{f.msg(inc, e, 0, 0, 0)})
		if !errors.Is(err, models.ErrNoChange) {
			t.Fatalf("stale check: %v", err)
		}
		if got := f.escalation(inc); got.State != models.EscalationActive || got.Step != 0 {
			t.Fatalf("stale check was stored: %+v", got)
		}
	})
}

func TestReclaimExpiredSendsStore(t *testing.T) {
	t.Parallel()
	forEachEscDB(t, func(t *testing.T, f *escFixture) {
		inc, e := f.start()
		f.plan("a", e, models.EscalationUpdate{StepStartedAt: t0, State: models.EscalationActive}, f.msg(inc, e, 0, 0, 0), f.msg(inc, e, 0, 0, 1))
		leased, err := f.s.LeaseQueuedMessages(f.ctx, "dead", 1, 30*time.Second)
		if err != nil || len(leased) != 1 {
			t.Fatal(err)
		}
		f.clock.Advance(10 * time.Second)
		if _, err := f.s.LeaseQueuedMessages(f.ctx, "alive", 1, 30*time.Second); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(25 * time.Second) // dead's lease expired, alive's did not
		n, err := f.s.ReclaimExpiredSends(f.ctx)
		if err != nil || n != 1 {
			t.Fatalf("reclaimed %d, %v; want 1", n, err)
		}
		ms := f.messages(inc)
		if ms[0].Status != models.MessageQueued || ms[0].LeaseOwner != nil || ms[1].Status != models.MessageSending || *ms[1].LeaseOwner != "alive" {
			t.Fatalf("after reclaim: %+v / %+v", ms[0], ms[1])
		}
		cs := f.changes(ms[0].ID)
		if len(cs) != 1 || cs[0].FromStatus != models.MessageSending || cs[0].ToStatus != models.MessageQueued || !bytes.Contains([]byte(cs[0].Detail), []byte("possibly a duplicate")) {
			t.Fatalf("change log %+v", cs)
		}
		if len(f.changes(ms[1].ID)) != 0 {
			t.Fatal("the live lease was logged as reclaimed")
		}
		// Leased again by someone alive: a second reclaim leaves it alone.
		if again, _ := f.s.LeaseQueuedMessages(f.ctx, "alive", 1, 30*time.Second); len(again) != 1 {
			t.Fatal("re-lease failed")
		}
		if n, _ := f.s.ReclaimExpiredSends(f.ctx); n != 0 {
			t.Fatalf("reclaimed %d live leases", n)
		}
		if ok, _ := f.s.FinishMessage(f.ctx, &leased[0], models.MessageOutcome{Status: models.MessageSent}); ok {
			t.Fatal("the dead owner's late outcome counted")
		}
	})
}

func TestFinishMessageRetry(t *testing.T) {
	t.Parallel()
	forEachEscDB(t, func(t *testing.T, f *escFixture) {
		inc, e := f.start()
		f.plan("a", e, models.EscalationUpdate{StepStartedAt: t0, State: models.EscalationActive}, f.msg(inc, e, 0, 0, 0))
		m, _ := f.s.LeaseQueuedMessages(f.ctx, "a", 1, 30*time.Second)
		retry := t0.Add(5 * time.Second)
		ok, err := f.s.FinishMessage(f.ctx, &m[0], models.MessageOutcome{Status: models.MessageQueued, RetryAt: &retry, Error: "boom", Detail: "will retry: boom"})
		if !ok || err != nil {
			t.Fatal(ok, err)
		}
		got := f.messages(inc)[0]
		if got.Status != models.MessageQueued || !got.NotBefore.Equal(retry) || got.Error != "boom" || got.LeaseOwner != nil || got.SentAt != nil {
			t.Fatalf("after retry: %+v", got)
		}
		if again, _ := f.s.LeaseQueuedMessages(f.ctx, "a", 1, 30*time.Second); len(again) != 0 {
			t.Fatal("leased before its retry time")
		}
		f.clock.Advance(5 * time.Second)
		m, _ = f.s.LeaseQueuedMessages(f.ctx, "a", 1, 30*time.Second)
		if len(m) != 1 || m[0].Attempts != 2 {
			t.Fatalf("retry lease: %+v", m)
		}
		if ok, _ := f.s.FinishMessage(f.ctx, &m[0], models.MessageOutcome{Status: models.MessageSent, Vendor: "v", VendorID: "42", Detail: "accepted by v"}); !ok {
			t.Fatal("not counted")
		}
		got = f.messages(inc)[0]
		if got.Status != models.MessageSent || got.SentAt == nil || got.Vendor != "v" || got.VendorID != "42" || got.Error != "" {
			t.Fatalf("after send: %+v", got)
		}
		if cs := f.changes(got.ID); len(cs) != 2 || cs[0].ToStatus != models.MessageQueued || cs[1].ToStatus != models.MessageSent {
			t.Fatalf("change log %+v", cs)
		}
	})
}

func TestDirectory(t *testing.T) {
	t.Parallel()
	forEachEscDB(t, func(t *testing.T, f *escFixture) {
		zoe, bob, gone := f.person("zoe", true), f.person("bob", true), f.person("gone", false)
		now := f.clock.Now()
		team := &models.Team{ID: uuid.NewString(), Name: "payments", ManagerID: &bob.ID, CreatedAt: now, UpdatedAt: now}
		f.create(team)
		for _, p := range []*models.Person{zoe, bob, gone} {
			f.create(&models.TeamMember{TeamID: team.ID, PersonID: p.ID})
		}
		ids, err := f.s.TeamMemberIDs(f.ctx, team.ID)
		if err != nil || len(ids) != 2 || ids[0] != bob.ID || ids[1] != zoe.ID {
			t.Fatalf("members %v, %v; want bob, zoe (active, by name)", ids, err)
		}
		f.create(&models.OncallAssignment{TeamID: team.ID, Role: "primary", PersonID: zoe.ID})
		if id, err := f.s.OncallPersonID(f.ctx, team.ID, "primary"); err != nil || id != zoe.ID {
			t.Fatalf("primary %q %v", id, err)
		}
		if _, err := f.s.OncallPersonID(f.ctx, team.ID, "secondary"); !models.IsNotFound(err) {
			t.Fatalf("secondary: %v", err)
		}

		f.create(&models.PriorityMode{PersonID: zoe.ID, Priority: "high", Modes: "sms, call"})
		f.create(&models.PriorityMode{PersonID: zoe.ID, Priority: "high", Application: "grafana", Modes: "slack"})
		for _, tt := range []struct {
			priority, app string
			want          []string
		}{
			{"high", "", []string{"sms", "call"}},
			{"high", "grafana", []string{"slack"}},
			{"high", "other", []string{"sms", "call"}},
			{"low", "", nil},
		} {
			got, err := f.s.PriorityModes(f.ctx, zoe.ID, tt.priority, tt.app)
			if err != nil || len(got) != len(tt.want) || (len(got) > 0 && (got[0] != tt.want[0] || got[len(got)-1] != tt.want[len(tt.want)-1])) {
				t.Errorf("PriorityModes(%s, %q) = %v, %v; want %v", tt.priority, tt.app, got, err, tt.want)
			}
		}

		// Contact destinations are encrypted at rest and read back.
		cm := &models.ContactMethod{ID: uuid.Must(uuid.NewV7()).String(), PersonID: zoe.ID, Mode: "sms", Destination: models.Secret("+447700900123"), VerifiedAt: &now, CreatedAt: now}
		f.create(cm)
		if raw := rawColumn(t, f.db, "contact_methods", "destination", cm.ID); len(raw) == 0 || bytes.Contains(raw, []byte("+447700900123")) {
			t.Fatalf("destination at rest: %q", raw)
		}
		got, err := f.s.ContactMethods(f.ctx, zoe.ID, "sms")
		if err != nil || len(got) != 1 || got[0].Destination.Reveal() != "+447700900123" || got[0].VerifiedAt == nil {
			t.Fatalf("ContactMethods = %+v, %v", got, err)
		}
		if got, _ := f.s.ContactMethods(f.ctx, zoe.ID, "call"); len(got) != 0 {
			t.Fatalf("call contacts %+v", got)
		}

		// Plan versions: the active one, never an unpublished plan.
		v2 := &models.PlanVersion{PlanID: f.pv.PlanID, Version: 2, Definition: `{"steps":[{"notifications":[]}]}`, CreatedAt: now}
		f.create(v2)
		if pv, err := f.s.ActivePlanVersion(f.ctx, "p"); err != nil || pv.ID != f.pv.ID {
			t.Fatalf("active before publishing: %+v %v", pv, err)
		}
		if err := f.db.Gorm.Model(&models.Plan{}).Where("id = ?", f.pv.PlanID).Update("active_version", 2).Error; err != nil {
			t.Fatal(err)
		}
		if pv, err := f.s.ActivePlanVersion(f.ctx, "p"); err != nil || pv.ID != v2.ID {
			t.Fatalf("active after publishing: %+v %v", pv, err)
		}
		if pv, err := f.s.PlanVersionByID(f.ctx, f.pv.ID); err != nil || pv.Version != 1 {
			t.Fatalf("old version: %+v %v", pv, err)
		}
		draft := &models.Plan{ID: uuid.NewString(), Name: "draft", CreatedAt: now, UpdatedAt: now}
		f.create(draft)
		if _, err := f.s.ActivePlanVersion(f.ctx, "draft"); !models.IsNotFound(err) {
			t.Fatalf("unpublished plan: %v", err)
		}
	})
}

func TestIncidentsByClaimCode(t *testing.T) {
	t.Parallel()
	forEachEscDB(t, func(t *testing.T, f *escFixture) {
		inc, e := f.start()
		m := f.msg(inc, e, 0, 0, 0)
		m.ClaimCode = "123456"
		f.plan("a", e, models.EscalationUpdate{StepStartedAt: t0, State: models.EscalationActive}, m)
		if ids, err := f.s.IncidentsByClaimCode(f.ctx, "123456"); err != nil || len(ids) != 1 || ids[0] != inc.ID {
			t.Fatalf("claim code: %v %v", ids, err)
		}
		if _, err := f.s.IncidentsByClaimCode(f.ctx, "654321"); !models.IsNotFound(err) {
			t.Fatalf("unknown code: %v", err)
		}
	})
}

// TestRetryAfterClaimIsSuppressed: a page that failed while its escalation
// was being claimed is not retried; an unclaim queues it again.
func TestRetryAfterClaimIsSuppressed(t *testing.T) {
	t.Parallel()
	forEachEscDB(t, func(t *testing.T, f *escFixture) {
		inc, e := f.start()
		f.plan("a", e, models.EscalationUpdate{StepStartedAt: t0, State: models.EscalationActive}, f.msg(inc, e, 0, 0, 0))
		m, _ := f.s.LeaseQueuedMessages(f.ctx, "a", 1, 30*time.Second)
		if _, err := f.s.StopEscalation(f.ctx, inc.ID, models.EscalationClaimed, "bob"); err != nil {
			t.Fatal(err)
		}
		retry := t0.Add(5 * time.Second)
		if ok, err := f.s.FinishMessage(f.ctx, &m[0], models.MessageOutcome{Status: models.MessageQueued, RetryAt: &retry, Error: "boom", Detail: "will retry: boom"}); !ok || err != nil {
			t.Fatal(ok, err)
		}
		got := f.messages(inc)[0]
		if got.Status != models.MessageSuppressed {
			t.Fatalf("retry of a claimed escalation's page: %s", got.Status)
		}
		if cs := f.changes(got.ID); len(cs) != 1 || cs[0].ToStatus != models.MessageSuppressed || !bytes.Contains([]byte(cs[0].Detail), []byte("claimed")) {
			t.Fatalf("change log %+v", cs)
		}
		if err := f.s.ResumeEscalation(f.ctx, inc.ID); err != nil {
			t.Fatal(err)
		}
		if got := f.messages(inc)[0]; got.Status != models.MessageQueued {
			t.Fatalf("after unclaim: %s", got.Status)
		}
		// Out-of-band messages (no escalation) retry as asked.
		note := models.Message{IncidentID: &inc.ID, PersonID: &f.alice.ID, Mode: "slack", Priority: "low", OutOfBand: true, Status: models.MessageQueued, NotBefore: t0, CreatedAt: t0}
		if err := f.s.QueueMessages(f.ctx, []models.Message{note}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.StopEscalation(f.ctx, inc.ID, models.EscalationResolved, "bob"); err != nil {
			t.Fatal(err)
		}
		leased, _ := f.s.LeaseQueuedMessages(f.ctx, "a", 10, 30*time.Second)
		if len(leased) != 1 || !leased[0].OutOfBand {
			t.Fatalf("leased %+v, want the note only", leased)
		}
		if ok, _ := f.s.FinishMessage(f.ctx, &leased[0], models.MessageOutcome{Status: models.MessageQueued, RetryAt: &retry}); !ok {
			t.Fatal("not counted")
		}
		ms := f.messages(inc)
		if last := ms[len(ms)-1]; last.Status != models.MessageQueued {
			t.Fatalf("note retry: %s", last.Status)
		}
	})
}
