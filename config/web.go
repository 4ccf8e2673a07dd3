package config

import (
	"strings"
	"time"
)

// Web is the signed-in web UI's sign-in settings.
type Web struct {
	// Admins are made admins when they sign in: Slack user ids, e-mail
	// addresses or OIDC subjects (HERALD_WEB_ADMINS, comma list).
	Admins []string
	// SessionTTL is how long a sign-in lasts (HERALD_WEB_SESSION_TTL).
	SessionTTL time.Duration
	// Slack is "Sign in with Slack" (SLACK_CLIENT_ID, SLACK_CLIENT_SECRET;
	// SLACK_TEAM_ID limits it to one workspace).
	SlackClientID, SlackClientSecret, SlackTeamID string
	// OIDC is any other OpenID Connect provider (HERALD_OIDC_ISSUER,
	// HERALD_OIDC_CLIENT_ID, HERALD_OIDC_CLIENT_SECRET, HERALD_OIDC_LABEL;
	// HERALD_OIDC_ALLOWED_DOMAINS limits e-mail domains).
	OIDCIssuer, OIDCClientID, OIDCClientSecret, OIDCLabel string
	OIDCAllowedDomains                                    []string
	// LoginLinkAtStart prints a one-time admin sign-in link at start-up
	// (HERALD_WEB_LOGIN_LINK; default on in embedded mode).
	LoginLinkAtStart bool
}

// DefaultWebSessionTTL is a shift and its evening.
const DefaultWebSessionTTL = 12 * time.Hour

func (p *parser) web(embedded bool) Web {
	w := Web{
		Admins:             p.list("HERALD_WEB_ADMINS", nil),
		SessionTTL:         p.duration("HERALD_WEB_SESSION_TTL", DefaultWebSessionTTL),
		SlackClientID:      p.str("SLACK_CLIENT_ID", ""),
		SlackClientSecret:  p.str("SLACK_CLIENT_SECRET", ""),
		SlackTeamID:        p.str("SLACK_TEAM_ID", ""),
		OIDCIssuer:         p.url("HERALD_OIDC_ISSUER", ""),
		OIDCClientID:       p.str("HERALD_OIDC_CLIENT_ID", ""),
		OIDCClientSecret:   p.str("HERALD_OIDC_CLIENT_SECRET", ""),
		OIDCLabel:          p.str("HERALD_OIDC_LABEL", "single sign-on"),
		OIDCAllowedDomains: p.list("HERALD_OIDC_ALLOWED_DOMAINS", nil),
		LoginLinkAtStart:   p.boolean("HERALD_WEB_LOGIN_LINK", embedded),
	}
	if (w.SlackClientID == "") != (w.SlackClientSecret == "") {
		p.fail("SLACK_CLIENT_ID", "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET both set (Sign in with Slack), or neither")
	}
	if w.OIDCIssuer != "" && (w.OIDCClientID == "" || w.OIDCClientSecret == "") {
		p.fail("HERALD_OIDC_CLIENT_ID", "HERALD_OIDC_CLIENT_ID and HERALD_OIDC_CLIENT_SECRET with HERALD_OIDC_ISSUER")
	}
	if w.SessionTTL < 5*time.Minute || w.SessionTTL > 30*24*time.Hour {
		p.fail("HERALD_WEB_SESSION_TTL", "a duration between 5m and 720h")
	}
	for i, d := range w.OIDCAllowedDomains {
		w.OIDCAllowedDomains[i] = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(d), "@"))
	}
	return w
}
