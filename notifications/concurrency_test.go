package notifications_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
)

// replica opens a second connection pool on the fixture's database, as
// another Herald process would.
func (f *fixture) replica() *models.Store {
	f.t.Helper()
	opts := models.OpenOptions{Cipher: f.db.Cipher, MaxOpenConns: 10}
	if f.db.Dialect == models.DialectPostgres {
		opts.PostgresURL = f.db.URL
	} else {
		opts.SQLitePath = f.db.URL
	}
	g, err := models.Open(context.Background(), opts)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { _ = models.Close(g) })
	return models.NewStore(g, f.clock)
}

// TestTwoEnginesSendEachPageOnce runs two engines (two statuses, two
// connection pools) on one Postgres database at the same time over 200
// escalations: every planned page reaches the vendor exactly once.
func TestTwoEnginesSendEachPageOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t, models.DialectPostgres)
	for _, n := range []string{"alice", "bob", "carol", "dave"} {
		f.person(n)
	}
	// Per escalation: 2 pages in step 1, 1 in step 2 (a last step with no
	// wait), 3 pages in all.
	f.plan("p1", steps(step(user("alice", "low", 1, 1)), step(user("bob", "low", 0, 0))))
	f.plan("p2", steps(step(user("carol", "low", 2, 1)), step(user("dave", "low", 0, 0))))
	const escalations = 200
	incidents := make([]*models.Incident, escalations)
	for i := range incidents {
		incidents[i] = f.escalate(fmt.Sprintf("incident %d", i), []string{"p1", "p2"}[i%2])
	}
	stores := []*models.Store{f.store, f.replica()}
	engines := []*notifications.Engine{
		f.newEngineOn(stores[0], "replica-a", vendorsOf(f.vendor), notifications.EngineOptions{SendConcurrency: 16}),
		f.newEngineOn(stores[1], "replica-b", vendorsOf(f.vendor), notifications.EngineOptions{SendConcurrency: 16}),
	}
	for minute := 0; minute <= 6; minute++ {
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for i, e := range engines {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for round := 0; round < 3; round++ {
					if _, err := stores[i].ReclaimExpiredSends(f.ctx); err != nil {
						errs <- err
					}
					if _, err := e.EscalateDue(f.ctx); err != nil {
						errs <- err
					}
					if _, err := e.SendDue(f.ctx); err != nil {
						errs <- err
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		f.clock.Advance(time.Minute)
	}
	// A final pass finds nothing left.
	f.tick()

	got := map[string]int{}
	for _, s := range f.vendor.accepted() {
		got[fmt.Sprintf("%d/%s", s.Msg.IncidentID, s.Msg.Destination)]++
	}
	total := 0
	for i, inc := range incidents {
		want := map[string]int{"U_ALICE": 2, "U_BOB": 1}
		if i%2 == 1 {
			want = map[string]int{"U_CAROL": 2, "U_DAVE": 1}
		}
		for dest, n := range want {
			if g := got[fmt.Sprintf("%d/%s", inc.ID, dest)]; g != n {
				t.Errorf("incident %d: %s paged %d times, want %d", inc.ID, dest, g, n)
			}
			total += n
		}
	}
	if n := len(f.vendor.accepted()); n != total || n != 3*escalations {
		t.Errorf("vendor accepted %d pages, want %d", n, 3*escalations)
	}
	var rows []models.Message
	if err := f.db.Gorm.Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	vendorIDs := map[string]bool{}
	statuses := map[string]int{}
	for _, m := range rows {
		if m.Status != models.MessageSent || m.Attempts != 1 || vendorIDs[m.VendorID] {
			t.Errorf("message %d: status %s attempts %d vendor id %q", m.ID, m.Status, m.Attempts, m.VendorID)
		}
		vendorIDs[m.VendorID] = true
	}
	if len(rows) != 3*escalations {
		t.Errorf("%d messages stored, want %d", len(rows), 3*escalations)
	}
	var changes []models.MessageChange
	if err := f.db.Gorm.Find(&changes).Error; err != nil {
		t.Fatal(err)
	}
	for _, c := range changes {
		statuses[c.ToStatus]++
		if strings.Contains(c.Detail, "duplicate") {
			t.Errorf("a message was reclaimed: %+v", c)
		}
	}
	if statuses[models.MessageSent] != 3*escalations {
		t.Errorf("change log: %v", statuses)
	}
	for _, inc := range incidents {
		if st := f.escalation(inc).State; st != models.EscalationExhausted {
			t.Errorf("incident %d: state %s", inc.ID, st)
		}
	}
	if n := f.alerts.count("exhausted"); n != escalations {
		t.Errorf("%d exhausted alerts, want %d", n, escalations)
	}
}

func vendorsOf(vs ...notifications.Vendor) *notifications.Vendors {
	out := notifications.NewVendors()
	for _, v := range vs {
		if err := out.Register(v); err != nil {
			panic(err)
		}
	}
	return out
}

// TestReclaimExpiredSends: a page leased by an engine that died mid-send is
// sent by another once the lease expires, logged as a possible duplicate.
func TestReclaimExpiredSends(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, f *fixture) {
		f.person("alice")
		f.plan("p", steps(step(user("alice", "low", 0, 0))))
		inc := f.escalate("x", "p")
		if _, err := f.engine.EscalateDue(f.ctx); err != nil {
			t.Fatal(err)
		}
		// The dead replica leased the page and never came back.
		leased, err := f.store.LeaseQueuedMessages(f.ctx, "dead", 10, 30*time.Second)
		if err != nil || len(leased) != 1 {
			t.Fatalf("lease: %v %v", leased, err)
		}
		other := f.newEngineOn(f.replica(), "alive", vendorsOf(f.vendor), notifications.EngineOptions{})
		f.tickWith(other)
		if n, err := f.store.ReclaimExpiredSends(f.ctx); err != nil || n != 0 {
			t.Fatalf("reclaimed %d (%v) before the lease expired", n, err)
		}
		if len(f.vendor.accepted()) != 0 {
			t.Fatal("a leased message was sent by another engine")
		}

		f.clock.Advance(31 * time.Second)
		if n, err := f.store.ReclaimExpiredSends(f.ctx); err != nil || n != 1 {
			t.Fatalf("reclaimed %d (%v), want 1", n, err)
		}
		f.tickWith(other)
		if got := pages(f.vendor.accepted(), inc.ID); len(got) != 1 {
			t.Fatalf("pages after reclaim: %v", got)
		}
		m := f.messages(inc)[0]
		if m.Status != models.MessageSent || m.Attempts != 2 || m.LeaseOwner != nil {
			t.Fatalf("after reclaim: %+v", m)
		}
		var log []string
		for _, c := range f.changes(m) {
			log = append(log, c.FromStatus+">"+c.ToStatus+": "+c.Detail)
		}
		if len(log) != 2 || !strings.Contains(log[0], "sending>queued") || !strings.Contains(log[0], "possibly a duplicate") || !strings.HasPrefix(log[1], "sending>sent") {
			t.Fatalf("change log %q", log)
		}

		// The dead replica wakes up and reports its send: not counted.
		counted, err := f.store.FinishMessage(f.ctx, &leased[0], models.MessageOutcome{Status: models.MessageSent, Vendor: "zombie"})
		if err != nil || counted {
			t.Fatalf("late outcome counted=%v err=%v", counted, err)
		}
		if m := f.messages(inc)[0]; m.Vendor != "fake" {
			t.Fatalf("late outcome overwrote the message: %+v", m)
		}
		if n, _ := f.store.ReclaimExpiredSends(f.ctx); n != 0 {
			t.Fatalf("reclaimed a sent message")
		}
	})
}

// TestTwoEnginesOnSQLite: two engines in one process on SQLite share the
// single connection; pages still go once each.
func TestTwoEnginesOnSQLite(t *testing.T) {
	t.Parallel()
	f := newFixture(t, models.DialectSQLite)
	f.person("alice")
	f.plan("p", steps(step(user("alice", "low", 1, 2))))
	const escalations = 30
	for i := 0; i < escalations; i++ {
		f.escalate(fmt.Sprintf("i%d", i), "p")
	}
	a := f.newEngine("a", vendorsOf(f.vendor), notifications.EngineOptions{})
	b := f.newEngine("b", vendorsOf(f.vendor), notifications.EngineOptions{})
	for minute := 0; minute <= 4; minute++ {
		var wg sync.WaitGroup
		for _, e := range []*notifications.Engine{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := e.EscalateDue(f.ctx); err != nil {
					t.Error(err)
				}
				if _, err := e.SendDue(f.ctx); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		f.clock.Advance(time.Minute)
	}
	if n := len(f.vendor.accepted()); n != 3*escalations {
		t.Fatalf("%d pages, want %d", n, 3*escalations)
	}
}
