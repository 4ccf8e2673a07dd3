package models

import (
	"context"
	"fmt"
	"strings"

	"gorm.io/gorm"
)

// Incident list status filters, besides the statuses themselves.
const (
	// FilterOpen selects every incident that is not resolved.
	FilterOpen = "open"
	// FilterResolved selects resolved incidents.
	FilterResolved = "resolved"
)

// DefaultIncidentListLimit is how many incidents a listing returns when
// IncidentFilter.Limit is zero; MaxIncidentListLimit caps larger limits.
const (
	DefaultIncidentListLimit = 50
	MaxIncidentListLimit     = 500
)

// IncidentFilter selects a page of incidents for ListIncidents.
type IncidentFilter struct {
	// Status is "" (every incident), FilterOpen, FilterResolved, or one of
	// the statuses (investigating, identified, monitoring), case-insensitive.
	Status string
	// Limit is the page size: 0 means DefaultIncidentListLimit, and more
	// than MaxIncidentListLimit means MaxIncidentListLimit.
	Limit int
	// Offset is how many matching incidents to skip, newest first.
	Offset int
}

// ListIncidents returns one page of incidents, newest (highest number)
// first, with their reporter and lead, and how many incidents match the
// filter in all. An unknown status or a negative limit or offset is
// ErrInvalid.
func (s *Store) ListIncidents(ctx context.Context, f IncidentFilter) ([]Incident, int64, error) {
	where, err := f.scope()
	if err != nil {
		return nil, 0, err
	}
	limit := f.Limit
	switch {
	case limit < 0:
		return nil, 0, fmt.Errorf("%w: incident list limit %d is negative", ErrInvalid, limit)
	case limit == 0:
		limit = DefaultIncidentListLimit
	case limit > MaxIncidentListLimit:
		limit = MaxIncidentListLimit
	}
	if f.Offset < 0 {
		return nil, 0, fmt.Errorf("%w: incident list offset %d is negative", ErrInvalid, f.Offset)
	}
	var total int64
	if err := s.db.WithContext(ctx).Model(&Incident{}).Scopes(where).Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("counting incidents: %w", err)
	}
	out := []Incident{}
	if int64(f.Offset) >= total {
		return out, total, nil
	}
	err = s.db.WithContext(ctx).Scopes(where).Preload("Reporter").Preload("Lead").
		Order("number DESC").Limit(limit).Offset(f.Offset).Find(&out).Error
	if err != nil {
		return nil, 0, fmt.Errorf("listing incidents: %w", err)
	}
	return out, total, nil
}

// scope turns the filter's status into a query condition.
func (f IncidentFilter) scope() (func(*gorm.DB) *gorm.DB, error) {
	status := strings.ToLower(strings.TrimSpace(f.Status))
	switch status {
	case "":
		return func(db *gorm.DB) *gorm.DB { return db }, nil
	case FilterOpen:
		return func(db *gorm.DB) *gorm.DB { return db.Where("status <> ?", StatusResolved) }, nil
	case FilterResolved:
		return func(db *gorm.DB) *gorm.DB { return db.Where("status = ?", StatusResolved) }, nil
	}
	st, err := ParseStatus(status)
	if err != nil {
		return nil, fmt.Errorf("%w: incident list filter %q: use open, resolved or a status (investigating, identified, monitoring)", ErrInvalid, f.Status)
	}
	return func(db *gorm.DB) *gorm.DB { return db.Where("status = ?", st) }, nil
}
