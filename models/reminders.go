package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm/clause"
)

// RecurringNotification is one reminder's state for one incident: when it
// runs next and how many times it has been sent. Stored, so reminders
// survive restarts; leased, so one replica sends each.
type RecurringNotification struct {
	ID         int64
	IncidentID int64
	Name       string
	NextRunAt  time.Time
	SentCount  int
	LeaseOwner *string
	LeaseUntil *time.Time
	DoneAt     *time.Time
	CreatedAt  time.Time
}

// NewReminder schedules a registered notification for an incident.
type NewReminder struct {
	Name       string
	FirstRunAt time.Time
}

// AddReminders schedules reminders for an incident; ones already scheduled
// are left as they are.
func (s *Store) AddReminders(ctx context.Context, incidentID int64, rs ...NewReminder) error {
	if len(rs) == 0 {
		return nil
	}
	now := s.clock.Now()
	rows := make([]RecurringNotification, len(rs))
	for i, r := range rs {
		rows[i] = RecurringNotification{IncidentID: incidentID, Name: r.Name, NextRunAt: r.FirstRunAt.UTC(), CreatedAt: now}
	}
	// One statement for all of them: this is on the path of every new
	// incident.
	if err := s.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&rows).Error; err != nil {
		return fmt.Errorf("scheduling %d reminders: %w", len(rows), err)
	}
	return nil
}

// RestartReminders re-arms an incident's finished reminders (after a
// re-open) from the given first run times.
func (s *Store) RestartReminders(ctx context.Context, incidentID int64, rs ...NewReminder) error {
	for _, r := range rs {
		err := s.db.WithContext(ctx).Model(&RecurringNotification{}).Where("incident_id = ? AND name = ?", incidentID, r.Name).
			Updates(map[string]any{"next_run_at": r.FirstRunAt.UTC(), "sent_count": 0, "done_at": nil, "lease_owner": nil, "lease_until": nil}).Error
		if err != nil {
			return fmt.Errorf("restarting reminder %s: %w", r.Name, err)
		}
	}
	return s.AddReminders(ctx, incidentID, rs...)
}

// LeaseDueReminders hands due reminders to owner until now+lease.
func (s *Store) LeaseDueReminders(ctx context.Context, owner string, limit int, lease time.Duration) ([]RecurringNotification, error) {
	now := s.clock.Now()
	lock := ""
	if s.Dialect() == DialectPostgres {
		lock = "FOR UPDATE SKIP LOCKED"
	}
	var out []RecurringNotification
	err := s.db.WithContext(ctx).Raw(`UPDATE recurring_notifications SET lease_owner = ?, lease_until = ?
		WHERE id IN (SELECT id FROM recurring_notifications
			WHERE done_at IS NULL AND next_run_at <= ? AND (lease_until IS NULL OR lease_until < ?)
			ORDER BY next_run_at LIMIT ? `+lock+`)
		RETURNING *`, owner, now.Add(lease), now, now, limit).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("leasing reminders: %w", err)
	}
	return out, nil
}

// FinishReminder records a run: the new sent count and the next run, or
// done when next is nil. Only the lease holder's update counts.
func (s *Store) FinishReminder(ctx context.Context, r *RecurringNotification, sentCount int, next *time.Time) error {
	updates := map[string]any{"sent_count": sentCount, "lease_owner": nil, "lease_until": nil}
	if next == nil {
		updates["done_at"] = s.clock.Now()
	} else {
		updates["next_run_at"] = next.UTC()
	}
	err := s.db.WithContext(ctx).Model(&RecurringNotification{}).Where("id = ? AND lease_owner = ?", r.ID, derefOr(r.LeaseOwner, "")).Updates(updates).Error
	if err != nil {
		return fmt.Errorf("recording reminder run: %w", err)
	}
	return nil
}

// Reminders lists an incident's reminder states (for tests and the doc).
func (s *Store) Reminders(ctx context.Context, incidentID int64) ([]RecurringNotification, error) {
	var out []RecurringNotification
	if err := s.db.WithContext(ctx).Where("incident_id = ?", incidentID).Order("name").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("loading reminders: %w", err)
	}
	return out, nil
}
