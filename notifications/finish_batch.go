package notifications

import (
	"context"
	"sync"
	"time"

	"github.com/heraldhq/herald/models"
)

// finisher records send outcomes with group commit: outcomes that arrive
// while one batch is being written are written together next, in one
// transaction (models.Store.FinishMessages), instead of one transaction
// per message. A sender waits for its own outcome to be stored, so what
// send does afterwards (warnings, alerts) is unchanged.
type finisher struct {
	mu      sync.Mutex
	pending []*finishReq
	running bool
}

type finishReq struct {
	f       models.MessageFinish
	done    chan struct{}
	counted bool
	err     error
}

// finishMessage records a send's outcome and reports whether it counted
// (models.Store.FinishMessage). Retries go one by one: they read the
// escalation's state under a lock.
func (e *Engine) finishMessage(ctx context.Context, m *models.Message, o models.MessageOutcome) (bool, error) {
	if o.Status == models.MessageQueued || o.RetryAt != nil {
		return e.store.FinishMessage(ctx, m, o)
	}
	r := &finishReq{f: models.MessageFinish{Message: m, Outcome: o}, done: make(chan struct{})}
	f := &e.finisher
	f.mu.Lock()
	f.pending = append(f.pending, r)
	if !f.running {
		f.running = true
		go e.flushFinished(context.WithoutCancel(ctx))
	}
	f.mu.Unlock()
	<-r.done
	return r.counted, r.err
}

func (e *Engine) flushFinished(ctx context.Context) {
	f := &e.finisher
	for {
		f.mu.Lock()
		batch := f.pending
		f.pending = nil
		if len(batch) == 0 {
			f.running = false
			f.mu.Unlock()
			return
		}
		f.mu.Unlock()
		fs := make([]models.MessageFinish, len(batch))
		for i, r := range batch {
			fs[i] = r.f
		}
		recordedAt := e.clock.Now()
		counted, err := e.store.FinishMessages(ctx, fs)
		if err != nil {
			// One bad outcome must not lose the others: one by one.
			e.log.WarnContext(ctx, "recording a batch of sends failed; recording them one by one", "err", err, "count", len(batch))
			for _, r := range batch {
				r.counted, r.err = e.store.FinishMessage(ctx, r.f.Message, r.f.Outcome)
			}
		} else {
			for i, r := range batch {
				r.counted = counted[i]
			}
		}
		// Before the senders go on: a send is done once it is measured too.
		e.recordFirstPages(ctx, batch, recordedAt)
		for _, r := range batch {
			close(r.done)
		}
	}
}

// recordFirstPages times the first accepted page of each escalation among
// a recorded batch of sends (one statement per batch; only with Metrics).
// The update locks an escalation row for a moment once, when its first
// page is marked: a check leasing it just then (SKIP LOCKED) takes it at
// the next pass.
func (e *Engine) recordFirstPages(ctx context.Context, batch []*finishReq, now time.Time) {
	if !e.firstPages {
		return
	}
	var ids []int64
	seen := map[int64]bool{}
	for _, r := range batch {
		m := r.f.Message
		if r.err == nil && r.counted && r.f.Outcome.Status == models.MessageSent && m.EscalationID != nil && !m.OutOfBand && !seen[*m.EscalationID] {
			seen[*m.EscalationID] = true
			ids = append(ids, *m.EscalationID)
		}
	}
	if len(ids) == 0 {
		return
	}
	firsts, err := e.store.MarkFirstPages(ctx, ids, now)
	if err != nil {
		e.log.WarnContext(ctx, "recording first pages for the paging-latency metric", "err", err)
		return
	}
	for _, f := range firsts {
		if took := now.Sub(f.PagingStartedAt); took >= 0 {
			e.metrics.FirstPageAccepted(took)
		}
	}
}
