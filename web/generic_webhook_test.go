package web

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/heraldhq/herald/models"
)

// testGenericConfig is the configuration the issue gives as its example.
const testGenericConfig = `{"title":"alert.name","severity":"alert.level","severity_map":{"p1":"CRIT"},"dedup_key":"alert.id","state":"alert.status","resolved_values":["ok","resolved"],"message":"alert.text"}`

func TestJSONPath(t *testing.T) {
	var doc any
	if err := json.Unmarshal([]byte(`{"a":{"b":[{"c":"x"},{"c":2.5}],"d.e":true,"0":"zero"},"items":[[1,[null,"deep"]]]}`), &doc); err != nil {
		t.Fatal(err)
	}
	found := []struct {
		path string
		want any
	}{
		{"a.b.0.c", "x"}, {"a.b.1.c", 2.5}, {`a.d\.e`, true}, {"a.0", "zero"}, {"items.0.1.1", "deep"}, {"items.0.1.0", nil},
	}
	for _, c := range found {
		keys, err := parseJSONPath(c.path)
		if err != nil {
			t.Fatalf("%s: %v", c.path, err)
		}
		got, ok := lookupJSONPath(doc, keys)
		if !ok || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s = %v %v, want %v", c.path, got, ok, c.want)
		}
	}
	for _, p := range []string{"a.b.2.c", "a.b.01.c", "a.b.-1.c", "a.b.x", "a.d.e", "items.0.1.1.z", "nope", "a.b.0.c.d"} {
		keys, err := parseJSONPath(p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if v, ok := lookupJSONPath(doc, keys); ok {
			t.Errorf("%s found %v", p, v)
		}
	}
	for _, p := range []string{"", ".a", "a.", "a..b", `a\`, strings.Repeat("a", maxJSONPathLen+1)} {
		if _, err := parseJSONPath(p); !errors.Is(err, errJSONPath) {
			t.Errorf("parseJSONPath(%q) = %v, want errJSONPath", p, err)
		}
	}
	if keys, _ := parseJSONPath(`x\\.y\z`); !reflect.DeepEqual(keys, []string{`x\`, "yz"}) {
		t.Errorf("escapes: %q", keys)
	}
}

// TestParseGeneric: the example configuration reads the fixture bodies:
// title, mapped severity, dedup key, state and message; OK resolves.
func TestParseGeneric(t *testing.T) {
	in := &models.Integration{Name: "uptime", GenericConfig: testGenericConfig}
	g, err := parseGeneric(webhookFixture(t, "generic/firing.json"), in, "payments")
	if err != nil {
		t.Fatal(err)
	}
	if g.Title != "Payment gateway latency over 2s" || g.Severity != models.SEV1 || g.DedupKey != "generic:chk-4711" ||
		g.Resolved || g.Message != "p95 latency 2.4s for 10 minutes" || g.Service != "payments" || len(g.Alerts) != 1 {
		t.Errorf("generic group %+v", g.AlertGroup)
	}
	if !strings.Contains(g.Context, `"payload":{"alert":{"id":"chk-4711"`) {
		t.Errorf("context %s", g.Context)
	}
	r, err := parseGeneric(webhookFixture(t, "generic/resolved.json"), in, "payments")
	if err != nil || !r.Resolved || r.DedupKey != g.DedupKey {
		t.Errorf("resolved: %+v %v", r, err)
	}

	// As `herald apply` stores it: severities as numbers, no resolved
	// values; a service path; no dedup key (the title is).
	in.GenericConfig = `{"title":"items.0.name","severity":"lvl","severity_map":{"Hi":1},"service":"svc","state":"s"}`
	g, err = parseGeneric([]byte(`{"items":[{"name":"disk"}],"lvl":"hi","svc":"db","s":"ok"}`), in, "")
	if err != nil {
		t.Fatal(err)
	}
	if g.Title != "disk" || g.Severity != models.SEV1 || g.Service != "db" || g.DedupKey != "generic:disk" || !g.Resolved {
		t.Errorf("second config: %+v", g.AlertGroup)
	}
	g, err = parseGeneric([]byte(`{"items":[{"name":"disk"}],"lvl":"whatever","svc":"db"}`), in, "")
	if err != nil || g.Severity != models.SeverityUnset || len(g.Warnings) != 1 || g.Resolved {
		t.Errorf("unmapped severity: %+v %v", g, err)
	}
}

func TestParseGenericErrors(t *testing.T) {
	cases := []struct {
		name, config, body, field, msg string
	}{
		{"no config", "", `{}`, "generic_config", "has no generic_config"},
		{"config not JSON", "{", `{}`, "generic_config", "not a valid configuration"},
		{"config unknown key", `{"titel":"a"}`, `{}`, "generic_config", "titel"},
		{"config without title", `{"message":"m"}`, `{}`, "generic_config.title", "is required"},
		{"config bad path", `{"title":"a..b"}`, `{}`, "generic_config.title", "empty key"},
		{"config bad severity", `{"title":"a","severity_map":{"p.1":"loud"}}`, `{}`, `generic_config.severity_map.p\.1`, "not a severity"},
		{"body not JSON", testGenericConfig, `{"alert":`, "", "malformed JSON"},
		{"no title", testGenericConfig, `{"alert":{"id":"1"}}`, "alert.name", "is missing"},
		{"empty title", testGenericConfig, `{"alert":{"id":"1","name":" "}}`, "alert.name", "is empty"},
		{"title an object", testGenericConfig, `{"alert":{"id":"1","name":{}}}`, "alert.name", "string, number or boolean"},
		{"no dedup key", testGenericConfig, `{"alert":{"name":"n"}}`, "alert.id", "is missing"},
		{"state a list", testGenericConfig, `{"alert":{"name":"n","id":"1","status":[]}}`, "alert.status", "string, number or boolean"},
		{"no service", `{"title":"t"}`, `{"t":"x"}`, "service", "?service="},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			service := "payments"
			if c.field == "service" {
				service = ""
			}
			_, err := parseGeneric([]byte(c.body), &models.Integration{GenericConfig: c.config}, service)
			var fe *fieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v, want a field error", err)
			}
			if fe.Field != c.field || !strings.Contains(fe.Msg, c.msg) {
				t.Errorf("field %q message %q, want %q and %q", fe.Field, fe.Msg, c.field, c.msg)
			}
		})
	}
	if err := ValidateGenericConfig(testGenericConfig); err != nil {
		t.Errorf("the example configuration: %v", err)
	}
}

func testIntegration(config string) *models.Integration {
	return &models.Integration{Name: "uptime", GenericConfig: config}
}
