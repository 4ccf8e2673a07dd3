package ui

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/heraldhq/herald/models"
)

// SlackIssuer is Slack's OpenID Connect issuer ("Sign in with Slack").
const SlackIssuer = "https://slack.com"

// OIDCProvider is an OpenID Connect identity provider people sign in with.
type OIDCProvider struct {
	Name         string // in URLs: /login/oidc/<name>
	Label        string // "Slack", "Okta"
	Issuer       string
	ClientID     string
	ClientSecret string
	// Slack reads Slack's user and team claims: the user becomes
	// "slack:<user id>", the same user a "@incident login" link signs in.
	Slack bool
	// SlackTeamID, when set, refuses users of other workspaces.
	SlackTeamID string
	// AllowedDomains, when set, refuses e-mail addresses of other domains.
	AllowedDomains []string
	// HTTPClient reaches the provider (tests, proxies); nil: default.
	HTTPClient *http.Client

	mu       sync.Mutex
	provider *oidc.Provider
}

// discover fetches the provider's configuration once; a failure is tried
// again at the next sign-in rather than stopping Herald from starting.
func (p *OIDCProvider) discover(ctx context.Context) (*oidc.Provider, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.provider != nil {
		return p.provider, nil
	}
	if p.HTTPClient != nil {
		ctx = oidc.ClientContext(ctx, p.HTTPClient)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	prov, err := oidc.NewProvider(ctx, p.Issuer)
	if err != nil {
		return nil, fmt.Errorf("discovering OIDC provider %s: %w", p.Name, err)
	}
	p.provider = prov
	return prov, nil
}

func (p *OIDCProvider) config(prov *oidc.Provider, base string) *oauth2.Config {
	return &oauth2.Config{ClientID: p.ClientID, ClientSecret: p.ClientSecret, Endpoint: prov.Endpoint(),
		RedirectURL: base + "/login/oidc/" + p.Name + "/callback", Scopes: []string{oidc.ScopeOpenID, "profile", "email"}}
}

func (s *Server) provider(name string) *OIDCProvider {
	for _, p := range s.o.OIDC {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// oidcState is kept in a short-lived cookie between the redirect to the
// provider and its callback.
type oidcState struct {
	State, Nonce, Verifier, Next string
}

const oidcCookie = "herald_oidc"

func randomToken() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating a random token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func (s *Server) oidcStart(c *Ctx) error {
	p := s.provider(c.Param("provider"))
	if p == nil {
		return c.NotFound("sign-in provider by that name")
	}
	prov, err := p.discover(c.Request().Context())
	if err != nil {
		s.o.Log.WarnContext(c.Request().Context(), "OIDC discovery failed", "provider", p.Name, "err", err)
		return c.ErrorPage(http.StatusBadGateway, "Sign-in unavailable", "Herald could not reach "+p.Label+" to sign you in. Try again in a minute, or use a one-time link (@incident login).")
	}
	st := oidcState{Verifier: oauth2.GenerateVerifier(), Next: safeNext(c.QueryParam("next"))}
	if st.State, err = randomToken(); err != nil {
		return c.Failed("starting sign-in", err)
	}
	if st.Nonce, err = randomToken(); err != nil {
		return c.Failed("starting sign-in", err)
	}
	raw, err := json.Marshal(st)
	if err != nil {
		return c.Failed("starting sign-in", err)
	}
	c.SetCookie(&http.Cookie{Name: oidcCookie, Value: base64.RawURLEncoding.EncodeToString(raw), Path: "/login/oidc/" + p.Name,
		HttpOnly: true, Secure: s.base.Scheme == "https", SameSite: http.SameSiteLaxMode, MaxAge: 600})
	url := p.config(prov, s.base.String()).AuthCodeURL(st.State, oidc.Nonce(st.Nonce), oauth2.S256ChallengeOption(st.Verifier))
	return c.Redirect(http.StatusFound, url)
}

// errSignInRefused is a sign-in the provider accepted but Herald does not
// (another workspace, another domain); its text is shown.
type errSignInRefused struct{ why string }

func (e errSignInRefused) Error() string { return e.why }

func (s *Server) oidcCallback(c *Ctx) error {
	ctx := c.Request().Context()
	p := s.provider(c.Param("provider"))
	if p == nil {
		return c.NotFound("sign-in provider by that name")
	}
	if e := c.QueryParam("error"); e != "" {
		return c.ErrorPage(http.StatusUnauthorized, "Sign-in cancelled", p.Label+" did not sign you in ("+truncate(e, 80)+"). Try again from the sign-in page.")
	}
	st, err := readOIDCState(c)
	if err != nil || subtle.ConstantTimeCompare([]byte(st.State), []byte(c.QueryParam("state"))) != 1 {
		return c.ErrorPage(http.StatusBadRequest, "Sign-in expired", "This sign-in attempt does not match this browser or took longer than 10 minutes. Start again from the sign-in page.")
	}
	c.SetCookie(&http.Cookie{Name: oidcCookie, Value: "", Path: "/login/oidc/" + p.Name, MaxAge: -1, HttpOnly: true})
	user, err := s.oidcUser(ctx, p, c.QueryParam("code"), st)
	var refused errSignInRefused
	switch {
	case errors.As(err, &refused):
		s.o.Log.InfoContext(ctx, "OIDC sign-in refused", "provider", p.Name, "reason", refused.why)
		return c.ErrorPage(http.StatusForbidden, "Sign-in refused", refused.why)
	case err != nil:
		s.o.Log.WarnContext(ctx, "OIDC sign-in failed", "provider", p.Name, "err", err)
		return c.ErrorPage(http.StatusUnauthorized, "Sign-in failed", "Herald could not confirm your identity with "+p.Label+". Start again from the sign-in page.")
	}
	return s.startSession(c, user, "oidc:"+p.Name, st.Next)
}

func readOIDCState(c *Ctx) (oidcState, error) {
	var st oidcState
	ck, err := c.Cookie(oidcCookie)
	if err != nil {
		return st, err
	}
	raw, err := base64.RawURLEncoding.DecodeString(ck.Value)
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		return st, err
	}
	if st.State == "" || st.Nonce == "" {
		return st, errors.New("incomplete sign-in state")
	}
	return st, nil
}

type idClaims struct {
	Subject       string `json:"sub"`
	Email         string `json:"email"`
	EmailVerified *bool  `json:"email_verified"`
	Name          string `json:"name"`
	Nonce         string `json:"nonce"`
	SlackUserID   string `json:"https://slack.com/user_id"`
	SlackTeamID   string `json:"https://slack.com/team_id"`
}

func (s *Server) oidcUser(ctx context.Context, p *OIDCProvider, code string, st oidcState) (*models.WebUser, error) {
	prov, err := p.discover(ctx)
	if err != nil {
		return nil, err
	}
	if p.HTTPClient != nil {
		ctx = context.WithValue(ctx, oauth2.HTTPClient, p.HTTPClient)
	}
	tok, err := p.config(prov, s.base.String()).Exchange(ctx, code, oauth2.VerifierOption(st.Verifier))
	if err != nil {
		return nil, fmt.Errorf("exchanging the code: %w", err)
	}
	rawID, ok := tok.Extra("id_token").(string)
	if !ok {
		return nil, errors.New("no id_token in the token response")
	}
	idt, err := prov.Verifier(&oidc.Config{ClientID: p.ClientID, Now: s.o.Clock.Now}).Verify(ctx, rawID)
	if err != nil {
		return nil, fmt.Errorf("verifying the ID token: %w", err)
	}
	var cl idClaims
	if err := idt.Claims(&cl); err != nil {
		return nil, fmt.Errorf("reading ID token claims: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(cl.Nonce), []byte(st.Nonce)) != 1 {
		return nil, errors.New("ID token nonce does not match")
	}
	if err := p.allowed(cl); err != nil {
		return nil, err
	}
	email := models.Secret("")
	if cl.Email != "" && (cl.EmailVerified == nil || *cl.EmailVerified) {
		email = models.Secret(cl.Email)
	}
	name := firstNonEmpty(cl.Name, strings.SplitN(cl.Email, "@", 2)[0], cl.Subject)
	if p.Slack {
		if cl.SlackUserID == "" {
			return nil, errors.New("slack ID token without a user id")
		}
		return upsertSlackUser(ctx, s.o.Auth, cl.SlackUserID, name, email, s.o.AdminSubjects)
	}
	subject := "oidc:" + p.Issuer + "#" + cl.Subject
	u, err := s.o.Auth.UpsertWebUser(ctx, models.WebUser{Subject: subject, Name: name, Email: email, Role: models.WebRoleViewer})
	if err != nil {
		return nil, err
	}
	return promote(ctx, s.o.Auth, u, s.o.AdminSubjects, email.Reveal(), cl.Subject)
}

func (p *OIDCProvider) allowed(cl idClaims) error {
	if p.SlackTeamID != "" && cl.SlackTeamID != p.SlackTeamID {
		return errSignInRefused{"That Slack workspace is not the one Herald serves. Sign in to the right workspace and try again."}
	}
	if len(p.AllowedDomains) > 0 {
		domain := ""
		if at := strings.LastIndexByte(cl.Email, '@'); at >= 0 {
			domain = cl.Email[at+1:]
		}
		if domain == "" || !containsFold(p.AllowedDomains, domain) || (cl.EmailVerified != nil && !*cl.EmailVerified) {
			return errSignInRefused{"Your account's e-mail domain is not allowed to sign in to Herald. Ask an admin."}
		}
	}
	return nil
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
