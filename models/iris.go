package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm/clause"
)

// IrisIncident records what the Iris-compatible API needs beyond the
// incident: the plan it was raised with (shown even when nothing
// escalated, e.g. a maintenance window held it) and the owner an Iris
// client claimed it for.
type IrisIncident struct {
	IncidentID int64 `gorm:"primaryKey;autoIncrement:false"`
	Plan       string
	Owner      *string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// RecordIrisIncident notes the plan an Iris client raised an incident
// with. Recording it twice keeps the first.
func (s *Store) RecordIrisIncident(ctx context.Context, incidentID int64, plan string) error {
	now := s.clock.Now().UTC()
	row := IrisIncident{IncidentID: incidentID, Plan: plan, CreatedAt: now, UpdatedAt: now}
	if err := s.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error; err != nil {
		return fmt.Errorf("recording Iris incident %d: %w", incidentID, err)
	}
	return nil
}

// SetIrisOwner records (or, with nil, clears) who an Iris client claimed
// an incident for. An incident not raised through the Iris API has no
// row, and its owner is only what its escalation recorded.
func (s *Store) SetIrisOwner(ctx context.Context, incidentID int64, owner *string) error {
	err := s.db.WithContext(ctx).Model(&IrisIncident{}).Where("incident_id = ?", incidentID).
		Updates(map[string]any{"owner": owner, "updated_at": s.clock.Now().UTC()}).Error
	if err != nil {
		return fmt.Errorf("recording the owner of incident %d: %w", incidentID, err)
	}
	return nil
}

// IrisView is an incident as the Iris API shows it.
type IrisView struct {
	Incident *Incident
	// Plan is the plan it was raised with, else its escalation's ("" when
	// it never escalated).
	Plan string
	// Owner is who claimed it: its escalation's record, else the Iris
	// client's claim ("" when unclaimed).
	Owner string
	// Escalated says it has an escalation; Step is its current step.
	Escalated bool
	Step      int
	// Active is Iris's "still escalating": open, not claimed, and its
	// escalation (if any) has not run out of steps.
	Active bool
}

// IrisIncidentView loads an incident by number with its plan, owner and
// escalation state.
func (s *Store) IrisIncidentView(ctx context.Context, number int64) (*IrisView, error) {
	inc, err := s.IncidentByNumber(ctx, number)
	if err != nil {
		return nil, err
	}
	v := &IrisView{Incident: inc}
	var rows []IrisIncident
	if err := s.db.WithContext(ctx).Where("incident_id = ?", inc.ID).Limit(1).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("loading Iris record of incident #%d: %w", number, err)
	}
	var esc *Escalation
	if e, err := s.EscalationOf(ctx, inc.ID); err == nil {
		esc = e
	} else if !IsNotFound(err) {
		return nil, err
	}
	if len(rows) == 1 {
		v.Plan = rows[0].Plan
	}
	if v.Plan == "" && esc != nil {
		pv, err := s.PlanVersionByID(ctx, esc.PlanVersionID)
		if err != nil {
			return nil, err
		}
		if v.Plan, err = s.PlanName(ctx, pv.PlanID); err != nil {
			return nil, err
		}
	}
	claimed := inc.AcknowledgedAt != nil || !inc.IsOpen()
	switch {
	case esc != nil && esc.ClaimedBy != "":
		v.Owner = esc.ClaimedBy
	case claimed && len(rows) == 1 && rows[0].Owner != nil:
		v.Owner = *rows[0].Owner
	}
	if esc != nil {
		v.Escalated, v.Step = true, esc.Step
	}
	v.Active = inc.IsOpen() && inc.AcknowledgedAt == nil && (esc == nil || esc.State == EscalationActive)
	return v, nil
}
