package models

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Store methods behind the web UI's incident pages (web/ui/incidents*.go):
// the list's search and filters, and the doc's web-only edits (timeline
// entries, action items, the post-incident review), each written with its
// audit entry in one transaction.

// MaxIncidentSearchLength bounds the list's search text.
const MaxIncidentSearchLength = 200

// IncidentQuery is IncidentFilter with the web list's filters. Zero
// values match everything.
type IncidentQuery struct {
	IncidentFilter
	Severity  Severity // SEV1..SEV4
	ServiceID string
	// TeamID selects the incidents of the team's services.
	TeamID string
	// From and To bound when incidents were reported: [From, To).
	From, To time.Time
	// Text is searched for in titles and summaries, case-insensitively.
	Text string
}

// SearchIncidents is ListIncidents with IncidentQuery's filters: a page of
// incidents, newest first, and how many match in all.
func (s *Store) SearchIncidents(ctx context.Context, q IncidentQuery) ([]Incident, int64, error) {
	status, err := q.scope()
	if err != nil {
		return nil, 0, err
	}
	if q.Severity != SeverityUnset && !q.Severity.Valid() {
		return nil, 0, fmt.Errorf("%w: severity %d is not 1-4", ErrInvalid, q.Severity)
	}
	if n := len([]rune(q.Text)); n > MaxIncidentSearchLength {
		return nil, 0, fmt.Errorf("%w: search text is %d characters, at most %d", ErrInvalid, n, MaxIncidentSearchLength)
	}
	limit := q.Limit
	switch {
	case limit < 0 || q.Offset < 0:
		return nil, 0, fmt.Errorf("%w: incident list limit and offset must not be negative", ErrInvalid)
	case limit == 0:
		limit = DefaultIncidentListLimit
	case limit > MaxIncidentListLimit:
		limit = MaxIncidentListLimit
	}
	where := func(db *gorm.DB) *gorm.DB {
		db = status(db)
		if q.Severity != SeverityUnset {
			db = db.Where("severity = ?", q.Severity)
		}
		if q.ServiceID != "" {
			db = db.Where("service_id = ?", q.ServiceID)
		}
		if q.TeamID != "" {
			db = db.Where("service_id IN (SELECT id FROM services WHERE team_id = ?)", q.TeamID)
		}
		if !q.From.IsZero() {
			db = db.Where("reported_at >= ?", q.From.UTC())
		}
		if !q.To.IsZero() {
			db = db.Where("reported_at < ?", q.To.UTC())
		}
		if t := strings.TrimSpace(q.Text); t != "" {
			like := "%" + likeEscaper.Replace(strings.ToLower(t)) + "%"
			db = db.Where(`(LOWER(title) LIKE ? ESCAPE '\' OR LOWER(summary) LIKE ? ESCAPE '\')`, like, like)
		}
		return db
	}
	var total int64
	if err := s.db.WithContext(ctx).Model(&Incident{}).Scopes(where).Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("counting incidents: %w", err)
	}
	out := []Incident{}
	if int64(q.Offset) >= total {
		return out, total, nil
	}
	err = s.db.WithContext(ctx).Scopes(where).Preload("Reporter").Preload("Lead").
		Order("number DESC").Limit(limit).Offset(q.Offset).Find(&out).Error
	if err != nil {
		return nil, 0, fmt.Errorf("searching incidents: %w", err)
	}
	return out, total, nil
}

// likeEscaper makes search text match literally in LIKE ... ESCAPE '\'.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// WebIncidentChoices are what the incident forms offer: services, teams
// and the active people (by name).
type WebIncidentChoices struct {
	Services []Service
	Teams    []Team
	People   []Person
}

// IncidentChoices loads the incident forms' choices.
func (s *Store) IncidentChoices(ctx context.Context) (*WebIncidentChoices, error) {
	var c WebIncidentChoices
	db := s.db.WithContext(ctx)
	if err := db.Order("name, id").Find(&c.Services).Error; err != nil {
		return nil, fmt.Errorf("listing services: %w", err)
	}
	if err := db.Order("name, id").Find(&c.Teams).Error; err != nil {
		return nil, fmt.Errorf("listing teams: %w", err)
	}
	if err := db.Where("active").Order("name, id").Find(&c.People).Error; err != nil {
		return nil, fmt.Errorf("listing people: %w", err)
	}
	return &c, nil
}

// auditActorKey carries the name of who acts (a web user) to the audit
// entries ChangeIncident writes, which otherwise know only a Slack user.
type auditActorKey struct{}

// WithAuditActor names who acts in ctx ("web:alice") for the audit
// entries of the incident changes made with it.
func WithAuditActor(ctx context.Context, name string) context.Context {
	return context.WithValue(ctx, auditActorKey{}, name)
}

func auditActorFrom(ctx context.Context) string {
	name, _ := ctx.Value(auditActorKey{}).(string)
	return name
}

