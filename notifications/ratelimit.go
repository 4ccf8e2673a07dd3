package notifications

import (
	"cmp"
	"context"
	"slices"

	"github.com/heraldhq/herald/models"
)

// admit applies the per-mode rate limits to a leased batch: it takes the
// batch's sends from each limited mode's budget (shared by every replica)
// and puts the messages over budget back in the queue until the mode's
// next window, not counted as attempts. Escalation pages get the budget
// before out-of-band messages. It returns the messages to send now.
func (e *Engine) admit(ctx context.Context, batch []models.Message) ([]models.Message, error) {
	if len(e.opts.RateLimits) == 0 {
		return batch, nil
	}
	// The lease's RETURNING has no order: restore the queue's.
	slices.SortStableFunc(batch, func(a, b models.Message) int {
		if a.OutOfBand != b.OutOfBand {
			if a.OutOfBand {
				return 1
			}
			return -1
		}
		return cmp.Or(a.NotBefore.Compare(b.NotBefore), cmp.Compare(a.ID, b.ID))
	})
	want := map[Mode]int{}
	for _, m := range batch {
		want[Mode(m.Mode)]++
	}
	now := e.clock.Now().UTC()
	granted := map[Mode]int{}
	for mode, n := range want {
		r, ok := e.opts.RateLimits[mode]
		if !ok || r.Count <= 0 || r.Per <= 0 {
			granted[mode] = n
			continue
		}
		got, err := e.store.TakeSendTokens(ctx, string(mode), now.Truncate(r.Per), n, r.Count)
		if err != nil {
			// Fail closed: the mode's messages wait for the next window.
			e.log.ErrorContext(ctx, "taking send tokens", "mode", mode, "err", err)
		}
		granted[mode] = got
	}
	var (
		send []models.Message
		held = map[Mode][]int64{}
	)
	for _, m := range batch {
		mode := Mode(m.Mode)
		if granted[mode] > 0 {
			granted[mode]--
			send = append(send, m)
			continue
		}
		held[mode] = append(held[mode], m.ID)
	}
	for mode, ids := range held {
		r := e.opts.RateLimits[mode]
		next := now.Truncate(r.Per).Add(r.Per)
		if _, err := e.store.RequeueRateLimited(ctx, e.opts.Owner, ids, next); err != nil {
			return send, err
		}
		e.log.WarnContext(ctx, "rate limited: messages wait for the next window", "mode", mode, "count", len(ids), "until", next)
		e.metrics.PagesHeld(string(mode), HeldRateLimit, len(ids))
	}
	return send, nil
}
