package notifications_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
	"github.com/heraldhq/herald/notifications/schedule"
)

// useSchedules makes the fixture's engine resolve on-call roles from
// Herald's schedules first, then the static assignments (as app.go does).
func (f *fixture) useSchedules() {
	f.t.Helper()
	vs := notifications.NewVendors()
	if err := vs.Register(f.vendor); err != nil {
		f.t.Fatal(err)
	}
	roles := notifications.ScheduleRoles{Schedules: schedule.NewResolver(f.store, f.clock, schedule.ResolverOptions{}), Next: notifications.DirectoryRoles{Dir: f.store}}
	f.engine = notifications.NewEngine(f.store, vs, roles, f.alerts, f.clock, quiet(f.t), notifications.EngineOptions{Owner: "engine-s"})
}

var admin = models.Actor{Name: "test"}

// paymentsSchedule gives team a schedule "Payments" (UTC) with rotation
// "weekly" of primary.
func (f *fixture) paymentsSchedule(team *models.Team, rot models.Rotation) *models.Schedule {
	f.t.Helper()
	sc := &models.Schedule{TeamID: team.ID, Name: "Payments", TimeZone: "UTC"}
	if err := f.store.CreateSchedule(f.ctx, admin, sc); err != nil {
		f.t.Fatal(err)
	}
	rot.ScheduleID, rot.Name, rot.Role = sc.ID, "weekly", models.RotationPrimary
	if err := f.store.CreateRotation(f.ctx, admin, &rot); err != nil {
		f.t.Fatal(err)
	}
	return sc
}

// TestSchedulePaging: the primary comes from the team's schedule, not
// its static assignment; each repeat resolves again, so the handoff at
// 12:15 pages the new person, and an override made mid-escalation pages
// the person covering. The secondary, without a schedule, falls through
// to the static assignment. Each page records its schedule, and the
// headline says so.
func TestSchedulePaging(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, f *fixture) {
		alice, bob, carol, dave := f.person("alice"), f.person("bob"), f.person("carol"), f.person("dave")
		payments := f.team("payments", bob, alice, carol)
		f.oncall(payments, "primary", carol)
		f.oncall(payments, "secondary", carol)
		sc := f.paymentsSchedule(payments, models.Rotation{ShiftKind: models.ShiftDaily, HandoffTime: "12:15", StartDate: "2026-02-28",
			Members: []string{alice.ID, dave.ID}})
		f.useSchedules()
		f.plan("payments", steps(step(
			models.PlanNotification{Role: notifications.RoleOncallPrimary, Target: "payments", Priority: "low", WaitMinutes: 10, Repeat: 3},
			models.PlanNotification{Role: notifications.RoleOncallSecondary, Target: "payments", Priority: "low"},
		)))
		inc := f.escalate("db down", "payments")
		for m := 0; m <= 35; m++ {
			f.clock.Set(t0.Add(time.Duration(m) * time.Minute))
			if m == 21 {
				o := &models.ScheduleOverride{ScheduleID: sc.ID, Role: models.RotationPrimary, PersonID: bob.ID,
					StartsAt: t0.Add(25 * time.Minute), EndsAt: t0.Add(time.Hour), Reason: "dave is driving"}
				if err := f.store.CreateOverride(f.ctx, admin, o); err != nil {
					t.Fatal(err)
				}
			}
			f.tick()
		}
		got := pages(f.vendor.accepted(), inc.ID)
		want := []string{"U_ALICE@0", "U_ALICE@10", "U_BOB@30", "U_CAROL@0", "U_DAVE@20"}
		if !slices.Equal(got, want) {
			t.Errorf("pages %v, want %v", got, want)
		}
		sources := map[string][]string{}
		for _, m := range f.messages(inc) {
			if m.PersonID != nil {
				sources[*m.PersonID] = append(sources[*m.PersonID], m.RecipientSource)
			}
		}
		for who, want := range map[string][]string{
			alice.ID: {"primary, Payments weekly", "primary, Payments weekly"},
			dave.ID:  {"primary, Payments weekly"},
			bob.ID:   {"primary, override in Payments"},
			carol.ID: {""},
		} {
			if !slices.Equal(sources[who], want) {
				t.Errorf("sources of %s = %q, want %q", who, sources[who], want)
			}
		}
		if a := f.alerts.all(); len(a) != 0 {
			t.Errorf("alerts %v, want none", a)
		}
		sum, err := f.store.PagingSummaryOf(f.ctx, inc.ID)
		if err != nil {
			t.Fatal(err)
		}
		wantPaged := []string{"<@U_ALICE> (primary, Payments weekly)", "<@U_BOB> (primary, override in Payments)", "<@U_CAROL>", "<@U_DAVE> (primary, Payments weekly)"}
		if !slices.Equal(sum.Paged, wantPaged) {
			t.Errorf("headline paged %q, want %q", sum.Paged, wantPaged)
		}
	})
}

