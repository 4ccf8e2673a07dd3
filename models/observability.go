package models

import (
	"context"
	"fmt"
	"time"
)

// Queries behind Herald's scrape-time gauges and paging-latency metrics.
// Each is one indexed statement: they run on every (cached) scrape.

// IncidentCountsByStatus counts incidents per status, every status present
// (0 when none).
func (s *Store) IncidentCountsByStatus(ctx context.Context) (map[Status]int64, error) {
	var rows []struct {
		Status Status
		N      int64
	}
	if err := s.db.WithContext(ctx).Raw(`SELECT status, COUNT(*) AS n FROM incidents GROUP BY status`).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("counting incidents by status: %w", err)
	}
	out := make(map[Status]int64, len(Statuses))
	for _, st := range Statuses {
		out[st] = 0
	}
	for _, r := range rows {
		out[r.Status] = r.N
	}
	return out, nil
}

// QueueStats is the sender's backlog: messages it would lease now.
type QueueStats struct {
	Due int64 // queued messages whose time has come
	// OldestDue is the not_before of the oldest of them (zero when none).
	OldestDue time.Time
}

// Lag is how long the oldest due message has waited at now (0 when none).
func (q QueueStats) Lag(now time.Time) time.Duration {
	if q.OldestDue.IsZero() || now.Before(q.OldestDue) {
		return 0
	}
	return now.Sub(q.OldestDue)
}

// QueueStats counts the messages due and not sent (those the sender would
// lease: queued, due, of an escalation still paging or of none) and finds
// the oldest. Both walk the partial index of queued messages.
func (s *Store) QueueStats(ctx context.Context) (QueueStats, error) {
	now := s.clock.Now().UTC()
	var q QueueStats
	from := `FROM messages LEFT JOIN escalations ON escalations.id = messages.escalation_id WHERE ` + leasableMessage
	if err := s.db.WithContext(ctx).Raw(`SELECT COUNT(*) `+from, now).Scan(&q.Due).Error; err != nil {
		return q, fmt.Errorf("counting due messages: %w", err)
	}
	if q.Due == 0 {
		return q, nil
	}
	var oldest []Message
	if err := s.db.WithContext(ctx).Raw(`SELECT messages.not_before `+from+` ORDER BY messages.not_before LIMIT 1`, now).Scan(&oldest).Error; err != nil {
		return q, fmt.Errorf("finding the oldest due message: %w", err)
	}
	if len(oldest) == 1 {
		q.OldestDue = oldest[0].NotBefore.UTC()
	}
	return q, nil
}

// FirstPage is an escalation whose first accepted page MarkFirstPages
// recorded.
type FirstPage struct {
	EscalationID int64
	// PagingStartedAt is when its paging began (Escalation.PagingStartedAt).
	PagingStartedAt time.Time
}

// MarkFirstPages records at as the first accepted page of those of the
// escalations that had none, and returns those: each escalation is
// returned once, by whichever replica's update wins.
func (s *Store) MarkFirstPages(ctx context.Context, escalationIDs []int64, at time.Time) ([]FirstPage, error) {
	if len(escalationIDs) == 0 {
		return nil, nil
	}
	var rows []Escalation
	err := s.db.WithContext(ctx).Raw(`UPDATE escalations SET first_page_at = ?
		WHERE id IN ? AND first_page_at IS NULL RETURNING id, step, step_started_at, created_at`, at.UTC(), escalationIDs).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("recording first pages: %w", err)
	}
	out := make([]FirstPage, len(rows))
	for i, e := range rows {
		out[i] = FirstPage{EscalationID: e.ID, PagingStartedAt: e.PagingStartedAt()}
	}
	return out, nil
}

// PagingStartedAt is when the escalation began paging: its first step's
// start while it is on that step (later than its creation for an alert
// held until working hours), else its creation.
func (e *Escalation) PagingStartedAt() time.Time {
	if e.Step == 0 && e.StepStartedAt.After(e.CreatedAt) {
		return e.StepStartedAt.UTC()
	}
	return e.CreatedAt.UTC()
}
