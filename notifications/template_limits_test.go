package notifications_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/notifications"
)

// Message templates come from outside (the catalog, Iris's /v0
// notifications): whatever they say, rendering ends quickly with bounded
// output, and cannot read files or call anything but text/template's
// built-ins.
func TestRenderTemplateHostile(t *testing.T) {
	nested := map[string]any{}
	cur := nested
	for range 200 { // a deeply nested context value
		next := map[string]any{}
		cur["x"] = next
		cur = next
	}
	big := make([]any, 5000)
	data := map[string]any{"Number": int64(7), "Title": "Disk full", "Context": map[string]any{"big": big, "small": []any{"a", "b"}, "deep": nested}}
	cases := []struct {
		name, text, want string
		err              error // nil: renders want
		errText          string
	}{
		{"range over a huge literal", `{{range 2000000000}}{{end}}`, "", notifications.ErrUnsafeTemplate, "at most 1000"},
		{"range over a literal through a variable", `{{$n := 2000000000}}{{range $n}}{{end}}`, "", notifications.ErrUnsafeTemplate, "at most 1000"},
		{"range over a literal through with", `{{with 2000000000}}{{range .}}{{end}}{{end}}`, "", notifications.ErrUnsafeTemplate, "at most 1000"},
		{"range over and of literals", `{{range and 1 2000000000}}{{end}}`, "", notifications.ErrUnsafeTemplate, "at most 1000"},
		{"range over a huge context list", `{{range .Context.big}}{{end}}`, "", notifications.ErrUnsafeTemplate, "5000 elements"},
		{"nested range", `{{range .Context.small}}{{range $.Context.small}}{{end}}{{end}}`, "", notifications.ErrUnsafeTemplate, "inside {{range}}"},
		{"nested range in else", `{{range .Context.small}}{{else}}{{range .Context.small}}{{end}}{{end}}`, "", notifications.ErrUnsafeTemplate, "inside {{range}}"},
		{"branching recursion", `{{define "a"}}{{template "a"}}{{template "a"}}{{end}}{{template "a"}}`, "", notifications.ErrUnsafeTemplate, "not allowed"},
		{"block", `{{block "b" .}}x{{end}}`, "", notifications.ErrUnsafeTemplate, "not allowed"},
		{"huge template text", strings.Repeat("{{if false}}{{end}}", 1000), "", notifications.ErrUnsafeTemplate, "more than 4096"},
		{"huge printf width is cut", `{{printf "%0999999d" 1}}`, "", nil, "longer than"},
		{"no file access", `{{readFile "/etc/passwd"}}`, "", nil, `function "readFile" not defined`},
		{"no os functions", `{{env "HOME"}}`, "", nil, `function "env" not defined`},
		{"call needs a function value", `{{call .Title}}`, "", nil, "non-function"},
		{"small range still works", `{{range $i, $e := .Context.small}}{{$i}}={{$e}} {{end}}`, "0=a 1=b ", nil, ""},
		{"range over a small number works", `{{range 3}}x{{end}}`, "xxx", nil, ""},
		{"deep context value", `{{.Context.deep.x.x.x}}`, "map[x:map[x:", nil, ""},
		{"guard name is not special", `{{range .Context.small | heraldRangeGuard}}{{.}}{{end}}`, "ab", nil, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			got, err := notifications.RenderTemplate(c.text, data)
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("rendering took %v", d)
			}
			if c.err != nil && !errors.Is(err, c.err) {
				t.Fatalf("err = %v, want %v", err, c.err)
			}
			if c.errText != "" {
				if err == nil || !strings.Contains(err.Error(), c.errText) {
					t.Fatalf("err = %v, want one containing %q", err, c.errText)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(got, c.want) {
				t.Fatalf("got %q, want it to start with %q", got, c.want)
			}
		})
	}
}

// A catalog refuses, at apply, a template that would not render safely,
// naming the field.
func TestCatalogRefusesUnsafeTemplates(t *testing.T) {
	got := catalogErrors(t, "templates:\n  - name: t\n    modes:\n      sms: {subject: '{{range 2000000000}}{{end}}', body: '{{define \"a\"}}{{template \"a\"}}{{end}}'}\n      email: {body: '{{.Title'}\n", nil)
	want := []string{"templates[0].modes.email.body: template: message:1: unclosed action",
		`templates[0].modes.sms.body: unsafe template: {{define}} and {{block}} are not allowed`}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("errors:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	if err := notifications.CheckTemplate("{{range .Context.hosts}}{{.}} {{end}}"); err != nil {
		t.Fatalf("a plain range refused: %v", err)
	}
}
