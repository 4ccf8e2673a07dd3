package models

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"gorm.io/gorm"
)

// Every schedule write runs in one transaction that also writes an
// audit_log row (who, what, before and after, subject "schedule:<id>" or
// "person:<id>") and bumps the "schedules" counter, which cached on-call
// lookups compare to notice changes made by any replica.

// ScheduleSubject is the audit subject of a schedule and everything in it
// (rotations, overrides, swaps).
func ScheduleSubject(scheduleID string) string { return "schedule:" + scheduleID }

// PersonSubject is the audit subject of a person's time off.
func PersonSubject(personID string) string { return "person:" + personID }

// ErrNoActor refuses a schedule change that does not say who made it.
var ErrNoActor = errors.New("actor: required (who makes the change)")

// CreateSchedule stores a new schedule for a team (s.TeamID). Bad fields
// are InputErrors; a name the team already uses is ErrDuplicate.
func (s *Store) CreateSchedule(ctx context.Context, by Actor, sc *Schedule) error {
	if err := sc.Validate(); err != nil {
		return err
	}
	return s.scheduleChange(ctx, by, func(tx *Store) (audit, error) {
		if err := tx.requireTeam(ctx, sc.TeamID); err != nil {
			return audit{}, err
		}
		now := tx.clock.Now().UTC()
		sc.ID, sc.CreatedAt, sc.UpdatedAt = newID(), now, now
		if err := tx.db.WithContext(ctx).Create(sc).Error; err != nil {
			return audit{}, scheduleWriteError("schedule", sc.Name, err)
		}
		return audit{action: "schedule.create", subject: ScheduleSubject(sc.ID), after: sc}, nil
	})
}

// UpdateSchedule changes a schedule's name and time zone (by sc.ID; its
// team stays).
func (s *Store) UpdateSchedule(ctx context.Context, by Actor, sc *Schedule) error {
	if err := sc.Validate(); err != nil {
		return err
	}
	return s.scheduleChange(ctx, by, func(tx *Store) (audit, error) {
		before, err := tx.ScheduleByID(ctx, sc.ID)
		if err != nil {
			return audit{}, err
		}
		sc.TeamID, sc.CreatedAt, sc.UpdatedAt = before.TeamID, before.CreatedAt, tx.clock.Now().UTC()
		err = tx.db.WithContext(ctx).Model(&Schedule{}).Where("id = ?", sc.ID).
			Updates(map[string]any{"name": sc.Name, "time_zone": sc.TimeZone, "updated_at": sc.UpdatedAt}).Error
		if err != nil {
			return audit{}, scheduleWriteError("schedule", sc.Name, err)
		}
		return audit{action: "schedule.update", subject: ScheduleSubject(sc.ID), before: before, after: sc}, nil
	})
}

// DeleteSchedule removes a schedule with its rotations and overrides.
func (s *Store) DeleteSchedule(ctx context.Context, by Actor, id string) error {
	return s.scheduleChange(ctx, by, func(tx *Store) (audit, error) {
		before, err := tx.ScheduleByID(ctx, id)
		if err != nil {
			return audit{}, err
		}
		if err := tx.db.WithContext(ctx).Where("id = ?", id).Delete(&Schedule{}).Error; err != nil {
			return audit{}, fmt.Errorf("deleting schedule %q: %w", before.Name, err)
		}
		return audit{action: "schedule.delete", subject: ScheduleSubject(id), before: before}, nil
	})
}

// ScheduleByID loads a schedule.
func (s *Store) ScheduleByID(ctx context.Context, id string) (*Schedule, error) {
	var sc Schedule
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&sc).Error; err != nil {
		return nil, fmt.Errorf("finding schedule %s: %w", id, err)
	}
	return &sc, nil
}

// ScheduleByName finds a team's schedule by name.
func (s *Store) ScheduleByName(ctx context.Context, teamID, name string) (*Schedule, error) {
	var sc Schedule
	if err := s.db.WithContext(ctx).Where("team_id = ? AND name = ?", teamID, name).Take(&sc).Error; err != nil {
		return nil, fmt.Errorf("finding schedule %q: %w", name, err)
	}
	return &sc, nil
}

// Schedules lists a team's schedules by name; teamID "" lists every
// team's, by team id then name.
func (s *Store) Schedules(ctx context.Context, teamID string) ([]Schedule, error) {
	var out []Schedule
	q := s.db.WithContext(ctx).Order("team_id, name")
	if teamID != "" {
		q = q.Where("team_id = ?", teamID)
	}
	if err := q.Find(&out).Error; err != nil {
		return nil, fmt.Errorf("listing schedules: %w", err)
	}
	return out, nil
}

