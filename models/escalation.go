package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/heraldhq/herald/internal/traceparent"
)

// Escalation states.
const (
	EscalationActive    = "active"
	EscalationClaimed   = "claimed"
	EscalationResolved  = "resolved"
	EscalationExhausted = "exhausted"
)

// Message statuses.
const (
	MessageQueued     = "queued"
	MessageSending    = "sending"
	MessageSent       = "sent"
	MessageDelivered  = "delivered"
	MessageFailed     = "failed"
	MessageSuppressed = "suppressed"
)

// ThrottledDetail is the error of a message suppressed because its person
// had already had too many messages in its mode lately (the engine's
// throttle). An unclaim does not queue it again.
const ThrottledDetail = "throttled"

// Escalation is an incident working through a plan version.
type Escalation struct {
	ID            int64
	IncidentID    int64
	PlanVersionID int64
	// Application is the incident's FairnessKey: due checks take turns
	// between applications.
	Application   string
	State         string
	Step          int
	StepStartedAt time.Time
	NextCheckAt   *time.Time
	ClaimedBy     string
	ClaimedAt     *time.Time
	LeaseOwner    *string
	LeaseUntil    *time.Time
	// FirstPageAt is when a vendor first accepted one of its pages.
	FirstPageAt *time.Time
	// TraceParent is the W3C traceparent of the request that started it
	// (nil with tracing off): its checks continue that trace.
	TraceParent *string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Message is one attempt to reach one person in one mode.
type Message struct {
	ID            int64
	IncidentID    *int64
	EscalationID  *int64
	PlanVersionID *int64
	Step          int
	Notification  int
	SendIndex     int
	PersonID      *string
	Role          string
	Target        string
	Mode          string
	Priority      string
	Subject       string
	Body          string
	ClaimCode     string
	Optional      bool
	OutOfBand     bool
	Application   string
	// BatchKey groups the pages of an alert storm that go out as one
	// message (plan aggregation); "" for a page sent on its own.
	BatchKey string
	// RecipientSource says what put the person on call, when a schedule
	// did: "primary, Payments weekly"; "" otherwise.
	RecipientSource string
	// FailedVendors (a JSON list) are the vendors whose delivery reports
	// failed this page: a resend goes to the others.
	FailedVendors string
	Status        string
	Vendor        string
	VendorID      string
	Error         string
	Attempts      int
	NotBefore     time.Time
	LeaseOwner    *string
	LeaseUntil    *time.Time
	CreatedAt     time.Time
	SentAt        *time.Time
	DeliveredAt   *time.Time
	// TakenOver is set when the message was re-queued because its sender
	// stopped mid-send: the vendor may already have it. Never cleared.
	TakenOver bool
	// TraceParent is the W3C traceparent of the check or request that
	// planned it (nil with tracing off): its sends continue that trace.
	TraceParent *string
}

// MessageChange is one line of a message's append-only history.
type MessageChange struct {
	ID         int64
	MessageID  int64
	At         time.Time
	FromStatus string
	ToStatus   string
	Detail     string
}

// ErrEscalationExists means the incident already escalates.
var ErrEscalationExists = errors.New("incident is already escalating")

// StartEscalation begins escalating an incident under a plan version; the
// first check is due at once.
func (s *Store) StartEscalation(ctx context.Context, incidentID, planVersionID int64) (*Escalation, error) {
	return s.StartEscalationAt(ctx, incidentID, planVersionID, s.clock.Now())
}

// StartEscalationAt begins escalating an incident with its first step
// starting (and first check due) at start.
func (s *Store) StartEscalationAt(ctx context.Context, incidentID, planVersionID int64, start time.Time) (*Escalation, error) {
	now, start := s.clock.Now().UTC(), start.UTC()
	// One statement, the application copied from the incident: this is on
	// the path of every alert.
	var out []Escalation
	err := s.db.WithContext(ctx).Raw(`INSERT INTO escalations (incident_id, plan_version_id, application, state, step, step_started_at, next_check_at, claimed_by, trace_parent, created_at, updated_at)
		SELECT id, ?, CASE WHEN application <> '' THEN application ELSE source END, ?, 0, ?, ?, '', ?, ?, ?
		FROM incidents WHERE id = ?
		ON CONFLICT DO NOTHING RETURNING *`, planVersionID, EscalationActive, start, start, traceparent.Ptr(ctx), now, now, incidentID).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("starting escalation: %w", err)
	}
	if len(out) == 0 {
		var n int64
		if err := s.db.WithContext(ctx).Model(&Incident{}).Where("id = ?", incidentID).Count(&n).Error; err != nil {
			return nil, fmt.Errorf("starting escalation: %w", err)
		}
		if n == 0 {
			return nil, fmt.Errorf("starting escalation of incident %d: %w", incidentID, gorm.ErrRecordNotFound)
		}
		return nil, ErrEscalationExists
	}
	return &out[0], nil
}

