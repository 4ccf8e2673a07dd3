package models

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Batched forms of the engine's per-escalation and per-message queries: a
// burst of thousands of incidents costs a few statements per batch instead
// of several round trips (and a commit) per incident.

// IncidentsByID loads incidents with their reporter and lead, by id.
// Missing ids are absent from the map.
func (s *Store) IncidentsByID(ctx context.Context, ids []int64) (map[int64]*Incident, error) {
	out := make(map[int64]*Incident, len(ids))
	for start := 0; start < len(ids); start += insertChunk {
		var rows []Incident
		err := s.db.WithContext(ctx).Preload("Reporter").Preload("Lead").Preload("ResolvedBy").
			Where("id IN ?", ids[start:min(start+insertChunk, len(ids))]).Find(&rows).Error
		if err != nil {
			return nil, fmt.Errorf("loading incidents: %w", err)
		}
		for i := range rows {
			out[rows[i].ID] = &rows[i]
		}
	}
	return out, nil
}

// PlannedSendsOf is PlannedSends for many escalations and every step:
// escalation id → step → notification → sends planned.
func (s *Store) PlannedSendsOf(ctx context.Context, escalationIDs []int64) (map[int64]map[int]map[int]int, error) {
	out := make(map[int64]map[int]map[int]int, len(escalationIDs))
	for start := 0; start < len(escalationIDs); start += insertChunk {
		var rows []struct {
			EscalationID int64
			Step         int
			Notification int
			Sends        int
		}
		err := s.db.WithContext(ctx).Model(&Message{}).Select("escalation_id, step, notification, MAX(send_index) + 1 AS sends").
			Where("escalation_id IN ?", escalationIDs[start:min(start+insertChunk, len(escalationIDs))]).
			Group("escalation_id, step, notification").Scan(&rows).Error
		if err != nil {
			return nil, fmt.Errorf("counting planned sends: %w", err)
		}
		for _, r := range rows {
			if out[r.EscalationID] == nil {
				out[r.EscalationID] = map[int]map[int]int{}
			}
			if out[r.EscalationID][r.Step] == nil {
				out[r.EscalationID][r.Step] = map[int]int{}
			}
			out[r.EscalationID][r.Step][r.Notification] = r.Sends
		}
	}
	return out, nil
}

// EscalationCheck is one check's result, for FinishEscalationChecks.
type EscalationCheck struct {
	Escalation *Escalation
	Update     EscalationUpdate
	Messages   []Message
}

// FinishEscalationChecks is FinishEscalationCheck for a batch of checks,
// in one transaction. stored[i] reports whether check i was stored; a
// check of an escalation claimed, resolved or taken over meanwhile is not
// (FinishEscalationCheck's ErrNoChange) and plans nothing. planned counts
// the messages inserted.
func (s *Store) FinishEscalationChecks(ctx context.Context, checks []EscalationCheck) (planned int, stored []bool, err error) {
	if len(checks) == 0 {
		return 0, nil, nil
	}
	err = s.InTx(ctx, func(tx *Store) error {
		planned, stored = 0, make([]bool, len(checks))
		now := tx.clock.Now().UTC()
		if tx.Dialect() == DialectPostgres {
			if err := tx.updateEscalationsPostgres(ctx, checks, stored, now); err != nil {
				return err
			}
		} else {
			for i, c := range checks {
				res := tx.db.WithContext(ctx).Model(&Escalation{}).
					Where("id = ? AND lease_owner = ? AND state = 'active'", c.Escalation.ID, derefOr(c.Escalation.LeaseOwner, "")).
					Updates(escalationUpdates(c.Update, now))
				if res.Error != nil {
					return fmt.Errorf("saving escalation %d: %w", c.Escalation.ID, res.Error)
				}
				stored[i] = res.RowsAffected > 0
			}
		}
		var msgs []Message
		for i, c := range checks {
			if stored[i] {
				msgs = append(msgs, c.Messages...)
			}
		}
		n, err := tx.insertPlanned(ctx, msgs)
		planned = n
		return err
	})
	return planned, stored, err
}

func escalationUpdates(u EscalationUpdate, now time.Time) map[string]any {
	return map[string]any{"step": u.Step, "step_started_at": u.StepStartedAt.UTC(), "next_check_at": utcPtr(u.NextCheckAt),
		"state": u.State, "lease_owner": nil, "lease_until": nil, "updated_at": now}
}

// updateEscalationsPostgres stores the checks' updates in one UPDATE …
// FROM (VALUES …) per chunk, marking the ones it stored.
func (s *Store) updateEscalationsPostgres(ctx context.Context, checks []EscalationCheck, stored []bool, now time.Time) error {
	index := make(map[int64]int, len(checks))
	for start := 0; start < len(checks); start += insertChunk {
		chunk := checks[start:min(start+insertChunk, len(checks))]
		var (
			sql  strings.Builder
			args = make([]any, 0, 6*len(chunk)+1)
		)
		sql.WriteString(`UPDATE escalations SET step = v.step, step_started_at = v.started, next_check_at = v.next, state = v.state,
			lease_owner = NULL, lease_until = NULL, updated_at = ? FROM (VALUES `)
		args = append(args, now)
		for i, c := range chunk {
			if i > 0 {
				sql.WriteString(", ")
			}
			sql.WriteString("(CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS INTEGER), CAST(? AS TIMESTAMPTZ), CAST(? AS TIMESTAMPTZ), CAST(? AS TEXT))")
			args = append(args, c.Escalation.ID, derefOr(c.Escalation.LeaseOwner, ""), c.Update.Step, c.Update.StepStartedAt.UTC(), utcPtr(c.Update.NextCheckAt), c.Update.State)
			index[c.Escalation.ID] = start + i
		}
		sql.WriteString(`) AS v (id, owner, step, started, next, state)
			WHERE escalations.id = v.id AND escalations.lease_owner = v.owner AND escalations.state = 'active'
			RETURNING escalations.id`)
		ids, err := s.returnedIDs(ctx, sql.String(), args)
		if err != nil {
			return fmt.Errorf("saving escalations: %w", err)
		}
		for _, id := range ids {
			stored[index[id]] = true
		}
	}
	return nil
}

