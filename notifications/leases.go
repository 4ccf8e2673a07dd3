package notifications

import (
	"context"
	"sync"
	"time"
)

// inflight is the set of messages this replica holds "sending": their
// leases are renewed while it lives, so SendDeadline can be short (a dead
// replica's pages move again within seconds) however slow a vendor is.
type inflight struct {
	mu  sync.Mutex
	ids map[int64]struct{}
}

func (f *inflight) add(ids ...int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ids == nil {
		f.ids = map[int64]struct{}{}
	}
	for _, id := range ids {
		f.ids[id] = struct{}{}
	}
}

func (f *inflight) remove(ids ...int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, id := range ids {
		delete(f.ids, id)
	}
}

func (f *inflight) list() []int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]int64, 0, len(f.ids))
	for id := range f.ids {
		out = append(out, id)
	}
	return out
}

// renewLeases extends the leases of the messages this replica is sending,
// a third of SendDeadline apart, until ctx ends.
func (e *Engine) renewLeases(ctx context.Context) {
	t := time.NewTicker(e.opts.SendDeadline / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ids := e.inflight.list()
		if len(ids) == 0 {
			continue
		}
		if _, err := e.store.RenewSendLeases(ctx, e.opts.Owner, ids, e.clock.Now().Add(e.opts.SendDeadline)); err != nil && ctx.Err() == nil {
			e.log.ErrorContext(ctx, "renewing send leases; another replica may take these messages over", "messages", len(ids), "err", err)
		}
	}
}
