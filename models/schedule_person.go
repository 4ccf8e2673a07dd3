package models

import (
	"context"
	"fmt"
	"time"
)

// PersonScheduleSets loads, for each team where a person may be on call
// over [from, to) — they are a member of one of its rotations, or an
// override of one of its schedules names them then — everything that
// decides that team's on-call (as TeamScheduleSet): whether they are on
// call depends on the team's other layers and overrides too. By team id.
func (s *Store) PersonScheduleSets(ctx context.Context, personID string, from, to time.Time) ([]ScheduleSet, error) {
	inRotation := s.db.WithContext(ctx).Table("schedule_rotations").Select("schedule_rotations.schedule_id").
		Joins("JOIN rotation_members ON rotation_members.rotation_id = schedule_rotations.id").
		Where("rotation_members.person_id = ?", personID)
	inOverride := s.db.WithContext(ctx).Table("schedule_overrides").Select("schedule_id").
		Where("person_id = ? AND ends_at > ? AND starts_at < ?", personID, from.UTC(), to.UTC())
	var teamIDs []string
	err := s.db.WithContext(ctx).Model(&Schedule{}).Distinct("team_id").
		Where("id IN (?) OR id IN (?)", inRotation, inOverride).Order("team_id").Pluck("team_id", &teamIDs).Error
	if err != nil {
		return nil, fmt.Errorf("finding the teams of a person's schedules: %w", err)
	}
	out := make([]ScheduleSet, 0, len(teamIDs))
	for _, teamID := range teamIDs {
		scheds, err := s.Schedules(ctx, teamID)
		if err != nil {
			return nil, err
		}
		set, err := s.scheduleSet(ctx, scheds, from, to)
		if err != nil {
			return nil, err
		}
		out = append(out, *set)
	}
	return out, nil
}
