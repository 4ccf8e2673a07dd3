package models

import (
	"context"
	"fmt"
	"time"
)

// PageRecord is one page the engine sent, or gave up on, for an incident:
// what the incident's document shows on its timeline ("Paged Alice
// (primary, Payments weekly) by sms").
type PageRecord struct {
	At     time.Time // when it left, or was last tried
	Person string    // the person's name; "" for a page posted in a channel
	Role   string
	Target string
	Mode   string
	Step   int
	Status string // sent, delivered or failed
	// Source says what put the person on call (a schedule's rotation, an
	// override, the manager standing in for a gap); "" when nothing more
	// is known. No destination or vendor error is included: those may
	// hold phone numbers and addresses.
	Source string
}

// maxPageRecords bounds an incident document's pages (an alert storm's
// repeats).
const maxPageRecords = 500

// PagesOf lists an incident's finished escalation pages, oldest first, at
// most maxPageRecords.
func (s *Store) PagesOf(ctx context.Context, incidentID int64) ([]PageRecord, error) {
	var rows []struct {
		SentAt          *time.Time
		CreatedAt       time.Time
		Name            *string
		Role            string
		Target          string
		Mode            string
		Step            int
		Status          string
		RecipientSource string
	}
	err := s.db.WithContext(ctx).Table("messages").
		Select("messages.sent_at, messages.created_at, people.name, messages.role, messages.target, messages.mode, messages.step, messages.status, messages.recipient_source").
		Joins("LEFT JOIN people ON people.id = messages.person_id").
		Where("messages.incident_id = ? AND NOT messages.out_of_band AND messages.status IN ?", incidentID, []string{MessageSent, MessageDelivered, MessageFailed}).
		Order("COALESCE(messages.sent_at, messages.created_at), messages.id").Limit(maxPageRecords).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("listing the pages of incident %d: %w", incidentID, err)
	}
	out := make([]PageRecord, len(rows))
	for i, r := range rows {
		at := r.CreatedAt
		if r.SentAt != nil {
			at = *r.SentAt
		}
		p := PageRecord{At: at.UTC(), Role: r.Role, Target: r.Target, Mode: r.Mode, Step: r.Step, Status: r.Status, Source: r.RecipientSource}
		if r.Name != nil {
			p.Person = *r.Name
		}
		out[i] = p
	}
	return out, nil
}
