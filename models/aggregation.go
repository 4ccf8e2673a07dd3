package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// RecentEscalations counts the escalations started since then on the plan
// that planVersionID belongs to (any of its versions): the aggregation
// threshold's measure of an alert storm.
func (s *Store) RecentEscalations(ctx context.Context, planVersionID int64, since time.Time) (int, error) {
	var n int64
	err := s.db.WithContext(ctx).Raw(`SELECT count(*) FROM escalations
		WHERE plan_version_id IN (SELECT id FROM plan_versions
			WHERE plan_id = (SELECT plan_id FROM plan_versions WHERE id = ?))
		AND created_at > ?`, planVersionID, since.UTC()).Scan(&n).Error
	if err != nil {
		return 0, fmt.Errorf("counting recent escalations of plan version %d: %w", planVersionID, err)
	}
	return int(n), nil
}

// LeaseBatch leases, for the sender holding lead, every other queued page
// of lead's batch (whether due yet or not; claimed and resolved
// escalations' pages are left alone) under the same lease, and gives them
// lead's claim code: the batched message claims them all.
func (s *Store) LeaseBatch(ctx context.Context, lead *Message) ([]Message, error) {
	if lead.BatchKey == "" || lead.LeaseOwner == nil || lead.LeaseUntil == nil {
		return nil, nil
	}
	lock := ""
	if s.Dialect() == DialectPostgres {
		lock = "FOR UPDATE OF messages SKIP LOCKED"
	}
	var out []Message
	err := s.db.WithContext(ctx).Raw(`UPDATE messages SET status = 'sending', lease_owner = ?, lease_until = ?, attempts = attempts + 1, claim_code = ?
		WHERE id IN (SELECT messages.id FROM messages
			LEFT JOIN escalations ON escalations.id = messages.escalation_id
			WHERE messages.batch_key = ? AND messages.status = 'queued' AND messages.id <> ?
			AND (messages.escalation_id IS NULL OR escalations.state IN ('active', 'exhausted'))
			ORDER BY messages.id `+lock+`)
		RETURNING *`, *lead.LeaseOwner, lead.LeaseUntil.UTC(), lead.ClaimCode, lead.BatchKey, lead.ID).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("leasing the batch of message %d: %w", lead.ID, err)
	}
	return out, nil
}

// IncidentsByClaimCode lists the incidents a claim code was sent for,
// newest page first: one for an ordinary page, all of a batch's for a
// batched one.
func (s *Store) IncidentsByClaimCode(ctx context.Context, code string) ([]int64, error) {
	var rows []struct{ IncidentID int64 }
	err := s.db.WithContext(ctx).Raw(`SELECT incident_id, max(id) AS last FROM messages
		WHERE claim_code = ? AND incident_id IS NOT NULL GROUP BY incident_id ORDER BY last DESC`, code).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("finding claim code: %w", err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("finding claim code: %w", gorm.ErrRecordNotFound)
	}
	out := make([]int64, len(rows))
	for i, r := range rows {
		out[i] = r.IncidentID
	}
	return out, nil
}

// SetClaimCode gives messages a claim code: the pages of a batch leased
// together share the code of the one that leads them.
func (s *Store) SetClaimCode(ctx context.Context, ids []int64, code string) error {
	if len(ids) == 0 {
		return nil
	}
	if err := s.db.WithContext(ctx).Model(&Message{}).Where("id IN ?", ids).Update("claim_code", code).Error; err != nil {
		return fmt.Errorf("setting the claim code of %d messages: %w", len(ids), err)
	}
	return nil
}
