package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm/clause"
)

// RateLimit is one mode's send budget for one fixed window, shared by
// every replica.
type RateLimit struct {
	Mode        string    `gorm:"primaryKey"`
	WindowStart time.Time `gorm:"primaryKey"`
	Used        int
}

// TakeSendTokens takes up to n sends from mode's budget of limit for the
// window starting at windowStart and reports how many it got (0 when the
// window is spent). The window's row is locked while it is read and
// updated (SQLite has one writer), so replicas together never take more
// than limit. Rows of the mode's earlier windows are deleted.
func (s *Store) TakeSendTokens(ctx context.Context, mode string, windowStart time.Time, n, limit int) (int, error) {
	if n <= 0 {
		return 0, nil
	}
	windowStart = windowStart.UTC()
	granted := 0
	err := s.InTx(ctx, func(tx *Store) error {
		db := tx.db.WithContext(ctx)
		if err := db.Where("mode = ? AND window_start < ?", mode, windowStart).Delete(&RateLimit{}).Error; err != nil {
			return err
		}
		if err := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&RateLimit{Mode: mode, WindowStart: windowStart}).Error; err != nil {
			return err
		}
		q := db.Where("mode = ? AND window_start = ?", mode, windowStart)
		if tx.Dialect() == DialectPostgres {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		var row RateLimit
		if err := q.Take(&row).Error; err != nil {
			return err
		}
		granted = min(n, max(limit-row.Used, 0))
		if granted == 0 {
			return nil
		}
		return db.Model(&RateLimit{}).Where("mode = ? AND window_start = ? AND used + ? <= ?", mode, windowStart, granted, limit).
			Update("used", clause.Expr{SQL: "used + ?", Vars: []any{granted}}).Error
	})
	if err != nil {
		return 0, fmt.Errorf("taking %s send tokens: %w", mode, err)
	}
	return granted, nil
}

// RequeueRateLimited puts leased messages the rate limit did not let out
// back in the queue until notBefore. The lease's attempt is given back:
// the message was never tried. It reports how many it requeued (those
// owner still held).
func (s *Store) RequeueRateLimited(ctx context.Context, owner string, ids []int64, notBefore time.Time) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	n := 0
	err := s.InTx(ctx, func(tx *Store) error {
		n = 0
		for start := 0; start < len(ids); start += insertChunk {
			chunk := ids[start:min(start+insertChunk, len(ids))]
			got, err := tx.returnedIDs(ctx, `UPDATE messages SET status = 'queued', lease_owner = NULL, lease_until = NULL,
				attempts = attempts - 1, not_before = ? WHERE id IN ? AND status = 'sending' AND lease_owner = ? RETURNING id`,
				[]any{notBefore.UTC(), chunk, owner})
			if err != nil {
				return err
			}
			n += len(got)
			detail := "rate limited; next try at " + notBefore.UTC().Format(time.RFC3339)
			for _, id := range got {
				if err := tx.logChange(ctx, id, MessageSending, MessageQueued, detail); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("requeueing rate-limited messages: %w", err)
	}
	return n, nil
}

// RecentSendCounts counts, per person and mode, the messages planned
// since since that are queued, in flight or sent (suppressed and failed
// ones reached nobody).
func (s *Store) RecentSendCounts(ctx context.Context, since time.Time) (map[string]map[string]int, error) {
	var rows []struct {
		PersonID string
		Mode     string
		N        int
	}
	err := s.db.WithContext(ctx).Model(&Message{}).Select("person_id, mode, COUNT(*) AS n").
		Where("person_id IS NOT NULL AND created_at >= ? AND status IN ?", since.UTC(),
			[]string{MessageQueued, MessageSending, MessageSent, MessageDelivered}).
		Group("person_id, mode").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("counting recent sends: %w", err)
	}
	out := map[string]map[string]int{}
	for _, r := range rows {
		if out[r.PersonID] == nil {
			out[r.PersonID] = map[string]int{}
		}
		out[r.PersonID][r.Mode] = r.N
	}
	return out, nil
}