// CreateRotation adds a rotation to a schedule (r.ScheduleID), on top of
// its other layers. Bad fields and unknown members are InputErrors; a
// name the schedule already uses is ErrDuplicate.
func (s *Store) CreateRotation(ctx context.Context, by Actor, r *Rotation) error {
	if err := r.Validate(); err != nil {
		return err
	}
	return s.scheduleChange(ctx, by, func(tx *Store) (audit, error) {
		if _, err := tx.ScheduleByID(ctx, r.ScheduleID); err != nil {
			return audit{}, err
		}
		if err := tx.requirePeople(ctx, "members", r.Members); err != nil {
			return audit{}, err
		}
		var top *int
		if err := tx.db.WithContext(ctx).Model(&Rotation{}).Where("schedule_id = ?", r.ScheduleID).Select("MAX(layer)").Scan(&top).Error; err != nil {
			return audit{}, fmt.Errorf("finding the top layer: %w", err)
		}
		r.Layer = 0
		if top != nil {
			r.Layer = *top + 1
		}
		now := tx.clock.Now().UTC()
		r.ID, r.CreatedAt, r.UpdatedAt = newID(), now, now
		if err := tx.db.WithContext(ctx).Create(r).Error; err != nil {
			return audit{}, scheduleWriteError("rotation", r.Name, err)
		}
		if err := tx.writeMembers(ctx, r); err != nil {
			return audit{}, err
		}
		return audit{action: "rotation.create", subject: ScheduleSubject(r.ScheduleID), after: r}, nil
	})
}

// UpdateRotation replaces a rotation's fields and members (by r.ID; its
// schedule stays). Layer is kept as given.
func (s *Store) UpdateRotation(ctx context.Context, by Actor, r *Rotation) error {
	if err := r.Validate(); err != nil {
		return err
	}
	return s.scheduleChange(ctx, by, func(tx *Store) (audit, error) {
		before, err := tx.RotationByID(ctx, r.ID)
		if err != nil {
			return audit{}, err
		}
		if err := tx.requirePeople(ctx, "members", r.Members); err != nil {
			return audit{}, err
		}
		r.ScheduleID, r.CreatedAt, r.UpdatedAt = before.ScheduleID, before.CreatedAt, tx.clock.Now().UTC()
		windows, err := r.Windows.Value()
		if err != nil {
			return audit{}, err
		}
		err = tx.db.WithContext(ctx).Model(&Rotation{}).Where("id = ?", r.ID).Updates(map[string]any{
			"name": r.Name, "role": r.Role, "layer": r.Layer, "shift_kind": r.ShiftKind, "shift_count": r.ShiftCount,
			"handoff_time": r.HandoffTime, "handoff_weekday": r.HandoffWeekday, "start_date": r.StartDate,
			"time_zone": r.TimeZone, "windows": windows, "updated_at": r.UpdatedAt,
		}).Error
		if err != nil {
			return audit{}, scheduleWriteError("rotation", r.Name, err)
		}
		if err := tx.db.WithContext(ctx).Where("rotation_id = ?", r.ID).Delete(&RotationMember{}).Error; err != nil {
			return audit{}, fmt.Errorf("replacing rotation members: %w", err)
		}
		if err := tx.writeMembers(ctx, r); err != nil {
			return audit{}, err
		}
		return audit{action: "rotation.update", subject: ScheduleSubject(r.ScheduleID), before: before, after: r}, nil
	})
}

// DeleteRotation removes a rotation.
func (s *Store) DeleteRotation(ctx context.Context, by Actor, id string) error {
	return s.scheduleChange(ctx, by, func(tx *Store) (audit, error) {
		before, err := tx.RotationByID(ctx, id)
		if err != nil {
			return audit{}, err
		}
		if err := tx.db.WithContext(ctx).Where("id = ?", id).Delete(&Rotation{}).Error; err != nil {
			return audit{}, fmt.Errorf("deleting rotation %q: %w", before.Name, err)
		}
		return audit{action: "rotation.delete", subject: ScheduleSubject(before.ScheduleID), before: before}, nil
	})
}

// RotationByID loads a rotation with its members.
func (s *Store) RotationByID(ctx context.Context, id string) (*Rotation, error) {
	var r Rotation
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&r).Error; err != nil {
		return nil, fmt.Errorf("finding rotation %s: %w", id, err)
	}
	rs := []Rotation{r}
	if err := s.loadMembers(ctx, rs); err != nil {
		return nil, err
	}
	return &rs[0], nil
}

// Rotations lists the rotations of schedules with their members, by
// schedule then layer.
func (s *Store) Rotations(ctx context.Context, scheduleIDs ...string) ([]Rotation, error) {
	var out []Rotation
	if len(scheduleIDs) == 0 {
		return nil, nil
	}
	if err := s.db.WithContext(ctx).Where("schedule_id IN ?", scheduleIDs).Order("schedule_id, layer, id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("listing rotations: %w", err)
	}
	return out, s.loadMembers(ctx, out)
}

