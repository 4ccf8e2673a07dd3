package ui

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/heraldhq/herald/models"
)

func TestPlanValidationErrors(t *testing.T) {
	t.Parallel()
	f := newPlanFixture(t, models.DialectPostgres)
	admin := f.signIn("ada", models.WebRoleAdmin, nil)
	pat := f.signIn("pat", models.WebRoleMember, nil, f.payments.ID)
	ok := [6]string{"user", "ann", "high", "5", "0", ""}
	cases := []struct {
		name  string
		c     *client
		path  string
		form  url.Values
		texts []string
	}{
		{"unknown person", admin, "/plans/pay/edit", planPost("save", f.payments.ID, [6]string{"user", "zed", "high", "5", "0", ""}),
			[]string{`id="s0-n0-target-error"`, `unknown person &#34;zed&#34;`, `Step 1, notification 1, target`}},
		{"unknown role", admin, "/plans/pay/edit", planPost("save", f.payments.ID, [6]string{"boss", "ann", "high", "5", "0", ""}),
			[]string{`id="s0-n0-role-error"`, "unknown role"}},
		{"bad priority", admin, "/plans/pay/edit", planPost("save", f.payments.ID, [6]string{"user", "ann", "loud", "5", "0", ""}),
			[]string{`id="s0-n0-priority-error"`, "unknown priority"}},
		{"wait not a number", admin, "/plans/pay/edit", planPost("save", f.payments.ID, ok, [6]string{"user", "bob", "high", "soon", "0", ""}),
			[]string{`id="s1-n0-wait-error"`, `&#34;soon&#34; is not a whole number of minutes`, `value="soon"`}},
		{"repeat without wait", admin, "/plans/pay/edit", planPost("save", f.payments.ID, [6]string{"user", "ann", "high", "0", "3", ""}),
			[]string{`id="s0-n0-repeat-error"`, "set wait"}},
		{"unknown template", admin, "/plans/pay/edit", planPost("save", f.payments.ID, [6]string{"user", "ann", "high", "5", "0", "nope"}),
			[]string{`id="s0-n0-template-error"`, "unknown template"}},
		{"no steps", admin, "/plans/pay/edit", planPost("save", f.payments.ID), []string{"needs at least one step"}},
		{"bad channel", admin, "/plans/pay/edit", planPost("save", f.payments.ID, [6]string{"slack-channel", "#ops", "high", "5", "0", ""}),
			[]string{"is not a Slack channel id"}},
		{"bad name", admin, "/plans/new", withName(planPost("save", "", ok), "no spaces"), []string{`id="plan-name-error"`, "is not a valid plan name"}},
		{"name taken", admin, "/plans/new", withName(planPost("save", "", ok), "pay"), []string{`id="plan-name-error"`, "exists already"}},
		{"team admin without team", pat, "/plans/new", withName(planPost("save", "", ok), "mine"), []string{`id="plan-team-error"`, "pick one of the teams you administer"}},
		{"aggregation window", admin, "/plans/pay/edit", withAgg(planPost("save", f.payments.ID, ok), "3", "soon"), []string{`id="agg-window-error"`, "is not a duration"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			expect(t, tc.c.post(tc.path, tc.form), http.StatusUnprocessableEntity, append([]string{"Please fix:"}, tc.texts...)...)
			if n := f.versions(""); n != 4 {
				t.Fatalf("%d versions stored after a refused save", n)
			}
		})
	}
	if n := len(f.audits("plan.draft")); n != 0 {
		t.Fatalf("%d audit entries for refused saves", n)
	}
}

func withName(v url.Values, name string) url.Values {
	v.Set("name", name)
	return v
}

func withAgg(v url.Values, count, window string) url.Values {
	v.Set("agg_count", count)
	v.Set("agg_window", window)
	return v
}

