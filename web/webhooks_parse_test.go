package web

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/models"
)

func webhookFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestParseAlertmanagerFixtures: the bodies a real Alertmanager sent parse
// into one group keyed by groupKey, with the summary as title, the
// description as message, critical as SEV1, the runbook as a link, and the
// fingerprints and times of the alerts.
func TestParseAlertmanagerFixtures(t *testing.T) {
	const key = `alertmanager:{}:{alertname="HighErrorRate", service="checkout"}`
	firing, err := parseAlertmanager(webhookFixture(t, "alertmanager/firing.json"), "")
	if err != nil {
		t.Fatal(err)
	}
	g := firing.AlertGroup
	if g.DedupKey != key || g.Service != "checkout" || g.Resolved || g.Source != "alertmanager" {
		t.Errorf("group %q service %q resolved %v source %q", g.DedupKey, g.Service, g.Resolved, g.Source)
	}
	if g.Title != "HighErrorRate on checkout (web-1)" || g.Message != "5xx ratio above 5% for 5m on web-1" || g.Severity != models.SEV1 {
		t.Errorf("title %q message %q severity %v", g.Title, g.Message, g.Severity)
	}
	if g.RunbookURL != "https://runbooks.example.com/HighErrorRate" || len(firing.Warnings) != 0 {
		t.Errorf("runbook %q warnings %v", g.RunbookURL, firing.Warnings)
	}
	start := time.Date(2026, 11, 21, 22, 23, 43, 0, time.UTC)
	if len(g.Alerts) != 1 || g.Alerts[0].Fingerprint != "b1c11497b32ce15e" || g.Alerts[0].Resolved ||
		!g.Alerts[0].StartsAt.Equal(start) || g.Alerts[0].EndsAt != nil || g.DetectedAt == nil || !g.DetectedAt.Equal(start) {
		t.Fatalf("alerts %+v detected %v", g.Alerts, g.DetectedAt)
	}
	if g.Alerts[0].Name != "HighErrorRate" || g.Labels["severity"] != "critical" {
		t.Errorf("alert name %q labels %v", g.Alerts[0].Name, g.Labels)
	}
	var ctx map[string]any
	if err := json.Unmarshal([]byte(g.Context), &ctx); err != nil {
		t.Fatal(err)
	}
	labels, _ := ctx["labels"].(map[string]any)
	annotations, _ := ctx["annotations"].(map[string]any)
	if labels["instance"] != "web-1" || annotations["summary"] != "HighErrorRate on checkout (web-1)" ||
		ctx["externalURL"] != "http://127.0.0.1:19093" || ctx["runbook_url"] != "https://runbooks.example.com/HighErrorRate" ||
		!strings.HasPrefix(ctx["generatorURL"].(string), "http://127.0.0.1:9090/graph") {
		t.Errorf("context %s", g.Context)
	}
	if links, _ := ctx["links"].([]any); len(links) != 3 || links[0].(map[string]any)["text"] != "Runbook" {
		t.Errorf("context links %v", ctx["links"])
	}

	two, err := parseAlertmanager(webhookFixture(t, "alertmanager/firing_two.json"), "")
	if err != nil {
		t.Fatal(err)
	}
	if two.DedupKey != key || len(two.Alerts) != 2 || two.Alerts[1].Name != "HighErrorRate (instance=web-2)" ||
		two.Title != "HighErrorRate (service=checkout)" || !strings.Contains(two.Message, "web-2") {
		t.Errorf("second notification: key %q title %q message %q alerts %+v", two.DedupKey, two.Title, two.Message, two.Alerts)
	}
	if want := time.Date(2026, 11, 21, 22, 25, 13, 512e6, time.UTC); !two.Alerts[1].StartsAt.Equal(want) {
		t.Errorf("fractional start %v", two.Alerts[1].StartsAt)
	}

	resolved, err := parseAlertmanager(webhookFixture(t, "alertmanager/resolved.json"), "payments")
	if err != nil {
		t.Fatal(err)
	}
	if !resolved.Resolved || !resolved.Alerts[0].Resolved || resolved.Alerts[0].EndsAt == nil || resolved.Service != "payments" {
		t.Errorf("resolved: %+v (the query's service wins over the label)", resolved.AlertGroup)
	}
}

