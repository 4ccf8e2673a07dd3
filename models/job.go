package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Job is a unit of background work stored before Slack is acknowledged, so a
// crash after the acknowledgement loses nothing. Its payload can hold user
// text, so it is encrypted.
type Job struct {
	ID          string // UUIDv7
	Kind        string
	Payload     EncryptedString
	DedupKey    *string
	RunAt       time.Time
	Attempts    int
	MaxAttempts int
	LeaseOwner  *string
	LeaseUntil  *time.Time
	LastError   string
	DoneAt      *time.Time
	FailedAt    *time.Time
	CreatedAt   time.Time
}

// NewJob describes work to enqueue.
type NewJob struct {
	Kind    string
	Payload []byte
	// DedupKey, when set, makes a second enqueue of the same key a no-op.
	DedupKey    string
	RunAt       time.Time // zero: now
	MaxAttempts int       // zero: DefaultJobAttempts
}

// DefaultJobAttempts bounds retries of a failing job.
const DefaultJobAttempts = 8

// ErrDuplicate means the thing was already recorded (a Slack retry, a
// repeated idempotency key).
var ErrDuplicate = errors.New("already recorded")

// EnqueueJobs stores jobs; ones whose dedup key exists are skipped. It
// reports how many were new.
func (s *Store) EnqueueJobs(ctx context.Context, jobs ...NewJob) (int, error) {
	return s.enqueueJobs(ctx, jobs)
}

// enqueueJobRows is EnqueueJobs for a batch of creations.
func (s *Store) enqueueJobRows(ctx context.Context, jobs []NewJob) error {
	_, err := s.enqueueJobs(ctx, jobs)
	return err
}

// enqueueJobs stores jobs with one statement; a job whose dedup key is
// already queued is skipped.
func (s *Store) enqueueJobs(ctx context.Context, jobs []NewJob) (int, error) {
	if len(jobs) == 0 {
		return 0, nil
	}
	now := s.clock.Now()
	rows := make([]Job, len(jobs))
	for i, j := range jobs {
		row := Job{
			ID:          newID(),
			Kind:        j.Kind,
			Payload:     Secret(string(j.Payload)),
			RunAt:       j.RunAt.UTC(),
			MaxAttempts: j.MaxAttempts,
			CreatedAt:   now,
		}
		if row.RunAt.IsZero() {
			row.RunAt = now
		}
		if row.MaxAttempts <= 0 {
			row.MaxAttempts = DefaultJobAttempts
		}
		if j.DedupKey != "" {
			k := j.DedupKey
			row.DedupKey = &k
		}
		rows[i] = row
	}
	res := s.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&rows)
	if res.Error != nil {
		return 0, fmt.Errorf("enqueueing %d jobs (%s…): %w", len(rows), jobs[0].Kind, res.Error)
	}
	return int(res.RowsAffected), nil
}

// LeaseJobs hands up to limit due jobs to owner until now+lease. Other
// replicas skip leased rows; a dead owner's lease runs out and the job is
// taken over.
func (s *Store) LeaseJobs(ctx context.Context, owner string, limit int, lease time.Duration) ([]Job, error) {
	now := s.clock.Now().UTC()
	lock := ""
	if s.Dialect() == DialectPostgres {
		lock = "FOR UPDATE SKIP LOCKED"
	}
	var jobs []Job
	err := s.db.WithContext(ctx).Raw(`UPDATE jobs SET lease_owner = ?, lease_until = ?, attempts = attempts + 1
		WHERE id IN (SELECT id FROM jobs
			WHERE done_at IS NULL AND failed_at IS NULL AND run_at <= ?
			AND (lease_until IS NULL OR lease_until < ?)
			ORDER BY run_at LIMIT ? `+lock+`)
		RETURNING *`, owner, now.Add(lease), now, now, limit).Find(&jobs).Error
	if err != nil {
		return nil, fmt.Errorf("leasing jobs: %w", err)
	}
	return jobs, nil
}

