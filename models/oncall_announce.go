package models

import (
	"context"
	"fmt"
	"time"
)

// OncallAnnouncement is who Herald last announced as on call for a role
// of a team (the channel post and the DM of a handoff). The announcer
// compares it with the schedules to find handoffs.
type OncallAnnouncement struct {
	TeamID      string `gorm:"primaryKey"`
	Role        string `gorm:"primaryKey"`
	PersonID    string
	ShiftStart  time.Time // when the announced person's shift started
	AnnouncedAt time.Time
}

// OncallSummary is one firing of the on-call summary schedule: the
// replica whose insert wins posts that firing's summaries.
type OncallSummary struct {
	FireAt    time.Time `gorm:"primaryKey"`
	Owner     string
	CreatedAt time.Time
}

// OncallAnnouncements lists every team's last announced on-call people.
func (s *Store) OncallAnnouncements(ctx context.Context) ([]OncallAnnouncement, error) {
	var out []OncallAnnouncement
	if err := s.db.WithContext(ctx).Order("team_id, role").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("listing on-call announcements: %w", err)
	}
	return out, nil
}

// RecordOncallHandoff stores next as the announced on-call person of its
// team and role, and in the same transaction enqueues jobs (the posts
// announcing it). prev is what the caller read before: nil when the team
// and role had no row. It reports whether it stored the handoff; false
// means someone else (another replica, an earlier run) changed the row
// since prev was read, and nothing was stored or enqueued.
func (s *Store) RecordOncallHandoff(ctx context.Context, prev *OncallAnnouncement, next OncallAnnouncement, jobs ...NewJob) (bool, error) {
	next.ShiftStart, next.AnnouncedAt = next.ShiftStart.UTC(), s.clock.Now().UTC()
	won := false
	err := s.InTx(ctx, func(tx *Store) error {
		var (
			n   int64
			err error
		)
		if prev == nil {
			res := tx.db.WithContext(ctx).Exec(`INSERT INTO oncall_announcements (team_id, role, person_id, shift_start, announced_at)
				VALUES (?, ?, ?, ?, ?) ON CONFLICT (team_id, role) DO NOTHING`, next.TeamID, next.Role, next.PersonID, next.ShiftStart, next.AnnouncedAt)
			n, err = res.RowsAffected, res.Error
		} else {
			res := tx.db.WithContext(ctx).Model(&OncallAnnouncement{}).
				Where("team_id = ? AND role = ? AND person_id = ?", next.TeamID, next.Role, prev.PersonID).
				Updates(map[string]any{"person_id": next.PersonID, "shift_start": next.ShiftStart, "announced_at": next.AnnouncedAt})
			n, err = res.RowsAffected, res.Error
		}
		if err != nil {
			return fmt.Errorf("recording the %s on-call handoff of team %s: %w", next.Role, next.TeamID, err)
		}
		if n != 1 {
			return nil
		}
		won = true
		return tx.enqueueJobRows(ctx, jobs)
	})
	if err != nil {
		return false, err
	}
	return won, nil
}

// ClaimOncallSummary makes owner the poster of the summaries of the
// firing at fireAt, enqueueing jobs in the same transaction: it reports
// whether this call won (false: the firing was claimed before, by this
// replica or another, and nothing was enqueued).
func (s *Store) ClaimOncallSummary(ctx context.Context, fireAt time.Time, owner string, jobs ...NewJob) (bool, error) {
	won := false
	err := s.InTx(ctx, func(tx *Store) error {
		res := tx.db.WithContext(ctx).Exec(`INSERT INTO oncall_summaries (fire_at, owner, created_at) VALUES (?, ?, ?)
			ON CONFLICT (fire_at) DO NOTHING`, fireAt.UTC(), owner, tx.clock.Now().UTC())
		if res.Error != nil {
			return fmt.Errorf("claiming the on-call summary of %s: %w", fireAt.UTC().Format(time.RFC3339), res.Error)
		}
		if res.RowsAffected != 1 {
			return nil
		}
		won = true
		return tx.enqueueJobRows(ctx, jobs)
	})
	if err != nil {
		return false, err
	}
	return won, nil
}

// TeamsOfPerson lists the teams a person is a member of, by name.
func (s *Store) TeamsOfPerson(ctx context.Context, personID string) ([]Team, error) {
	var out []Team
	err := s.db.WithContext(ctx).Joins("JOIN team_members ON team_members.team_id = teams.id").
		Where("team_members.person_id = ?", personID).Order("teams.name").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("listing the teams of person %s: %w", personID, err)
	}
	return out, nil
}
