package models

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// IncidentRole assigns a named role (comms, scribe...) in one incident.
// The lead (commander) lives on the incident itself.
type IncidentRole struct {
	ID         int64
	IncidentID int64
	Role       string
	UserID     string
	User       *ExternalUser `gorm:"foreignKey:UserID"`
	AssignedBy *string
	AssignedAt time.Time
}

// ActionItem is a follow-up to do after the incident.
type ActionItem struct {
	ID          int64
	IncidentID  int64
	Text        string
	OwnerID     *string
	Owner       *ExternalUser `gorm:"foreignKey:OwnerID"`
	CreatedByID *string
	DoneAt      *time.Time
	CreatedAt   time.Time
}

// Participant is someone who joined or spoke in an incident's channel.
type Participant struct {
	ID            int64
	IncidentID    int64
	UserID        string
	User          *ExternalUser `gorm:"foreignKey:UserID"`
	JoinedAt      time.Time
	MessageCount  int
	LastMessageAt *time.Time
}

// KeywordCooldown remembers when a keyword last answered in a channel.
type KeywordCooldown struct {
	ChannelID  string `gorm:"primaryKey"`
	Keyword    string `gorm:"primaryKey"`
	LastSentAt time.Time
}

// AuditEntry records who changed what, with the value before and after.
type AuditEntry struct {
	ID         int64
	At         time.Time
	ActorID    *string
	IncidentID *int64
	Action     string
	Before     string
	After      string
	// Actor names who made a change that is not an incident's (a
	// schedule's: a person, "herald apply"…); ActorID is a Slack user.
	Actor string
	// Subject is what a change outside an incident was to, like
	// "schedule:<id>" (ScheduleSubject); "" for an incident's.
	Subject string
}

// TableName keeps the audit table's conventional name.
func (AuditEntry) TableName() string { return "audit_log" }

// ErrNoChange means a requested change would change nothing (closing a
// closed incident); nothing was written.
var ErrNoChange = errors.New("nothing to change")

// Change is what a change to an incident records besides the incident.
type Change struct {
	Action   string // audit action, e.g. "incident.close"
	Before   string
	After    string
	Timeline []TimelineEvent
	Jobs     []NewJob
}

// ChangeIncident applies a change to an incident under a row lock, bumps
// its version and records the timeline, audit entry and follow-up jobs in
// the same transaction. apply returns ErrNoChange (wrapped or not) when
// there is nothing to do; concurrent changes are applied one after the other,
// each seeing the previous one's result.
func (s *Store) ChangeIncident(ctx context.Context, id int64, actorID *string, apply func(inc *Incident) (Change, error)) (*Incident, error) {
	var out *Incident
	err := s.InTx(ctx, func(tx *Store) error {
		var inc Incident
		q := tx.db.WithContext(ctx)
		if tx.Dialect() == DialectPostgres {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		if err := q.Preload("Lead").Take(&inc, id).Error; err != nil {
			return fmt.Errorf("loading incident %d: %w", id, err)
		}
		ch, err := apply(&inc)
		if err != nil {
			return err
		}
		now := tx.clock.Now()
		inc.Version++
		inc.UpdatedAt = now
		if err := tx.db.WithContext(ctx).Omit(clause.Associations).Save(&inc).Error; err != nil {
			return fmt.Errorf("saving incident %d: %w", id, err)
		}
		for i := range ch.Timeline {
			e := ch.Timeline[i]
			e.IncidentID = inc.ID
			if e.AuthorID == nil {
				e.AuthorID = actorID
			}
			if err := tx.AddTimelineEvent(ctx, &e); err != nil {
				return err
			}
		}
		if ch.Action != "" {
			if err := tx.addAudit(ctx, AuditEntry{At: now, ActorID: actorID, IncidentID: &inc.ID, Action: ch.Action, Before: ch.Before, After: ch.After}); err != nil {
				return err
			}
		}
		if _, err := tx.EnqueueJobs(ctx, ch.Jobs...); err != nil {
			return err
		}
		out = &inc
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Reload with people for the caller's reply.
	return s.IncidentByID(ctx, out.ID)
}

func (s *Store) addAudit(ctx context.Context, e AuditEntry) error {
	if e.Actor == "" {
		e.Actor = auditActorFrom(ctx) // a web user (WithAuditActor)
	}
	if err := s.db.WithContext(ctx).Create(&e).Error; err != nil {
		return fmt.Errorf("writing audit entry: %w", err)
	}
	return nil
}

// AuditLog returns an incident's audit entries, oldest first.
func (s *Store) AuditLog(ctx context.Context, incidentID int64) ([]AuditEntry, error) {
	var out []AuditEntry
	if err := s.db.WithContext(ctx).Where("incident_id = ?", incidentID).Order("at, id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("loading audit log: %w", err)
	}
	return out, nil
}

// SetRole gives a role to a user in an incident (replacing its holder).
func (s *Store) SetRole(ctx context.Context, incidentID int64, role, userID string, by *string) error {
	r := IncidentRole{IncidentID: incidentID, Role: strings.ToLower(role), UserID: userID, AssignedBy: by, AssignedAt: s.clock.Now()}
	err := s.db.WithContext(ctx).Omit(clause.Associations).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "incident_id"}, {Name: "role"}},
		DoUpdates: clause.AssignmentColumns([]string{"user_id", "assigned_by", "assigned_at"}),
	}).Create(&r).Error
	if err != nil {
		return fmt.Errorf("assigning role %s: %w", role, err)
	}
	return nil
}

