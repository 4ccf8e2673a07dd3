package ui

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// templates holds each page parsed with the layout and shared partials.
type templates struct {
	pages map[string]*template.Template
}

// shared are the templates every page is parsed with.
var shared = []string{"templates/layout.html", "templates/partials.html"}

func templateFuncs() template.FuncMap {
	return template.FuncMap{
		// at formats a time for the viewer: {{at $.Viewer .CreatedAt}}.
		"at": func(v *Viewer, t any) Time {
			switch t := t.(type) {
			case time.Time:
				return v.At(t)
			case *time.Time:
				if t == nil {
					return Time{}
				}
				return v.At(*t)
			}
			return Time{}
		},
		"dur":      humanDuration,
		"join":     strings.Join,
		"query":    url.QueryEscape,
		"add":      func(a, b int) int { return a + b },
		"contains": func(list []string, s string) bool { return contains(list, s) },
		"deref": func(s *string) string {
			if s == nil {
				return ""
			}
			return *s
		},
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func parseTemplates(fsys fs.FS) (*templates, error) {
	names, err := fs.Glob(fsys, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("ui: listing templates: %w", err)
	}
	t := &templates{pages: map[string]*template.Template{}}
	for _, name := range names {
		if contains(shared, name) {
			continue
		}
		files := append(append([]string{}, shared...), name)
		p, err := template.New("layout.html").Funcs(templateFuncs()).ParseFS(fsys, files...)
		if err != nil {
			return nil, fmt.Errorf("ui: parsing %s: %w", name, err)
		}
		t.pages[strings.TrimPrefix(name, "templates/")] = p
	}
	return t, nil
}

// pageData is what the layout sees; a page's own data is .Data.
type pageData struct {
	Title  string
	Viewer *Viewer
	CSRF   string
	Flash  string
	Nav    []navItem
	Data   any
	// Fragment renders only the page's "main" block (htmx requests).
	Fragment bool
}

type navItem struct {
	Label, URL string
	Current    bool
}

// nav lists the areas a viewer can reach.
func nav(v *Viewer, path string) []navItem {
	if v == nil {
		return nil
	}
	items := []navItem{{Label: "Incidents", URL: "/incidents"}, {Label: "Plans", URL: "/plans"}, {Label: "Schedules", URL: "/schedules"},
		{Label: "People", URL: "/people"}, {Label: "Services", URL: "/services"}, {Label: "Analytics", URL: "/analytics"}}
	if v.IsAdmin() {
		items = append(items, navItem{Label: "Audit log", URL: "/audit"}, navItem{Label: "Users", URL: "/users"})
	}
	for i := range items {
		items[i].Current = path == items[i].URL || strings.HasPrefix(path, items[i].URL+"/")
	}
	return items
}

const flashCookie = "herald_flash"

func (s *Server) render(c *Ctx, code int, page, title string, data any) error {
	t, ok := s.templates.pages[page]
	if !ok {
		return fmt.Errorf("ui: no template %s", page)
	}
	d := pageData{Title: title, Viewer: c.Viewer, Data: data, Nav: nav(c.Viewer, c.Request().URL.Path)}
	if c.Viewer != nil {
		d.CSRF = c.Viewer.CSRF
	}
	if ck, err := c.Cookie(flashCookie); err == nil && ck.Value != "" {
		if msg, err := url.QueryUnescape(ck.Value); err == nil && len(msg) < 500 {
			d.Flash = msg
		}
		c.SetCookie(&http.Cookie{Name: flashCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true})
	}
	name := "layout.html"
	if c.Request().Header.Get("HX-Request") == "true" && c.Request().Header.Get("HX-Boosted") != "true" && t.Lookup("fragment") != nil {
		name = "fragment"
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, d); err != nil {
		s.o.Log.ErrorContext(c.Request().Context(), "rendering page failed", "page", page, "err", err)
		return c.String(http.StatusInternalServerError, "Herald could not show this page. Tell your Herald admins.\n")
	}
	return c.HTMLBlob(code, buf.Bytes())
}

func etagOf(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + hex.EncodeToString(sum[:8]) + `"`
}

// humanDuration is a duration for people: "45s", "12m", "3h 20m", "2d 4h".
func humanDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh %dm", int(d.Hours()), int(d.Minutes())%60)
	default:
		return fmt.Sprintf("%dd %dh", int(d.Hours())/24, int(d.Hours())%24)
	}
}
