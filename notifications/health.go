package notifications

import (
	"sync/atomic"
	"time"

	"github.com/heraldhq/herald/models"
)

// enginePasses records when the escalator and the sender last finished a
// pass (found nothing more due), in the engine clock's Unix nanoseconds.
// A pass that fails is not recorded: an engine whose database is gone is
// not healthy.
type enginePasses struct {
	escalated atomic.Int64
	sent      atomic.Int64
}

// LastPasses reports when this replica's escalator and sender last
// finished a pass (zero: never). The dead-man switch pings only while both
// are recent.
func (e *Engine) LastPasses() (escalated, sent time.Time) {
	at := func(v *atomic.Int64) time.Time {
		if n := v.Load(); n != 0 {
			return time.Unix(0, n).UTC()
		}
		return time.Time{}
	}
	return at(&e.passes.escalated), at(&e.passes.sent)
}

// countThrottled counts the pages of a stored check that the throttle held
// back (a check thrown away is planned again, so only stored ones count).
func (e *Engine) countThrottled(msgs []models.Message) {
	held := map[string]int{}
	for _, m := range msgs {
		if m.Status == models.MessageSuppressed && m.Error == models.ThrottledDetail {
			held[m.Mode]++
		}
	}
	for mode, n := range held {
		e.metrics.PagesHeld(mode, HeldThrottled, n)
	}
}