// Roles lists an incident's role holders.
func (s *Store) Roles(ctx context.Context, incidentID int64) ([]IncidentRole, error) {
	var out []IncidentRole
	if err := s.db.WithContext(ctx).Preload("User").Where("incident_id = ?", incidentID).Order("role").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("loading roles: %w", err)
	}
	return out, nil
}

// AddActionItem records a follow-up action.
func (s *Store) AddActionItem(ctx context.Context, a *ActionItem) error {
	if strings.TrimSpace(a.Text) == "" {
		return fmt.Errorf("%w: an action item needs text", ErrInvalid)
	}
	a.CreatedAt = s.clock.Now()
	if err := s.db.WithContext(ctx).Omit(clause.Associations).Create(a).Error; err != nil {
		return fmt.Errorf("adding action item: %w", err)
	}
	return nil
}

// ActionItems lists an incident's action items in the order they were added.
func (s *Store) ActionItems(ctx context.Context, incidentID int64) ([]ActionItem, error) {
	var out []ActionItem
	if err := s.db.WithContext(ctx).Preload("Owner").Where("incident_id = ?", incidentID).Order("id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("loading action items: %w", err)
	}
	return out, nil
}

// TouchParticipant records that a user joined (spoke=false) or spoke in an
// incident's channel.
func (s *Store) TouchParticipant(ctx context.Context, incidentID int64, userID string, at time.Time, spoke bool) error {
	at = at.UTC()
	p := Participant{IncidentID: incidentID, UserID: userID, JoinedAt: at}
	updates := []string{}
	if spoke {
		p.MessageCount, p.LastMessageAt = 1, &at
		updates = []string{"last_message_at"}
	}
	oc := clause.OnConflict{Columns: []clause.Column{{Name: "incident_id"}, {Name: "user_id"}}, DoNothing: !spoke}
	if spoke {
		oc.DoUpdates = append(clause.AssignmentColumns(updates), clause.Assignment{
			Column: clause.Column{Name: "message_count"}, Value: gorm.Expr("participants.message_count + 1")})
	}
	if err := s.db.WithContext(ctx).Omit(clause.Associations).Clauses(oc).Create(&p).Error; err != nil {
		return fmt.Errorf("recording participant: %w", err)
	}
	return nil
}

// Participants lists who took part in an incident.
func (s *Store) Participants(ctx context.Context, incidentID int64) ([]Participant, error) {
	var out []Participant
	if err := s.db.WithContext(ctx).Preload("User").Where("incident_id = ?", incidentID).Order("joined_at, id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("loading participants: %w", err)
	}
	return out, nil
}

// TakeKeywordSlot reports whether a keyword may answer in a channel now
// (and records it), at most once per cooldown across all replicas.
func (s *Store) TakeKeywordSlot(ctx context.Context, channelID, keyword string, cooldown time.Duration) (bool, error) {
	now := s.clock.Now()
	res := s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "channel_id"}, {Name: "keyword"}},
		DoUpdates: clause.AssignmentColumns([]string{"last_sent_at"}),
		Where:     clause.Where{Exprs: []clause.Expression{clause.Lt{Column: clause.Column{Table: "keyword_cooldowns", Name: "last_sent_at"}, Value: now.Add(-cooldown)}}},
	}).Create(&KeywordCooldown{ChannelID: channelID, Keyword: keyword, LastSentAt: now})
	if res.Error != nil {
		return false, fmt.Errorf("keyword cooldown: %w", res.Error)
	}
	return res.RowsAffected > 0, nil
}

