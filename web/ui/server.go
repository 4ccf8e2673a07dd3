// Package ui is Herald's signed-in web UI: incidents, plans, schedules,
// people, services, analytics and the audit log, as server-rendered pages
// with htmx for progressive enhancement.
//
// The core (this file, router.go, viewer.go, render.go, login*.go, oidc.go)
// signs people in, checks permissions and CSRF tokens and renders pages;
// each page type implements Page and is listed once, in cmd/herald.
package ui

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/models"
)

// AuthStore keeps web users, sessions and login links; *models.Store is one.
type AuthStore interface {
	UpsertWebUser(ctx context.Context, u models.WebUser) (*models.WebUser, error)
	WebUserByID(ctx context.Context, id string) (*models.WebUser, error)
	WebTeamAdminOf(ctx context.Context, userID string) ([]string, error)
	IssueLoginToken(ctx context.Context, userID string, ttl time.Duration) (string, error)
	RedeemLoginToken(ctx context.Context, token string) (*models.WebUser, error)
	CreateWebSession(ctx context.Context, userID string, ttl time.Duration) (string, *models.WebSession, error)
	WebSessionByToken(ctx context.Context, token string) (*models.WebSession, *models.WebUser, error)
	DeleteWebSession(ctx context.Context, token string) error
	PersonBySlackID(ctx context.Context, slackUserID string) (*models.Person, error)
	AddAudit(ctx context.Context, e models.AuditEntry) error
	MakeWebAdmin(ctx context.Context, userID, why string) error
}

// Page is one area of the UI (incidents, plans…): it adds its routes.
type Page interface {
	Mount(r *Router)
}

// Options configure the UI.
type Options struct {
	Auth  AuthStore
	Clock models.Clock
	Log   *slog.Logger
	// BaseURL is where browsers reach Herald; an https:// URL makes the
	// session cookie Secure.
	BaseURL string
	// SessionTTL is how long a sign-in lasts (default 12 hours).
	SessionTTL time.Duration
	// OIDC lists the identity providers offered on the sign-in page.
	OIDC []*OIDCProvider
	// AdminSubjects are promoted to admin when they sign in: Slack user
	// ids ("U123"), e-mail addresses or OIDC subjects.
	AdminSubjects []string
	// LoginLinksOffered says the sign-in page should explain one-time
	// links (embedded mode, or the bot's "@incident login").
	LoginLinksOffered bool
}

// DefaultSessionTTL is a working day and a half, so an on-call shift's
// evening does not need a new sign-in.
const DefaultSessionTTL = 12 * time.Hour

var (
	//go:embed templates/*.html
	templateFS embed.FS
	//go:embed static
	staticFS embed.FS
)

// Server is the mounted UI.
type Server struct {
	o         Options
	pages     []Page
	templates *templates
	static    map[string]staticAsset
	base      *url.URL
}

// New checks the options and parses every template (a broken template is
// an error at start-up, not a 500 later).
func New(o Options, pages ...Page) (*Server, error) {
	if o.Auth == nil || o.Clock == nil {
		return nil, errors.New("ui: Auth and Clock are required")
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.SessionTTL <= 0 {
		o.SessionTTL = DefaultSessionTTL
	}
	base, err := url.Parse(strings.TrimSuffix(o.BaseURL, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("ui: base URL %q must be an absolute http(s) URL", o.BaseURL)
	}
	seen := map[string]bool{}
	for _, p := range o.OIDC {
		if seen[p.Name] {
			return nil, fmt.Errorf("ui: OIDC provider %q listed twice", p.Name)
		}
		seen[p.Name] = true
	}
	tpl, err := parseTemplates(templateFS)
	if err != nil {
		return nil, err
	}
	static, err := loadStatic(staticFS)
	if err != nil {
		return nil, err
	}
	return &Server{o: o, pages: pages, templates: tpl, static: static, base: base}, nil
}

// Register adds the UI's routes to e. A page that registers a route twice
// panics in Echo's router; the router here turns that into an error first.
func (s *Server) Register(e *echo.Echo) error {
	r := &Router{s: s, e: e, seen: map[string]bool{}}
	e.GET("/assets/*", s.serveStatic)
	if err := r.add(http.MethodGet, "/", func(c *Ctx) error { return c.Redirect(http.StatusSeeOther, "/incidents") }, NeedViewer); err != nil {
		return err
	}
	if err := s.mountLogin(r); err != nil {
		return err
	}
	for _, p := range s.pages {
		p.Mount(r)
	}
	return r.err
}

type staticAsset struct {
	body []byte
	etag string
	kind string
}

func (s *Server) serveStatic(c echo.Context) error {
	a, ok := s.static[c.Param("*")]
	if !ok {
		return echo.NewHTTPError(http.StatusNotFound, "no such file")
	}
	h := c.Response().Header()
	h.Set("ETag", a.etag)
	h.Set("Cache-Control", "public, max-age=3600")
	if c.Request().Header.Get("If-None-Match") == a.etag {
		return c.NoContent(http.StatusNotModified)
	}
	return c.Blob(http.StatusOK, a.kind, a.body)
}

func loadStatic(fsys fs.FS) (map[string]staticAsset, error) {
	out := map[string]staticAsset{}
	err := fs.WalkDir(fsys, "static", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(fsys, path)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(path, "static/")
		out[name] = staticAsset{body: body, etag: etagOf(body), kind: contentType(name)}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("ui: loading static files: %w", err)
	}
	return out, nil
}

func contentType(name string) string {
	switch {
	case strings.HasSuffix(name, ".css"):
		return "text/css; charset=utf-8"
	case strings.HasSuffix(name, ".js"):
		return "text/javascript; charset=utf-8"
	case strings.HasSuffix(name, ".svg"):
		return "image/svg+xml"
	default:
		return "text/plain; charset=utf-8"
	}
}
