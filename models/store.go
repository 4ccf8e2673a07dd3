package models

import (
	"context"
	"fmt"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Store is Herald's data access: every read and write goes through its
// methods, so the SQL that matters for correctness (locks, conflicts,
// idempotency) lives in one package.
type Store struct {
	db    *gorm.DB
	clock Clock
}

// NewStore wraps an opened database.
func NewStore(db *gorm.DB, clock Clock) *Store {
	if clock == nil {
		clock = SystemClock{}
	}
	return &Store{db: db, clock: clock}
}

// DB exposes the handle for migrations and health checks.
func (s *Store) DB() *gorm.DB { return s.db }

// Clock returns the store's clock.
func (s *Store) Clock() Clock { return s.clock }

// Dialect is DialectPostgres or DialectSQLite.
func (s *Store) Dialect() string { return s.db.Dialector.Name() }

// InTx runs fn in a transaction; fn's Store writes through it.
func (s *Store) InTx(ctx context.Context, fn func(tx *Store) error) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return fn(&Store{db: tx, clock: s.clock})
	})
}

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}

// SlackUser is what Slack tells us of a person.
type SlackUser struct {
	ID          string
	DisplayName string
	Email       string
	TimeZone    string
}

// UpsertSlackUser records a Slack user, refreshing what is known of them.
func (s *Store) UpsertSlackUser(ctx context.Context, u SlackUser) (*ExternalUser, error) {
	if u.ID == "" {
		return nil, fmt.Errorf("upserting slack user: empty user id")
	}
	var out ExternalUser
	err := s.InTx(ctx, func(tx *Store) error {
		now := tx.clock.Now()
		row := ExternalUser{ID: newID(), SlackUserID: u.ID, DisplayName: u.DisplayName, Email: Secret(u.Email), TimeZone: u.TimeZone, CreatedAt: now, UpdatedAt: now}
		if err := tx.db.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "slack_user_id"}}, DoNothing: true}).Create(&row).Error; err != nil {
			return fmt.Errorf("upserting slack user: %w", err)
		}
		if err := tx.db.Where("slack_user_id = ?", u.ID).Take(&out).Error; err != nil {
			return fmt.Errorf("reading slack user: %w", err)
		}
		changed := false
		if u.DisplayName != "" && u.DisplayName != out.DisplayName {
			out.DisplayName, changed = u.DisplayName, true
		}
		if u.Email != "" && u.Email != out.Email.Reveal() {
			out.Email, changed = Secret(u.Email), true
		}
		if u.TimeZone != "" && u.TimeZone != out.TimeZone {
			out.TimeZone, changed = u.TimeZone, true
		}
		if changed {
			out.UpdatedAt = now
			if err := tx.db.Save(&out).Error; err != nil {
				return fmt.Errorf("updating slack user: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// IncidentByID loads an incident with its reporter and lead.
func (s *Store) IncidentByID(ctx context.Context, id int64) (*Incident, error) {
	var inc Incident
	if err := s.db.WithContext(ctx).Preload("Reporter").Preload("Lead").Preload("ResolvedBy").Take(&inc, id).Error; err != nil {
		return nil, fmt.Errorf("loading incident %d: %w", id, err)
	}
	return &inc, nil
}

// IncidentByNumber loads an incident by its human number.
func (s *Store) IncidentByNumber(ctx context.Context, number int64) (*Incident, error) {
	var inc Incident
	if err := s.db.WithContext(ctx).Preload("Reporter").Preload("Lead").Preload("ResolvedBy").Where("number = ?", number).Take(&inc).Error; err != nil {
		return nil, fmt.Errorf("loading incident #%d: %w", number, err)
	}
	return &inc, nil
}

// IncidentByCommsChannel finds the incident worked in a Slack channel.
func (s *Store) IncidentByCommsChannel(ctx context.Context, channelID string) (*Incident, error) {
	var cc CommsChannel
	if err := s.db.WithContext(ctx).Where("channel_id = ?", channelID).Take(&cc).Error; err != nil {
		return nil, fmt.Errorf("finding incident of channel %s: %w", channelID, err)
	}
	return s.IncidentByID(ctx, cc.IncidentID)
}

// AddTimelineEvent appends to an incident's timeline. An entry with a
// SourceRef already recorded for the incident and kind is skipped.
func (s *Store) AddTimelineEvent(ctx context.Context, e *TimelineEvent) error {
	if e.CreatedAt.IsZero() {
		e.CreatedAt = s.clock.Now()
	}
	if e.OccurredAt.IsZero() {
		e.OccurredAt = e.CreatedAt
	}
	q := s.db.WithContext(ctx).Omit(clause.Associations)
	if e.SourceRef != nil {
		// The same outside object again (a retry) adds nothing; one removed
		// and added again (unpinned, re-pinned) comes back.
		q = q.Clauses(clause.OnConflict{
			Columns:     []clause.Column{{Name: "incident_id"}, {Name: "kind"}, {Name: "source_ref"}},
			TargetWhere: clause.Where{Exprs: []clause.Expression{clause.Expr{SQL: "source_ref IS NOT NULL"}}},
			DoUpdates:   clause.Assignments(map[string]any{"removed_at": nil}),
		})
	}
	if err := q.Create(e).Error; err != nil {
		return fmt.Errorf("adding timeline event: %w", err)
	}
	return nil
}

// Timeline returns an incident's entries in the order they happened.
func (s *Store) Timeline(ctx context.Context, incidentID int64) ([]TimelineEvent, error) {
	var out []TimelineEvent
	err := s.db.WithContext(ctx).Preload("Author").Where("incident_id = ?", incidentID).Order("occurred_at, id").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("loading timeline: %w", err)
	}
	return out, nil
}

// SaveHeadlinePost records where an incident's headline post lives.
func (s *Store) SaveHeadlinePost(ctx context.Context, incidentID int64, channelID, ts string) error {
	now := s.clock.Now()
	hp := HeadlinePost{IncidentID: incidentID, ChannelID: channelID, MessageTS: ts, CreatedAt: now, UpdatedAt: now}
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "incident_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"channel_id", "message_ts", "updated_at"}),
	}).Create(&hp).Error
	if err != nil {
		return fmt.Errorf("saving headline post: %w", err)
	}
	return nil
}

// HeadlinePostFor returns an incident's headline post, or an error
// satisfying IsNotFound when none was posted yet.
func (s *Store) HeadlinePostFor(ctx context.Context, incidentID int64) (*HeadlinePost, error) {
	var hp HeadlinePost
	if err := s.db.WithContext(ctx).Where("incident_id = ?", incidentID).Take(&hp).Error; err != nil {
		return nil, fmt.Errorf("loading headline post: %w", err)
	}
	return &hp, nil
}
