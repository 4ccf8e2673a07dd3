package models

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

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
	// Escalation, when set, starts the incident's plan in the same
	// transaction (on PostgreSQL with a NOTIFY that reaches every engine
	// at commit): an alert is never stored without its paging, and the
	// path of every alert saves a transaction.
	Escalation *NewEscalation
}

// NewEscalation starts a new incident's escalation plan.
type NewEscalation struct {
	Plan string
	// StartAt is when the first step starts (zero or past: now).
	StartAt time.Time
	// WakeChannel is the LISTEN/NOTIFY channel of the engines
	// (PostgreSQL); "" notifies nobody.
	WakeChannel string
	// Started is set by the store: false when the plan has no published
	// version (the incident is stored, nobody is paged).
	Started bool
	// TraceParent is the W3C traceparent of the request that raised the
	// incident ("": the creating context's, if any), stored with the
	// escalation so the engine continues the request's trace.
	TraceParent string
}

// validate normalises and checks what every creation path requires.
func (n *NewIncident) validate() error {
	n.Title = strings.TrimSpace(n.Title)
	if n.Title == "" {
		return fmt.Errorf("%w: title is required", ErrInvalid)
	}
	if len([]rune(n.Title)) > MaxTitleLength {
		return fmt.Errorf("%w: title is longer than %d characters", ErrInvalid, MaxTitleLength)
	}
	if n.Severity != SeverityUnset && !n.Severity.Valid() {
		return fmt.Errorf("%w: severity %d is not 1-4", ErrInvalid, n.Severity)
	}
	return nil
}

// dedupLockKey is the advisory lock twins of a dedup key queue on.
func (n *NewIncident) dedupLockKey() string {
	if n.DedupKey == "" || n.ServiceID == nil {
		return ""
	}
	return "dedup:" + *n.ServiceID + ":" + n.DedupKey
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
	if err := n.validate(); err != nil {
		return nil, false, err
	}
	dedup := n.dedupLockKey() != ""
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
		inc = n.row(number, now)
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
		if n.Escalation != nil {
			return tx.startEscalations(ctx, []*Incident{inc}, []*NewEscalation{n.Escalation})
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
		keys = append(keys, n.dedupLockKey())
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

// row is the incident a creation stores.
func (n *NewIncident) row(number int64, now time.Time) *Incident {
	inc := &Incident{
		Number: number, Title: n.Title, Summary: n.Summary, Impact: n.Impact, Severity: n.Severity,
		Status: StatusInvestigating, Source: n.Source, Application: n.Application, ReporterID: n.ReporterID, LeadID: n.LeadID,
		IsReport: n.IsReport, AffectedServices: n.Services, Version: 1,
		ServiceID: n.ServiceID, DetectedAt: utcPtr(n.DetectedAt), Context: n.Context, Occurrences: 1, LastSeenAt: &now,
		ReportedAt: now, CreatedAt: now, UpdatedAt: now,
	}
	if k := n.DedupKey; k != "" && n.ServiceID != nil {
		inc.DedupKey = &k
	}
	if k := n.IdempotencyKey; k != "" {
		inc.IdempotencyKey = &k
	}
	return inc
}

// publishedVersion is a plan's published version.
type publishedVersion struct {
	PlanName  string
	VersionID int64
}

// startEscalations starts the plans of new incidents (escs[i] for incs[i];
// nil: none) in one statement per step, the plans' published versions
// looked up together. A plan without one leaves Started false.
func (s *Store) startEscalations(ctx context.Context, incs []*Incident, escs []*NewEscalation) error {
	var names []string
	for _, e := range escs {
		if e != nil && !slices.Contains(names, e.Plan) {
			names = append(names, e.Plan)
		}
	}
	if len(names) == 0 {
		return nil
	}
	var versions []publishedVersion
	err := s.db.WithContext(ctx).Raw(`SELECT plans.name AS plan_name, plan_versions.id AS version_id FROM plans
		JOIN plan_versions ON plan_versions.plan_id = plans.id AND plan_versions.version = plans.active_version
		WHERE plans.name IN ?`, names).Scan(&versions).Error
	if err != nil {
		return fmt.Errorf("finding published plan versions: %w", err)
	}
	now := s.clock.Now().UTC()
	var rows []Escalation
	wake := ""
	for i, e := range escs {
		if e == nil {
			continue
		}
		j := slices.IndexFunc(versions, func(v publishedVersion) bool { return v.PlanName == e.Plan })
		if j < 0 {
			continue
		}
		start := e.StartAt.UTC()
		if start.Before(now) {
			start = now
		}
		rows = append(rows, Escalation{IncidentID: incs[i].ID, PlanVersionID: versions[j].VersionID, Application: incs[i].FairnessKey(),
			State: EscalationActive, StepStartedAt: start, NextCheckAt: &start, TraceParent: e.traceParent(ctx), CreatedAt: now, UpdatedAt: now})
		e.Started = true
		if e.WakeChannel != "" {
			wake = e.WakeChannel
		}
	}
	if len(rows) == 0 {
		return nil
	}
	if err := s.db.WithContext(ctx).Omit(clause.Associations).Create(&rows).Error; err != nil {
		return fmt.Errorf("starting %d escalations: %w", len(rows), err)
	}
	if wake != "" && s.Dialect() == DialectPostgres {
		// Delivered at commit, to every replica's engine.
		return s.NotifyEngines(ctx, wake)
	}
	return nil
}
