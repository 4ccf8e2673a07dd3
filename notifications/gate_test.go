package notifications_test

import (
	"context"
	"sync"
	"testing"

	"github.com/heraldhq/herald/notifications"
)

// switchGate is a WorkGate a test opens and closes.
type switchGate struct {
	mu   sync.Mutex
	open bool
}

func (g *switchGate) set(open bool) { g.mu.Lock(); g.open = open; g.mu.Unlock() }

func (g *switchGate) MayWork(context.Context) (bool, string, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.open, "a newer binary pages (test)", nil
}

// TestWorkGate: an engine whose gate is closed (an old binary during a
// rolling upgrade) neither checks escalations nor sends pages, so a
// second engine is the only one paging; once open it works as usual and
// nothing was sent twice.
func TestWorkGate(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, f *fixture) {
		f.person("alice")
		f.plan("p", steps(step(user("alice", "low", 5, 1))))
		gate := &switchGate{}
		vs := notifications.NewVendors()
		if err := vs.Register(f.vendor); err != nil {
			t.Fatal(err)
		}
		old := f.newEngine("old-binary", vs, notifications.EngineOptions{Gate: gate})
		inc := f.escalate("db down", "p")
		f.tickWith(old)
		if got := len(f.messages(inc)); got != 0 {
			t.Fatalf("a gated engine planned %d messages", got)
		}
		if got := len(f.vendor.accepted()); got != 0 {
			t.Fatalf("a gated engine sent %d pages", got)
		}
		// The new binary pages; the old one still stands by.
		f.tick()
		f.tickWith(old)
		if got := len(f.vendor.accepted()); got != 1 {
			t.Fatalf("%d pages after the open engine's pass, want 1", got)
		}
		for _, m := range f.messages(inc) {
			if m.LeaseOwner != nil && *m.LeaseOwner == "old-binary" {
				t.Errorf("the gated engine leased message %d", m.ID)
			}
		}
		// Opened (the binary upgraded), it works and sends nothing twice.
		gate.set(true)
		f.tickWith(old)
		if got := len(f.vendor.accepted()); got != 1 {
			t.Errorf("%d pages after the gate opened, want still 1", got)
		}
	})
}
