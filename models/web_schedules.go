package models

import (
	"context"
	"fmt"
)

// Reads the web UI's schedule pages need beyond the schedule store.

// ActivePeopleByName lists the active people by handle: who an override
// may put on call (inactive people never are).
func (s *Store) ActivePeopleByName(ctx context.Context) ([]Person, error) {
	var out []Person
	if err := s.db.WithContext(ctx).Where("active").Order("name, id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("listing active people: %w", err)
	}
	return out, nil
}

// ScheduleOverrideByID loads one override or swap half (a not-found error
// when there is none), so a page can check who may delete it.
func (s *Store) ScheduleOverrideByID(ctx context.Context, id string) (*ScheduleOverride, error) {
	var o ScheduleOverride
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&o).Error; err != nil {
		return nil, fmt.Errorf("finding override %s: %w", id, err)
	}
	return &o, nil
}