// CompleteJob marks a leased job done.
func (s *Store) CompleteJob(ctx context.Context, j *Job) error {
	now := s.clock.Now()
	res := s.db.WithContext(ctx).Model(&Job{}).Where("id = ? AND lease_owner = ?", j.ID, derefOr(j.LeaseOwner, "")).
		Updates(map[string]any{"done_at": now, "lease_owner": nil, "lease_until": nil})
	if res.Error != nil {
		return fmt.Errorf("completing job %s: %w", j.ID, res.Error)
	}
	return nil
}

// RetryJob records a failure: the job runs again at retryAt, or is marked
// failed for good once its attempts are spent. It reports whether it will
// run again.
func (s *Store) RetryJob(ctx context.Context, j *Job, cause error, retryAt time.Time) (bool, error) {
	updates := map[string]any{"last_error": truncate(cause.Error(), 2000), "lease_owner": nil, "lease_until": nil}
	again := j.Attempts < j.MaxAttempts
	if again {
		// UTC like every stored time: SQLite compares times as text.
		updates["run_at"] = retryAt.UTC()
	} else {
		updates["failed_at"] = s.clock.Now()
	}
	err := s.db.WithContext(ctx).Model(&Job{}).Where("id = ? AND lease_owner = ?", j.ID, derefOr(j.LeaseOwner, "")).Updates(updates).Error
	if err != nil {
		return false, fmt.Errorf("recording failure of job %s: %w", j.ID, err)
	}
	return again, nil
}

// DeferJob puts a leased job back to run at retryAt without spending an
// attempt: the failure was the other side asking us to wait (a rate limit).
func (s *Store) DeferJob(ctx context.Context, j *Job, cause error, retryAt time.Time) error {
	err := s.db.WithContext(ctx).Model(&Job{}).Where("id = ? AND lease_owner = ?", j.ID, derefOr(j.LeaseOwner, "")).
		Updates(map[string]any{"last_error": truncate(cause.Error(), 2000), "lease_owner": nil, "lease_until": nil,
			"run_at": retryAt.UTC(), "attempts": gorm.Expr("CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END")}).Error
	if err != nil {
		return fmt.Errorf("deferring job %s: %w", j.ID, err)
	}
	return nil
}

// PendingJobs counts jobs not yet done or failed (for metrics and tests).
func (s *Store) PendingJobs(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&Job{}).Where("done_at IS NULL AND failed_at IS NULL").Count(&n).Error
	if err != nil {
		return 0, fmt.Errorf("counting jobs: %w", err)
	}
	return n, nil
}

// RecordSlackEvent stores a Slack event id and the jobs it causes in one
// transaction. ErrDuplicate means another delivery (a retry, or another
// replica) already did, and nothing was stored.
func (s *Store) RecordSlackEvent(ctx context.Context, eventID, kind string, jobs ...NewJob) error {
	return s.InTx(ctx, func(tx *Store) error {
		res := tx.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).
			Create(&SlackEventReceipt{EventID: eventID, Kind: kind, ReceivedAt: tx.clock.Now()})
		if res.Error != nil {
			return fmt.Errorf("recording slack event: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrDuplicate
		}
		_, err := tx.EnqueueJobs(ctx, jobs...)
		return err
	})
}

// PruneSlackEventReceipts forgets receipts older than the cut-off; Slack
// stops retrying after minutes, so a day is ample.
func (s *Store) PruneSlackEventReceipts(ctx context.Context, before time.Time) (int64, error) {
	res := s.db.WithContext(ctx).Where("received_at < ?", before.UTC()).Delete(&SlackEventReceipt{})
	if res.Error != nil {
		return 0, fmt.Errorf("pruning slack event receipts: %w", res.Error)
	}
	return res.RowsAffected, nil
}

func newID() string { return uuid.Must(uuid.NewV7()).String() }

func derefOr(p *string, def string) string {
	if p == nil {
		return def
	}
	return *p
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// IsNotFound reports whether err means no such row.
func IsNotFound(err error) bool { return errors.Is(err, gorm.ErrRecordNotFound) }
