package notifications_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/fakeclock"
	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
	"github.com/heraldhq/herald/notifications/schedule"
)

// schedulesYAML adds to catalogYAML (alice, bob, carol; team payments) a
// follow-the-sun schedule: a weekly bottom layer, London and Singapore
// working hours on top, and a daily secondary.
const schedulesYAML = `
schedules:
  - team: payments
    name: Payments weekly
    time_zone: Europe/London
    rotations:
      - {name: base, role: primary, members: [alice, bob, carol], shift: weekly, every: 1, handoff: "09:00", handoff_day: monday, start: 2026-01-05}
      - name: london
        role: primary
        members: [alice]
        shift: weekly
        handoff: "09:00"
        handoff_day: Monday
        start: 2026-01-05
        windows: [{days: [mon, tue, wed, thu, fri], start: "09:00", end: "17:00"}]
      - name: singapore
        role: primary
        members: [bob]
        shift: daily
        handoff: "09:00"
        start: 2026-01-05
        time_zone: Asia/Singapore
        windows: [{days: [Mon, tue, wed, thu, fri], start: "09:00", end: "17:00"}]
      - {name: second, role: secondary, members: [bob, alice], shift: daily, every: 2, handoff: "10:30", start: 2026-02-01}
`

func rotationNames(rs []models.Rotation) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Name
	}
	return out
}

// scheduleOf loads team's schedule by name with its rotations by layer.
func scheduleOf(t *testing.T, store *models.Store, team, name string) (*models.Schedule, []models.Rotation) {
	t.Helper()
	ctx := context.Background()
	tm, err := store.TeamByName(ctx, team)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := store.ScheduleByName(ctx, tm.ID, name)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := store.Rotations(ctx, sc.ID)
	if err != nil {
		t.Fatal(err)
	}
	return sc, rs
}

