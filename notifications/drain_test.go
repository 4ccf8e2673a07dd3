package notifications_test

import (
	"context"
	"testing"
	"time"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
)

// renewals is the store, reporting each lease renewal that renewed
// something.
type renewals struct {
	*models.Store
	renewed chan struct{}
}

func (s renewals) RenewSendLeases(ctx context.Context, owner string, ids []int64, until time.Time) (int64, error) {
	n, err := s.Store.RenewSendLeases(ctx, owner, ids, until)
	if err == nil && n > 0 {
		select {
		case s.renewed <- struct{}{}:
		default:
		}
	}
	return n, err
}

// TestSendLeaseRenewedWhileDraining: once ctx ends (a shutdown), Run
// leases nothing more but keeps renewing the lease of the page still at
// the vendor until its outcome is stored, so a drain longer than
// SendDeadline never lets another replica take the page over and send
// it twice.
func TestSendLeaseRenewedWhileDraining(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, f *fixture) {
		v := blockingVendor{started: make(chan struct{}, 1), release: make(chan struct{})}
		store := renewals{Store: f.store, renewed: make(chan struct{})}
		engine := notifications.NewEngine(store, vendorsOf(v), notifications.DirectoryRoles{Dir: f.store}, f.alerts, f.clock, quiet(t),
			notifications.EngineOptions{Owner: "a", SendDeadline: 150 * time.Millisecond, Sweep: 20 * time.Millisecond})
		f.person("alice")
		f.plan("p", steps(step(user("alice", "low", 0, 0))))
		inc := f.escalate("x", "p")
		ctx, shutdown := context.WithCancel(f.ctx)
		done := make(chan struct{})
		go func() { engine.Run(ctx); close(done) }()
		<-v.started
		shutdown()

		// A renewal already running at shutdown may still land; two more
		// can only come from renewals made while draining.
		for i := range 3 {
			select {
			case <-store.renewed:
			case <-done:
				t.Fatal("Run returned with a send in flight")
			case <-time.After(10 * time.Second): // a guard: renewals come every 50 ms
				t.Fatalf("%d lease renewals after shutdown, want 3", i)
			}
		}
		close(v.release)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("Run did not return once the send was done")
		}
		if m := f.messages(inc)[0]; m.Status != models.MessageSent {
			t.Fatalf("the page drained at shutdown is %s, want sent", m.Status)
		}
	})
}
