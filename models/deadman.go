package models

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Outcomes of a dead-man run.
const (
	DeadManPending   = "pending"
	DeadManSucceeded = "succeeded"
	DeadManFailed    = "failed"
)

// DeadManRun is one scheduled self-test page of the dead-man switch: the
// replica whose insert of its period wins sends it, and its outcome
// follows the messages it queued.
type DeadManRun struct {
	PeriodStart time.Time `gorm:"primaryKey"`
	Owner       string
	MessageIDs  string `gorm:"column:message_ids"` // a JSON list of message ids
	Outcome     string
	Detail      string
	CreatedAt   time.Time
	SucceededAt *time.Time
}

// TableName names the table.
func (DeadManRun) TableName() string { return "deadman_runs" }

// Messages returns the ids of the messages the run queued.
func (r *DeadManRun) Messages() ([]int64, error) {
	if r.MessageIDs == "" {
		return nil, nil
	}
	var ids []int64
	if err := json.Unmarshal([]byte(r.MessageIDs), &ids); err != nil {
		return nil, fmt.Errorf("dead-man run %s: message ids: %w", r.PeriodStart.Format(time.RFC3339), err)
	}
	return ids, nil
}

// ClaimDeadManRun makes owner the sender of the period's test page: it
// reports whether this insert created the period's row (false: another
// replica, or this one earlier, has it). A period is sent at most once
// however many replicas try, whatever their leases.
func (s *Store) ClaimDeadManRun(ctx context.Context, period time.Time, owner string) (bool, error) {
	res := s.db.WithContext(ctx).Exec(`INSERT INTO deadman_runs (period_start, owner, message_ids, outcome, detail, created_at)
		VALUES (?, ?, '', ?, '', ?) ON CONFLICT (period_start) DO NOTHING`, period.UTC(), owner, DeadManPending, s.clock.Now().UTC())
	if res.Error != nil {
		return false, fmt.Errorf("claiming the dead-man period %s: %w", period.UTC().Format(time.RFC3339), res.Error)
	}
	return res.RowsAffected == 1, nil
}

// SetDeadManRunMessages records the messages a run queued; a run that
// could not queue any is failed with detail.
func (s *Store) SetDeadManRunMessages(ctx context.Context, period time.Time, ids []int64, detail string) error {
	updates := map[string]any{"detail": truncate(detail, 2000)}
	if len(ids) == 0 {
		updates["outcome"] = DeadManFailed
	} else {
		b, err := json.Marshal(ids)
		if err != nil {
			return err
		}
		updates["message_ids"] = string(b)
	}
	if err := s.db.WithContext(ctx).Model(&DeadManRun{}).Where("period_start = ?", period.UTC()).Updates(updates).Error; err != nil {
		return fmt.Errorf("recording the dead-man page: %w", err)
	}
	return nil
}

// PendingDeadManRuns lists the runs whose outcome is not known yet, oldest
// first.
func (s *Store) PendingDeadManRuns(ctx context.Context) ([]DeadManRun, error) {
	var out []DeadManRun
	if err := s.db.WithContext(ctx).Where("outcome = ?", DeadManPending).Order("period_start").Limit(100).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("listing pending dead-man runs: %w", err)
	}
	return out, nil
}

// MessagesByID loads messages by id (missing ones are left out).
func (s *Store) MessagesByID(ctx context.Context, ids []int64) ([]Message, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var out []Message
	if err := s.db.WithContext(ctx).Where("id IN ?", ids).Order("id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("loading messages: %w", err)
	}
	return out, nil
}

// FinishDeadManRun records a pending run's outcome (succeededAt with
// DeadManSucceeded). A run finished already is left alone.
func (s *Store) FinishDeadManRun(ctx context.Context, period time.Time, outcome, detail string, succeededAt *time.Time) error {
	updates := map[string]any{"outcome": outcome, "detail": truncate(detail, 2000), "succeeded_at": utcPtr(succeededAt)}
	err := s.db.WithContext(ctx).Model(&DeadManRun{}).Where("period_start = ? AND outcome = ?", period.UTC(), DeadManPending).Updates(updates).Error
	if err != nil {
		return fmt.Errorf("recording the dead-man outcome: %w", err)
	}
	return nil
}

// DeadManSummary is what the dead-man switch has recorded.
type DeadManSummary struct {
	Last        *DeadManRun // the latest run, nil when none
	LastSuccess *time.Time  // when a vendor last accepted a test page
}

// DeadManSummary returns the latest run and the last success.
func (s *Store) DeadManSummary(ctx context.Context) (DeadManSummary, error) {
	var out DeadManSummary
	var last DeadManRun
	err := s.db.WithContext(ctx).Order("period_start DESC").Take(&last).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return out, nil
	}
	if err != nil {
		return out, fmt.Errorf("loading the last dead-man run: %w", err)
	}
	out.Last = &last
	out.LastSuccess, err = s.LastDeadManSuccess(ctx)
	return out, err
}

// LastDeadManSuccess is when a vendor last accepted a test page (nil:
// never).
func (s *Store) LastDeadManSuccess(ctx context.Context) (*time.Time, error) {
	var ok []DeadManRun
	err := s.db.WithContext(ctx).Where("succeeded_at IS NOT NULL").Order("succeeded_at DESC").Limit(1).Find(&ok).Error
	if err != nil {
		return nil, fmt.Errorf("loading the last dead-man success: %w", err)
	}
	if len(ok) == 0 {
		return nil, nil
	}
	t := ok[0].SucceededAt.UTC()
	return &t, nil
}

// PruneDeadManRuns forgets runs created before before, except the latest
// success (so its time survives a long outage of the route).
func (s *Store) PruneDeadManRuns(ctx context.Context, before time.Time) (int64, error) {
	res := s.db.WithContext(ctx).Exec(`DELETE FROM deadman_runs WHERE created_at < ? AND period_start NOT IN (
		SELECT period_start FROM deadman_runs WHERE succeeded_at IS NOT NULL ORDER BY succeeded_at DESC LIMIT 1)`, before.UTC())
	if res.Error != nil {
		return 0, fmt.Errorf("pruning dead-man runs: %w", res.Error)
	}
	return res.RowsAffected, nil
}
