package main

import (
	"context"
	"fmt"
	"time"
)

// heldBy lists the messages a worker holds "sending": read right after
// it is killed, they are the ones another replica must take over.
func (e *benchEnv) heldBy(ctx context.Context, owner string) []int64 {
	var ids []int64
	_ = e.gdb.WithContext(ctx).Raw(`SELECT id FROM messages WHERE status = 'sending' AND lease_owner = ?`, owner).Scan(&ids).Error
	return ids
}

// takeoverFigures adds the replicas scenario's takeover accounting to f:
// how many messages were taken over, how long after each kill the
// messages the killed worker held were taken over (held[i]: those of
// kill i), and what became of them (suppressed by the sink's status
// lookup, or sent again). It returns the duplicates at the sink (payload
// ids POSTed more than once) and the kill → takeover times in ms (-1 for
// a kill whose worker held nothing).
func (e *benchEnv) takeoverFigures(ctx context.Context, f map[string]any, kills []time.Time, held [][]int64) (dupIDs int, afterKill []float64, err error) {
	var changes []struct {
		MessageID int64
		At        time.Time
	}
	// The reclaim's change-log line (models.Store.ReclaimExpiredSends).
	if err := e.gdb.WithContext(ctx).Raw(`SELECT message_id, at FROM message_changes
		WHERE from_status = 'sending' AND to_status = 'queued' AND detail LIKE 'sender lease expired%'`).Scan(&changes).Error; err != nil {
		return 0, nil, fmt.Errorf("reading takeovers: %w", err)
	}
	var takenOver int64
	if err := e.gdb.WithContext(ctx).Raw(`SELECT count(*) FROM messages WHERE taken_over`).Scan(&takenOver).Error; err != nil {
		return 0, nil, fmt.Errorf("counting takeovers: %w", err)
	}
	var heldN []int
	for i, k := range kills {
		mine := map[int64]bool{}
		for _, id := range held[i] {
			mine[id] = true
		}
		heldN = append(heldN, len(mine))
		var last time.Time // all of them: the page waits for the last
		for _, c := range changes {
			if mine[c.MessageID] && !c.At.Before(k) && c.At.After(last) {
				last = c.At
			}
		}
		ms := -1.0
		if !last.IsZero() {
			ms = benchMS(last.Sub(k))
		}
		afterKill = append(afterKill, ms)
	}
	lookups, dupIDs := e.sink.idStats()
	f["taken_over"] = takenOver
	f["held_by_killed_workers"] = heldN
	f["takeover_after_kill_ms"] = afterKill
	f["suppressed_by_lookup"] = lookups.Received
	f["lookups_not_received"] = lookups.NotReceived
	f["lookups_rejected"] = lookups.Rejected
	// Re-sent: taken over and sent again. Whether that made a duplicate
	// depends on whether the dead sender had got it to the sink.
	f["re_sent"] = takenOver - int64(lookups.Received)
	f["duplicates_at_sink"] = dupIDs
	return dupIDs, afterKill, nil
}

// waitSettled waits until every message is sent (none queued or held by
// a dead worker), or until deadline.
func (e *benchEnv) waitSettled(ctx context.Context, deadline time.Time) error {
	for {
		var open int64
		if err := e.gdb.WithContext(ctx).Raw(`SELECT count(*) FROM messages WHERE status IN ('queued', 'sending')`).Scan(&open).Error; err != nil {
			return fmt.Errorf("counting unsettled messages: %w", err)
		}
		if open == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d messages still queued or sending", open)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
