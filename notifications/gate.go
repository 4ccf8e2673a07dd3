package notifications

import (
	"context"
	"sync"
)

// WorkGate says whether this replica may lease paging work now. A rolling
// upgrade runs an old and a new binary against one database: once the new
// one has migrated the schema, the old one stands by (the new one may plan
// and send differently, and both doing it could page twice).
type WorkGate interface {
	// MayWork reports whether to work, and why not when not.
	MayWork(ctx context.Context) (ok bool, why string, err error)
}

// gateState remembers the gate's last answer, so that standing by and
// resuming are each logged once.
type gateState struct {
	mu      sync.Mutex
	closed  bool
	lastWhy string
}

// mayWork asks the gate (none: always). A gate that cannot answer (the
// database is down) stops nothing: the work itself will fail and say so.
func (e *Engine) mayWork(ctx context.Context) bool {
	if e.opts.Gate == nil {
		return true
	}
	ok, why, err := e.opts.Gate.MayWork(ctx)
	if err != nil {
		return true
	}
	e.gate.mu.Lock()
	defer e.gate.mu.Unlock()
	switch {
	case !ok && (!e.gate.closed || why != e.gate.lastWhy):
		e.log.WarnContext(ctx, "paging engine standing by", "why", why)
	case ok && e.gate.closed:
		e.log.InfoContext(ctx, "paging engine resumes")
	}
	e.gate.closed, e.gate.lastWhy = !ok, why
	return ok
}
