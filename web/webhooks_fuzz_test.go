package web

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// checkParsed holds for every accepted notification: the group is named,
// its service set, its title one short line, its alerts fingerprinted, its
// JSON valid, its links http(s). A refusal is always a fieldError.
func checkParsed(t *testing.T, g *parsedGroup, err error, prefix string) {
	t.Helper()
	if err != nil {
		var fe *fieldError
		if !errors.As(err, &fe) || fe.Msg == "" {
			t.Fatalf("refused with %v (%T), want a field error with a message", err, err)
		}
		if g != nil {
			t.Fatalf("refused but returned a group %+v", g)
		}
		return
	}
	if !strings.HasPrefix(g.DedupKey, prefix) || len(g.DedupKey) == len(prefix) {
		t.Fatalf("dedup key %q, want %s…", g.DedupKey, prefix)
	}
	if strings.TrimSpace(g.Service) == "" || len(g.Alerts) == 0 {
		t.Fatalf("service %q, %d alerts", g.Service, len(g.Alerts))
	}
	if g.Title == "" || utf8.RuneCountInString(g.Title) > maxGroupTitle || strings.ContainsAny(g.Title, "\r\n\t") || !utf8.ValidString(g.Title) {
		t.Fatalf("title %q", g.Title)
	}
	if utf8.RuneCountInString(g.Message) > maxGroupMessage {
		t.Fatalf("message of %d runes", utf8.RuneCountInString(g.Message))
	}
	if g.Severity != 0 && !g.Severity.Valid() {
		t.Fatalf("severity %d", g.Severity)
	}
	var obj map[string]any
	if json.Unmarshal([]byte(g.Context), &obj) != nil || obj == nil {
		t.Fatalf("context is not a JSON object: %s", g.Context)
	}
	links := []string{g.RunbookURL}
	for _, a := range g.Alerts {
		if a.Fingerprint == "" || len(a.Fingerprint) > maxFingerprint {
			t.Fatalf("fingerprint %q", a.Fingerprint)
		}
		if a.Name == "" || utf8.RuneCountInString(a.Name) > maxAlertName {
			t.Fatalf("alert name %q", a.Name)
		}
		for _, j := range []string{a.Labels, a.Annotations} {
			if json.Unmarshal([]byte(j), &obj) != nil {
				t.Fatalf("alert JSON %q", j)
			}
		}
		links = append(links, a.RunbookURL)
	}
	for _, l := range links {
		if l != "" && !strings.HasPrefix(l, "http://") && !strings.HasPrefix(l, "https://") || strings.ContainsAny(l, "<>| ") {
			t.Fatalf("link %q", l)
		}
	}
}

func FuzzParseAlertmanager(f *testing.F) {
	for _, name := range []string{"alertmanager/firing.json", "alertmanager/resolved.json", "alertmanager/firing_two.json", "alertmanager/resolved_two.json"} {
		f.Add(webhookFixture(f, name), "")
	}
	f.Add([]byte(`{"version":"4","groupKey":"k","status":"firing","alerts":[{"status":"firing","labels":{"service":"s"}}]}`), "")
	f.Add([]byte(`{"version":"4","groupKey":"k","status":"firing","alerts":[{"status":"firing","startsAt":"0000-01-01T00:00:00Z"}]}`), "svc")
	f.Add([]byte(`{"version":4}`), "")
	f.Add([]byte(`[]`), "")
	f.Fuzz(func(t *testing.T, body []byte, service string) {
		service = strings.TrimSpace(service)
		g, err := parseAlertmanager(body, service)
		checkParsed(t, g, err, "alertmanager:")
		if err == nil && service != "" && g.Service != service {
			t.Fatalf("service %q, want the query's %q", g.Service, service)
		}
	})
}

func FuzzParseGrafana(f *testing.F) {
	f.Add(webhookFixture(f, "grafana/firing.json"), "")
	f.Add(webhookFixture(f, "grafana/resolved.json"), "db")
	f.Add([]byte(`{"groupKey":"k","state":"ok","alerts":[{"status":"ok","labels":{"service":"s"}}]}`), "")
	f.Add([]byte(`{"groupKey":"k","state":"paused"}`), "")
	f.Fuzz(func(t *testing.T, body []byte, service string) {
		g, err := parseGrafana(body, strings.TrimSpace(service))
		checkParsed(t, g, err, "grafana:")
	})
}

func FuzzParseGeneric(f *testing.F) {
	f.Add(testGenericConfig, webhookFixture(f, "generic/firing.json"), "payments")
	f.Add(testGenericConfig, webhookFixture(f, "generic/resolved.json"), "payments")
	f.Add(`{"title":"items.0.name","severity":"lvl","severity_map":{"Hi":1},"service":"svc","state":"s"}`, []byte(`{"items":[{"name":"disk"}],"lvl":"hi","svc":"db","s":"ok"}`), "")
	f.Add(`{"title":"a\\.b"}`, []byte(`{"a.b":12.5e3}`), "x")
	f.Add("", []byte(`{}`), "x")
	f.Fuzz(func(t *testing.T, config string, body []byte, service string) {
		g, err := parseGeneric(body, testIntegration(config), strings.TrimSpace(service))
		checkParsed(t, g, err, "generic:")
		if err == nil && len(g.Alerts) != 1 {
			t.Fatalf("%d alerts, want 1", len(g.Alerts))
		}
	})
}

// FuzzJSONPath: parsing never panics; a parsed path written back with
// escapes parses to the same keys; a document built along the keys has
// the leaf at the path; lookups in any document never panic.
func FuzzJSONPath(f *testing.F) {
	f.Add("alert.name", []byte(`{"alert":{"name":"x"}}`))
	f.Add("items.0.name", []byte(`{"items":[{"name":"x"}]}`))
	f.Add(`labels.app\.kubernetes\.io/name`, []byte(`{"labels":{"app.kubernetes.io/name":"x"}}`))
	f.Add(`a\\`, []byte(`[1,2]`))
	f.Add("a..b", []byte(`null`))
	f.Add("0.00.1", []byte(`[[1,2]]`))
	f.Fuzz(func(t *testing.T, path string, doc []byte) {
		keys, err := parseJSONPath(path)
		var any0 any
		if json.Unmarshal(doc, &any0) == nil && err == nil {
			lookupJSONPath(any0, keys)
		}
		if err != nil {
			if !errors.Is(err, errJSONPath) {
				t.Fatalf("parseJSONPath(%q) = %v: not errJSONPath", path, err)
			}
			return
		}
		if len(keys) == 0 {
			t.Fatalf("parseJSONPath(%q) gave no keys", path)
		}
		again, err := parseJSONPath(joinJSONPath(keys))
		if err != nil && len(joinJSONPath(keys)) <= maxJSONPathLen || err == nil && !reflect.DeepEqual(again, keys) {
			t.Fatalf("%q → %q → %q, %v", path, keys, again, err)
		}
		var built any = "leaf"
		for i := len(keys) - 1; i >= 0; i-- {
			built = map[string]any{keys[i]: built}
		}
		if v, ok := lookupJSONPath(built, keys); !ok || v != "leaf" {
			t.Fatalf("%q not found along its own keys %q: %v %v", path, keys, v, ok)
		}
	})
}