func version(t *testing.T, store *models.Store) int64 {
	t.Helper()
	v, err := store.SchedulesVersion(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestApplySchedules: a schedule and its rotations are created through the
// audited store methods (actor "herald apply"), bumping the schedules
// version; applying again writes nothing; changes update only what
// changed; export applies back as a no-op.
func TestApplySchedules(t *testing.T) {
	forEachApplyDB(t, func(t *testing.T, db *testdb.DB, clock *fakeclock.Clock) {
		ctx := context.Background()
		v0 := version(t, db.Store)
		r := applyYAML(t, db.Store, catalogYAML+schedulesYAML, notifications.ApplyOptions{})
		if r.Schedules != (notifications.Counts{Created: 1}) || !strings.Contains(r.String(), "schedules: 1 created, 0 updated, 0 unchanged, 0 deleted") ||
			!strings.Contains(r.String(), "+ schedule payments/Payments weekly: 4 rotation(s)") {
			t.Errorf("report:\n%s", r)
		}
		sc, rs := scheduleOf(t, db.Store, "payments", "Payments weekly")
		if sc.TimeZone != "Europe/London" || !slices.Equal(rotationNames(rs), []string{"base", "london", "singapore", "second"}) {
			t.Fatalf("schedule %+v, rotations %v", sc, rotationNames(rs))
		}
		alice, _ := db.Store.PersonByName(ctx, "alice")
		bob, _ := db.Store.PersonByName(ctx, "bob")
		carol, _ := db.Store.PersonByName(ctx, "carol")
		base, london, sing, second := rs[0], rs[1], rs[2], rs[3]
		if !slices.Equal(base.Members, []string{alice.ID, bob.ID, carol.ID}) || base.HandoffWeekday != "mon" || base.ShiftCount != 1 || base.Layer != 0 {
			t.Errorf("base = %+v", base)
		}
		if london.HandoffWeekday != "mon" || len(london.Windows) != 1 || london.Windows[0].End != "17:00" || london.Layer != 1 {
			t.Errorf("london = %+v", london)
		}
		if sing.TimeZone != "Asia/Singapore" || sing.Windows[0].Weekdays[0] != "mon" || sing.HandoffWeekday != "" {
			t.Errorf("singapore = %+v", sing)
		}
		if second.Role != models.RotationSecondary || second.ShiftCount != 2 || second.HandoffTime != "10:30" {
			t.Errorf("second = %+v", second)
		}
		audit, err := db.Store.ScheduleAudit(ctx, models.ScheduleSubject(sc.ID))
		if err != nil || len(audit) != 5 || audit[0].Actor != "herald apply" || audit[0].Action != "schedule.create" || audit[4].Action != "rotation.create" {
			t.Errorf("audit = %+v, %v", audit, err)
		}
		v1 := version(t, db.Store)
		if v1 <= v0 {
			t.Errorf("schedules version %d → %d: resolvers would not refresh", v0, v1)
		}

		// Again: nothing written, the version unchanged.
		r = applyYAML(t, db.Store, catalogYAML+schedulesYAML, notifications.ApplyOptions{})
		if r.Changed() || r.Schedules != (notifications.Counts{Unchanged: 1}) || version(t, db.Store) != v1 {
			t.Errorf("second apply:\n%s", r)
		}

		// Members, a window and the zone change; singapore goes; a new
		// rotation is inserted below london, so the layers follow the file.
		changed := strings.NewReplacer(
			"members: [alice, bob, carol]", "members: [carol, alice]",
			`end: "17:00"}]
      - name: singapore`, `end: "18:00"}]
      - name: singapore`,
			"    time_zone: Europe/London\n", "    time_zone: Europe/Dublin\n",
		).Replace(schedulesYAML)
		changed = strings.Replace(changed, "      - name: london\n", "      - {name: extra, role: shadow, members: [carol], shift: hourly, every: 12, handoff: \"00:00\", start: 2026-01-01}\n      - name: london\n", 1)
		changed = changed[:strings.Index(changed, "      - name: singapore")] + changed[strings.Index(changed, "      - {name: second"):]
		r = applyYAML(t, db.Store, catalogYAML+changed, notifications.ApplyOptions{})
		want := "~ schedule payments/Payments weekly: time_zone, -rotation singapore, rotation base (members), +rotation extra, rotation london (windows, order)"
		if r.Schedules != (notifications.Counts{Updated: 1}) || !strings.Contains(r.String(), want) {
			t.Errorf("report:\n%s\nwant %s", r, want)
		}
		sc, rs = scheduleOf(t, db.Store, "payments", "Payments weekly")
		if sc.TimeZone != "Europe/Dublin" || !slices.Equal(rotationNames(rs), []string{"base", "extra", "london", "second"}) ||
			!slices.Equal(rs[0].Members, []string{carol.ID, alice.ID}) || rs[2].Windows[0].End != "18:00" {
			t.Errorf("after the change: %+v %v %+v", sc, rotationNames(rs), rs)
		}
		if r := applyYAML(t, db.Store, catalogYAML+changed, notifications.ApplyOptions{}); r.Changed() {
			t.Errorf("applying the change again:\n%s", r)
		}

		// Export holds the schedule and applies back as a no-op.
		exported := exportYAML(t, db.Store, true)
		for _, want := range []string{"schedules:", "name: Payments weekly", "members: [carol, alice]", "handoff_day: mon", "days: [mon, tue, wed, thu, fri]", "every: 12"} {
			if !strings.Contains(exported, want) {
				t.Errorf("export lacks %q:\n%s", want, exported)
			}
		}
		before := version(t, db.Store)
		if r := applyYAML(t, db.Store, exported, notifications.ApplyOptions{Prune: true}); r.Changed() {
			t.Errorf("applying the export:\n%s", r)
		}
		if version(t, db.Store) != before {
			t.Error("a no-op apply bumped the schedules version")
		}
	})
}

// TestApplySchedulesPrune: a schedule the file leaves out is listed, and
// removed (audited) only with --prune; a file of only schedules or only
// services is not "a file that declares nothing".
func TestApplySchedulesPrune(t *testing.T) {
	forEachApplyDB(t, func(t *testing.T, db *testdb.DB, clock *fakeclock.Clock) {
		ctx := context.Background()
		other := strings.Replace(schedulesYAML, "name: Payments weekly", "name: Payments old", 1)
		other = strings.Replace(other, "schedules:\n", "", 1)
		applyYAML(t, db.Store, catalogYAML+schedulesYAML+other, notifications.ApplyOptions{})
		old, _ := scheduleOf(t, db.Store, "payments", "Payments old")

		r := applyYAML(t, db.Store, catalogYAML+schedulesYAML, notifications.ApplyOptions{DryRun: true})
		if len(r.Prunable) != 1 || r.Prunable[0].Kind != notifications.KindSchedule || r.Prunable[0].Name != "payments/Payments old" || r.Changed() {
			t.Errorf("without --prune: %+v\n%s", r.Prunable, r)
		}
		r = applyYAML(t, db.Store, catalogYAML+schedulesYAML, notifications.ApplyOptions{Prune: true, DryRun: true})
		if r.Schedules != (notifications.Counts{Unchanged: 1, Deleted: 1}) {
			t.Errorf("dry-run prune:\n%s", r)
		}
		if _, err := db.Store.ScheduleByID(ctx, old.ID); err != nil {
			t.Errorf("a dry run removed the schedule: %v", err)
		}
		r = applyYAML(t, db.Store, catalogYAML+schedulesYAML, notifications.ApplyOptions{Prune: true})
		if r.Schedules != (notifications.Counts{Unchanged: 1, Deleted: 1}) || !strings.Contains(r.String(), "- schedule payments/Payments old") {
			t.Errorf("prune:\n%s", r)
		}
		if _, err := db.Store.ScheduleByID(ctx, old.ID); !models.IsNotFound(err) {
			t.Errorf("pruned schedule: %v", err)
		}
		audit, _ := db.Store.ScheduleAudit(ctx, models.ScheduleSubject(old.ID))
		if len(audit) == 0 || audit[len(audit)-1].Action != "schedule.delete" || audit[len(audit)-1].Actor != "herald apply" {
			t.Errorf("audit of the pruned schedule: %+v", audit)
		}

		// Only schedules: refused for what it refers to, not for
		// declaring nothing; only services: applied, pruning the rest.
		_, err := notifications.Apply(ctx, db.Store, parseCatalogT(t, schedulesYAML), notifications.ApplyOptions{Prune: true, DryRun: true})
		var errs notifications.Errors
		if errors.Is(err, notifications.ErrPruneEverything) || !errors.As(err, &errs) || !strings.Contains(err.Error(), `schedules[0].team: unknown team "payments"`) {
			t.Errorf("only schedules with --prune: %v", err)
		}
		r, err = notifications.Apply(ctx, db.Store, parseCatalogT(t, "services:\n  - {name: search, plan: ''}\n"), notifications.ApplyOptions{Prune: true})
		if err != nil || r.Services.Created != 1 || r.Schedules.Deleted != 1 || r.Teams.Deleted != 1 {
			t.Errorf("only services with --prune: %v\n%s", err, r)
		}
	})
}

// TestApplyRefreshesResolvers: a resolver caching the team's on-call sees
// the applied rotation once it reads the new schedules version.
func TestApplyRefreshesResolvers(t *testing.T) {
	forEachApplyDB(t, func(t *testing.T, db *testdb.DB, clock *fakeclock.Clock) {
		ctx := context.Background()
		one := func(members string) string {
			return catalogYAML + "schedules:\n  - team: payments\n    name: Solo\n    time_zone: UTC\n    rotations:\n" +
				"      - {name: all, role: primary, members: " + members + ", shift: weekly, handoff: \"00:00\", handoff_day: sun, start: 2026-01-01}\n"
		}
		applyYAML(t, db.Store, one("[alice]"), notifications.ApplyOptions{})
		res := schedule.NewResolver(db.Store, clock, schedule.ResolverOptions{TTL: time.Hour, VersionCheck: time.Second})
		onCall := func() string {
			t.Helper()
			a, err := res.Lookup(ctx, "payments", models.RotationPrimary)
			if err != nil || a.Status != schedule.StatusCovered {
				t.Fatalf("lookup: %+v %v", a, err)
			}
			p, err := db.Store.PeopleByID(ctx, []string{a.Shift.PersonID})
			if err != nil || len(p) != 1 {
				t.Fatal(err)
			}
			return p[0].Name
		}
		if got := onCall(); got != "alice" {
			t.Fatalf("on call %s, want alice", got)
		}
		applyYAML(t, db.Store, one("[bob]"), notifications.ApplyOptions{})
		clock.Advance(2 * time.Second)
		if got := onCall(); got != "bob" {
			t.Errorf("after apply: on call %s, want bob", got)
		}
		// Deactivating bob (a person change, not a schedule's) refreshes
		// too: his turn goes to nobody else, so the role has a gap.
		applyYAML(t, db.Store, strings.Replace(one("[bob]"), "  - name: bob\n", "  - name: bob\n    active: false\n", 1), notifications.ApplyOptions{})
		clock.Advance(2 * time.Second)
		if a, err := res.Lookup(ctx, "payments", models.RotationPrimary); err != nil || a.Status == schedule.StatusCovered {
			t.Errorf("after deactivating bob: %+v %v", a, err)
		}
	})
}

func TestValidateSchedules(t *testing.T) {
	const base = "people:\n  - {name: alice}\n  - {name: bob}\nteams:\n  - {name: payments, members: [alice, bob]}\nschedules:\n"
	// rot is a valid schedule whose rotation has the replacements made.
	rot := func(oldnew ...string) string {
		r := `{name: r, role: primary, members: [alice], shift: weekly, handoff: "09:00", handoff_day: mon, start: 2026-01-05}`
		return base + "  - team: payments\n    name: S\n    time_zone: UTC\n    rotations:\n      - " + strings.NewReplacer(oldnew...).Replace(r) + "\n"
	}
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"unknown member", base + "  - team: payments\n    name: S\n    time_zone: UTC\n    rotations:\n      - {name: r, role: primary, members: [alice, bob], shift: daily, handoff: \"09:00\", start: 2026-01-05}\n      - {name: q, role: primary, members: [alice, bob, dave], shift: daily, handoff: \"09:00\", start: 2026-01-05}\n",
			[]string{`schedules[0].rotations[1].members[2]: unknown person "dave" (not in this file or the database)`}},
		{"schedule fields", base + "  - {team: infra, name: ' S', time_zone: Mars/Base}\n  - {name: 'a/b', time_zone: UTC}\n", []string{
			`schedules[0].team: unknown team "infra" (not in this file or the database)`,
			`schedules[0].name: " S" has spaces at an end`,
			"schedules[1].team: required",
			`schedules[1].name: "a/b" is not a valid name (letters, digits, spaces, ".", "_" and "-", up to 64 characters)`,
		}},
		{"schedule zone", base + "  - {team: payments, name: S, time_zone: Mars/Base}\n", []string{`schedules[0].time_zone: unknown time zone "Mars/Base" (an IANA name, like Europe/London)`}},
		{"duplicate schedule", base + "  - {team: payments, name: S, time_zone: UTC}\n  - {team: payments, name: S, time_zone: UTC}\n", []string{`schedules[1].name: team payments already has a schedule "S": schedules[0]`}},
		{"valid", rot(), nil},
		{"shift", rot("weekly", "monthly"), []string{
			`schedules[0].rotations[0].shift: "monthly" is not a shift kind (hourly, daily or weekly)`,
			"schedules[0].rotations[0].handoff_day: only weekly shifts hand off on a weekday"}},
		{"every", rot("weekly", "weekly, every: 53"), []string{"schedules[0].rotations[0].every: must be between 1 and 52 for weekly shifts, not 53"}},
		{"fields", rot("handoff_day: mon", "handoff_day: someday", "}", ", time_zone: Local, windows: [{days: [mon, funday, mon], start: '9:00', end: '09:00'}]}"), []string{
			`schedules[0].rotations[0].handoff_day: "someday" is not a day (mon, tue, wed, thu, fri, sat, sun)`,
			`schedules[0].rotations[0].time_zone: "Local" depends on the machine; name the zone, like Europe/London`,
			`schedules[0].rotations[0].windows[0].days[1]: "funday" is not a day (mon, tue, wed, thu, fri, sat, sun)`,
			"schedules[0].rotations[0].windows[0].days[2]: mon is listed twice",
			`schedules[0].rotations[0].windows[0].start: "9:00" is not a time of day (HH:MM, 24-hour, like 02:30)`,
		}},
		{"daily with a day", rot("weekly", "daily"), []string{"schedules[0].rotations[0].handoff_day: only weekly shifts hand off on a weekday"}},
		{"missing", base + "  - team: payments\n    name: S\n    time_zone: UTC\n    rotations:\n      - {name: r, members: [], shift: weekly}\n      - {name: r, role: boss, members: [''], shift: hourly, handoff: '25:00', start: 2026-02-30}\n", []string{
			`schedules[0].rotations[0].role: "" is not a rotation role (primary, secondary or shadow)`,
			"schedules[0].rotations[0].members: required: one or more people, in the order they take turns",
			"schedules[0].rotations[0].handoff: required (HH:MM, 24-hour, like 09:00)",
			"schedules[0].rotations[0].handoff_day: required for weekly shifts (mon, tue, wed, thu, fri, sat, sun)",
			"schedules[0].rotations[0].start: required (YYYY-MM-DD, the day of the first handoff)",
			`schedules[0].rotations[1].name: "r" is already the name of rotations[0]`,
			`schedules[0].rotations[1].role: "boss" is not a rotation role (primary, secondary or shadow)`,
			"schedules[0].rotations[1].members[0]: empty person",
			`schedules[0].rotations[1].handoff: "25:00" is not a time of day (HH:MM, 24-hour, like 02:30)`,
			`schedules[0].rotations[1].start: "2026-02-30" is not a date (YYYY-MM-DD)`,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseCatalogT(t, tc.yaml).Validate(nil)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Validate = %v", err)
				}
				return
			}
			var errs notifications.Errors
			if !errors.As(err, &errs) {
				t.Fatalf("Validate = %v, want %v", err, tc.want)
			}
			var got []string
			for _, e := range errs {
				got = append(got, e.Error())
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("errors:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
		})
	}
}

// TestValidateScheduleWarnings: a rotation member outside the team is
// warned about; a plan paging a role the file schedules is not "a role
// nobody holds".
func TestValidateScheduleWarnings(t *testing.T) {
	c := parseCatalogT(t, `
people: [{name: alice}, {name: bob}]
teams: [{name: u, members: [alice]}]
plans:
  - name: p
    steps: [{notifications: [{role: oncall-primary, target: u, priority: low}, {role: oncall-secondary, target: u, priority: low}]}]
schedules:
  - team: u
    name: S
    time_zone: UTC
    rotations: [{name: r, role: primary, members: [alice, bob], shift: daily, handoff: "09:00", start: 2026-01-05}]
`)
	warnings, err := c.Validate(nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"plans[0].steps[0].notifications[1].target: team u has no secondary on-call in this file: this notification will page nobody",
		"schedules[0].rotations[0].members[1]: bob takes turns in a rotation of team u but is not one of its members",
	}
	if !reflect.DeepEqual(warnings, want) {
		t.Errorf("warnings:\n  %s\nwant:\n  %s", strings.Join(warnings, "\n  "), strings.Join(want, "\n  "))
	}
}