// EscalationOf returns an incident's escalation.
func (s *Store) EscalationOf(ctx context.Context, incidentID int64) (*Escalation, error) {
	var e Escalation
	if err := s.db.WithContext(ctx).Where("incident_id = ?", incidentID).Take(&e).Error; err != nil {
		return nil, fmt.Errorf("loading escalation of incident %d: %w", incidentID, err)
	}
	return &e, nil
}

// EscalationUpdate is what one check decided.
type EscalationUpdate struct {
	Step          int
	StepStartedAt time.Time
	NextCheckAt   *time.Time // nil: nothing more to do
	State         string
}

// FinishEscalationCheck stores a check's result and the messages it
// planned, in one transaction, and releases the lease. Messages already
// planned (same escalation, step, notification, send and person) are
// skipped, so two engines planning the same send insert it once. A check
// of an escalation that was claimed, resolved or taken over meanwhile
// changes nothing and returns ErrNoChange (the caller must not act on it:
// no alerts).
func (s *Store) FinishEscalationCheck(ctx context.Context, e *Escalation, u EscalationUpdate, msgs []Message) (planned int, err error) {
	err = s.InTx(ctx, func(tx *Store) error {
		res := tx.db.WithContext(ctx).Model(&Escalation{}).
			Where("id = ? AND lease_owner = ? AND state = 'active'", e.ID, derefOr(e.LeaseOwner, "")).
			Updates(map[string]any{"step": u.Step, "step_started_at": u.StepStartedAt.UTC(), "next_check_at": utcPtr(u.NextCheckAt),
				"state": u.State, "lease_owner": nil, "lease_until": nil, "updated_at": tx.clock.Now().UTC()})
		if res.Error != nil {
			return fmt.Errorf("saving escalation %d: %w", e.ID, res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrNoChange // claimed, resolved or taken over meanwhile
		}
		n, err := tx.insertPlanned(ctx, msgs)
		planned = n
		return err
	})
	return planned, err
}

// insertPlanned inserts planned messages, skipping those already planned,
// in multi-row statements. It reports how many rows it inserted.
func (s *Store) insertPlanned(ctx context.Context, msgs []Message) (int, error) {
	n := 0
	for start := 0; start < len(msgs); start += insertChunk {
		chunk := msgs[start:min(start+insertChunk, len(msgs))]
		// A copy: the ids written back are not those of the skipped rows.
		rows := append([]Message(nil), chunk...)
		res := s.db.WithContext(ctx).Clauses(clause.OnConflict{
			Columns:     []clause.Column{{Name: "escalation_id"}, {Name: "step"}, {Name: "notification"}, {Name: "send_index"}, {Name: "person_id"}, {Name: "mode"}},
			TargetWhere: clause.Where{Exprs: []clause.Expression{clause.Expr{SQL: "escalation_id IS NOT NULL"}}},
			DoNothing:   true,
		}).Create(&rows)
		if res.Error != nil {
			return n, fmt.Errorf("planning messages: %w", res.Error)
		}
		n += int(res.RowsAffected)
	}
	return n, nil
}

// insertChunk bounds the rows of one multi-row INSERT (well inside both
// dialects' limits on bound parameters).
const insertChunk = 500

// QueueMessages stores messages outside escalations (out-of-band).
func (s *Store) QueueMessages(ctx context.Context, msgs []Message) error {
	if len(msgs) == 0 {
		return nil
	}
	stampTraceParent(ctx, msgs)
	if err := s.db.WithContext(ctx).Create(&msgs).Error; err != nil {
		return fmt.Errorf("queueing messages: %w", err)
	}
	return nil
}

// PlannedSends counts, per notification, the sends already planned in a
// step of an escalation (the highest send_index + 1).
func (s *Store) PlannedSends(ctx context.Context, escalationID int64, step int) (map[int]int, error) {
	var rows []struct {
		Notification int
		Sends        int
	}
	err := s.db.WithContext(ctx).Model(&Message{}).Select("notification, MAX(send_index) + 1 AS sends").
		Where("escalation_id = ? AND step = ?", escalationID, step).Group("notification").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("counting planned sends: %w", err)
	}
	out := map[int]int{}
	for _, r := range rows {
		out[r.Notification] = r.Sends
	}
	return out, nil
}