// webAudit writes an audit entry for an incident changed from the web.
func (s *Store) webAudit(ctx context.Context, incidentID int64, by Actor, action, before, after string) error {
	return s.addAudit(ctx, AuditEntry{At: s.clock.Now().UTC(), ActorID: by.UserID, Actor: by.Name, IncidentID: &incidentID,
		Subject: fmt.Sprintf("incident:%d", incidentID), Action: action, Before: before, After: after})
}

// --- timeline -------------------------------------------------------------

// MaxTimelineText bounds a timeline entry written from the web.
const MaxTimelineText = 4000

func checkText(field, text string, max int) (string, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return "", fmt.Errorf("%w: %s is required", ErrInvalid, field)
	}
	if n := len([]rune(text)); n > max {
		return "", fmt.Errorf("%w: %s is %d characters, at most %d", ErrInvalid, field, n, max)
	}
	return text, nil
}

// AddTimelineNote adds a note to an incident's timeline, dated at (when it
// happened), by a web user.
func (s *Store) AddTimelineNote(ctx context.Context, incidentID int64, text string, at time.Time, by Actor) (*TimelineEvent, error) {
	text, err := checkText("text", text, MaxTimelineText)
	if err != nil {
		return nil, err
	}
	e := &TimelineEvent{IncidentID: incidentID, Kind: TimelineNote, Text: text, AuthorID: by.UserID, OccurredAt: at.UTC()}
	err = s.InTx(ctx, func(tx *Store) error {
		if err := tx.AddTimelineEvent(ctx, e); err != nil {
			return err
		}
		return tx.webAudit(ctx, incidentID, by, "incident.timeline.add", "", stamp(e.OccurredAt)+" "+text)
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// timelineEntry loads one entry of an incident (not found: another
// incident's, or none).
func (s *Store) timelineEntry(ctx context.Context, incidentID, entryID int64) (*TimelineEvent, error) {
	var e TimelineEvent
	if err := s.db.WithContext(ctx).Where("id = ? AND incident_id = ?", entryID, incidentID).Take(&e).Error; err != nil {
		return nil, fmt.Errorf("loading timeline entry %d: %w", entryID, err)
	}
	return &e, nil
}

// EditTimelineEntry changes an entry's text and when it happened.
// ErrNoChange when both are as they were.
func (s *Store) EditTimelineEntry(ctx context.Context, incidentID, entryID int64, text string, at time.Time, by Actor) error {
	text, err := checkText("text", text, MaxTimelineText)
	if err != nil {
		return err
	}
	return s.InTx(ctx, func(tx *Store) error {
		e, err := tx.timelineEntry(ctx, incidentID, entryID)
		if err != nil {
			return err
		}
		if e.Text == text && e.OccurredAt.Equal(at) {
			return ErrNoChange
		}
		err = tx.db.WithContext(ctx).Model(&TimelineEvent{}).Where("id = ?", entryID).
			Updates(map[string]any{"text": text, "occurred_at": at.UTC()}).Error
		if err != nil {
			return fmt.Errorf("editing timeline entry %d: %w", entryID, err)
		}
		return tx.webAudit(ctx, incidentID, by, "incident.timeline.edit", stamp(e.OccurredAt)+" "+e.Text, stamp(at)+" "+text)
	})
}

// SetTimelineEntryHidden hides an entry from the doc (kept, shown struck
// to editors) or shows it again. ErrNoChange when it already is so.
func (s *Store) SetTimelineEntryHidden(ctx context.Context, incidentID, entryID int64, hidden bool, by Actor) error {
	return s.InTx(ctx, func(tx *Store) error {
		e, err := tx.timelineEntry(ctx, incidentID, entryID)
		if err != nil {
			return err
		}
		if (e.RemovedAt != nil) == hidden {
			return ErrNoChange
		}
		var removed any
		action := "incident.timeline.unhide"
		if hidden {
			removed, action = tx.clock.Now(), "incident.timeline.hide"
		}
		if err := tx.db.WithContext(ctx).Model(&TimelineEvent{}).Where("id = ?", entryID).Update("removed_at", removed).Error; err != nil {
			return fmt.Errorf("hiding timeline entry %d: %w", entryID, err)
		}
		return tx.webAudit(ctx, incidentID, by, action, "", fmt.Sprintf("entry %d: %s", entryID, e.Text))
	})
}

// --- action items -----------------------------------------------------------

// MaxActionItemText bounds an action item written from the web.
const MaxActionItemText = 1000

// AddWebActionItem adds an action item with its timeline entry ("Action
// item added by alice: …").
func (s *Store) AddWebActionItem(ctx context.Context, incidentID int64, text string, ownerID *string, by Actor, byName string) (*ActionItem, error) {
	text, err := checkText("text", text, MaxActionItemText)
	if err != nil {
		return nil, err
	}
	a := &ActionItem{IncidentID: incidentID, Text: text, OwnerID: ownerID, CreatedByID: by.UserID}
	err = s.InTx(ctx, func(tx *Store) error {
		if err := tx.AddActionItem(ctx, a); err != nil {
			return err
		}
		entry := &TimelineEvent{IncidentID: incidentID, Kind: TimelineAction, Text: fmt.Sprintf("Action item added by %s: %s", byName, text), AuthorID: by.UserID}
		if err := tx.AddTimelineEvent(ctx, entry); err != nil {
			return err
		}
		return tx.webAudit(ctx, incidentID, by, "incident.action.add", "", actionItemAudit(a))
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

func actionItemAudit(a *ActionItem) string {
	state := "open"
	if a.DoneAt != nil {
		state = "done"
	}
	return fmt.Sprintf("%s (owner %s, %s)", a.Text, derefOr(a.OwnerID, "none"), state)
}

// EditActionItem changes an action item's text, owner and state.
// ErrNoChange when nothing differs.
func (s *Store) EditActionItem(ctx context.Context, incidentID, itemID int64, text string, ownerID *string, done bool, by Actor) error {
	text, err := checkText("text", text, MaxActionItemText)
	if err != nil {
		return err
	}
	return s.InTx(ctx, func(tx *Store) error {
		var a ActionItem
		if err := tx.db.WithContext(ctx).Where("id = ? AND incident_id = ?", itemID, incidentID).Take(&a).Error; err != nil {
			return fmt.Errorf("loading action item %d: %w", itemID, err)
		}
		before := actionItemAudit(&a)
		after := a
		after.Text, after.OwnerID = text, ownerID
		switch {
		case done && a.DoneAt == nil:
			now := tx.clock.Now()
			after.DoneAt = &now
		case !done:
			after.DoneAt = nil
		}
		if actionItemAudit(&after) == before {
			return ErrNoChange
		}
		err := tx.db.WithContext(ctx).Model(&ActionItem{}).Where("id = ?", itemID).
			Updates(map[string]any{"text": after.Text, "owner_id": after.OwnerID, "done_at": after.DoneAt}).Error
		if err != nil {
			return fmt.Errorf("editing action item %d: %w", itemID, err)
		}
		return tx.webAudit(ctx, incidentID, by, "incident.action.edit", before, actionItemAudit(&after))
	})
}

// --- the post-incident review ------------------------------------------------

// MaxReviewText bounds each of a review's sections.
const MaxReviewText = 20000

// IncidentReview is an incident's post-incident review.
type IncidentReview struct {
	IncidentID          int64 `gorm:"primaryKey;autoIncrement:false"`
	WhatHappened        string
	ContributingFactors string
	LessonsLearned      string
	UpdatedBy           string
	UpdatedAt           time.Time
}

// TableName keeps the table's name.
func (IncidentReview) TableName() string { return "incident_reviews" }

// Empty reports whether the review has nothing written.
func (r *IncidentReview) Empty() bool {
	return strings.TrimSpace(r.WhatHappened+r.ContributingFactors+r.LessonsLearned) == ""
}

// IncidentReviewOf loads an incident's review; an empty one when none was
// written.
func (s *Store) IncidentReviewOf(ctx context.Context, incidentID int64) (*IncidentReview, error) {
	var r IncidentReview
	err := s.db.WithContext(ctx).Where("incident_id = ?", incidentID).Take(&r).Error
	if IsNotFound(err) {
		return &IncidentReview{IncidentID: incidentID}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("loading the review of incident %d: %w", incidentID, err)
	}
	return &r, nil
}

// SaveIncidentReview stores an incident's review. ErrNoChange when it is
// as it was.
func (s *Store) SaveIncidentReview(ctx context.Context, r IncidentReview, by Actor) error {
	for field, text := range map[string]string{"what happened": r.WhatHappened, "contributing factors": r.ContributingFactors, "lessons learned": r.LessonsLearned} {
		if n := len([]rune(text)); n > MaxReviewText {
			return fmt.Errorf("%w: %s is %d characters, at most %d", ErrInvalid, field, n, MaxReviewText)
		}
	}
	return s.InTx(ctx, func(tx *Store) error {
		old, err := tx.IncidentReviewOf(ctx, r.IncidentID)
		if err != nil {
			return err
		}
		if old.WhatHappened == r.WhatHappened && old.ContributingFactors == r.ContributingFactors && old.LessonsLearned == r.LessonsLearned {
			return ErrNoChange
		}
		r.UpdatedBy, r.UpdatedAt = by.Name, tx.clock.Now().UTC()
		err = tx.db.WithContext(ctx).Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "incident_id"}},
			DoUpdates: clause.AssignmentColumns([]string{"what_happened", "contributing_factors", "lessons_learned", "updated_by", "updated_at"}),
		}).Create(&r).Error
		if err != nil {
			return fmt.Errorf("saving the review of incident %d: %w", r.IncidentID, err)
		}
		return tx.webAudit(ctx, r.IncidentID, by, "incident.review", reviewAudit(old), reviewAudit(&r))
	})
}

func reviewAudit(r *IncidentReview) string {
	return "What happened:\n" + r.WhatHappened + "\n\nContributing factors:\n" + r.ContributingFactors + "\n\nLessons learned:\n" + r.LessonsLearned
}