// TestParseGrafanaFixtures: Grafana's body reads like Alertmanager's, with
// version "1", its links in the context, and warning as SEV3.
func TestParseGrafanaFixtures(t *testing.T) {
	g, err := parseGrafana(webhookFixture(t, "grafana/firing.json"), "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(g.DedupKey, "grafana:{}/") || g.Service != "storage" || g.Resolved || g.Severity != models.SEV3 ||
		g.Title != "Disk almost full on db-1" || g.Alerts[0].Fingerprint != "0c6e1d7a9b2f4e35" {
		t.Errorf("grafana group %+v", g.AlertGroup)
	}
	if want := time.Date(2026, 11, 21, 21, 40, 3, 157076000, time.UTC); !g.Alerts[0].StartsAt.Equal(want) {
		t.Errorf("start %v, want %v (its offset read)", g.Alerts[0].StartsAt, want)
	}
	if !strings.Contains(g.Context, `"dashboardURL":"https://grafana.example.com/d/storage"`) || !strings.Contains(g.Context, `"silenceURL"`) {
		t.Errorf("context %s", g.Context)
	}
	r, err := parseGrafana(webhookFixture(t, "grafana/resolved.json"), "")
	if err != nil || !r.Resolved || r.DedupKey != g.DedupKey {
		t.Errorf("resolved %+v %v", r, err)
	}
	// A body with only Grafana's state still reads.
	only := strings.Replace(string(webhookFixture(t, "grafana/resolved.json")), `"status": "resolved",`, "", 1)
	if r, err := parseGrafana([]byte(only), ""); err != nil || !r.Resolved {
		t.Errorf("state ok without status: %+v %v", r, err)
	}
}

// TestParseGroupErrors: every malformed notification is refused naming
// its field.
func TestParseGroupErrors(t *testing.T) {
	base := string(webhookFixture(t, "alertmanager/firing.json"))
	edit := func(fn func(m map[string]any)) string {
		var m map[string]any
		if err := json.Unmarshal([]byte(base), &m); err != nil {
			t.Fatal(err)
		}
		fn(m)
		b, _ := json.Marshal(m)
		return string(b)
	}
	alert := func(m map[string]any) map[string]any { return m["alerts"].([]any)[0].(map[string]any) }
	cases := []struct {
		name, body, service, field, msg string
	}{
		{"empty body", "", "", "", "empty body"},
		{"not JSON", "{nope", "", "", "malformed JSON"},
		{"truncated", base[:40], "", "", "malformed JSON"},
		{"trailing data", base + "{}", "", "", "more data"},
		{"array", "[]", "", "", "must be a JSON object"},
		{"version 3", strings.Replace(base, `"version":"4"`, `"version":"3"`, 1), "", "version", `not "3"`},
		{"no version", edit(func(m map[string]any) { delete(m, "version") }), "", "version", "version"},
		{"version a number", strings.Replace(base, `"version":"4"`, `"version":4`, 1), "", "version", "must be a string"},
		{"no groupKey", edit(func(m map[string]any) { delete(m, "groupKey") }), "", "groupKey", "is required"},
		{"blank groupKey", edit(func(m map[string]any) { m["groupKey"] = "  " }), "", "groupKey", "is required"},
		{"bad status", edit(func(m map[string]any) { m["status"] = "pending" }), "", "status", `"pending"`},
		{"no alerts", edit(func(m map[string]any) { m["alerts"] = []any{} }), "", "alerts", "is empty"},
		{"alerts not a list", edit(func(m map[string]any) { m["alerts"] = "x" }), "", "alerts", "must be an array"},
		{"label not a string", edit(func(m map[string]any) { alert(m)["labels"].(map[string]any)["n"] = 1 }), "", "alerts.0.labels.n", "must be a string"},
		{"annotation not a string", edit(func(m map[string]any) { m["commonAnnotations"].(map[string]any)["a.b"] = []any{} }), "", `commonAnnotations.a\.b`, "must be a string"},
		{"alert not an object", edit(func(m map[string]any) { m["alerts"] = []any{7} }), "", "alerts.0", "must be a JSON object"},
		{"bad alert status", edit(func(m map[string]any) { alert(m)["status"] = "" }), "", "alerts.0.status", "must be"},
		{"bad startsAt", edit(func(m map[string]any) { alert(m)["startsAt"] = "yesterday" }), "", "alerts.0.startsAt", "RFC 3339"},
		{"bad endsAt", edit(func(m map[string]any) { alert(m)["endsAt"] = "2026-13-01T00:00:00Z" }), "", "alerts.0.endsAt", "RFC 3339"},
		{"long fingerprint", edit(func(m map[string]any) { alert(m)["fingerprint"] = strings.Repeat("f", 200) }), "", "alerts.0.fingerprint", "longer"},
		{"no service", edit(func(m map[string]any) {
			delete(m["commonLabels"].(map[string]any), "service")
			delete(m["groupLabels"].(map[string]any), "service")
			delete(alert(m)["labels"].(map[string]any), "service")
		}), "", "service", "?service="},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := parseAlertmanager([]byte(c.body), c.service)
			var fe *fieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v, want a field error", err)
			}
			if fe.Field != c.field || !strings.Contains(fe.Msg, c.msg) {
				t.Errorf("field %q message %q, want field %q and %q", fe.Field, fe.Msg, c.field, c.msg)
			}
		})
	}
}