func (s *Store) loadMembers(ctx context.Context, rs []Rotation) error {
	if len(rs) == 0 {
		return nil
	}
	ids := make([]string, len(rs))
	at := make(map[string]int, len(rs))
	for i, r := range rs {
		ids[i], at[r.ID] = r.ID, i
	}
	var ms []RotationMember
	if err := s.db.WithContext(ctx).Where("rotation_id IN ?", ids).Order("rotation_id, position").Find(&ms).Error; err != nil {
		return fmt.Errorf("loading rotation members: %w", err)
	}
	for _, m := range ms {
		rs[at[m.RotationID]].Members = append(rs[at[m.RotationID]].Members, m.PersonID)
	}
	return nil
}

func (s *Store) writeMembers(ctx context.Context, r *Rotation) error {
	rows := make([]RotationMember, len(r.Members))
	for i, p := range r.Members {
		rows[i] = RotationMember{RotationID: r.ID, Position: i, PersonID: p}
	}
	if err := s.db.WithContext(ctx).Create(&rows).Error; err != nil {
		return fmt.Errorf("storing rotation members: %w", err)
	}
	return nil
}

// audit is what a schedule change records.
type audit struct {
	action, subject string
	before, after   any
}

// scheduleChange runs fn in a transaction and records its audit entry and
// a new schedules version.
func (s *Store) scheduleChange(ctx context.Context, by Actor, fn func(tx *Store) (audit, error)) error {
	if by.Name == "" {
		return ErrNoActor
	}
	return s.InTx(ctx, func(tx *Store) error {
		a, err := fn(tx)
		if err != nil {
			return err
		}
		e := AuditEntry{At: tx.clock.Now().UTC(), ActorID: by.UserID, Actor: by.Name, Subject: a.subject, Action: a.action,
			Before: auditJSON(a.before), After: auditJSON(a.after)}
		if err := tx.addAudit(ctx, e); err != nil {
			return err
		}
		if err := tx.db.WithContext(ctx).Exec("UPDATE counters SET value = value + 1 WHERE name = 'schedules'").Error; err != nil {
			return fmt.Errorf("bumping the schedules version: %w", err)
		}
		return nil
	})
}

func auditJSON(v any) string {
	if v == nil {
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%+v", v)
	}
	return string(b)
}

// SchedulesVersion changes whenever any schedule, rotation, override,
// swap or time off does.
func (s *Store) SchedulesVersion(ctx context.Context) (int64, error) {
	var v int64
	if err := s.db.WithContext(ctx).Raw("SELECT value FROM counters WHERE name = 'schedules'").Scan(&v).Error; err != nil {
		return 0, fmt.Errorf("reading the schedules version: %w", err)
	}
	return v, nil
}

// ScheduleAudit lists the audit entries of a subject (ScheduleSubject,
// PersonSubject), oldest first.
func (s *Store) ScheduleAudit(ctx context.Context, subject string) ([]AuditEntry, error) {
	var out []AuditEntry
	if err := s.db.WithContext(ctx).Where("subject = ?", subject).Order("at, id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("loading audit log: %w", err)
	}
	return out, nil
}

func (s *Store) requireTeam(ctx context.Context, teamID string) error {
	var n int64
	if err := s.db.WithContext(ctx).Model(&Team{}).Where("id = ?", teamID).Count(&n).Error; err != nil {
		return fmt.Errorf("finding team: %w", err)
	}
	if n == 0 {
		return InputErrors{{Field: "team", Message: fmt.Sprintf("unknown team %q", teamID)}}
	}
	return nil
}

// requirePeople reports every id of ids that is no person, at
// field[i] (or field alone for a single id).
func (s *Store) requirePeople(ctx context.Context, field string, ids []string) error {
	var known []string
	if err := s.db.WithContext(ctx).Model(&Person{}).Where("id IN ?", ids).Pluck("id", &known).Error; err != nil {
		return fmt.Errorf("finding people: %w", err)
	}
	seen := make(map[string]bool, len(known))
	for _, id := range known {
		seen[id] = true
	}
	var errs InputErrors
	for i, id := range ids {
		if !seen[id] {
			f := field
			if len(ids) > 1 || field == "members" {
				f = fmt.Sprintf("%s[%d]", field, i)
			}
			errs.add(f, "unknown person %q", id)
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

func scheduleWriteError(what, name string, err error) error {
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return fmt.Errorf("%s %q: %w", what, name, ErrDuplicate)
	}
	return fmt.Errorf("storing %s %q: %w", what, name, err)
}