// MessageFinish is one send's outcome, for FinishMessages.
type MessageFinish struct {
	Message *Message
	Outcome MessageOutcome
}

// ErrRetryNotBatched means FinishMessages was given a retry (an outcome
// with Status queued); FinishMessage handles those.
var ErrRetryNotBatched = errors.New("a retry cannot be finished in a batch")

// FinishMessages is FinishMessage for a batch of final outcomes (sent or
// failed; not retries), in one transaction. counted[i] reports whether
// outcome i counted (its sender still held the message).
func (s *Store) FinishMessages(ctx context.Context, fs []MessageFinish) (counted []bool, err error) {
	for _, f := range fs {
		if f.Outcome.Status == MessageQueued || f.Outcome.RetryAt != nil {
			return nil, ErrRetryNotBatched
		}
	}
	if len(fs) == 0 {
		return nil, nil
	}
	err = s.InTx(ctx, func(tx *Store) error {
		counted = make([]bool, len(fs))
		now := tx.clock.Now().UTC()
		if tx.Dialect() == DialectPostgres {
			if err := tx.finishMessagesPostgres(ctx, fs, counted, now); err != nil {
				return err
			}
		} else {
			for i, f := range fs {
				updates := map[string]any{"status": f.Outcome.Status, "vendor": f.Outcome.Vendor, "vendor_id": f.Outcome.VendorID,
					"error": truncate(f.Outcome.Error, 2000), "lease_owner": nil, "lease_until": nil}
				if f.Outcome.Status == MessageSent {
					updates["sent_at"] = now
				}
				res := tx.db.WithContext(ctx).Model(&Message{}).Where("id = ? AND status = 'sending' AND lease_owner = ?", f.Message.ID, derefOr(f.Message.LeaseOwner, "")).Updates(updates)
				if res.Error != nil {
					return fmt.Errorf("recording message %d: %w", f.Message.ID, res.Error)
				}
				counted[i] = res.RowsAffected > 0
			}
		}
		var changes []MessageChange
		for i, f := range fs {
			if counted[i] {
				changes = append(changes, MessageChange{MessageID: f.Message.ID, At: now, FromStatus: MessageSending, ToStatus: f.Outcome.Status, Detail: truncate(f.Outcome.Detail, 2000)})
			}
		}
		for start := 0; start < len(changes); start += insertChunk {
			chunk := changes[start:min(start+insertChunk, len(changes))]
			if err := tx.db.WithContext(ctx).Create(&chunk).Error; err != nil {
				return fmt.Errorf("logging message changes: %w", err)
			}
		}
		return nil
	})
	return counted, err
}

func (s *Store) finishMessagesPostgres(ctx context.Context, fs []MessageFinish, counted []bool, now time.Time) error {
	index := make(map[int64]int, len(fs))
	for start := 0; start < len(fs); start += insertChunk {
		chunk := fs[start:min(start+insertChunk, len(fs))]
		var (
			sql  strings.Builder
			args = make([]any, 0, 6*len(chunk)+1)
		)
		sql.WriteString(`UPDATE messages SET status = v.status, vendor = v.vendor, vendor_id = v.vendor_id, error = v.error,
			lease_owner = NULL, lease_until = NULL,
			sent_at = CASE WHEN v.status = 'sent' THEN CAST(? AS TIMESTAMPTZ) ELSE messages.sent_at END FROM (VALUES `)
		args = append(args, now)
		for i, f := range chunk {
			if i > 0 {
				sql.WriteString(", ")
			}
			sql.WriteString("(CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT))")
			args = append(args, f.Message.ID, derefOr(f.Message.LeaseOwner, ""), f.Outcome.Status, f.Outcome.Vendor, f.Outcome.VendorID, truncate(f.Outcome.Error, 2000))
			index[f.Message.ID] = start + i
		}
		sql.WriteString(`) AS v (id, owner, status, vendor, vendor_id, error)
			WHERE messages.id = v.id AND messages.status = 'sending' AND messages.lease_owner = v.owner
			RETURNING messages.id`)
		ids, err := s.returnedIDs(ctx, sql.String(), args)
		if err != nil {
			return fmt.Errorf("recording messages: %w", err)
		}
		for _, id := range ids {
			counted[index[id]] = true
		}
	}
	return nil
}

// returnedIDs runs a statement that returns ids. It reads the rows itself:
// gorm's Scan renders the statement's SQL for its trace even when nothing
// is logged, a cost that shows in a burst.
func (s *Store) returnedIDs(ctx context.Context, sql string, args []any) ([]int64, error) {
	rows, err := s.db.WithContext(ctx).Raw(sql, args...).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}
