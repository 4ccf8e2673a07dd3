package notifications_test

import (
	"testing"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
)

// An alert's context (an Iris incident's, an Alertmanager group's labels)
// reaches message templates as .Context; a missing or malformed context
// renders like any missing name, never failing the page.
func TestTemplateDataContext(t *testing.T) {
	cases := []struct {
		name, context, text, want string
	}{
		{"string", `{"notes":"disk at 97%","host":"db1"}`, "{{.Context.notes}} on {{.Context.host}}", "disk at 97% on db1"},
		{"nested", `{"labels":{"severity":"page"}}`, "{{.Context.labels.severity}}", "page"},
		{"number", `{"count":3}`, "{{.Context.count}} alerts", "3 alerts"},
		{"missing key", `{"notes":"x"}`, "{{.Context.host}}", "<no value>"},
		{"no context", ``, "[{{.Context.notes}}]", "[<no value>]"},
		{"not an object", `[1,2]`, "[{{.Context.notes}}]", "[<no value>]"},
		{"malformed", `{"notes":`, "[{{.Context.notes}}]", "[<no value>]"},
		{"null", `null`, "[{{.Context.notes}}]", "[<no value>]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			inc := &models.Incident{Number: 7, Title: "t", Context: c.context}
			data := notifications.TemplateData(inc, models.PlanNotification{}, "123456")
			got, err := notifications.RenderTemplate(c.text, data)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
}
