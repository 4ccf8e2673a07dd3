package notifications

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"text/template"
	"time"

	"github.com/heraldhq/herald/models"
)

// TemplateSource loads message templates; *models.Store implements it.
type TemplateSource interface {
	Template(ctx context.Context, name string) (*models.MessageTemplate, error)
}

// templateTTL is how long a loaded template is reused: `herald apply`
// changes reach every replica within it, and a burst of pages does not
// read the same row thousands of times.
const templateTTL = 10 * time.Second

// maxRendered bounds a rendered subject or body.
const maxRendered = 4000

type cachedTemplate struct {
	modes  TemplateModes
	err    error
	loaded time.Time
}

// templates renders plan notifications with their named templates, falling
// back to the built-in text (Render) when a template is missing, has no
// entry for the mode, or fails. A page never fails because of its template.
type templates struct {
	src   TemplateSource
	clock models.Clock
	mu    sync.Mutex
	cache map[string]cachedTemplate
}

func (t *templates) load(ctx context.Context, name string) (TemplateModes, error) {
	now := t.clock.Now()
	t.mu.Lock()
	c, ok := t.cache[name]
	t.mu.Unlock()
	if ok && now.Sub(c.loaded) < templateTTL {
		return c.modes, c.err
	}
	var modes TemplateModes
	row, err := t.src.Template(ctx, name)
	if err == nil {
		err = json.Unmarshal([]byte(row.Definition), &modes)
	}
	t.mu.Lock()
	if t.cache == nil {
		t.cache = map[string]cachedTemplate{}
	}
	t.cache[name] = cachedTemplate{modes: modes, err: err, loaded: now}
	t.mu.Unlock()
	return modes, err
}

// TemplateData is what a message template sees. A name that is not here
// renders as "<no value>": visible, and the page still goes out. Context
// is the alert's context object ({{.Context.notes}}, as Iris templates
// used {{ notes }}); empty when the incident has none.
func TemplateData(inc *models.Incident, n models.PlanNotification, code string) map[string]any {
	return map[string]any{
		"Number": inc.Number, "Title": inc.Title, "Summary": inc.Summary, "Impact": inc.Impact,
		"Severity": inc.Severity.String(), "Status": string(inc.Status), "Priority": n.Priority,
		"Role": n.Role, "Target": n.Target, "ClaimCode": code, "Context": ContextMap(inc.Context),
	}
}

// ContextMap decodes an incident's context (a JSON object) for templates;
// anything else gives an empty map, so {{.Context.x}} never fails.
func ContextMap(raw string) map[string]any {
	out := map[string]any{}
	if raw != "" {
		if err := json.Unmarshal([]byte(raw), &out); err != nil || out == nil {
			return map[string]any{}
		}
	}
	return out
}

// RenderTemplate renders one template text with data.
func RenderTemplate(text string, data map[string]any) (string, error) {
	if len(text) > maxTemplateText {
		return "", fmt.Errorf("%w: template text is %d bytes, more than %d", ErrUnsafeTemplate, len(text), maxTemplateText)
	}
	t, err := template.New("message").Option("missingkey=default").Funcs(templateFuncs).Parse(text)
	if err != nil {
		return "", err
	}
	if err := checkTemplateShape(t); err != nil { // guards its ranges too
		return "", err
	}
	var b bytes.Buffer
	if err := t.Execute(&limitedWriter{w: &b, left: maxRendered}, data); err != nil {
		return "", err
	}
	return b.String(), nil
}

// render picks the template's text for the mode, or the built-in one.
func (t *templates) render(ctx context.Context, inc *models.Incident, n models.PlanNotification, mode Mode, code string) (subject, body string, problem error) {
	subject, body = Render(inc, n, mode, code)
	if n.Template == "" || t == nil || t.src == nil {
		return subject, body, nil
	}
	modes, err := t.load(ctx, n.Template)
	if err != nil {
		return subject, body, fmt.Errorf("template %q: %w", n.Template, err)
	}
	content, ok := modes[string(mode)]
	if !ok {
		return subject, body, nil
	}
	data := TemplateData(inc, n, code)
	if content.Subject != "" {
		s, err := RenderTemplate(content.Subject, data)
		if err != nil {
			return subject, body, fmt.Errorf("template %q (%s subject): %w", n.Template, mode, err)
		}
		subject = s
	}
	b, err := RenderTemplate(content.Body, data)
	if err != nil {
		return subject, body, fmt.Errorf("template %q (%s body): %w", n.Template, mode, err)
	}
	// The claim code must reach people even if a template forgot it.
	if !strings.Contains(b, code) {
		b += " (claim code " + code + ")"
	}
	return subject, b, nil
}

// limitedWriter stops a template that writes without end.
type limitedWriter struct {
	w    *bytes.Buffer
	left int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if len(p) > l.left {
		l.w.Write(p[:l.left])
		l.left = 0
		return 0, fmt.Errorf("rendered text longer than %d bytes", maxRendered)
	}
	l.left -= len(p)
	return l.w.Write(p)
}