// MessageOutcome is what happened to one send.
type MessageOutcome struct {
	Status   string
	Vendor   string
	VendorID string
	Error    string
	Detail   string
	// RetryAt requeues the message instead (with Status queued).
	RetryAt *time.Time
}

// FinishMessage records a send's outcome if owner still holds the message,
// with a line in its change log. It reports whether the outcome counted.
// A retry (Status queued) of a page whose escalation was claimed or
// resolved meanwhile is suppressed instead, as the claim would have done
// had the page been queued then (an unclaim queues it again).
func (s *Store) FinishMessage(ctx context.Context, m *Message, o MessageOutcome) (bool, error) {
	counted := false
	err := s.InTx(ctx, func(tx *Store) error {
		now := tx.clock.Now().UTC()
		if o.Status == MessageQueued && m.EscalationID != nil {
			// Locked against a concurrent StopEscalation: either it sees
			// this retry queued, or this sees its new state.
			q := tx.db.WithContext(ctx).Model(&Escalation{}).Where("id = ?", *m.EscalationID)
			if tx.Dialect() == DialectPostgres {
				q = q.Clauses(clause.Locking{Strength: "SHARE"})
			}
			var states []string
			if err := q.Pluck("state", &states).Error; err != nil {
				return fmt.Errorf("reading escalation of message %d: %w", m.ID, err)
			}
			if len(states) == 1 && (states[0] == EscalationClaimed || states[0] == EscalationResolved) {
				o.Status = MessageSuppressed
				o.Detail = "escalation " + states[0] + "; not retried (" + o.Detail + ")"
			}
		}
		updates := map[string]any{"status": o.Status, "vendor": o.Vendor, "vendor_id": o.VendorID, "error": truncate(o.Error, 2000),
			"lease_owner": nil, "lease_until": nil}
		if o.Status == MessageSent {
			updates["sent_at"] = now
		}
		if o.RetryAt != nil {
			updates["not_before"] = o.RetryAt.UTC()
		}
		res := tx.db.WithContext(ctx).Model(&Message{}).Where("id = ? AND status = 'sending' AND lease_owner = ?", m.ID, derefOr(m.LeaseOwner, "")).Updates(updates)
		if res.Error != nil {
			return fmt.Errorf("recording message %d: %w", m.ID, res.Error)
		}
		if res.RowsAffected == 0 {
			return nil
		}
		counted = true
		return tx.logChange(ctx, m.ID, MessageSending, o.Status, o.Detail)
	})
	return counted, err
}

func (s *Store) logChange(ctx context.Context, id int64, from, to, detail string) error {
	c := MessageChange{MessageID: id, At: s.clock.Now().UTC(), FromStatus: from, ToStatus: to, Detail: truncate(detail, 2000)}
	if err := s.db.WithContext(ctx).Create(&c).Error; err != nil {
		return fmt.Errorf("logging message change: %w", err)
	}
	return nil
}

