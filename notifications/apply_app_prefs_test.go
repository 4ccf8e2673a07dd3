package notifications_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/fakeclock"
	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/notifications"
)

// TestApplyApplicationPriorities: per-application preferences are applied,
// changed, removed and exported like the global ones, and the store gives
// an application's pages its preference over the global one.
func TestApplyApplicationPriorities(t *testing.T) {
	t.Parallel()
	forEachApplyDB(t, func(t *testing.T, db *testdb.DB, _ *fakeclock.Clock) {
		ctx := context.Background()
		v1 := `
people:
  - name: alice
    slack_id: U0ALICE
    contacts: [{mode: sms, destination: "+447700900001", verified: true}]
    priorities: {high: [sms]}
    application_priorities:
      prometheus: {high: [slack]}
`
		r := applyYAML(t, db.Store, v1, notifications.ApplyOptions{})
		if r.People.Created != 1 {
			t.Fatalf("report:\n%s", r)
		}
		alice, err := db.Store.PersonByName(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		modes := func(app string) []string {
			t.Helper()
			m, err := db.Store.PriorityModes(ctx, alice.ID, "high", app)
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
		if got := modes("prometheus"); !reflect.DeepEqual(got, []string{"slack"}) {
			t.Errorf("prometheus high = %v, want [slack]", got)
		}
		if got := modes("grafana"); !reflect.DeepEqual(got, []string{"sms"}) {
			t.Errorf("grafana high = %v, want the global [sms]", got)
		}
		if r := applyYAML(t, db.Store, v1, notifications.ApplyOptions{}); r.People.Updated != 0 {
			t.Errorf("applying twice changed something:\n%s", r)
		}
		out := exportYAML(t, db.Store, true)
		if !strings.Contains(out, "application_priorities:") || !strings.Contains(out, "prometheus:") {
			t.Errorf("export lost the application priorities:\n%s", out)
		}
		if r := applyYAML(t, db.Store, out, notifications.ApplyOptions{}); r.People.Updated != 0 {
			t.Errorf("applying the export changed something:\n%s", r)
		}

		v2 := strings.Replace(v1, "prometheus: {high: [slack]}", "prometheus: {high: [sms, slack]}", 1)
		if r := applyYAML(t, db.Store, v2, notifications.ApplyOptions{}); r.People.Updated != 1 {
			t.Fatalf("report:\n%s", r)
		}
		if got := modes("prometheus"); !reflect.DeepEqual(got, []string{"sms", "slack"}) {
			t.Errorf("prometheus high = %v after the change", got)
		}
		v3 := strings.Split(v1, "    application_priorities:")[0]
		if r := applyYAML(t, db.Store, v3, notifications.ApplyOptions{}); r.People.Updated != 1 {
			t.Fatalf("report:\n%s", r)
		}
		if got := modes("prometheus"); !reflect.DeepEqual(got, []string{"sms"}) {
			t.Errorf("prometheus high = %v after removing its override, want the global [sms]", got)
		}
	})
}