// RemoveTimelineSource marks the timeline entry made from an outside object
// (an unpinned message) as removed.
func (s *Store) RemoveTimelineSource(ctx context.Context, incidentID int64, kind TimelineKind, sourceRef string) (bool, error) {
	res := s.db.WithContext(ctx).Model(&TimelineEvent{}).
		Where("incident_id = ? AND kind = ? AND source_ref = ? AND removed_at IS NULL", incidentID, kind, sourceRef).
		Update("removed_at", s.clock.Now())
	if res.Error != nil {
		return false, fmt.Errorf("removing timeline entry: %w", res.Error)
	}
	return res.RowsAffected > 0, nil
}

// --- headline post lease -------------------------------------------------

// ClaimHeadline takes the short lease on an incident's headline post (the
// row is created on first use). claimed is false while another worker holds
// it.
func (s *Store) ClaimHeadline(ctx context.Context, incidentID int64, lease time.Duration) (hp *HeadlinePost, claimed bool, err error) {
	now := s.clock.Now()
	row := HeadlinePost{IncidentID: incidentID, CreatedAt: now, UpdatedAt: now}
	if err := s.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error; err != nil {
		return nil, false, fmt.Errorf("creating headline row: %w", err)
	}
	res := s.db.WithContext(ctx).Model(&HeadlinePost{}).
		Where("incident_id = ? AND (posting_until IS NULL OR posting_until < ?)", incidentID, now).
		Update("posting_until", now.Add(lease))
	if res.Error != nil {
		return nil, false, fmt.Errorf("claiming headline: %w", res.Error)
	}
	var out HeadlinePost
	if err := s.db.WithContext(ctx).Where("incident_id = ?", incidentID).Take(&out).Error; err != nil {
		return nil, false, fmt.Errorf("loading headline: %w", err)
	}
	return &out, res.RowsAffected > 0, nil
}

// ReleaseHeadline records what was posted (channel and ts, when new) and the
// version shown, and gives up the lease.
func (s *Store) ReleaseHeadline(ctx context.Context, incidentID int64, channelID, ts string, version int64) error {
	updates := map[string]any{"posting_until": nil, "updated_at": s.clock.Now(),
		"rendered_version": gorm.Expr("CASE WHEN rendered_version > ? THEN rendered_version ELSE ? END", version, version)}
	if ts != "" {
		updates["channel_id"], updates["message_ts"] = channelID, ts
	}
	if err := s.db.WithContext(ctx).Model(&HeadlinePost{}).Where("incident_id = ?", incidentID).Updates(updates).Error; err != nil {
		return fmt.Errorf("releasing headline: %w", err)
	}
	return nil
}

// --- comms channels --------------------------------------------------------

const pendingChannelPrefix = "pending:"

// ErrChannelClaimed means another worker is creating the incident's channel
// right now, or it exists.
var ErrChannelClaimed = errors.New("comms channel exists or is being created")

// ClaimCommsChannel reserves the incident's comms channel before it is
// created in Slack, so two clicks or two replicas never create two. A claim
// older than staleAfter (its creator died) is taken over.
func (s *Store) ClaimCommsChannel(ctx context.Context, incidentID int64, name string, private bool, staleAfter time.Duration) (*CommsChannel, error) {
	now := s.clock.Now()
	cc := CommsChannel{IncidentID: incidentID, ChannelID: fmt.Sprintf("%s%d", pendingChannelPrefix, incidentID), ChannelName: name, Private: private, CreatedAt: now}
	res := s.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&cc)
	if res.Error != nil {
		return nil, fmt.Errorf("claiming comms channel: %w", res.Error)
	}
	if res.RowsAffected > 0 {
		return &cc, nil
	}
	res = s.db.WithContext(ctx).Model(&CommsChannel{}).
		Where("incident_id = ? AND channel_id = ? AND created_at < ?", incidentID, cc.ChannelID, now.Add(-staleAfter)).
		Updates(map[string]any{"created_at": now, "channel_name": name, "private": private})
	if res.Error != nil {
		return nil, fmt.Errorf("taking over comms channel claim: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, ErrChannelClaimed
	}
	return &cc, nil
}

