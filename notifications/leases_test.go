package notifications_test

import (
	"context"
	"testing"
	"time"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
)

// blockingVendor holds every Send until released.
type blockingVendor struct {
	started chan struct{}
	release chan struct{}
}

func (blockingVendor) Name() string { return "blocking" }
func (blockingVendor) Modes() []notifications.Mode {
	return []notifications.Mode{notifications.ModeSlack}
}
func (v blockingVendor) Send(ctx context.Context, _ notifications.Message) (string, error) {
	v.started <- struct{}{}
	select {
	case <-v.release:
		return "ok-1", nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// TestSendLeaseRenewedWhileSending: a live sender keeps renewing the lease
// of a page its vendor is slow with, so another replica does not take it
// over (and page twice) when the first deadline passes; the page is sent
// once.
func TestSendLeaseRenewedWhileSending(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, f *fixture) {
		v := blockingVendor{started: make(chan struct{}, 1), release: make(chan struct{})}
		const deadline = 600 * time.Millisecond
		f.engine = f.newEngine("a", vendorsOf(v), notifications.EngineOptions{SendDeadline: deadline, Sweep: 50 * time.Millisecond})
		other := f.newEngine("b", vendorsOf(newFakeVendor("other", f.clock)), notifications.EngineOptions{SendDeadline: deadline})
		f.person("alice")
		f.plan("p", steps(step(user("alice", "low", 0, 0))))
		inc := f.escalate("x", "p")
		ctx, cancel := context.WithCancel(f.ctx)
		done := make(chan struct{})
		go func() { f.engine.Run(ctx); close(done) }()
		defer func() { cancel(); <-done }()
		<-v.started

		// Past the first deadline (fake time), the lease is renewed from
		// the moved clock: wait for it.
		f.clock.Advance(time.Second)
		want := f.clock.Now().Add(deadline)
		for give := time.Now().Add(10 * time.Second); ; {
			m := f.messages(inc)[0]
			if m.LeaseUntil != nil && !m.LeaseUntil.Before(want) {
				break
			}
			if time.Now().After(give) {
				t.Fatalf("lease not renewed: %+v", m)
			}
			time.Sleep(20 * time.Millisecond)
		}
		if n, err := f.store.ReclaimExpiredSends(f.ctx); err != nil || n != 0 {
			t.Fatalf("reclaimed %d live sends (%v)", n, err)
		}
		if _, err := other.SendDue(f.ctx); err != nil {
			t.Fatal(err)
		}
		if m := f.messages(inc)[0]; m.Status != models.MessageSending || *m.LeaseOwner != "a" {
			t.Fatalf("another replica took over a live send: %+v", m)
		}
		close(v.release)
		for give := time.Now().Add(10 * time.Second); f.messages(inc)[0].Status != models.MessageSent; {
			if time.Now().After(give) {
				t.Fatalf("not sent: %+v", f.messages(inc)[0])
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}
