package notifications_test

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/heraldhq/herald/notifications"
)

// catalogYAML is a small catalog with one of everything.
const catalogYAML = `
people:
  - name: alice
    full_name: Alice Archer
    slack_id: U0ALICE
    time_zone: Europe/London
    contacts:
      - {mode: sms, destination: "+447700900001", verified: true}
      - {mode: email, destination: alice@example.com}
    priorities: {low: [slack], medium: [slack, email], high: [sms], urgent: [sms]}
  - name: bob
    slack_id: U0BOB
  - name: carol
teams:
  - name: payments
    slack_channel: C0PAYMENTS
    manager: carol
    members: [alice, bob]
    oncall: {primary: alice, secondary: bob}
templates:
  - name: default
    modes:
      slack: {subject: "Incident {{.Number}}", body: "{{.Title}}"}
      sms: {body: "{{.Title}}"}
plans:
  - name: payments-default
    team: payments
    owner: carol
    steps:
      - notifications:
          - {role: oncall-primary, target: payments, priority: high, wait: 5, repeat: 2, template: default}
          - {role: oncall-secondary, target: payments, priority: low, wait: 0, repeat: 0, optional: true}
      - notifications:
          - {role: manager, target: payments, priority: urgent, wait: 10, repeat: 1}
`

func parseCatalogT(t *testing.T, src string) *notifications.Catalog {
	t.Helper()
	c, err := notifications.ParseCatalog([]byte(src))
	if err != nil {
		t.Fatalf("ParseCatalog: %v", err)
	}
	return c
}

func TestParseValidCatalog(t *testing.T) {
	c := parseCatalogT(t, catalogYAML)
	warnings, err := c.Validate(nil)
	if err != nil || len(warnings) > 0 {
		t.Fatalf("Validate = %v, %v", warnings, err)
	}
	alice := c.People[0]
	if alice.Contacts[0] != (notifications.ContactSpec{Mode: "sms", Destination: "+447700900001", Verified: true}) {
		t.Errorf("contact = %+v", alice.Contacts[0])
	}
	if !reflect.DeepEqual(alice.Priorities["medium"], []string{"slack", "email"}) {
		t.Errorf("priorities = %v", alice.Priorities)
	}
	n := c.Plans[0].Steps[0].Notifications[0]
	want := notifications.NotificationSpec{Role: "oncall-primary", Target: "payments", Priority: "high", Wait: 5, Repeat: 2, Template: "default"}
	if n != want {
		t.Errorf("notification = %+v, want %+v", n, want)
	}
	if c.Teams[0].Oncall.Secondary != "bob" || c.Templates[0].Modes["slack"].Subject != "Incident {{.Number}}" {
		t.Errorf("team %+v, template %+v", c.Teams[0], c.Templates[0])
	}
}

func TestExampleDemoIsValid(t *testing.T) {
	data, err := os.ReadFile("../examples/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c := parseCatalogT(t, string(data))
	warnings, err := c.Validate(nil)
	if err != nil {
		t.Fatalf("examples/demo.yaml: %v", err)
	}
	if len(warnings) > 0 {
		t.Errorf("examples/demo.yaml warnings: %v", warnings)
	}
	if len(c.Plans) != 1 || c.Plans[0].Name != "demo" || len(c.Plans[0].Steps) != 2 {
		t.Errorf("demo plan = %+v", c.Plans)
	}
}

func TestParseCatalogErrors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown field", "people:\n  - name: a\n    slackid: U0A\n", `unknown field "slackid"`},
		{"unknown top-level", "peoples: []\n", `unknown field "peoples"`},
		{"duplicate key", "people:\n  - name: a\n    name: b\n", `mapping key "name" already defined`},
		{"not a mapping", "- a\n", "invalid YAML"},
		{"two documents", "people: []\n---\nteams: []\n", "2 documents"},
		{"unquoted phone", "people:\n  - name: a\n    contacts:\n      - {mode: sms, destination: +447700900001}\n",
			"people[0].contacts[0].destination: write it in quotes"},
		{"octal", "people:\n  - name: 0123\n", `people[0].name: 0123 would be read as the number 83: quote it ("0123")`},
		{"fraction", "plans:\n  - name: p\n    steps:\n      - notifications:\n          - {role: user, target: a, priority: low, wait: 1.5}\n",
			"plans[0].steps[0].notifications[0].wait: 1.5 is not a whole number"},
		{"wrong type", "plans:\n  - name: p\n    steps:\n      - notifications:\n          - {role: user, target: a, priority: low, wait: soon}\n",
			"cannot unmarshal string"},
		{"not YAML", "people: [\n", "invalid YAML"},
		{"goccy#735", "people:\n  ! 00000000000000000", "invalid YAML"},
		{"too large", strings.Repeat("#", notifications.MaxCatalogBytes+1), "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := notifications.ParseCatalog([]byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ParseCatalog = %+v, %v; want an error with %q", c, err, tt.want)
			}
			if c != nil {
				t.Errorf("catalog %+v returned with an error", c)
			}
			if strings.Contains(err.Error(), "447700900001") {
				t.Errorf("error repeats a destination: %v", err)
			}
		})
	}
}

