package notifications_test

import (
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
)

func TestRenderTemplate(t *testing.T) {
	data := map[string]any{"Number": int64(7), "Title": "Disk full", "ClaimCode": "123456", "Many": make([]int, 1000)}
	cases := []struct {
		name, text, want, err string
	}{
		{"fields", "#{{.Number}} {{.Title}} code {{.ClaimCode}}", "#7 Disk full code 123456", ""},
		{"missing field renders visibly", "team {{.Team}}", "team <no value>", ""},
		{"syntax error", "{{.Title", "", "unclosed action"},
		{"huge output is cut", `{{range .Many}}0123456789{{end}}`, "", "longer than"},
		{"self recursion is refused", `{{define "a"}}x{{template "a"}}{{end}}{{template "a"}}`, "", "not allowed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := notifications.RenderTemplate(c.text, data)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err = %v, want one containing %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
}

// A plan notification with a template is sent with the template's text for
// its mode; a broken template falls back to the built-in text and the page
// still goes out, with its claim code.
func TestEngineUsesTemplates(t *testing.T) {
	for _, dialect := range testdb.Dialects {
		t.Run(dialect, func(t *testing.T) {
			f := newFixture(t, dialect)
			f.person("alice")
			f.create(&models.MessageTemplate{Name: "good", UpdatedAt: t0,
				Definition: `{"slack":{"subject":"[{{.Priority}}] #{{.Number}}","body":"{{.Title}} ({{.Severity}}), code {{.ClaimCode}}"}}`})
			f.create(&models.MessageTemplate{Name: "broken", UpdatedAt: t0, Definition: `{"slack":{"body":"{{.Title"}}`})
			good := user("alice", "low", 0, 0)
			good.Template = "good"
			broken := user("alice", "low", 0, 0)
			broken.Template = "broken"
			f.plan("good", steps(step(good)))
			f.plan("broken", steps(step(broken)))
			f.escalate("Disk full", "good")
			f.escalate("Queue stuck", "broken")
			f.tick()
			got := f.vendor.accepted()
			if len(got) != 2 {
				t.Fatalf("sent %d pages, want 2", len(got))
			}
			bodies := map[string]notifications.Message{}
			for _, s := range got {
				bodies[s.Msg.Subject] = s.Msg
			}
			var templated, fallback *notifications.Message
			for subj, m := range bodies {
				m := m
				if strings.HasPrefix(subj, "[low] #") {
					templated = &m
				} else {
					fallback = &m
				}
			}
			if templated == nil || !strings.HasPrefix(templated.Body, "Disk full (SEV2 (major)), code ") || !strings.Contains(templated.Body, templated.ClaimCode) {
				t.Fatalf("templated page = %+v", templated)
			}
			if fallback == nil || !strings.Contains(fallback.Body, "Queue stuck") || !strings.Contains(fallback.Body, fallback.ClaimCode) {
				t.Fatalf("fallback page = %+v", fallback)
			}
		})
	}
}
