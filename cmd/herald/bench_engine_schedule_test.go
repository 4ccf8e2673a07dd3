package main

import (
	"context"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
	"github.com/heraldhq/herald/notifications/schedule"
)

// TestBenchScheduleRoles: with --roles schedule the bench plan pages the
// bench team's primary, which the seeded rotation (not a static
// assignment) decides; without, the plan is untouched.
func TestBenchScheduleRoles(t *testing.T) {
	pg := os.Getenv("HERALD_TEST_POSTGRES_URL")
	if pg == "" {
		if os.Getenv("HERALD_REQUIRE_POSTGRES") != "" {
			t.Fatal("HERALD_REQUIRE_POSTGRES is set but HERALD_TEST_POSTGRES_URL is not")
		}
		t.Skip("the bench harness runs on PostgreSQL: set HERALD_TEST_POSTGRES_URL")
	}
	ctx := context.Background()
	for _, roles := range []string{benchRolesUser, benchRolesSchedule} {
		t.Run(roles, func(t *testing.T) {
			e, err := newBenchEnv(ctx, benchConfig{adminURL: pg, roles: roles}, "unit", io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			defer e.close()
			pv, err := e.seed(ctx, onePagePlan)
			if err != nil {
				t.Fatal(err)
			}
			var def string
			if err := e.gdb.Raw("SELECT definition FROM plan_versions WHERE id = ?", pv).Scan(&def).Error; err != nil {
				t.Fatal(err)
			}
			if roles == benchRolesUser {
				if def != onePagePlan {
					t.Errorf("plan changed without --roles schedule: %s", def)
				}
				return
			}
			if !strings.Contains(def, benchScheduleTarget) || strings.Contains(def, benchUserTarget) {
				t.Fatalf("plan %s does not page the scheduled primary", def)
			}
			res, err := notifications.ScheduleRoles{Schedules: schedule.NewResolver(e.store, models.SystemClock{}, schedule.ResolverOptions{}),
				Next: notifications.DirectoryRoles{Dir: e.store}}.ResolveWithSource(ctx, notifications.RoleOncallPrimary, "bench")
			if err != nil || len(res.Recipients) != 1 || res.Recipients[0].Source != "primary, Bench weekly" {
				t.Errorf("the bench primary resolves to %+v, %v; want one person from the schedule", res, err)
			}
		})
	}
}