func TestParseEmptyCatalog(t *testing.T) {
	for _, src := range []string{"", "  \n", "# nothing yet\n", "{}\n", "people: []\n"} {
		c, err := notifications.ParseCatalog([]byte(src))
		if err != nil || c == nil || len(c.People)+len(c.Teams)+len(c.Templates)+len(c.Plans) != 0 {
			t.Errorf("ParseCatalog(%q) = %+v, %v", src, c, err)
		}
	}
}

func TestParseAnchors(t *testing.T) {
	c := parseCatalogT(t, `
people:
  - name: a
    priorities: &prefs {low: [slack], high: [sms, call]}
  - name: b
    priorities: *prefs
`)
	if !reflect.DeepEqual(c.People[1].Priorities, c.People[0].Priorities) || len(c.People[1].Priorities["high"]) != 2 {
		t.Errorf("aliased priorities = %v", c.People[1].Priorities)
	}
}

// catalogErrors parses src and returns Validate's error lines.
func catalogErrors(t *testing.T, src string, ex *notifications.Existing) []string {
	t.Helper()
	_, err := parseCatalogT(t, src).Validate(ex)
	if err == nil {
		return nil
	}
	var errs notifications.Errors
	if !errors.As(err, &errs) {
		t.Fatalf("Validate error %T %v is not notifications.Errors", err, err)
	}
	out := make([]string, len(errs))
	for i, e := range errs {
		out[i] = e.Error()
		if e.Error() != e.Path+": "+e.Message {
			t.Errorf("FieldError %q is not path: message", e.Error())
		}
	}
	return out
}