// TestScheduleGapPagesManager: outside the rotation's windows the team has
// no primary: the manager is paged instead (not the static on-call) and
// the incident channel is warned; without a manager the send reaches
// nobody and alerts as such.
func TestScheduleGapPagesManager(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, f *fixture) {
		alice, bob, carol := f.person("alice"), f.person("bob"), f.person("carol")
		payments := f.team("payments", bob, alice)
		ops := f.team("ops", nil, carol)
		f.oncall(payments, "primary", carol)
		business := models.Rotation{ShiftKind: models.ShiftWeekly, HandoffTime: "09:00", HandoffWeekday: "mon", StartDate: "2026-02-23",
			Members: []string{alice.ID}, Windows: models.RotationWindows{{Weekdays: []string{"mon", "tue", "wed", "thu", "fri"}, Start: "09:00", End: "17:00"}}}
		f.paymentsSchedule(payments, business)
		f.paymentsSchedule(ops, business)
		f.useSchedules()
		primary := func(team string) models.PlanNotification {
			return models.PlanNotification{Role: notifications.RoleOncallPrimary, Target: team, Priority: "low", WaitMinutes: 5}
		}
		f.plan("payments", steps(step(primary("payments"))))
		f.plan("ops", steps(step(primary("ops"))))
		// t0 is a Sunday noon: outside the windows.
		inc := f.escalate("db down", "payments")
		incOps := f.escalate("queue stuck", "ops")
		f.tick()
		if got := pages(f.vendor.accepted(), inc.ID); !slices.Equal(got, []string{"U_BOB@0"}) {
			t.Errorf("payments pages %v, want the manager bob at 0", got)
		}
		if got := pages(f.vendor.accepted(), incOps.ID); len(got) != 0 {
			t.Errorf("ops pages %v, want none", got)
		}
		var warned, nobody []string
		for _, a := range f.alerts.all() {
			switch a.IncidentID {
			case inc.ID:
				warned = append(warned, a.Text)
			case incOps.ID:
				nobody = append(nobody, a.Text)
			}
		}
		if want := []string{"⚠️ Team payments has no primary on call now (schedule gap): paged the manager Bob instead."}; !slices.Equal(warned, want) {
			t.Errorf("payments alerts %q, want %q", warned, want)
		}
		if len(nobody) != 1 || !strings.Contains(nobody[0], `should page oncall-primary "ops", which has no primary on call now (schedule gap) and the team has no manager`) {
			t.Errorf("ops alerts %q", nobody)
		}
		for _, m := range f.messages(inc) {
			if m.PersonID == nil || *m.PersonID != bob.ID || m.RecipientSource != "manager, no primary on call" {
				t.Errorf("payments message to %v from %q, want bob as manager", m.PersonID, m.RecipientSource)
			}
		}
		// Monday 10:00 the window is open: alice is paged.
		f.clock.Set(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
		inc2 := f.escalate("db down again", "payments")
		f.tick()
		if got := f.messages(inc2); len(got) != 1 || *got[0].PersonID != alice.ID || got[0].RecipientSource != "primary, Payments weekly" {
			t.Errorf("Monday pages %+v, want alice from the schedule", got)
		}
	})
}