// ReclaimExpiredSends puts messages whose sender died mid-send (lease
// expired) back in the queue. The vendor may have accepted them, so each
// is logged as a possible duplicate. The expiry is checked by the update
// itself: a message another replica reclaimed and leased again meanwhile
// is left alone.
func (s *Store) ReclaimExpiredSends(ctx context.Context) (int64, error) {
	now := s.clock.Now().UTC()
	var ids []int64
	err := s.InTx(ctx, func(tx *Store) error {
		ids = nil
		if err := tx.db.WithContext(ctx).Raw(`UPDATE messages SET status = ?, lease_owner = NULL, lease_until = NULL, taken_over = TRUE
			WHERE status = 'sending' AND lease_until < ? RETURNING id`, MessageQueued, now).Scan(&ids).Error; err != nil {
			return err
		}
		for _, id := range ids {
			if err := tx.logChange(ctx, id, MessageSending, MessageQueued, "sender lease expired (replica died?); resending, possibly a duplicate"); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("reclaiming expired sends: %w", err)
	}
	return int64(len(ids)), nil
}

// StopEscalation moves an incident's escalation to state (claimed or
// resolved) and suppresses its queued messages, in one transaction. It
// returns the escalation as it was, and ErrNoChange if it was not active
// (a claimed or exhausted escalation can still be resolved). The lease of
// a check in progress is dropped, so its result is thrown away.
func (s *Store) StopEscalation(ctx context.Context, incidentID int64, state, by string) (*Escalation, error) {
	var before Escalation
	err := s.InTx(ctx, func(tx *Store) error {
		q := tx.db.WithContext(ctx)
		if tx.Dialect() == DialectPostgres {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		if err := q.Where("incident_id = ?", incidentID).Take(&before).Error; err != nil {
			return fmt.Errorf("loading escalation: %w", err)
		}
		resolvable := before.State == EscalationClaimed || before.State == EscalationExhausted
		if before.State != EscalationActive && !(state == EscalationResolved && resolvable) {
			return ErrNoChange
		}
		now := tx.clock.Now().UTC()
		updates := map[string]any{"state": state, "next_check_at": nil, "lease_owner": nil, "lease_until": nil, "updated_at": now}
		if state == EscalationClaimed {
			updates["claimed_by"], updates["claimed_at"] = by, now
		}
		if err := tx.db.WithContext(ctx).Model(&Escalation{}).Where("id = ?", before.ID).Updates(updates).Error; err != nil {
			return fmt.Errorf("stopping escalation: %w", err)
		}
		return tx.suppressQueued(ctx, before.ID, "escalation "+state+" by "+by)
	})
	if err != nil {
		return nil, err
	}
	return &before, nil
}

func (s *Store) suppressQueued(ctx context.Context, escalationID int64, detail string) error {
	var ids []int64
	if err := s.db.WithContext(ctx).Model(&Message{}).Where("escalation_id = ? AND status = 'queued'", escalationID).Pluck("id", &ids).Error; err != nil {
		return fmt.Errorf("finding queued messages: %w", err)
	}
	if len(ids) == 0 {
		return nil
	}
	if err := s.db.WithContext(ctx).Model(&Message{}).Where("id IN ?", ids).Update("status", MessageSuppressed).Error; err != nil {
		return fmt.Errorf("suppressing messages: %w", err)
	}
	for _, id := range ids {
		if err := s.logChange(ctx, id, MessageQueued, MessageSuppressed, detail); err != nil {
			return err
		}
	}
	return nil
}

// ResumeEscalation (unclaim) makes a claimed escalation active again from
// its current step, checked at once. The step resumes where the claim
// paused it: the time spent claimed does not count, so the step's
// remaining sends keep their spacing and the step its length. Pages the
// claim suppressed (due, never sent) are queued again.
func (s *Store) ResumeEscalation(ctx context.Context, incidentID int64) error {
	return s.InTx(ctx, func(tx *Store) error {
		q := tx.db.WithContext(ctx)
		if tx.Dialect() == DialectPostgres {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		var e Escalation
		if err := q.Where("incident_id = ?", incidentID).Take(&e).Error; err != nil {
			return fmt.Errorf("resuming escalation: %w", err)
		}
		if e.State != EscalationClaimed {
			return ErrNoChange
		}
		now := tx.clock.Now().UTC()
		started := e.StepStartedAt
		if e.ClaimedAt != nil && now.After(*e.ClaimedAt) {
			started = started.Add(now.Sub(*e.ClaimedAt))
		}
		res := tx.db.WithContext(ctx).Model(&Escalation{}).Where("id = ? AND state = ?", e.ID, EscalationClaimed).
			Updates(map[string]any{"state": EscalationActive, "claimed_by": "", "claimed_at": nil, "step_started_at": started.UTC(),
				"next_check_at": now, "lease_owner": nil, "lease_until": nil, "updated_at": now})
		if res.Error != nil {
			return fmt.Errorf("resuming escalation: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrNoChange
		}
		var ids []int64
		if err := tx.db.WithContext(ctx).Model(&Message{}).Where("escalation_id = ? AND status = ? AND error <> ?", e.ID, MessageSuppressed, ThrottledDetail).Pluck("id", &ids).Error; err != nil {
			return fmt.Errorf("finding suppressed messages: %w", err)
		}
		if len(ids) == 0 {
			return nil
		}
		if err := tx.db.WithContext(ctx).Model(&Message{}).Where("id IN ?", ids).
			Updates(map[string]any{"status": MessageQueued, "not_before": now}).Error; err != nil {
			return fmt.Errorf("requeueing suppressed messages: %w", err)
		}
		for _, id := range ids {
			if err := tx.logChange(ctx, id, MessageSuppressed, MessageQueued, "escalation unclaimed; sending"); err != nil {
				return err
			}
		}
		return nil
	})
}

// MessagesOf lists an incident's messages, oldest first.
func (s *Store) MessagesOf(ctx context.Context, incidentID int64) ([]Message, error) {
	var out []Message
	if err := s.db.WithContext(ctx).Where("incident_id = ?", incidentID).Order("id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("loading messages: %w", err)
	}
	return out, nil
}

// MessageChanges lists a message's history.
func (s *Store) MessageChanges(ctx context.Context, messageID int64) ([]MessageChange, error) {
	var out []MessageChange
	if err := s.db.WithContext(ctx).Where("message_id = ?", messageID).Order("id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("loading message changes: %w", err)
	}
	return out, nil
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// NotifyEngines tells every replica's engine (Postgres LISTEN/NOTIFY on
// channel) that there is new work. SQLite has one process: nothing to do.
func (s *Store) NotifyEngines(ctx context.Context, channel string) error {
	if s.Dialect() != DialectPostgres {
		return nil
	}
	if err := s.db.WithContext(ctx).Exec("SELECT pg_notify(?, '')", channel).Error; err != nil {
		return fmt.Errorf("notifying engines: %w", err)
	}
	return nil
}

// PagingSummary is what the headline post says about paging.
type PagingSummary struct {
	// Paged lists, once each, the people a page went or is going to:
	// their Slack id when known, else their name.
	Paged     []string
	State     string // escalation state, "" when the incident never escalated
	ClaimedBy string
}

// PagingSummaryOf summarises an incident's pages.
func (s *Store) PagingSummaryOf(ctx context.Context, incidentID int64) (PagingSummary, error) {
	var out PagingSummary
	var rows []struct {
		Name            string
		SlackUserID     *string
		RecipientSource string
		LastID          int64
	}
	err := s.db.WithContext(ctx).Table("messages").
		Select("people.name, people.slack_user_id, messages.recipient_source, MAX(messages.id) AS last_id").
		Joins("JOIN people ON people.id = messages.person_id").
		Where("messages.incident_id = ? AND NOT messages.out_of_band AND messages.status IN ?", incidentID,
			[]string{MessageQueued, MessageSending, MessageSent, MessageDelivered}).
		Group("people.name, people.slack_user_id, messages.recipient_source").
		Order("people.name").Scan(&rows).Error
	if err != nil {
		return out, fmt.Errorf("summarising pages: %w", err)
	}
	// Once per person, with what put them on call for their latest page
	// (a schedule: "<@U1> (primary, Payments weekly)").
	at, last := map[string]int{}, map[string]int64{}
	for _, r := range rows {
		label := r.Name
		if r.SlackUserID != nil && *r.SlackUserID != "" {
			label = "<@" + *r.SlackUserID + ">"
		}
		if r.RecipientSource != "" {
			label += " (" + r.RecipientSource + ")"
		}
		if i, ok := at[r.Name]; ok {
			if r.LastID > last[r.Name] {
				out.Paged[i], last[r.Name] = label, r.LastID
			}
			continue
		}
		at[r.Name], last[r.Name] = len(out.Paged), r.LastID
		out.Paged = append(out.Paged, label)
	}
	if e, err := s.EscalationOf(ctx, incidentID); err == nil {
		out.State, out.ClaimedBy = e.State, e.ClaimedBy
	} else if !IsNotFound(err) {
		return out, err
	}
	return out, nil
}

// RenewSendLeases extends to until the leases owner still holds on
// messages it is sending; it reports how many it extended.
func (s *Store) RenewSendLeases(ctx context.Context, owner string, ids []int64, until time.Time) (int64, error) {
	var n int64
	for start := 0; start < len(ids); start += 1000 {
		chunk := ids[start:min(start+1000, len(ids))]
		// Rows a finisher holds are skipped, not waited for: waiting on
		// them while holding others (in another order) would deadlock,
		// and they are being finished anyway.
		sub := "SELECT id FROM messages WHERE id IN ? AND status = ? AND lease_owner = ?"
		if s.Dialect() == DialectPostgres {
			sub += " FOR UPDATE SKIP LOCKED"
		}
		res := s.db.WithContext(ctx).Exec(`UPDATE messages SET lease_until = ? WHERE id IN (`+sub+`)`, until.UTC(), chunk, MessageSending, owner)
		if res.Error != nil {
			return n, fmt.Errorf("renewing send leases: %w", res.Error)
		}
		n += res.RowsAffected
	}
	return n, nil
}
