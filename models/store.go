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

// NewIncident is what a declaration supplies.
type NewIncident struct {
	Title          string
	Summary        string
	Impact         string
	Severity       Severity
	Source         string
	Application    string // the integration that raised it, "" from Slack
	ServiceID      *string
	DedupKey       string // with ServiceID: a repeat while open adds an occurrence
	DetectedAt     *time.Time
	Context        string // JSON
	IdempotencyKey string
	ReporterID     *string
	LeadID         *string
	IsReport       bool
	Services       string
	// Timeline entries recorded after "declared" (e.g. the message an
	// incident was declared from).
	Timeline []TimelineEvent
	// Reminders are scheduled in the same transaction.
	Reminders []NewReminder
	// Jobs are enqueued in the same transaction; the function sees the
	// stored incident, so payloads can carry its id.
	Jobs func(*Incident) []NewJob
}

// ErrInvalid wraps validation failures of store inputs.
var ErrInvalid = errors.New("invalid")

// MaxTitleLength bounds incident titles (Slack headers hold 150 characters).
const MaxTitleLength = 150

// CreateIncident allocates the next incident number and stores the incident,
// its "declared" timeline entry and its follow-up jobs atomically. With an
// idempotency key already used, it returns the first incident and
// created=false.
func (s *Store) CreateIncident(ctx context.Context, n NewIncident) (inc *Incident, created bool, err error) {
	n.Title = strings.TrimSpace(n.Title)
	if n.Title == "" {
		return nil, false, fmt.Errorf("%w: title is required", ErrInvalid)
	}
	if len([]rune(n.Title)) > MaxTitleLength {
		return nil, false, fmt.Errorf("%w: title is longer than %d characters", ErrInvalid, MaxTitleLength)
	}
	if n.Severity != SeverityUnset && !n.Severity.Valid() {
		return nil, false, fmt.Errorf("%w: severity %d is not 1-4", ErrInvalid, n.Severity)
	}
	dedup := n.DedupKey != "" && n.ServiceID != nil
	pg := s.Dialect() == DialectPostgres // checks twins inside the transaction
	if n.IdempotencyKey != "" && !pg {
		if existing, err := s.incidentByIdempotencyKey(ctx, n.IdempotencyKey); err == nil {
			return existing, false, nil
		} else if !IsNotFound(err) {
			return nil, false, err
		}
	}
	if dedup && !pg {
		if existing, err := s.addOccurrence(ctx, *n.ServiceID, n.DedupKey); err == nil {
			return existing, false, nil
		} else if !IsNotFound(err) {
			return nil, false, err
		}
	}
	var existing *Incident
	err = s.InTx(ctx, func(tx *Store) error {
		existing = nil
		if tx.Dialect() == DialectPostgres && (n.IdempotencyKey != "" || dedup) {
			// Concurrent twins (a retried request, a repeated alert)
			// queue here and find the first one's incident, instead of
			// each taking a number from the sequence and losing the
			// race on the unique index: no gaps in the numbers.
			var err error
			if existing, err = tx.twinOf(ctx, n, dedup); err != nil || existing != nil {
				return err
			}
		}
		var number int64
		next := `UPDATE counters SET value = value + 1 WHERE name = 'incident_number' RETURNING value`
		if tx.Dialect() == DialectPostgres {
			next = `SELECT nextval('incident_numbers')` // no row lock held to commit
		}
		if err := tx.db.Raw(next).Scan(&number).Error; err != nil {
			return fmt.Errorf("allocating incident number: %w", err)
		}
		now := tx.clock.Now()
		inc = &Incident{
			Number: number, Title: n.Title, Summary: n.Summary, Impact: n.Impact, Severity: n.Severity,
			Status: StatusInvestigating, Source: n.Source, Application: n.Application, ReporterID: n.ReporterID, LeadID: n.LeadID,
			IsReport: n.IsReport, AffectedServices: n.Services, Version: 1,
			ServiceID: n.ServiceID, DetectedAt: utcPtr(n.DetectedAt), Context: n.Context, Occurrences: 1, LastSeenAt: &now,
			ReportedAt: now, CreatedAt: now, UpdatedAt: now,
		}
		if dedup {
			k := n.DedupKey
			inc.DedupKey = &k
		}
		if n.IdempotencyKey != "" {
			k := n.IdempotencyKey
			inc.IdempotencyKey = &k
		}
		if err := tx.db.Omit(clause.Associations).Create(inc).Error; err != nil {
			return fmt.Errorf("storing incident: %w", err)
		}
		if err := tx.AddTimelineEvent(ctx, &TimelineEvent{IncidentID: inc.ID, Kind: TimelineDeclared, Text: "Incident declared: " + inc.Title, AuthorID: n.ReporterID, OccurredAt: now}); err != nil {
			return err
		}
		for i := range n.Timeline {
			e := n.Timeline[i]
			e.IncidentID = inc.ID
			if err := tx.AddTimelineEvent(ctx, &e); err != nil {
				return err
			}
		}
		if err := tx.AddReminders(ctx, inc.ID, n.Reminders...); err != nil {
			return err
		}
		if n.Jobs != nil {
			if _, err := tx.EnqueueJobs(ctx, n.Jobs(inc)...); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil && existing != nil {
		return existing, false, nil
	}
	if errors.Is(err, gorm.ErrDuplicatedKey) && n.IdempotencyKey != "" {
		// A concurrent declaration with the same key won the race.
		existing, gerr := s.incidentByIdempotencyKey(ctx, n.IdempotencyKey)
		if gerr == nil {
			return existing, false, nil
		}
		if !IsNotFound(gerr) {
			return nil, false, gerr
		}
	}
	if errors.Is(err, gorm.ErrDuplicatedKey) && dedup {
		// A concurrent alert with the same dedup key opened it first.
		existing, gerr := s.addOccurrence(ctx, *n.ServiceID, n.DedupKey)
		if gerr != nil {
			return nil, false, gerr
		}
		return existing, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return inc, true, nil
}

func (s *Store) incidentByIdempotencyKey(ctx context.Context, key string) (*Incident, error) {
	var inc Incident
	err := s.db.WithContext(ctx).Preload("Reporter").Preload("Lead").Preload("ResolvedBy").Where("idempotency_key = ?", key).Take(&inc).Error
	if err != nil {
		return nil, fmt.Errorf("finding incident by idempotency key: %w", err)
	}
	return &inc, nil
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

// addOccurrence records a repeat of an alert on the open incident of its
// service and dedup key, and returns that incident (not found when none
// is open).
func (s *Store) addOccurrence(ctx context.Context, serviceID, dedupKey string) (*Incident, error) {
	now := s.clock.Now().UTC()
	var ids []int64
	err := s.db.WithContext(ctx).Raw(`UPDATE incidents SET occurrences = occurrences + 1, last_seen_at = ?
		WHERE service_id = ? AND dedup_key = ? AND resolved_at IS NULL RETURNING id`, now, serviceID, dedupKey).Scan(&ids).Error
	if err != nil {
		return nil, fmt.Errorf("recording an occurrence: %w", err)
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("no open incident for the dedup key: %w", gorm.ErrRecordNotFound)
	}
	return s.IncidentByID(ctx, ids[0])
}

// twinOf serialises creations with the same idempotency or dedup key (a
// transaction-scoped advisory lock, PostgreSQL only) and returns the
// incident an earlier twin created, nil when there is none. A dedup twin
// counts an occurrence.
func (s *Store) twinOf(ctx context.Context, n NewIncident, dedup bool) (*Incident, error) {
	var keys []string // always in this order: no deadlock between twins
	if n.IdempotencyKey != "" {
		keys = append(keys, "idem:"+n.IdempotencyKey)
	}
	if dedup {
		keys = append(keys, "dedup:"+*n.ServiceID+":"+n.DedupKey)
	}
	for _, key := range keys {
		if err := s.db.WithContext(ctx).Exec(`SELECT pg_advisory_xact_lock(hashtext(?))`, key).Error; err != nil {
			return nil, fmt.Errorf("waiting for a concurrent twin: %w", err)
		}
	}
	if n.IdempotencyKey != "" {
		inc, err := s.incidentByIdempotencyKey(ctx, n.IdempotencyKey)
		if err == nil || !IsNotFound(err) {
			return inc, err
		}
	}
	if dedup {
		inc, err := s.addOccurrence(ctx, *n.ServiceID, n.DedupKey)
		if err == nil || !IsNotFound(err) {
			return inc, err
		}
	}
	return nil, nil
}