// TestGroupDetails: titles, names, severities and fingerprints when the
// payload lacks the usual annotations.
func TestGroupDetails(t *testing.T) {
	p := &groupPayload{Version: "4", GroupKey: "{}:{}", Status: "firing",
		GroupLabels:  map[string]string{"alertname": "Down", "cluster": "eu"},
		CommonLabels: map[string]string{"alertname": "Down", "cluster": "eu", "service": "api"},
		Alerts: []payloadAlert{
			{Status: "firing", Labels: map[string]string{"alertname": "Down", "cluster": "eu", "service": "api", "pod": "a", "severity": "page"}},
			{Status: "firing", Labels: map[string]string{"alertname": "Down", "cluster": "eu", "service": "api", "pod": "b", "severity": "info"}, Annotations: map[string]string{"runbook_url": "javascript:alert(1)"}},
			{Status: "resolved", Labels: map[string]string{"alertname": "Down", "cluster": "eu", "service": "api", "pod": "c", "severity": "bogus"}},
		}}
	g, err := buildGroup(p, alertmanagerSource, "")
	if err != nil {
		t.Fatal(err)
	}
	if g.Title != "Down (cluster=eu)" || g.Severity != models.SEV1 || len(g.Warnings) != 0 || g.Service != "api" {
		t.Errorf("title %q severity %v warnings %v service %q", g.Title, g.Severity, g.Warnings, g.Service)
	}
	if g.Alerts[0].Name != "Down (pod=a, severity=page)" || g.Alerts[1].RunbookURL != "" || g.RunbookURL != "" {
		t.Errorf("alerts %+v runbook %q", g.Alerts, g.RunbookURL)
	}
	if g.Alerts[0].Fingerprint == g.Alerts[1].Fingerprint || len(g.Alerts[0].Fingerprint) != 16 {
		t.Errorf("derived fingerprints %q %q", g.Alerts[0].Fingerprint, g.Alerts[1].Fingerprint)
	}
	p.CommonLabels["severity"] = "urgent-ish"
	if g, _ := buildGroup(p, alertmanagerSource, ""); g.Severity != models.SeverityUnset || len(g.Warnings) != 1 {
		t.Errorf("unknown severity: %v %v", g.Severity, g.Warnings)
	}
	long := strings.Repeat("é", 400)
	p.CommonAnnotations = map[string]string{"summary": "line one\nline\ttwo " + long}
	if g, _ := buildGroup(p, alertmanagerSource, ""); len([]rune(g.Title)) != maxGroupTitle || strings.ContainsAny(g.Title, "\n\t") || !strings.HasSuffix(g.Title, "…") {
		t.Errorf("long title %q", g.Title)
	}
}

func TestAlertSeverity(t *testing.T) {
	cases := map[string]models.Severity{
		"critical": models.SEV1, "CRIT": models.SEV1, "error": models.SEV2, "major": models.SEV2, "ERR": models.SEV2,
		"warning": models.SEV3, "WARN": models.SEV3, "info": models.SEV4, "sev2": models.SEV2, "4": models.SEV4, "trivial": models.SEV4,
	}
	for in, want := range cases {
		if got, ok := alertSeverity(in); !ok || got != want {
			t.Errorf("alertSeverity(%q) = %v %v, want %v", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "5", "sev0", "loud"} {
		if _, ok := alertSeverity(in); ok {
			t.Errorf("alertSeverity(%q) accepted", in)
		}
	}
}
