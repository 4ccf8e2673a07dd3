package ui

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/heraldhq/herald/models"
)

// LoginLinkTTL is how long a one-time sign-in link works.
const LoginLinkTTL = 15 * time.Minute

func (s *Server) mountLogin(r *Router) error {
	for _, add := range []error{
		r.add(http.MethodGet, "/login", s.loginPage, NeedNothing),
		r.add(http.MethodGet, "/login/link/:token", s.loginLinkPage, NeedNothing),
		r.add(http.MethodPost, "/login/link", s.redeemLoginLink, NeedNothing),
		r.add(http.MethodPost, "/logout", s.logout, NeedViewer),
		r.add(http.MethodGet, "/login/oidc/:provider", s.oidcStart, NeedNothing),
		r.add(http.MethodGet, "/login/oidc/:provider/callback", s.oidcCallback, NeedNothing),
	} {
		if add != nil {
			return add
		}
	}
	return nil
}

type loginData struct {
	Providers []*OIDCProvider
	Links     bool
	Next      string
	Message   string
}

func (s *Server) loginPage(c *Ctx) error {
	next := safeNext(c.QueryParam("next"))
	if c.Viewer != nil {
		return c.Redirect(http.StatusSeeOther, next)
	}
	return c.Page(http.StatusOK, "login.html", "Sign in", loginData{Providers: s.o.OIDC, Links: s.o.LoginLinksOffered, Next: next})
}

// loginLinkPage shows a button rather than signing in on GET: Slack and
// mail scanners fetch links to preview them, which would spend the token.
func (s *Server) loginLinkPage(c *Ctx) error {
	token := c.Param("token")
	if !strings.HasPrefix(token, "hlog_") || len(token) > 128 {
		return c.ErrorPage(http.StatusNotFound, "Link not valid", "This sign-in link is not one Herald made. Ask for a new one with @incident login.")
	}
	return c.Page(http.StatusOK, "login_link.html", "Sign in", struct{ Token, Next string }{token, safeNext(c.QueryParam("next"))})
}

func (s *Server) redeemLoginLink(c *Ctx) error {
	ctx := c.Request().Context()
	user, err := s.o.Auth.RedeemLoginToken(ctx, c.FormValue("token"))
	if errors.Is(err, models.ErrLoginRefused) {
		s.o.Log.InfoContext(ctx, "login link refused")
		return c.ErrorPage(http.StatusUnauthorized, "Link used or expired", fmt.Sprintf("One-time sign-in links work once, within %s. Ask for a new one with @incident login in Slack.", LoginLinkTTL))
	}
	if err != nil {
		return c.Failed("checking your sign-in link", err)
	}
	return s.startSession(c, user, "link", c.FormValue("next"))
}

func (s *Server) startSession(c *Ctx, user *models.WebUser, method, next string) error {
	ctx := c.Request().Context()
	token, _, err := s.o.Auth.CreateWebSession(ctx, user.ID, s.o.SessionTTL)
	if err != nil {
		return c.Failed("signing you in", err)
	}
	s.setSessionCookie(c, token)
	s.o.Log.InfoContext(ctx, "signed in to the web UI", "web_user", user.ID, "role", user.Role, "method", method)
	return c.Redirect(http.StatusSeeOther, safeNext(next))
}

func (s *Server) logout(c *Ctx) error {
	if ck, err := c.Cookie(sessionCookie); err == nil && ck.Value != "" {
		if err := s.o.Auth.DeleteWebSession(c.Request().Context(), ck.Value); err != nil {
			return c.Failed("signing you out", err)
		}
	}
	s.clearSessionCookie(c)
	return c.Redirect(http.StatusSeeOther, "/login")
}

// LoginLinks issues one-time sign-in links: printed at start-up in
// embedded mode, by `herald login-link`, and DMed by "@incident login".
type LoginLinks struct {
	Auth    AuthStore
	BaseURL string
	// AdminSubjects are made admins (Options.AdminSubjects).
	AdminSubjects []string
}

// ForName issues a link for a web user known by name only (subject
// "link:<name>"), created with role if new; an existing user keeps theirs.
func (l LoginLinks) ForName(ctx context.Context, name, role string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 || strings.ContainsAny(name, "\r\n\t") {
		return "", fmt.Errorf("a login name needs 1 to 100 printable characters")
	}
	if role == "" {
		role = models.WebRoleMember
	}
	u, err := l.Auth.UpsertWebUser(ctx, models.WebUser{Subject: "link:" + name, Name: name, Role: role})
	if err != nil {
		return "", err
	}
	return l.issue(ctx, u.ID)
}

// ForSlackUser issues a link for a Slack user (subject "slack:<id>", the
// same user signing in with Slack gets): linked to the person with that
// Slack id, member when Herald pages them, viewer otherwise.
func (l LoginLinks) ForSlackUser(ctx context.Context, slackUserID, displayName string) (string, error) {
	u, err := upsertSlackUser(ctx, l.Auth, slackUserID, displayName, models.Secret(""), l.AdminSubjects)
	if err != nil {
		return "", err
	}
	return l.issue(ctx, u.ID)
}

func (l LoginLinks) issue(ctx context.Context, userID string) (string, error) {
	token, err := l.Auth.IssueLoginToken(ctx, userID, LoginLinkTTL)
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(l.BaseURL, "/") + "/login/link/" + token, nil
}

// upsertSlackUser finds or creates the web user of a Slack user, linking
// the person Herald pages under that Slack id.
func upsertSlackUser(ctx context.Context, auth AuthStore, slackUserID, name string, email models.EncryptedString, admins []string) (*models.WebUser, error) {
	if slackUserID == "" {
		return nil, errors.New("no Slack user id")
	}
	if name == "" {
		name = slackUserID
	}
	u := models.WebUser{Subject: "slack:" + slackUserID, Name: name, Email: email, Role: models.WebRoleViewer}
	p, err := auth.PersonBySlackID(ctx, slackUserID)
	switch {
	case err == nil:
		u.PersonID, u.Role, u.TimeZone = &p.ID, models.WebRoleMember, p.TimeZone
		if p.Name != "" {
			u.Name = p.Name
		}
	case !models.IsNotFound(err):
		return nil, err
	}
	user, err := auth.UpsertWebUser(ctx, u)
	if err != nil {
		return nil, err
	}
	return promote(ctx, auth, user, admins, slackUserID, email.Reveal())
}

// promote makes a configured admin an admin on sign-in. Roles are
// otherwise changed only by an admin, on the users page.
func promote(ctx context.Context, auth AuthStore, u *models.WebUser, admins []string, ids ...string) (*models.WebUser, error) {
	if u.Role == models.WebRoleAdmin {
		return u, nil
	}
	for _, id := range ids {
		if id != "" && containsFold(admins, id) {
			if err := auth.MakeWebAdmin(ctx, u.ID, "HERALD_WEB_ADMINS"); err != nil {
				return nil, err
			}
			u.Role = models.WebRoleAdmin
			return u, nil
		}
	}
	return u, nil
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(strings.TrimSpace(x), s) {
			return true
		}
	}
	return false
}
