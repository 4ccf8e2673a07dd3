package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Alert states a service incident listing filters on; they are the
// incidents API's OPEN, CLAIMED and RESOLVED over the status model.
const (
	AlertStateOpen     = "open"     // not resolved, not acknowledged
	AlertStateClaimed  = "claimed"  // acknowledged, not resolved
	AlertStateResolved = "resolved" // resolved
)

// MaxServiceIncidentsLimit bounds one page of ListServiceIncidents.
const MaxServiceIncidentsLimit = 1000

// ServiceIncidentFilter selects a page of the incidents of some services,
// newest (highest number) first, for the incidents API.
type ServiceIncidentFilter struct {
	// ServiceIDs are the services whose incidents may be listed; none
	// lists nothing (an integration sees only its own services).
	ServiceIDs []string
	// State is "" (any) or one of the AlertState constants.
	State string
	// Since keeps incidents created at or after it.
	Since *time.Time
	// BeforeNumber, when positive, keeps incidents numbered below it: the
	// keyset cursor of the next page, stable while incidents are added.
	BeforeNumber int64
	// Limit is the page size, 1..MaxServiceIncidentsLimit.
	Limit int
}

// ListServiceIncidents returns one page of the incidents of f's services,
// newest first. An unknown state or a limit out of range is ErrInvalid.
func (s *Store) ListServiceIncidents(ctx context.Context, f ServiceIncidentFilter) ([]Incident, error) {
	if f.Limit < 1 || f.Limit > MaxServiceIncidentsLimit {
		return nil, fmt.Errorf("%w: limit %d is not 1-%d", ErrInvalid, f.Limit, MaxServiceIncidentsLimit)
	}
	state, err := alertStateScope(f.State)
	if err != nil {
		return nil, err
	}
	out := []Incident{}
	if len(f.ServiceIDs) == 0 {
		return out, nil
	}
	q := s.db.WithContext(ctx).Scopes(state).Where("service_id IN ?", f.ServiceIDs)
	if f.Since != nil {
		q = q.Where("created_at >= ?", f.Since.UTC())
	}
	if f.BeforeNumber > 0 {
		q = q.Where("number < ?", f.BeforeNumber)
	}
	if err := q.Order("number DESC").Limit(f.Limit).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("listing service incidents: %w", err)
	}
	return out, nil
}

// alertStateScope is the condition of an alert state; it agrees with how
// the API derives an incident's state (resolved, else acknowledged).
func alertStateScope(state string) (func(*gorm.DB) *gorm.DB, error) {
	switch state {
	case "":
		return func(db *gorm.DB) *gorm.DB { return db }, nil
	case AlertStateOpen:
		return func(db *gorm.DB) *gorm.DB {
			return db.Where("status <> ? AND acknowledged_at IS NULL", StatusResolved)
		}, nil
	case AlertStateClaimed:
		return func(db *gorm.DB) *gorm.DB {
			return db.Where("status <> ? AND acknowledged_at IS NOT NULL", StatusResolved)
		}, nil
	case AlertStateResolved:
		return func(db *gorm.DB) *gorm.DB { return db.Where("status = ?", StatusResolved) }, nil
	}
	return nil, fmt.Errorf("%w: alert state %q: use open, claimed or resolved", ErrInvalid, state)
}
