package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/heraldhq/herald/models"
)

// Who the benchmark's plans page (--roles): the person "oncall" directly,
// or the primary of team "bench", which a Herald schedule decides: a
// weekly rotation of benchRotationSize people, so every page resolves
// through the schedules' resolver (ScheduleRoles) as in production.
const (
	benchRolesUser     = "user"
	benchRolesSchedule = "schedule"
	benchRotationSize  = 4
	// benchUserTarget is how the plans name the person they page.
	benchUserTarget     = `"role":"user","target":"oncall"`
	benchScheduleTarget = `"role":"oncall-primary","target":"bench"`
)

// benchScheduleScenarios are the scenarios --roles schedule applies to:
// those whose plans page the person "oncall" through seed.
var benchScheduleScenarios = []string{"burst", "steady", "claim", "replicas"}

// seedSchedule gives team "bench" a schedule whose weekly rotation (the
// person "oncall" and benchRotationSize-1 others, each with a Slack id
// the webhook vendor can page) puts its primary on call, and returns the
// plan definition paging that primary instead of the person.
func (e *benchEnv) seedSchedule(ctx context.Context, oncallID, definition string) (string, error) {
	if !strings.Contains(definition, benchUserTarget) {
		return "", fmt.Errorf("--roles schedule: the plan does not page the person oncall")
	}
	now := time.Now().UTC()
	team := &models.Team{ID: uuid.NewString(), Name: "bench", CreatedAt: now, UpdatedAt: now}
	if err := e.gdb.WithContext(ctx).Create(team).Error; err != nil {
		return "", err
	}
	members := []string{oncallID}
	for i := 2; i <= benchRotationSize; i++ {
		slack := fmt.Sprintf("U_ONCALL%d", i)
		p := &models.Person{ID: uuid.NewString(), Name: fmt.Sprintf("oncall-%d", i), SlackUserID: &slack, Active: true, CreatedAt: now, UpdatedAt: now}
		if err := e.gdb.WithContext(ctx).Create(p).Error; err != nil {
			return "", err
		}
		members = append(members, p.ID)
	}
	for _, id := range members {
		if err := e.gdb.WithContext(ctx).Create(&models.TeamMember{TeamID: team.ID, PersonID: id}).Error; err != nil {
			return "", err
		}
	}
	by := models.Actor{Name: "herald bench"}
	sc := &models.Schedule{TeamID: team.ID, Name: "Bench", TimeZone: "UTC"}
	if err := e.store.CreateSchedule(ctx, by, sc); err != nil {
		return "", err
	}
	// Started weeks ago, so a shift covers the whole run.
	start := now.AddDate(0, 0, -28).Format(models.DateLayout)
	rot := &models.Rotation{ScheduleID: sc.ID, Name: "weekly", Role: models.RotationPrimary, ShiftKind: models.ShiftWeekly,
		HandoffTime: "09:00", HandoffWeekday: "mon", StartDate: start, Members: members}
	if err := e.store.CreateRotation(ctx, by, rot); err != nil {
		return "", err
	}
	return strings.ReplaceAll(definition, benchUserTarget, benchScheduleTarget), nil
}
