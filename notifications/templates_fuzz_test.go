package notifications_test

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/heraldhq/herald/notifications"
)

// FuzzRenderTemplate: any template text, with a context that came from
// outside, renders in bounded time to at most 4000 bytes or fails with an
// error; a template without actions renders as itself.
func FuzzRenderTemplate(f *testing.F) {
	for _, s := range []string{
		"#{{.Number}} {{.Title}}", "{{range .Context.list}}{{.}}{{end}}", "{{range 5}}x{{end}}",
		`{{define "a"}}{{template "a"}}{{end}}`, "{{with .Context.deep}}{{.x}}{{end}}", "{{printf \"%q\" .Title}}",
		"{{range $i, $e := .Context.list}}{{$i}}{{end}}", "plain text", "{{len .Context.list}}",
	} {
		f.Add(s, `{"list":[1,2,3],"deep":{"x":"<!channel>"}}`)
	}
	f.Fuzz(func(t *testing.T, text, context string) {
		data := map[string]any{"Number": int64(42), "Title": "Disk <full>", "ClaimCode": "123456", "Context": notifications.ContextMap(context)}
		start := time.Now()
		got, err := notifications.RenderTemplate(text, data)
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("%q took %v", text, d)
		}
		if len(got) > 4000 {
			t.Fatalf("%q rendered %d bytes", text, len(got))
		}
		if err == nil && !strings.Contains(text, "{{") && got != text {
			t.Fatalf("text without actions %q rendered as %q", text, got)
		}
		if err == nil && utf8.ValidString(text) && !strings.ContainsAny(text, "{}") && !utf8.ValidString(got) {
			t.Fatalf("valid text %q rendered invalid UTF-8", text)
		}
	})
}
