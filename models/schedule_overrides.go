package models

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// CreateOverride stores an override of a schedule (o.ScheduleID). Bad
// fields and unknown people are InputErrors.
func (s *Store) CreateOverride(ctx context.Context, by Actor, o *ScheduleOverride) error {
	if err := o.Validate(); err != nil {
		return err
	}
	return s.scheduleChange(ctx, by, func(tx *Store) (audit, error) {
		if _, err := tx.ScheduleByID(ctx, o.ScheduleID); err != nil {
			return audit{}, err
		}
		if err := tx.requirePeople(ctx, "person", []string{o.PersonID}); err != nil {
			return audit{}, err
		}
		if o.ReplacedPersonID != nil {
			if err := tx.requirePeople(ctx, "replaced_person", []string{*o.ReplacedPersonID}); err != nil {
				return audit{}, err
			}
		}
		o.ID, o.SwapID, o.CreatedBy, o.CreatedAt = newID(), nil, by.Name, tx.clock.Now().UTC()
		if err := tx.db.WithContext(ctx).Create(o).Error; err != nil {
			return audit{}, fmt.Errorf("storing override: %w", err)
		}
		return audit{action: "override.create", subject: ScheduleSubject(o.ScheduleID), after: o}, nil
	})
}

// CreateSwap stores a swap as its two overrides (same SwapID): PersonB
// covering PersonA's shift, then PersonA covering PersonB's.
func (s *Store) CreateSwap(ctx context.Context, by Actor, sw Swap) ([]ScheduleOverride, error) {
	if err := sw.Validate(); err != nil {
		return nil, err
	}
	var out []ScheduleOverride
	err := s.scheduleChange(ctx, by, func(tx *Store) (audit, error) {
		if _, err := tx.ScheduleByID(ctx, sw.ScheduleID); err != nil {
			return audit{}, err
		}
		if err := tx.requirePeople(ctx, "person_a", []string{sw.PersonA}); err != nil {
			return audit{}, err
		}
		if err := tx.requirePeople(ctx, "person_b", []string{sw.PersonB}); err != nil {
			return audit{}, err
		}
		swapID, now := newID(), tx.clock.Now().UTC()
		a, b := sw.PersonA, sw.PersonB
		out = []ScheduleOverride{
			{ID: newID(), ScheduleID: sw.ScheduleID, Role: sw.Role, PersonID: b, ReplacedPersonID: &a, SwapID: &swapID,
				StartsAt: sw.StartsA, EndsAt: sw.EndsA, Reason: sw.Reason, CreatedBy: by.Name, CreatedAt: now},
			{ID: newID(), ScheduleID: sw.ScheduleID, Role: sw.Role, PersonID: a, ReplacedPersonID: &b, SwapID: &swapID,
				StartsAt: sw.StartsB, EndsAt: sw.EndsB, Reason: sw.Reason, CreatedBy: by.Name, CreatedAt: now},
		}
		if err := tx.db.WithContext(ctx).Create(&out).Error; err != nil {
			return audit{}, fmt.Errorf("storing swap: %w", err)
		}
		return audit{action: "swap.create", subject: ScheduleSubject(sw.ScheduleID), after: out}, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteOverride removes an override; for half of a swap, the whole swap.
func (s *Store) DeleteOverride(ctx context.Context, by Actor, id string) error {
	return s.scheduleChange(ctx, by, func(tx *Store) (audit, error) {
		var o ScheduleOverride
		if err := tx.db.WithContext(ctx).Where("id = ?", id).Take(&o).Error; err != nil {
			return audit{}, fmt.Errorf("finding override %s: %w", id, err)
		}
		if o.SwapID == nil {
			if err := tx.db.WithContext(ctx).Where("id = ?", id).Delete(&ScheduleOverride{}).Error; err != nil {
				return audit{}, fmt.Errorf("deleting override: %w", err)
			}
			return audit{action: "override.delete", subject: ScheduleSubject(o.ScheduleID), before: o}, nil
		}
		var pair []ScheduleOverride
		if err := tx.db.WithContext(ctx).Where("swap_id = ?", *o.SwapID).Order("id").Find(&pair).Error; err != nil {
			return audit{}, fmt.Errorf("finding swap: %w", err)
		}
		if err := tx.db.WithContext(ctx).Where("swap_id = ?", *o.SwapID).Delete(&ScheduleOverride{}).Error; err != nil {
			return audit{}, fmt.Errorf("deleting swap: %w", err)
		}
		return audit{action: "swap.delete", subject: ScheduleSubject(o.ScheduleID), before: pair}, nil
	})
}

// Overrides lists the overrides and swap halves of schedules that overlap
// [from, to), oldest first (the order they apply in).
func (s *Store) Overrides(ctx context.Context, from, to time.Time, scheduleIDs ...string) ([]ScheduleOverride, error) {
	var out []ScheduleOverride
	if len(scheduleIDs) == 0 {
		return nil, nil
	}
	err := s.db.WithContext(ctx).Where("schedule_id IN ? AND ends_at > ? AND starts_at < ?", scheduleIDs, from.UTC(), to.UTC()).
		Order("created_at, id").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("listing overrides: %w", err)
	}
	return out, nil
}

// CreateTimeOff stores a person's time off.
func (s *Store) CreateTimeOff(ctx context.Context, by Actor, t *TimeOff) error {
	if err := t.Validate(); err != nil {
		return err
	}
	return s.scheduleChange(ctx, by, func(tx *Store) (audit, error) {
		if err := tx.requirePeople(ctx, "person", []string{t.PersonID}); err != nil {
			return audit{}, err
		}
		t.ID, t.CreatedBy, t.CreatedAt = newID(), by.Name, tx.clock.Now().UTC()
		if err := tx.db.WithContext(ctx).Create(t).Error; err != nil {
			return audit{}, fmt.Errorf("storing time off: %w", err)
		}
		return audit{action: "time_off.create", subject: PersonSubject(t.PersonID), after: t}, nil
	})
}

// DeleteTimeOff removes a time off.
func (s *Store) DeleteTimeOff(ctx context.Context, by Actor, id string) error {
	return s.scheduleChange(ctx, by, func(tx *Store) (audit, error) {
		var t TimeOff
		if err := tx.db.WithContext(ctx).Where("id = ?", id).Take(&t).Error; err != nil {
			return audit{}, fmt.Errorf("finding time off %s: %w", id, err)
		}
		if err := tx.db.WithContext(ctx).Where("id = ?", id).Delete(&TimeOff{}).Error; err != nil {
			return audit{}, fmt.Errorf("deleting time off: %w", err)
		}
		return audit{action: "time_off.delete", subject: PersonSubject(t.PersonID), before: t}, nil
	})
}

// TimeOffOf lists the time off of people overlapping [from, to), by
// start; no ids lists everyone's.
func (s *Store) TimeOffOf(ctx context.Context, from, to time.Time, personIDs ...string) ([]TimeOff, error) {
	var out []TimeOff
	q := s.db.WithContext(ctx).Where("ends_at > ? AND starts_at < ?", from.UTC(), to.UTC())
	if len(personIDs) > 0 {
		q = q.Where("person_id IN ?", personIDs)
	}
	if err := q.Order("starts_at, id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("listing time off: %w", err)
	}
	return out, nil
}

// TeamScheduleSet loads what decides a team's on-call over [from, to):
// its schedules, their rotations and overrides, and its rotation members'
// time off and inactivity. An unknown team is a not-found error; a team
// without schedules has an empty set.
func (s *Store) TeamScheduleSet(ctx context.Context, teamName string, from, to time.Time) (*ScheduleSet, error) {
	t, err := s.TeamByName(ctx, teamName)
	if err != nil {
		return nil, err
	}
	scheds, err := s.Schedules(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	return s.scheduleSet(ctx, scheds, from, to)
}

// ScheduleSetOf is TeamScheduleSet for one schedule.
func (s *Store) ScheduleSetOf(ctx context.Context, scheduleID string, from, to time.Time) (*ScheduleSet, error) {
	sc, err := s.ScheduleByID(ctx, scheduleID)
	if err != nil {
		return nil, err
	}
	return s.scheduleSet(ctx, []Schedule{*sc}, from, to)
}

func (s *Store) scheduleSet(ctx context.Context, scheds []Schedule, from, to time.Time) (*ScheduleSet, error) {
	set := &ScheduleSet{}
	if len(scheds) == 0 {
		return set, nil
	}
	ids := make([]string, len(scheds))
	for i, sc := range scheds {
		ids[i] = sc.ID
		set.Schedules = append(set.Schedules, ScheduleData{Schedule: sc})
	}
	rots, err := s.Rotations(ctx, ids...)
	if err != nil {
		return nil, err
	}
	ovs, err := s.Overrides(ctx, from, to, ids...)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var members []string
	for i := range set.Schedules {
		d := &set.Schedules[i]
		for _, r := range rots {
			if r.ScheduleID != d.Schedule.ID {
				continue
			}
			d.Rotations = append(d.Rotations, r)
			for _, m := range r.Members {
				if !seen[m] {
					seen[m] = true
					members = append(members, m)
				}
			}
		}
		for _, o := range ovs {
			if o.ScheduleID == d.Schedule.ID {
				d.Overrides = append(d.Overrides, o)
			}
		}
	}
	people := slices.Clone(members)
	for _, o := range ovs {
		if !seen[o.PersonID] {
			seen[o.PersonID] = true
			people = append(people, o.PersonID)
		}
	}
	if len(people) == 0 {
		return set, nil
	}
	if len(members) > 0 {
		if set.TimeOff, err = s.TimeOffOf(ctx, from, to, members...); err != nil {
			return nil, err
		}
	}
	// Inactive members and override people are never on call.
	if err := s.db.WithContext(ctx).Model(&Person{}).Where("id IN ? AND NOT active", people).Order("id").Pluck("id", &set.Inactive).Error; err != nil {
		return nil, fmt.Errorf("finding inactive members: %w", err)
	}
	return set, nil
}