func TestPlanEditorButtons(t *testing.T) {
	t.Parallel()
	f := newPlanFixture(t, models.DialectSQLite)
	admin := f.signIn("ada", models.WebRoleAdmin, nil)
	base := planPost("", f.payments.ID, [6]string{"user", "ann", "high", "5", "0", ""}, [6]string{"user", "bob", "urgent", "7", "0", ""})
	post := func(action string) string {
		form := url.Values{}
		for k, v := range base {
			form[k] = v
		}
		form.Set("action", action)
		rec := admin.post("/plans/pay/edit", form)
		expect(t, rec, http.StatusOK)
		return rec.Body.String()
	}
	if b := post("add-step"); !strings.Contains(b, "<legend>Step 3</legend>") || !strings.Contains(b, `name="s2.n0.role"`) || !strings.Contains(b, `name="s1.n0.target" value="bob"`) {
		t.Fatal("add-step did not add a third step keeping the others")
	}
	if b := post("remove-step:0"); strings.Contains(b, "<legend>Step 2</legend>") || !strings.Contains(b, `name="s0.n0.target" value="bob"`) {
		t.Fatal("remove-step:0 did not remove the first step")
	}
	if b := post("add-note:1"); !strings.Contains(b, `name="s1.n1.role"`) {
		t.Fatal("add-note:1 did not add a notification to step 2")
	}
	if b := post("remove-note:1:0"); strings.Contains(b, `name="s1.n0.target"`) || !strings.Contains(b, `name="s0.n0.target" value="ann"`) {
		t.Fatal("remove-note:1:0 kept bob")
	}
	if n := f.versions(""); n != 4 {
		t.Fatalf("editor buttons stored %d versions", n)
	}
	form := url.Values{"action": {"explode"}}
	expect(t, admin.post("/plans/pay/edit", form), http.StatusBadRequest, "button")
}

func TestPlanHelpers(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"plans[0].steps[2].notifications[1].target": "s2.n1.target",
		"plans[0].steps[0].notifications":           "s0",
		"plans[0].steps":                            "steps",
		"plans[0].name":                             "name",
		"plans[0].aggregation.threshold_window":     "agg.threshold_window",
	} {
		if got := fieldKey(in); got != want {
			t.Errorf("fieldKey(%q) = %q, want %q", in, got, want)
		}
	}
	for in, ok := range map[string]bool{"save": true, "": true, "add-step": true, "remove-step:3": true, "add-note:0": true, "remove-note:1:2": true,
		"remove-note:1": false, "add-step:1": false, "remove-step:-1": false, "remove-step:x": false, "delete": false, "remove-step:99999": false} {
		if _, err := parsePlanAction(in); (err == nil) != ok {
			t.Errorf("parsePlanAction(%q): %v", in, err)
		}
	}
	steps := trialPages(models.PlanDefinition{Steps: []models.PlanStep{
		{Notifications: []models.PlanNotification{{Role: "user", Target: "a", Priority: "high"}, {Role: "team", Target: "t", Priority: "high"}, {Role: "manager", Target: "t", Priority: "low"}}},
		{Notifications: []models.PlanNotification{{Role: "user", Target: "b", Priority: "urgent"}}},
	}})
	if len(steps) != 3 || steps[0].Priority != "high" || len(steps[0].Notes) != 2 || steps[1].Priority != "low" || steps[2].Step != 2 {
		t.Fatalf("trial pages %+v", steps)
	}
}

// FuzzParsePlanForm: any posted form parses without panicking, within
// the editor's bounds, and its buttons keep them.
func FuzzParsePlanForm(f *testing.F) {
	f.Add("steps=2&s0.notes=1&s0.n0.role=user&s0.n0.target=ann&s0.n0.wait=5&s1.notes=3&action=remove-note:1:2")
	f.Add("steps=99999&s0.notes=-1&action=add-step&agg_count=x")
	f.Add("action=remove-step:0&steps=1&s0.notes=20")
	f.Fuzz(func(t *testing.T, raw string) {
		form, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		pf := parsePlanForm(form)
		if a, err := parsePlanAction(form.Get("action")); err == nil {
			pf.apply(a)
		}
		if len(pf.Steps) > maxPlanSteps {
			t.Fatalf("%d steps", len(pf.Steps))
		}
		for _, s := range pf.Steps {
			if len(s.Notes) > maxPlanStepNotes {
				t.Fatalf("%d notes", len(s.Notes))
			}
		}
		spec := pf.spec("")
		if len(spec.Steps) != len(pf.Steps) {
			t.Fatalf("spec has %d steps, form %d", len(spec.Steps), len(pf.Steps))
		}
	})
}
