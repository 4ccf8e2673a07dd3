package ui

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/models"
)

// Need is the least role a route requires. Finer checks (a team admin
// edits only their teams) are made by the handler with Viewer's methods.
type Need int

// What a route needs.
const (
	NeedNothing Need = iota // the sign-in pages
	NeedViewer              // any signed-in user
	NeedMember              // members act on incidents and their own profile
	NeedAdmin               // admins only
)

// HandlerFunc serves a UI route.
type HandlerFunc func(c *Ctx) error

// Ctx is a request to a UI page: Echo's context, the signed-in viewer and
// the UI's renderer.
type Ctx struct {
	echo.Context
	Viewer *Viewer // nil only on NeedNothing routes with nobody signed in
	s      *Server
}

// Router adds UI routes: each is wrapped with sign-in, role and (for every
// method but GET and HEAD) CSRF checks.
type Router struct {
	s    *Server
	e    *echo.Echo
	seen map[string]bool
	err  error
}

// GET adds a page.
func (r *Router) GET(path string, h HandlerFunc, need Need) {
	r.keep(r.add(http.MethodGet, path, h, need))
}

// POST adds a form action; it requires the session's CSRF token.
func (r *Router) POST(path string, h HandlerFunc, need Need) {
	r.keep(r.add(http.MethodPost, path, h, need))
}

// ErrDuplicateRoute is a route registered twice.
var ErrDuplicateRoute = errors.New("ui: route registered twice")

func (r *Router) keep(err error) {
	if err != nil && r.err == nil {
		r.err = err
	}
}

func (r *Router) add(method, path string, h HandlerFunc, need Need) error {
	key := method + " " + path
	if r.seen[key] {
		return fmt.Errorf("%w: %s", ErrDuplicateRoute, key)
	}
	r.seen[key] = true
	r.e.Add(method, path, r.s.wrap(h, need))
	return nil
}

// sessionCookie holds the session token; csrfField and csrfHeader carry
// the session's CSRF token on forms and htmx requests.
const (
	sessionCookie = "herald_session"
	tzCookie      = "herald_tz"
	csrfField     = "csrf"
	csrfHeader    = "X-CSRF-Token"
)

func (s *Server) wrap(h HandlerFunc, need Need) echo.HandlerFunc {
	return func(ec echo.Context) error {
		setPageHeaders(ec.Response().Header())
		c := &Ctx{Context: ec, s: s}
		v, err := s.viewerOf(ec)
		if err != nil {
			return s.failed(c, "loading your session", err)
		}
		c.Viewer = v
		if need == NeedNothing {
			return h(c)
		}
		if v == nil {
			if ec.Request().Method != http.MethodGet {
				return c.ErrorPage(http.StatusUnauthorized, "Signed out", "Your session has ended. Sign in again, then repeat what you were doing.")
			}
			return c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(safeNext(ec.Request().URL.RequestURI())))
		}
		if !v.Has(need) {
			return c.ErrorPage(http.StatusForbidden, "Not allowed", fmt.Sprintf("This needs the %s role; you are signed in as %s (%s). Ask an admin if you need it.", needName(need), v.User.Name, v.User.Role))
		}
		if m := ec.Request().Method; m != http.MethodGet && m != http.MethodHead {
			if err := s.checkCSRF(ec, v); err != nil {
				return c.ErrorPage(http.StatusForbidden, "Form expired", "This form could not be verified ("+err.Error()+"). Reload the page and try again.")
			}
		}
		return h(c)
	}
}

func needName(n Need) string {
	switch n {
	case NeedAdmin:
		return "admin"
	case NeedMember:
		return "member"
	default:
		return "viewer"
	}
}

// setPageHeaders: no inline script or style, no framing, no caching of
// signed-in pages.
func setPageHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
}

// checkCSRF accepts a request carrying the session's token (form field or
// header) and, when the browser sends an Origin, only from Herald's own.
func (s *Server) checkCSRF(c echo.Context, v *Viewer) error {
	if origin := c.Request().Header.Get("Origin"); origin != "" && origin != "null" {
		if !s.sameOrigin(origin, c.Request()) {
			return errors.New("it came from another site")
		}
	}
	got := c.Request().Header.Get(csrfHeader)
	if got == "" {
		got = c.FormValue(csrfField)
	}
	if got == "" {
		return errors.New("no form token")
	}
	if subtle.ConstantTimeCompare([]byte(got), []byte(v.CSRF)) != 1 {
		return errors.New("the form token does not match your session")
	}
	return nil
}