// CompleteCommsChannel records the created Slack channel.
func (s *Store) CompleteCommsChannel(ctx context.Context, incidentID int64, channelID, name string) error {
	err := s.db.WithContext(ctx).Model(&CommsChannel{}).Where("incident_id = ?", incidentID).
		Updates(map[string]any{"channel_id": channelID, "channel_name": name}).Error
	if err != nil {
		return fmt.Errorf("saving comms channel: %w", err)
	}
	return nil
}

// AbandonCommsChannel drops a claim whose creation failed for good.
func (s *Store) AbandonCommsChannel(ctx context.Context, incidentID int64) error {
	err := s.db.WithContext(ctx).Where("incident_id = ? AND channel_id LIKE ?", incidentID, pendingChannelPrefix+"%").Delete(&CommsChannel{}).Error
	if err != nil {
		return fmt.Errorf("abandoning comms channel claim: %w", err)
	}
	return nil
}

// CommsChannelFor returns an incident's comms channel (possibly pending).
func (s *Store) CommsChannelFor(ctx context.Context, incidentID int64) (*CommsChannel, error) {
	var cc CommsChannel
	if err := s.db.WithContext(ctx).Where("incident_id = ?", incidentID).Take(&cc).Error; err != nil {
		return nil, fmt.Errorf("loading comms channel: %w", err)
	}
	return &cc, nil
}

// SaveCommsSummary records the channel's pinned summary message.
func (s *Store) SaveCommsSummary(ctx context.Context, channelID, ts string) error {
	if err := s.db.WithContext(ctx).Model(&CommsChannel{}).Where("channel_id = ?", channelID).Update("summary_ts", ts).Error; err != nil {
		return fmt.Errorf("saving comms summary: %w", err)
	}
	return nil
}

// RenameCommsChannel records a channel's new name.
func (s *Store) RenameCommsChannel(ctx context.Context, channelID, name string) error {
	if err := s.db.WithContext(ctx).Model(&CommsChannel{}).Where("channel_id = ?", channelID).Update("channel_name", name).Error; err != nil {
		return fmt.Errorf("renaming comms channel: %w", err)
	}
	return nil
}

// MarkCommsChannelArchived records that the channel was archived.
func (s *Store) MarkCommsChannelArchived(ctx context.Context, channelID string) error {
	if err := s.db.WithContext(ctx).Model(&CommsChannel{}).Where("channel_id = ?", channelID).Update("archived_at", s.clock.Now()).Error; err != nil {
		return fmt.Errorf("archiving comms channel: %w", err)
	}
	return nil
}

// --- the incident document ---------------------------------------------

// IncidentDoc is everything the incident page shows.
type IncidentDoc struct {
	Incident     *Incident
	Timeline     []TimelineEvent
	ActionItems  []ActionItem
	Participants []Participant
	Roles        []IncidentRole
	Comms        *CommsChannel
	Headline     *HeadlinePost
	// Pages are the escalation's pages, for the timeline.
	Pages []PageRecord
}

// IncidentDocument loads an incident and everything around it.
func (s *Store) IncidentDocument(ctx context.Context, number int64) (*IncidentDoc, error) {
	inc, err := s.IncidentByNumber(ctx, number)
	if err != nil {
		return nil, err
	}
	doc := &IncidentDoc{Incident: inc}
	if doc.Timeline, err = s.Timeline(ctx, inc.ID); err != nil {
		return nil, err
	}
	if doc.ActionItems, err = s.ActionItems(ctx, inc.ID); err != nil {
		return nil, err
	}
	if doc.Participants, err = s.Participants(ctx, inc.ID); err != nil {
		return nil, err
	}
	if doc.Roles, err = s.Roles(ctx, inc.ID); err != nil {
		return nil, err
	}
	if doc.Pages, err = s.PagesOf(ctx, inc.ID); err != nil {
		return nil, err
	}
	if cc, err := s.CommsChannelFor(ctx, inc.ID); err == nil {
		doc.Comms = cc
	} else if !IsNotFound(err) {
		return nil, err
	}
	if hp, err := s.HeadlinePostFor(ctx, inc.ID); err == nil {
		doc.Headline = hp
	} else if !IsNotFound(err) {
		return nil, err
	}
	return doc, nil
}

// UserBySlackID finds a known Slack user.
func (s *Store) UserBySlackID(ctx context.Context, slackUserID string) (*ExternalUser, error) {
	var u ExternalUser
	if err := s.db.WithContext(ctx).Where("slack_user_id = ?", slackUserID).Take(&u).Error; err != nil {
		return nil, fmt.Errorf("finding slack user %s: %w", slackUserID, err)
	}
	return &u, nil
}
