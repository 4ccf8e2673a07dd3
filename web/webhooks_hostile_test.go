package web

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// Hostile monitoring payloads: deep nesting is refused quickly with a
// field error, and whatever is accepted stores only valid UTF-8
// (PostgreSQL refuses anything else with a 500).
func TestWebhooksHostile(t *testing.T) {
	deep := strings.Repeat("[", 10000) + strings.Repeat("]", 10000)
	am := func(labels string) []byte {
		return []byte(`{"version":"4","groupKey":"k","status":"firing","commonLabels":` + labels +
			`,"alerts":[{"status":"firing","labels":` + labels + `,"annotations":{"summary":"s"}}]}`)
	}
	generic := testIntegration(`{"title":"t","service":"svc"}`)
	cases := []struct {
		name  string
		parse func() (*parsedGroup, error)
		ok    bool
	}{
		{"alertmanager 10,000 nested arrays in labels", func() (*parsedGroup, error) { return parseAlertmanager(am(`{"service":"s","x":`+deep+`}`), "") }, false},
		{"alertmanager 10,000 nested arrays as the body", func() (*parsedGroup, error) { return parseAlertmanager([]byte(deep), "") }, false},
		{"alertmanager 10,000 nested objects", func() (*parsedGroup, error) {
			return parseAlertmanager([]byte(strings.Repeat(`{"a":`, 10000)+"1"+strings.Repeat("}", 10000)), "")
		}, false},
		{"grafana 10,000 nested arrays", func() (*parsedGroup, error) {
			return parseGrafana([]byte(`{"groupKey":"k","state":"alerting","alerts":`+deep+`}`), "s")
		}, false},
		{"generic 10,000 nested arrays", func() (*parsedGroup, error) {
			return parseGeneric([]byte(`{"t":"x","svc":"s","deep":`+deep+`}`), generic, "")
		}, false},
		{"alertmanager invalid UTF-8 label", func() (*parsedGroup, error) { return parseAlertmanager(am("{\"service\":\"s\",\"x\":\"\xff\"}"), "") }, true},
		{"generic invalid UTF-8 in the payload", func() (*parsedGroup, error) {
			return parseGeneric([]byte("{\"t\":\"disk \xff\",\"svc\":\"s\",\"other\":\"\xfe\"}"), generic, "")
		}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			g, err := c.parse()
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("took %v", took)
			}
			if !c.ok {
				var fe *fieldError
				if !errors.As(err, &fe) || g != nil {
					t.Fatalf("got %v (%T), want a field error", err, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			for name, s := range map[string]string{"title": g.Title, "message": g.Message, "context": g.Context} {
				if !utf8.ValidString(s) {
					t.Errorf("%s is not valid UTF-8: %q", name, s)
				}
			}
			for _, a := range g.Alerts {
				if !utf8.ValidString(a.Labels) || !utf8.ValidString(a.Annotations) || !utf8.ValidString(a.Name) {
					t.Errorf("alert with invalid UTF-8: %+v", a)
				}
			}
		})
	}
}
