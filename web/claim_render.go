package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/models"
)

// The claim pages' rendering: their templates. Their stylesheet is the
// web UI's (/assets/ui.css, web/ui), served on the same Echo app.

var (
	//go:embed templates/*.html
	templateFS embed.FS

	pageTemplates = map[string]*template.Template{
		"error":   mustParsePage("error.html"),
		"claim":   mustParsePage("claim.html"),
		"claimed": mustParsePage("claimed.html"),
	}
)

func mustParsePage(name string) *template.Template {
	return template.Must(template.New("layout.html").ParseFS(templateFS, "templates/layout.html", "templates/"+name))
}

// htmlPages renders the claim pages.
type htmlPages struct {
	clock models.Clock
	log   *slog.Logger
}

// render executes a page into a buffer first, so a template failure is a
// clean 500 rather than half a page.
func (p *htmlPages) render(c echo.Context, code int, page string, data any) error {
	var buf bytes.Buffer
	if err := pageTemplates[page].Execute(&buf, data); err != nil {
		return fmt.Errorf("rendering %s page: %w", page, err)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.HTMLBlob(code, buf.Bytes())
}

type errorPage struct {
	Title   string
	Message string
	Status  int
}

func (p *htmlPages) renderError(c echo.Context, code int, title, msg string) error {
	return p.render(c, code, "error", errorPage{Title: title, Message: msg, Status: code})
}

// failed logs an unexpected error and shows an HTML error page.
func (p *htmlPages) failed(c echo.Context, what string, err error) error {
	reqID := c.Response().Header().Get(echo.HeaderXRequestID)
	p.log.ErrorContext(c.Request().Context(), what, "path", c.Path(), "err", err, "request_id", reqID)
	msg := "Herald could not load this page; see the server log."
	if reqID != "" {
		msg = "Herald could not load this page; see the server log (request " + reqID + ")."
	}
	return p.renderError(c, http.StatusInternalServerError, "Something went wrong", msg)
}

// stamp is a time as the pages show it: always with the date, the year
// and the zone, plus the machine-readable form for <time datetime>.
type stamp struct {
	ISO   string
	Human string
}

func newStamp(t time.Time) stamp {
	t = t.UTC()
	return stamp{ISO: t.Format(time.RFC3339), Human: t.Format("2 Jan 2006 15:04") + " UTC"}
}
