package notifications_test

import (
	"context"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/fakeclock"
	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
)

var applyT0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// forEachApplyDB runs fn on a fresh database of each dialect.
func forEachApplyDB(t *testing.T, fn func(t *testing.T, db *testdb.DB, clock *fakeclock.Clock)) {
	t.Helper()
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			clock := fakeclock.New(applyT0)
			fn(t, testdb.New(t, d, clock), clock)
		})
	}
}

func applyYAML(t *testing.T, store *models.Store, src string, o notifications.ApplyOptions) *notifications.Report {
	t.Helper()
	r, err := notifications.Apply(context.Background(), store, parseCatalogT(t, src), o)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	return r
}

func exportYAML(t *testing.T, store *models.Store, secrets bool) string {
	t.Helper()
	c, err := notifications.Export(context.Background(), store, notifications.ExportOptions{IncludeSecrets: secrets})
	if err != nil {
		t.Fatalf("Export: %v", err)
	}
	out, err := notifications.MarshalCatalog(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func wantCounts(t *testing.T, r *notifications.Report, people, teams, templates, plans notifications.Counts) {
	t.Helper()
	got := []notifications.Counts{r.People, r.Teams, r.Templates, r.Plans}
	want := []notifications.Counts{people, teams, templates, plans}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("counts (people, teams, templates, plans) = %+v, want %+v\n%s", got, want, r)
	}
}

func rowCount(t *testing.T, db *testdb.DB, table string) int64 {
	t.Helper()
	var n int64
	if err := db.Gorm.Table(table).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// configRows counts the rows of every configuration table.
func configRows(t *testing.T, db *testdb.DB) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, table := range []string{"people", "contact_methods", "priority_modes", "teams", "team_members", "oncall_assignments", "message_templates", "plans", "plan_versions"} {
		out[table] = rowCount(t, db, table)
	}
	return out
}

func TestApplyCreatesThenChangesNothing(t *testing.T) {
	forEachApplyDB(t, func(t *testing.T, db *testdb.DB, clock *fakeclock.Clock) {
		ctx := context.Background()
		r := applyYAML(t, db.Store, catalogYAML, notifications.ApplyOptions{})
		wantCounts(t, r, notifications.Counts{Created: 3}, notifications.Counts{Created: 1}, notifications.Counts{Created: 1}, notifications.Counts{Created: 1})

		alice, err := db.Store.PersonByName(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if alice.FullName != "Alice Archer" || alice.TimeZone != "Europe/London" || *alice.SlackUserID != "U0ALICE" || !alice.Active {
			t.Errorf("alice = %+v", alice)
		}
		sms, err := db.Store.ContactMethods(ctx, alice.ID, "sms")
		if err != nil || len(sms) != 1 || sms[0].Destination.Reveal() != "+447700900001" || sms[0].VerifiedAt == nil {
			t.Fatalf("alice's sms = %+v, %v", sms, err)
		}
		email, err := db.Store.ContactMethods(ctx, alice.ID, "email")
		if err != nil || len(email) != 1 || email[0].VerifiedAt != nil {
			t.Fatalf("alice's email = %+v, %v", email, err)
		}
		// Stored encrypted: the plaintext is nowhere in the row.
		var raw []byte
		if err := db.Gorm.Raw("SELECT destination FROM contact_methods WHERE id = ?", sms[0].ID).Row().Scan(&raw); err != nil || strings.Contains(string(raw), "447700900001") {
			t.Errorf("destination stored as %q (%v)", raw, err)
		}
		if modes, err := db.Store.PriorityModes(ctx, alice.ID, "medium", ""); err != nil || !reflect.DeepEqual(modes, []string{"slack", "email"}) {
			t.Errorf("alice's medium modes = %v, %v", modes, err)
		}

		team, err := db.Store.TeamByName(ctx, "payments")
		if err != nil {
			t.Fatal(err)
		}
		carol, _ := db.Store.PersonByName(ctx, "carol")
		bob, _ := db.Store.PersonByName(ctx, "bob")
		if team.SlackChannelID != "C0PAYMENTS" || team.ManagerID == nil || *team.ManagerID != carol.ID {
			t.Errorf("team = %+v", team)
		}
		members, _ := db.Store.TeamMemberIDs(ctx, team.ID)
		if len(members) != 2 {
			t.Errorf("members = %v", members)
		}
		roles := notifications.DirectoryRoles{Dir: db.Store}
		for role, want := range map[string]string{"oncall-primary": alice.ID, "oncall-secondary": bob.ID, "manager": carol.ID} {
			if got, err := roles.Resolve(ctx, role, "payments"); err != nil || !reflect.DeepEqual(got, []string{want}) {
				t.Errorf("%s of payments = %v, %v", role, got, err)
			}
		}

		pv, err := db.Store.ActivePlanVersion(ctx, "payments-default")
		if err != nil {
			t.Fatal(err)
		}
		if pv.Version != 1 || pv.CreatedBy != "herald apply" {
			t.Errorf("plan version = %+v", pv)
		}
		if !strings.Contains(pv.Definition, `"role":"oncall-primary","target":"payments","priority":"high","wait":5,"repeat":2,"template":"default"`) {
			t.Errorf("definition = %s", pv.Definition)
		}
		tmpl, err := db.Store.Template(ctx, "default")
		if err != nil || tmpl.Definition != `{"slack":{"subject":"Incident {{.Number}}","body":"{{.Title}}"},"sms":{"body":"{{.Title}}"}}` {
			t.Errorf("template = %+v, %v", tmpl, err)
		}

		before := configRows(t, db)
		clock.Advance(time.Hour)
		r = applyYAML(t, db.Store, catalogYAML, notifications.ApplyOptions{})
		wantCounts(t, r, notifications.Counts{Unchanged: 3}, notifications.Counts{Unchanged: 1}, notifications.Counts{Unchanged: 1}, notifications.Counts{Unchanged: 1})
		if r.Changed() || len(r.Prunable) > 0 {
			t.Errorf("second apply changed something:\n%s", r)
		}
		if after := configRows(t, db); !reflect.DeepEqual(after, before) {
			t.Errorf("rows %v, then %v", before, after)
		}
		if again, _ := db.Store.PersonByName(ctx, "alice"); !again.UpdatedAt.Equal(alice.UpdatedAt) {
			t.Errorf("alice updated at %v, then %v", alice.UpdatedAt, again.UpdatedAt)
		}
	})
}

func TestApplyPublishesChangedPlans(t *testing.T) {
	forEachApplyDB(t, func(t *testing.T, db *testdb.DB, clock *fakeclock.Clock) {
		ctx := context.Background()
		applyYAML(t, db.Store, catalogYAML, notifications.ApplyOptions{})
		v1, _ := db.Store.ActivePlanVersion(ctx, "payments-default")

		changed := strings.Replace(catalogYAML, "priority: urgent, wait: 10", "priority: urgent, wait: 15", 1)
		r := applyYAML(t, db.Store, changed, notifications.ApplyOptions{Actor: "ci"})
		wantCounts(t, r, notifications.Counts{Unchanged: 3}, notifications.Counts{Unchanged: 1}, notifications.Counts{Unchanged: 1}, notifications.Counts{Updated: 1})
		if len(r.Changes) != 1 || r.Changes[0].String() != "~ plan payments-default: version 2 published" {
			t.Errorf("changes = %v", r.Changes)
		}
		v2, err := db.Store.ActivePlanVersion(ctx, "payments-default")
		if err != nil || v2.Version != 2 || v2.CreatedBy != "ci" || !strings.Contains(v2.Definition, `"wait":15`) {
			t.Fatalf("active version = %+v, %v", v2, err)
		}
		// The old version stays for the escalations that started on it.
		if old, err := db.Store.PlanVersionByID(ctx, v1.ID); err != nil || old.Definition != v1.Definition {
			t.Errorf("version 1 = %+v, %v", old, err)
		}

		// Unchanged again: nothing is published.
		r = applyYAML(t, db.Store, changed, notifications.ApplyOptions{})
		if r.Changed() || rowCount(t, db, "plan_versions") != 2 {
			t.Errorf("re-applying published:\n%s", r)
		}

		// Owner and team are the plan's, not a version's.
		moved := strings.Replace(changed, "    owner: carol\n", "    owner: bob\n", 1)
		r = applyYAML(t, db.Store, moved, notifications.ApplyOptions{})
		if len(r.Changes) != 1 || r.Changes[0].Detail != "owner" || rowCount(t, db, "plan_versions") != 2 {
			t.Errorf("changing the owner:\n%s", r)
		}
		plan, _ := db.Store.PlanByName(ctx, "payments-default")
		bob, _ := db.Store.PersonByName(ctx, "bob")
		if plan.OwnerID == nil || *plan.OwnerID != bob.ID || plan.ActiveVersion != 2 {
			t.Errorf("plan = %+v", plan)
		}

		// Back to the first definition: a new version, not a rollback.
		r = applyYAML(t, db.Store, catalogYAML, notifications.ApplyOptions{})
		if v3, _ := db.Store.ActivePlanVersion(ctx, "payments-default"); v3.Version != 3 || v3.Definition != v1.Definition {
			t.Errorf("active version = %+v\n%s", v3, r)
		}
	})
}

func TestApplyDryRunWritesNothing(t *testing.T) {
	forEachApplyDB(t, func(t *testing.T, db *testdb.DB, clock *fakeclock.Clock) {
		empty := configRows(t, db)
		r := applyYAML(t, db.Store, catalogYAML, notifications.ApplyOptions{DryRun: true})
		wantCounts(t, r, notifications.Counts{Created: 3}, notifications.Counts{Created: 1}, notifications.Counts{Created: 1}, notifications.Counts{Created: 1})
		if !r.DryRun || !strings.HasPrefix(r.String(), "dry run: nothing was written\n") {
			t.Errorf("report:\n%s", r)
		}
		if got := configRows(t, db); !reflect.DeepEqual(got, empty) {
			t.Fatalf("dry run wrote rows: %v", got)
		}

		applyYAML(t, db.Store, catalogYAML, notifications.ApplyOptions{})
		before := configRows(t, db)
		exported := exportYAML(t, db.Store, true)
		changed := strings.Replace(catalogYAML, "wait: 5, repeat: 2", "wait: 6, repeat: 2", 1)
		changed = strings.Replace(changed, "  - name: carol\n", "", 1)
		changed = strings.Replace(changed, "    manager: carol\n", "", 1)
		changed = strings.Replace(changed, "    owner: carol\n", "", 1)
		r = applyYAML(t, db.Store, changed, notifications.ApplyOptions{DryRun: true, Prune: true})
		wantCounts(t, r, notifications.Counts{Unchanged: 2, Deleted: 1}, notifications.Counts{Updated: 1}, notifications.Counts{Unchanged: 1}, notifications.Counts{Updated: 1})
		if got := configRows(t, db); !reflect.DeepEqual(got, before) {
			t.Errorf("dry run changed rows: %v, then %v", before, got)
		}
		if got := exportYAML(t, db.Store, true); got != exported {
			t.Errorf("dry run changed the configuration:\n%s\nthen\n%s", exported, got)
		}
	})
}

// usePlan starts an escalation on a plan's active version, as paging an
// incident does.
func usePlan(t *testing.T, store *models.Store, plan string) {
	t.Helper()
	ctx := context.Background()
	inc, _, err := store.CreateIncident(ctx, models.NewIncident{Title: "Checkout is down"})
	if err != nil {
		t.Fatal(err)
	}
	pv, err := store.ActivePlanVersion(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.StartEscalation(ctx, inc.ID, pv.ID); err != nil {
		t.Fatal(err)
	}
}

func TestApplyPrune(t *testing.T) {
	forEachApplyDB(t, func(t *testing.T, db *testdb.DB, clock *fakeclock.Clock) {
		ctx := context.Background()
		extra := catalogYAML + `
  - name: legacy
    steps: [{notifications: [{role: user, target: dave, priority: low}]}]
  - name: unused
    steps: [{notifications: [{role: team, target: infra, priority: low}]}]
`
		extra = strings.Replace(extra, "teams:\n", "teams:\n  - {name: infra, members: [dave]}\n", 1)
		extra = strings.Replace(extra, "people:\n", "people:\n  - {name: dave, slack_id: U0DAVE}\n", 1)
		extra = strings.Replace(extra, "templates:\n", "templates:\n  - {name: old, modes: {sms: {body: x}}}\n", 1)
		applyYAML(t, db.Store, extra, notifications.ApplyOptions{})
		usePlan(t, db.Store, "legacy")

		// Without --prune: listed, kept.
		r := applyYAML(t, db.Store, catalogYAML, notifications.ApplyOptions{})
		var prunable []string
		for _, c := range r.Prunable {
			prunable = append(prunable, c.Kind+" "+c.Name)
		}
		if want := []string{"plan legacy", "plan unused", "template old", "team infra", "person dave"}; !reflect.DeepEqual(prunable, want) {
			t.Errorf("prunable = %v, want %v", prunable, want)
		}
		if r.Changed() || !strings.Contains(r.String(), "not in the file, kept (apply with --prune to remove): plan legacy, plan unused, template old, team infra, person dave") {
			t.Errorf("report:\n%s", r)
		}
		if _, err := db.Store.PersonByName(ctx, "dave"); err != nil {
			t.Errorf("dave was removed without --prune: %v", err)
		}

		// A file may still refer to what only the database has...
		withRef := strings.Replace(catalogYAML, "members: [alice, bob]", "members: [alice, bob, dave]", 1)
		applyYAML(t, db.Store, withRef, notifications.ApplyOptions{})
		// ...but not when pruning, which would remove it.
		_, err := notifications.Apply(ctx, db.Store, parseCatalogT(t, withRef), notifications.ApplyOptions{Prune: true})
		var errs notifications.Errors
		if !errors.As(err, &errs) || errs.Error() != `teams[0].members[2]: unknown person "dave" (not in this file or the database)` {
			t.Errorf("pruning with a reference to a pruned person: %v", err)
		}

		r = applyYAML(t, db.Store, catalogYAML, notifications.ApplyOptions{Prune: true})
		wantCounts(t, r, notifications.Counts{Unchanged: 3, Deleted: 1}, notifications.Counts{Updated: 1, Deleted: 1},
			notifications.Counts{Unchanged: 1, Deleted: 1}, notifications.Counts{Unchanged: 1, Deleted: 2})
		var changes []string
		for _, c := range r.Changes {
			changes = append(changes, c.String())
		}
		want := []string{
			"- plan legacy (retired: escalations used it, so it is kept but no longer active)",
			"- plan unused",
			"- template old",
			"- team infra",
			"- person dave",
			"~ team payments: members (+0, -1)",
		}
		if !reflect.DeepEqual(changes, want) {
			t.Errorf("changes:\n  %s\nwant:\n  %s", strings.Join(changes, "\n  "), strings.Join(want, "\n  "))
		}
		if _, err := db.Store.PersonByName(ctx, "dave"); !models.IsNotFound(err) {
			t.Errorf("dave after prune: %v", err)
		}
		if _, err := db.Store.PlanByName(ctx, "unused"); !models.IsNotFound(err) {
			t.Errorf("unused plan after prune: %v", err)
		}
		// The used plan keeps its versions, but is not active any more.
		if _, err := db.Store.ActivePlanVersion(ctx, "legacy"); !models.IsNotFound(err) {
			t.Errorf("retired plan still active: %v", err)
		}
		if rowCount(t, db, "escalations") != 1 || rowCount(t, db, "contact_methods") != 2 {
			t.Errorf("escalations %d, contact methods %d", rowCount(t, db, "escalations"), rowCount(t, db, "contact_methods"))
		}
		if out := exportYAML(t, db.Store, false); strings.Contains(out, "legacy") {
			t.Errorf("export shows a retired plan:\n%s", out)
		}

		// Pruning again removes nothing; a retired plan is not prunable.
		r = applyYAML(t, db.Store, catalogYAML, notifications.ApplyOptions{Prune: true})
		if r.Changed() || len(r.Prunable) > 0 {
			t.Errorf("second prune:\n%s", r)
		}

		// Declared again, the retired plan is active again.
		back := catalogYAML + "  - name: legacy\n    steps: [{notifications: [{role: user, target: alice, priority: low}]}]\n"
		r = applyYAML(t, db.Store, back, notifications.ApplyOptions{})
		if pv, err := db.Store.ActivePlanVersion(ctx, "legacy"); err != nil || pv.Version != 2 {
			t.Errorf("legacy declared again: %+v, %v\n%s", pv, err, r)
		}

		// An empty file never prunes everything.
		if _, err := notifications.Apply(ctx, db.Store, &notifications.Catalog{}, notifications.ApplyOptions{Prune: true}); !errors.Is(err, notifications.ErrPruneEverything) {
			t.Errorf("pruning with an empty file: %v", err)
		}
	})
}

func TestApplyContactMethods(t *testing.T) {
	forEachApplyDB(t, func(t *testing.T, db *testdb.DB, clock *fakeclock.Clock) {
		ctx := context.Background()
		const v1 = `
people:
  - name: alice
    contacts:
      - {mode: sms, destination: "+447700900001", verified: true}
      - {mode: call, destination: "+447700900001"}
      - {mode: email, destination: old@example.com}
`
		applyYAML(t, db.Store, v1, notifications.ApplyOptions{})
		alice, _ := db.Store.PersonByName(ctx, "alice")
		sms, _ := db.Store.ContactMethods(ctx, alice.ID, "sms")
		verifiedAt := *sms[0].VerifiedAt

		// Later, the file says nothing of verification and adds a number
		// it calls verified; the address changes.
		clock.Advance(24 * time.Hour)
		const v2 = `
people:
  - name: alice
    contacts:
      - {mode: sms, destination: "+447700900001"}
      - {mode: call, destination: "+447700900001"}
      - {mode: call, destination: "+447700900002", verified: true}
      - {mode: email, destination: new@example.com}
`
		r := applyYAML(t, db.Store, v2, notifications.ApplyOptions{})
		if len(r.Changes) != 1 || r.Changes[0].String() != "~ person alice: contacts (+call, +email, -email)" {
			t.Errorf("changes = %v", r.Changes)
		}
		for _, c := range r.Changes {
			if strings.Contains(c.String(), "@") || strings.Contains(c.String(), "4477") {
				t.Errorf("report shows a destination: %s", c)
			}
		}
		sms, _ = db.Store.ContactMethods(ctx, alice.ID, "sms")
		if len(sms) != 1 || sms[0].VerifiedAt == nil || !sms[0].VerifiedAt.Equal(verifiedAt) {
			t.Errorf("sms after apply = %+v (verified at %v)", sms, verifiedAt)
		}
		calls, _ := db.Store.ContactMethods(ctx, alice.ID, "call")
		if len(calls) != 2 || calls[0].VerifiedAt != nil || calls[1].VerifiedAt == nil || calls[1].Destination.Reveal() != "+447700900002" {
			t.Errorf("calls = %+v", calls)
		}
		email, _ := db.Store.ContactMethods(ctx, alice.ID, "email")
		if len(email) != 1 || email[0].Destination.Reveal() != "new@example.com" {
			t.Errorf("email = %+v", email)
		}

		// Declaring the first call number verified verifies it, once.
		clock.Advance(time.Hour)
		v3 := strings.Replace(v2, `{mode: call, destination: "+447700900001"}`, `{mode: call, destination: "+447700900001", verified: true}`, 1)
		r = applyYAML(t, db.Store, v3, notifications.ApplyOptions{})
		if len(r.Changes) != 1 || r.Changes[0].Detail != "contacts (verified call)" {
			t.Errorf("changes = %v", r.Changes)
		}
		if r = applyYAML(t, db.Store, v3, notifications.ApplyOptions{}); r.Changed() {
			t.Errorf("again: %v", r.Changes)
		}
		calls, _ = db.Store.ContactMethods(ctx, alice.ID, "call")
		if calls[0].VerifiedAt == nil || !calls[0].VerifiedAt.Equal(applyT0.Add(25*time.Hour)) {
			t.Errorf("call verified at %v", calls[0].VerifiedAt)
		}
	})
}

func TestApplyPeopleAndTeamUpdates(t *testing.T) {
	forEachApplyDB(t, func(t *testing.T, db *testdb.DB, clock *fakeclock.Clock) {
		ctx := context.Background()
		applyYAML(t, db.Store, catalogYAML, notifications.ApplyOptions{})
		// Alice and Bob swap Slack ids; Bob leaves, Carol becomes primary;
		// Alice goes inactive and prefers calls.
		next := strings.NewReplacer(
			"slack_id: U0ALICE", "slack_id: U0BOB",
			"  - name: bob\n    slack_id: U0BOB\n", "  - name: bob\n    slack_id: U0ALICE\n    active: false\n",
			"members: [alice, bob]", "members: [alice, carol]",
			"oncall: {primary: alice, secondary: bob}", "oncall: {primary: carol}",
			"urgent: [sms]", "urgent: [call]",
		).Replace(catalogYAML)
		r := applyYAML(t, db.Store, next, notifications.ApplyOptions{})
		var changes []string
		for _, c := range r.Changes {
			changes = append(changes, c.String())
		}
		want := []string{
			"~ person alice: slack_id, priorities",
			"~ person bob: slack_id, active",
			"~ team payments: members (+1, -1), oncall.primary, oncall.secondary",
		}
		if !reflect.DeepEqual(changes, want) {
			t.Errorf("changes:\n  %s\nwant:\n  %s", strings.Join(changes, "\n  "), strings.Join(want, "\n  "))
		}
		alice, _ := db.Store.PersonBySlackID(ctx, "U0BOB")
		bob, _ := db.Store.PersonBySlackID(ctx, "U0ALICE")
		if alice == nil || alice.Name != "alice" || bob == nil || bob.Name != "bob" || bob.Active {
			t.Errorf("after the swap: %+v, %+v", alice, bob)
		}
		if modes, _ := db.Store.PriorityModes(ctx, alice.ID, "urgent", ""); !reflect.DeepEqual(modes, []string{"call"}) {
			t.Errorf("urgent modes = %v", modes)
		}
		roles := notifications.DirectoryRoles{Dir: db.Store}
		carol, _ := db.Store.PersonByName(ctx, "carol")
		if got, _ := roles.Resolve(ctx, "oncall-primary", "payments"); !reflect.DeepEqual(got, []string{carol.ID}) {
			t.Errorf("primary = %v", got)
		}
		if got, _ := roles.Resolve(ctx, "oncall-secondary", "payments"); got != nil {
			t.Errorf("secondary = %v", got)
		}
		if r := applyYAML(t, db.Store, next, notifications.ApplyOptions{}); r.Changed() {
			t.Errorf("again: %v", r.Changes)
		}
	})
}

func TestApplyRejectsInvalidFiles(t *testing.T) {
	forEachApplyDB(t, func(t *testing.T, db *testdb.DB, clock *fakeclock.Clock) {
		ctx := context.Background()
		applyYAML(t, db.Store, "people:\n  - {name: dave, slack_id: U0DAVE}\n", notifications.ApplyOptions{})
		before := configRows(t, db)
		bad := strings.Replace(catalogYAML, "slack_id: U0BOB", "slack_id: U0DAVE", 1)
		bad = strings.Replace(bad, "role: manager", "role: boss", 1)
		_, err := notifications.Apply(ctx, db.Store, parseCatalogT(t, bad), notifications.ApplyOptions{})
		want := `people[1].slack_id: Slack user U0DAVE belongs to person "dave", who is not in this file (add them, or remove them with --prune)
plans[0].steps[1].notifications[0].role: unknown role "boss" (roles: user, team, oncall-primary, oncall-secondary, manager, slack-channel)`
		if err == nil || err.Error() != want {
			t.Errorf("Apply = %v, want\n%s", err, want)
		}
		if got := configRows(t, db); !reflect.DeepEqual(got, before) {
			t.Errorf("a rejected file wrote rows: %v, then %v", before, got)
		}
	})
}

func TestExportRoundTrip(t *testing.T) {
	demo, err := os.ReadFile("../examples/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			first := testdb.New(t, d, fakeclock.New(applyT0))
			applyYAML(t, first.Store, string(demo), notifications.ApplyOptions{})
			applyYAML(t, first.Store, catalogYAML, notifications.ApplyOptions{}) // both, no prune
			// A second version of a plan, an inactive person, an
			// application preference (not configuration: left alone).
			applyYAML(t, first.Store, strings.Replace(string(demo), "wait: 5, repeat: 1", "wait: 7, repeat: 1", 1), notifications.ApplyOptions{})
			applyYAML(t, first.Store, strings.Replace(catalogYAML, "  - name: carol\n", "  - name: carol\n    active: false\n", 1), notifications.ApplyOptions{})
			exported := exportYAML(t, first.Store, true)

			for _, want := range []string{"name: payments-default", "name: demo", `destination: "+447700900001"`, "wait: 7", "active: false"} {
				if !strings.Contains(exported, want) {
					t.Errorf("export lacks %q:\n%s", want, exported)
				}
			}
			// In a fresh database, the export makes the same configuration.
			second := testdb.New(t, d, fakeclock.New(applyT0.Add(time.Hour)))
			r := applyYAML(t, second.Store, exported, notifications.ApplyOptions{})
			if r.People.Created != 6 || r.Plans.Created != 2 {
				t.Errorf("applying the export:\n%s", r)
			}
			if again := exportYAML(t, second.Store, true); again != exported {
				t.Errorf("export → apply → export differs:\n%s\n---- then ----\n%s", exported, again)
			}
			// And applying it where it came from changes nothing.
			if r := applyYAML(t, first.Store, exported, notifications.ApplyOptions{Prune: true}); r.Changed() {
				t.Errorf("applying the export to its source:\n%s", r)
			}

			// Without secrets, destinations are redacted and apply refuses
			// the file.
			redacted := exportYAML(t, first.Store, false)
			if strings.Contains(redacted, "447700900") || strings.Contains(redacted, "@example.com") {
				t.Errorf("redacted export shows destinations:\n%s", redacted)
			}
			if n := strings.Count(redacted, "destination: <redacted>"); n != 9 {
				t.Errorf("%d redacted destinations:\n%s", n, redacted)
			}
			_, err := notifications.Apply(ctx, second.Store, parseCatalogT(t, redacted), notifications.ApplyOptions{})
			var errs notifications.Errors
			if !errors.As(err, &errs) || len(errs) != 9 || !strings.Contains(errs[0].Error(), "<redacted> is a placeholder") {
				t.Errorf("applying a redacted export: %v", err)
			}
		})
	}
}