func TestValidateErrors(t *testing.T) {
	const people = "people:\n  - {name: alice}\n  - {name: bob}\n"
	const teams = "teams:\n  - {name: payments, members: [alice]}\n"
	plan := func(notes string) string {
		return people + teams + "plans:\n  - name: p\n    steps:\n      - notifications:\n" + notes
	}
	tests := []struct {
		name, yaml string
		want       []string
	}{
		// People.
		{"missing name", "people:\n  - {full_name: X}\n", []string{"people[0].name: required"}},
		{"bad name", "people:\n  - {name: 'al ice'}\n", []string{`people[0].name: "al ice" is not a valid person name (letters, digits, ".", "_" and "-", up to 64 characters)`}},
		{"duplicate person", "people:\n  - {name: alice}\n  - {name: bob}\n  - {name: alice}\n", []string{`people[2].name: "alice" is already the name of people[0]`}},
		{"bad slack id", "people:\n  - {name: a, slack_id: alice}\n", []string{`people[0].slack_id: "alice" is not a Slack user id (like U0123ABCD)`}},
		{"duplicate slack id", "people:\n  - {name: a, slack_id: U0A}\n  - {name: b, slack_id: U0A}\n", []string{"people[1].slack_id: Slack user U0A is already people[0]"}},
		{"bad time zone", "people:\n  - {name: a, time_zone: Europe/Lodnon}\n", []string{`people[0].time_zone: unknown time zone "Europe/Lodnon" (an IANA name, like Europe/London)`}},
		{"local time zone", "people:\n  - {name: a, time_zone: Local}\n", []string{`people[0].time_zone: "Local" depends on the machine; name the zone, like Europe/London`}},
		{"unknown contact mode", "people:\n  - name: a\n    contacts: [{mode: pager, destination: '123'}]\n", []string{`people[0].contacts[0].mode: unknown mode "pager" (modes: slack, email, sms, call)`}},
		{"application priorities", "people:\n  - name: a\n    slack_id: U0A\n    application_priorities:\n      prometheus: {high: [slack], critical: [slack]}\n      grafana: {}\n", []string{
			"people[0].application_priorities.grafana: needs at least one priority (leave grafana out to use the global priorities)",
			`people[0].application_priorities.prometheus.critical: unknown priority "critical" (priorities: low, medium, high, urgent)`}},
		{"slack channel by name", plan("          - {role: slack-channel, target: '#payments', priority: high}\n"), []string{
			`plans[0].steps[0].notifications[0].target: "#payments" is not a Slack channel id (like C0123ABCD; the channel's name will not do, it can change)`}},
		{"aggregation", plan("          - {role: user, target: alice, priority: high}\n    aggregation: {threshold_count: 0, threshold_window: 5 minutes, batch_window: 2s}\n"), []string{
			"plans[0].aggregation.threshold_count: must be 1 or more incidents, not 0",
			`plans[0].aggregation.threshold_window: "5 minutes" is not a duration (like 5m or 1h)`,
			"plans[0].aggregation.batch_window: must be between 10s and 1h0m0s, not 2s"}},
		{"missing contact mode", "people:\n  - name: a\n    contacts: [{destination: a@example.com}]\n", []string{"people[0].contacts[0].mode: required"}},
		{"missing destination", "people:\n  - name: a\n    contacts: [{mode: email}]\n", []string{"people[0].contacts[0].destination: required"}},
		{"not E.164", "people:\n  - name: a\n    contacts: [{mode: sms, destination: '07700 900001'}, {mode: call, destination: '447700900001'}]\n", []string{
			"people[0].contacts[0].destination: not a phone number in E.164 form (like +447700900123: a plus, the country code, no spaces)",
			"people[0].contacts[1].destination: not a phone number in E.164 form (like +447700900123: a plus, the country code, no spaces)"}},
		{"bad e-mail", "people:\n  - name: a\n    contacts: [{mode: email, destination: 'alice at example.com'}, {mode: email, destination: 'Alice <a@example.com>'}]\n", []string{
			"people[0].contacts[0].destination: not a valid e-mail address (like alice@example.com)",
			"people[0].contacts[1].destination: not a valid e-mail address (like alice@example.com)"}},
		{"bad slack destination", "people:\n  - name: a\n    contacts: [{mode: slack, destination: '@alice'}]\n", []string{"people[0].contacts[0].destination: not a Slack user id (like U0123ABCD)"}},
		{"redacted", "people:\n  - name: a\n    contacts: [{mode: sms, destination: '<redacted>'}]\n", []string{
			"people[0].contacts[0].destination: <redacted> is a placeholder of `herald export` (run without --include-secrets): write the real destination"}},
		{"duplicate contact", "people:\n  - name: a\n    contacts: [{mode: email, destination: a@example.com}, {mode: email, destination: a@example.com, verified: true}]\n", []string{
			"people[0].contacts[1]: the same email contact as contacts[0]"}},
		{"unknown priority", "people:\n  - {name: a, slack_id: U0A, priorities: {critical: [slack]}}\n", []string{
			`people[0].priorities.critical: unknown priority "critical" (priorities: low, medium, high, urgent)`}},
		{"empty priority", "people:\n  - {name: a, slack_id: U0A, priorities: {high: []}}\n", []string{
			"people[0].priorities.high: needs at least one mode (leave high out to use the default, sms)"}},
		{"unknown priority mode", "people:\n  - {name: a, slack_id: U0A, priorities: {high: [slack, pager, slack]}}\n", []string{
			`people[0].priorities.high[1]: unknown mode "pager" (modes: slack, email, sms, call)`,
			`people[0].priorities.high[2]: mode "slack" is listed twice`}},
		// Teams.
		{"duplicate team", people + "teams:\n  - {name: t}\n  - {name: t}\n", []string{`teams[1].name: "t" is already the name of teams[0]`}},
		{"bad channel", people + "teams:\n  - {name: t, slack_channel: '#payments'}\n", []string{`teams[0].slack_channel: "#payments" is not a Slack channel id (like C0123ABCD)`}},
		{"unknown manager", people + "teams:\n  - {name: t, manager: zed}\n", []string{`teams[0].manager: unknown person "zed" (not in this file or the database)`}},
		{"unknown and duplicate members", people + "teams:\n  - {name: t, members: [alice, zed, alice]}\n", []string{
			`teams[0].members[1]: unknown person "zed" (not in this file or the database)`,
			`teams[0].members[2]: "alice" is already members[0]`}},
		{"unknown on-call", people + "teams:\n  - {name: t, members: [alice], oncall: {primary: alice, secondary: zed}}\n", []string{
			`teams[0].oncall.secondary: unknown person "zed" (not in this file or the database)`}},
		// Templates.
		{"template without modes", "templates:\n  - {name: t}\n", []string{"templates[0].modes: needs at least one mode"}},
		{"template mode and body", "templates:\n  - name: t\n    modes: {fax: {body: x}, sms: {subject: s}}\n", []string{
			"templates[0].modes.sms.body: required",
			`templates[0].modes.fax: unknown mode "fax" (modes: slack, email, sms, call)`}},
		{"duplicate template", "templates:\n  - {name: t, modes: {sms: {body: x}}}\n  - {name: t, modes: {sms: {body: x}}}\n", []string{
			`templates[1].name: "t" is already the name of templates[0]`}},
		// Plans.
		{"plan without steps", "plans:\n  - {name: p}\n", []string{"plans[0].steps: needs at least one step"}},
		{"step without notifications", "plans:\n  - name: p\n    steps:\n      - notifications: []\n", []string{"plans[0].steps[0].notifications: needs at least one notification"}},
		{"only optional", plan("          - {role: user, target: alice, priority: low, optional: true}\n"), []string{
			"plans[0].steps[0].notifications: every notification is optional: a step needs one that is not, or nobody may be paged"}},
		{"unknown role", plan("          - {role: user, target: alice, priority: low}\n          - {role: oncal-primary, target: payments, priority: high}\n"), []string{
			`plans[0].steps[0].notifications[1].role: unknown role "oncal-primary" (roles: user, team, oncall-primary, oncall-secondary, manager, slack-channel)`}},
		{"missing fields", plan("          - {wait: 1}\n"), []string{
			"plans[0].steps[0].notifications[0].role: required",
			"plans[0].steps[0].notifications[0].target: required",
			"plans[0].steps[0].notifications[0].priority: required"}},
		{"unknown targets", plan("          - {role: user, target: payments, priority: low}\n          - {role: team, target: alice, priority: low}\n          - {role: manager, target: zed, priority: low}\n"), []string{
			`plans[0].steps[0].notifications[0].target: unknown person "payments" (not in this file or the database)`,
			`plans[0].steps[0].notifications[1].target: unknown team "alice" (not in this file or the database)`,
			`plans[0].steps[0].notifications[2].target: unknown team "zed" (not in this file or the database)`}},
		{"bad priority", plan("          - {role: user, target: alice, priority: critical}\n"), []string{
			`plans[0].steps[0].notifications[0].priority: unknown priority "critical" (priorities: low, medium, high, urgent)`}},
		{"negative wait and repeat", plan("          - {role: user, target: alice, priority: low, wait: -1, repeat: -2}\n"), []string{
			"plans[0].steps[0].notifications[0].wait: must be 0 or more minutes, not -1",
			"plans[0].steps[0].notifications[0].repeat: must be 0 or more, not -2"}},
		{"huge wait and repeat", plan("          - {role: user, target: alice, priority: low, wait: 99999999, repeat: 1000}\n"), []string{
			"plans[0].steps[0].notifications[0].wait: 99999999 minutes is more than a week (10080)",
			"plans[0].steps[0].notifications[0].repeat: 1000 is more than 100"}},
		{"repeat without wait", plan("          - {role: user, target: alice, priority: low, repeat: 2}\n"), []string{
			"plans[0].steps[0].notifications[0].repeat: repeating with wait 0 sends every page at once: set wait to the minutes between them"}},
		{"unknown template", plan("          - {role: user, target: alice, priority: low, template: fancy}\n"), []string{
			`plans[0].steps[0].notifications[0].template: unknown template "fancy" (not in this file or the database)`}},
		{"unknown plan team and owner", "plans:\n  - name: p\n    team: t\n    owner: o\n    steps:\n      - notifications: [{role: team, target: t, priority: low}]\n", []string{
			`plans[0].team: unknown team "t" (not in this file or the database)`,
			`plans[0].owner: unknown person "o" (not in this file or the database)`,
			`plans[0].steps[0].notifications[0].target: unknown team "t" (not in this file or the database)`}},
		{"duplicate plan", plan("          - {role: user, target: alice, priority: low}\n") + "  - name: p\n    steps: [{notifications: [{role: user, target: bob, priority: low}]}]\n", []string{
			`plans[1].name: "p" is already the name of plans[0]`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := catalogErrors(t, tt.yaml, nil)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("errors:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
		})
	}
}

// TestValidateReportsEverything: one file with a problem in each section
// gets every problem back, in file order.
func TestValidateReportsEverything(t *testing.T) {
	got := catalogErrors(t, `
people:
  - {name: alice, time_zone: Mars/Olympus}
  - name: bob
    contacts: [{mode: sms, destination: "12345"}]
teams:
  - {name: payments, manager: carol, members: [alice]}
templates:
  - {name: t, modes: {}}
plans:
  - name: p
    steps:
      - notifications:
          - {role: user, target: alice, priority: high}
  - name: q
    steps:
      - notifications:
          - {role: user, target: alice, priority: low}
      - notifications:
          - {role: oncal-primary, target: payments, priority: hihg, wait: -5}
`, nil)
	want := []string{
		`people[0].time_zone: unknown time zone "Mars/Olympus" (an IANA name, like Europe/London)`,
		"people[1].contacts[0].destination: not a phone number in E.164 form (like +447700900123: a plus, the country code, no spaces)",
		`teams[0].manager: unknown person "carol" (not in this file or the database)`,
		"templates[0].modes: needs at least one mode",
		`plans[1].steps[1].notifications[0].role: unknown role "oncal-primary" (roles: user, team, oncall-primary, oncall-secondary, manager, slack-channel)`,
		`plans[1].steps[1].notifications[0].priority: unknown priority "hihg" (priorities: low, medium, high, urgent)`,
		"plans[1].steps[1].notifications[0].wait: must be 0 or more minutes, not -5",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("errors:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func TestValidateAgainstExisting(t *testing.T) {
	src := `
people:
  - {name: alice, slack_id: U0TAKEN}
  - {name: bob, slack_id: U0BOB}
teams:
  - {name: payments, manager: dave, members: [alice, erin]}
plans:
  - name: p
    team: infra
    steps:
      - notifications:
          - {role: oncall-primary, target: infra, priority: high, template: db-template}
`
	ex := &notifications.Existing{
		People:    map[string]string{"dave": "U0TAKEN", "erin": "", "bob": "U0OLD"},
		Teams:     map[string]bool{"infra": true},
		Templates: map[string]bool{"db-template": true},
	}
	got := catalogErrors(t, src, ex)
	want := []string{`people[0].slack_id: Slack user U0TAKEN belongs to person "dave", who is not in this file (add them, or remove them with --prune)`}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("errors = %q, want %q", got, want)
	}
	// Without the database (as with --prune) the references dangle.
	got = catalogErrors(t, src, nil)
	want = []string{
		`teams[0].manager: unknown person "dave" (not in this file or the database)`,
		`teams[0].members[1]: unknown person "erin" (not in this file or the database)`,
		`plans[0].team: unknown team "infra" (not in this file or the database)`,
		`plans[0].steps[0].notifications[0].target: unknown team "infra" (not in this file or the database)`,
		`plans[0].steps[0].notifications[0].template: unknown template "db-template" (not in this file or the database)`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("errors:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	// A Slack id moving between two people of the file is fine.
	ex.People = map[string]string{"alice": "U0BOB", "bob": "U0TAKEN", "dave": "", "erin": ""}
	if got := catalogErrors(t, src, ex); got != nil {
		t.Errorf("swapping Slack ids: %q", got)
	}
}

func TestValidateWarnings(t *testing.T) {
	c := parseCatalogT(t, `
people:
  - name: alice
    contacts: [{mode: email, destination: a@example.com}]
    priorities: {high: [sms, email], low: [slack]}
  - {name: bob}
teams:
  - {name: t, members: [alice], oncall: {primary: bob}}
  - {name: u, members: [alice]}
plans:
  - name: p
    steps:
      - notifications:
          - {role: oncall-primary, target: u, priority: low}
          - {role: oncall-secondary, target: u, priority: low, optional: true}
`)
	warnings, err := c.Validate(nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"people[0].priorities.low[0]: alice has no slack contact: low pages to them in slack will fail",
		"people[0].priorities.high[0]: alice has no sms contact: high pages to them in sms will fail",
		"teams[0].oncall.primary: bob is on call for t but not one of its members",
		"plans[0].steps[0].notifications[0].target: team u has no primary on-call in this file: this notification will page nobody",
	}
	if !reflect.DeepEqual(warnings, want) {
		t.Errorf("warnings:\n  %s\nwant:\n  %s", strings.Join(warnings, "\n  "), strings.Join(want, "\n  "))
	}
}

func TestValidationNeverRepeatsDestinations(t *testing.T) {
	secret := []string{"+999", "0999123", "alice@bad", "U0SECRET"}
	got := catalogErrors(t, `
people:
  - name: a
    contacts:
      - {mode: sms, destination: "+999"}
      - {mode: call, destination: "0999123"}
      - {mode: email, destination: "alice@bad@"}
      - {mode: slack, destination: "u0SECRET"}
`, nil)
	if len(got) != 4 {
		t.Fatalf("errors = %q", got)
	}
	for _, line := range got {
		for _, s := range secret {
			if strings.Contains(strings.ToUpper(line), strings.ToUpper(s)) {
				t.Errorf("%q repeats a destination", line)
			}
		}
	}
}

func TestMarshalCatalogRoundTrip(t *testing.T) {
	c := parseCatalogT(t, catalogYAML)
	c.Templates[0].Modes["email"] = notifications.TemplateContent{Subject: "s", Body: "line one\nline two\n"}
	out, err := notifications.MarshalCatalog(c)
	if err != nil {
		t.Fatal(err)
	}
	back := parseCatalogT(t, string(out))
	if !reflect.DeepEqual(back, c) {
		t.Errorf("round trip changed the catalog:\n%s\n%+v\n%+v", out, back, c)
	}
	for _, want := range []string{`destination: "+447700900001"`, "priorities:\n      low: [slack]\n      medium: [slack, email]", "members: [alice, bob]", "body: |"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func FuzzParseCatalog(f *testing.F) {
	if b, err := os.ReadFile("../examples/demo.yaml"); err == nil {
		f.Add(b)
	}
	for _, s := range []string{
		"", catalogYAML, "people: []", "people:\n  - name: a\n    priorities: {low: []}\n",
		"people:\n  - {name: a, contacts: [{mode: sms, destination: +1}]}\n",
		"plans:\n  - name: p\n    steps: [{notifications: [{role: user, target: a, priority: low, wait: 0x10, repeat: .inf}]}]\n",
		"people: &x\n  - *x\n", "people:\n  ! 00000000000000000", "teams:\n  - oncall: ~\n", "a: b\n---\nc: d\n",
		"templates:\n  - {name: t, modes: {sms: [1]}}\n",
		"people:\n  - name: a\n    contacts:\n    priorities:\n  - {name: b, contacts: [], priorities: {}}\n  - name: c\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := notifications.ParseCatalog(data)
		if err != nil {
			if c != nil {
				t.Fatalf("error %v with catalog %+v", err, c)
			}
			return
		}
		if c == nil {
			t.Fatal("nil catalog without an error")
		}
		warnings, err := c.Validate(nil)
		if err != nil {
			var errs notifications.Errors
			if !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("Validate error %T %v", err, err)
			}
			return
		}
		_ = warnings
		// A valid catalog writes out and reads back the same.
		out, err := notifications.MarshalCatalog(c)
		if err != nil {
			t.Fatalf("MarshalCatalog: %v", err)
		}
		back, err := notifications.ParseCatalog(out)
		if err != nil {
			t.Fatalf("reading back %q: %v", out, err)
		}
		if _, err := back.Validate(nil); err != nil {
			t.Fatalf("read back invalid: %v\n%s", err, out)
		}
		// A key left out stays left out, a key written stays written: the
		// one means "keep the database's", the other "the file's".
		for i, p := range c.People {
			q := back.People[i]
			if (p.Contacts == nil) != (q.Contacts == nil) || (p.Priorities == nil) != (q.Priorities == nil) {
				t.Fatalf("people[%d] keys changed on the way back: %#v, %#v\n%s", i, p, q, out)
			}
		}
	})
}