func (s *Server) sameOrigin(origin string, r *http.Request) bool {
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	return (u.Scheme == s.base.Scheme && u.Host == s.base.Host) || u.Host == r.Host
}

// viewerOf loads the signed-in user from the session cookie (nil: nobody).
func (s *Server) viewerOf(c echo.Context) (*Viewer, error) {
	ck, err := c.Cookie(sessionCookie)
	if err != nil || ck.Value == "" {
		return nil, nil
	}
	ctx := c.Request().Context()
	sess, user, err := s.o.Auth.WebSessionByToken(ctx, ck.Value)
	if errors.Is(err, models.ErrLoginRefused) {
		s.clearSessionCookie(c)
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	teams, err := s.o.Auth.WebTeamAdminOf(ctx, user.ID)
	if err != nil {
		return nil, err
	}
	v := &Viewer{User: *user, CSRF: sess.CSRFToken, teamAdmin: map[string]bool{}}
	for _, t := range teams {
		v.teamAdmin[t] = true
	}
	v.Location, v.ZoneName = s.locationFor(c, user)
	return v, nil
}

func (s *Server) setSessionCookie(c echo.Context, token string) {
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: token, Path: "/", HttpOnly: true, Secure: s.base.Scheme == "https",
		SameSite: http.SameSiteLaxMode, MaxAge: int(s.o.SessionTTL.Seconds())})
}

func (s *Server) clearSessionCookie(c echo.Context) {
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true, Secure: s.base.Scheme == "https",
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// safeNext keeps a post-sign-in redirect on this site: a path, never a
// scheme-relative or absolute URL.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, `/\`) || strings.ContainsAny(next, "\r\n") {
		return "/incidents"
	}
	if u, err := url.Parse(next); err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/incidents" // not a well-formed path on this site ("/%0")
	}
	return next
}

// Error renders the error page with a status, a title and what to do.
func (c *Ctx) ErrorPage(code int, title, msg string) error {
	return c.s.render(c, code, "error.html", title, errorData{Title: title, Message: msg})
}

// NotFound renders a 404 naming what was not found.
func (c *Ctx) NotFound(what string) error {
	return c.ErrorPage(http.StatusNotFound, "Not found", "There is no "+what+". It may have been deleted, or the link is wrong.")
}

// Forbidden renders a 403 saying why.
func (c *Ctx) Forbidden(why string) error {
	return c.ErrorPage(http.StatusForbidden, "Not allowed", why)
}

// Page renders a page template ("plans.html") inside the layout.
func (c *Ctx) Page(code int, page, title string, data any) error {
	return c.s.render(c, code, page, title, data)
}

// Failed logs an unexpected error and renders a 500 that says what failed
// without internals.
func (c *Ctx) Failed(what string, err error) error {
	return c.s.failed(c, what, err)
}

// Audit records a change made by the viewer.
func (c *Ctx) Audit(action, subject, before, after string) error {
	// Actor names the web user; ActorID (an external_users row) stays
	// empty: a web user need not have one.
	e := models.AuditEntry{Action: action, Subject: subject, Before: before, After: after, Actor: c.Viewer.ActorName()}
	return c.s.o.Auth.AddAudit(c.Request().Context(), e)
}

// Actor names the viewer for stores whose writes take a models.Actor.
func (c *Ctx) Actor() models.Actor {
	return models.Actor{Name: c.Viewer.ActorName()}
}

// Flash sets a one-line message shown on the next page (after a redirect).
func (c *Ctx) Flash(msg string) {
	c.SetCookie(&http.Cookie{Name: flashCookie, Value: url.QueryEscape(msg), Path: "/", HttpOnly: true,
		Secure: c.s.base.Scheme == "https", SameSite: http.SameSiteLaxMode, MaxAge: 60})
}

// SeeOther redirects after a successful form post, with a flash message.
func (c *Ctx) SeeOther(path, flash string) error {
	if flash != "" {
		c.Flash(flash)
	}
	if c.Request().Header.Get("HX-Request") == "true" {
		c.Response().Header().Set("HX-Redirect", path)
		return c.NoContent(http.StatusNoContent)
	}
	return c.Redirect(http.StatusSeeOther, path)
}

func (s *Server) failed(c *Ctx, what string, err error) error {
	s.o.Log.ErrorContext(c.Request().Context(), "web page failed", "what", what, "path", c.Path(), "err", err)
	return s.render(c, http.StatusInternalServerError, "error.html", "Something went wrong",
		errorData{Title: "Something went wrong", Message: "Herald could not finish " + what + ". Nothing was changed unless the page says so; try again in a moment, and tell your Herald admins if it keeps happening."})
}

type errorData struct {
	Title, Message string
}
