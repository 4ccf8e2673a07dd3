package models

import (
	"context"
	"fmt"
	"time"
)

// Phone-side storage: what Twilio's callbacks and SMS replies need.

// PhoneContactMethods lists every sms and call contact method. The
// destinations are encrypted with a random nonce, so a number cannot be
// looked up by value: callers decrypt and compare. That is one row per
// phone of every person per inbound SMS; fine for hundreds of people, and
// a keyed hash (blind index) column is the fix when it is not.
func (s *Store) PhoneContactMethods(ctx context.Context) ([]ContactMethod, error) {
	var out []ContactMethod
	if err := s.db.WithContext(ctx).Where("mode IN ?", []string{"sms", "call"}).Order("created_at").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("loading phone contact methods: %w", err)
	}
	return out, nil
}

// SetContactsOptedOut marks contact methods opted out at at (STOP), or
// opted in again with a nil at (START). It reports how many changed.
func (s *Store) SetContactsOptedOut(ctx context.Context, ids []string, at *time.Time) (int64, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	res := s.db.WithContext(ctx).Model(&ContactMethod{}).Where("id IN ?", ids).Update("opted_out_at", utcPtr(at))
	if res.Error != nil {
		return 0, fmt.Errorf("updating opt-out: %w", res.Error)
	}
	return res.RowsAffected, nil
}

// MessageByClaimCode is the newest message sent with a claim code.
func (s *Store) MessageByClaimCode(ctx context.Context, code string) (*Message, error) {
	var m Message
	if err := s.db.WithContext(ctx).Where("claim_code = ? AND incident_id IS NOT NULL", code).Order("id DESC").Take(&m).Error; err != nil {
		return nil, fmt.Errorf("finding claim code: %w", err)
	}
	return &m, nil
}

// PhonePagedIncidents lists the incidents whose pages (sms or call, sent
// or on their way) reached any of people, most recently paged first.
// activeOnly keeps those whose escalation is still active.
func (s *Store) PhonePagedIncidents(ctx context.Context, people []string, activeOnly bool) ([]int64, error) {
	if len(people) == 0 {
		return nil, nil
	}
	q := s.db.WithContext(ctx).Table("messages").Select("messages.incident_id, MAX(messages.id) AS last_id").
		Where("messages.person_id IN ? AND messages.mode IN ? AND NOT messages.out_of_band AND messages.incident_id IS NOT NULL AND messages.status IN ?",
			people, []string{"sms", "call"}, []string{MessageSending, MessageSent, MessageDelivered})
	if activeOnly {
		q = q.Joins("JOIN escalations ON escalations.id = messages.escalation_id AND escalations.state = ?", EscalationActive)
	}
	var rows []struct {
		IncidentID int64
		LastID     int64
	}
	if err := q.Group("messages.incident_id").Order("last_id DESC").Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("finding paged incidents: %w", err)
	}
	out := make([]int64, len(rows))
	for i, r := range rows {
		out[i] = r.IncidentID
	}
	return out, nil
}
