package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/config"
)

func TestWebConfig(t *testing.T) {
	c, err := config.Load(lookup(minimal(nil)))
	if err != nil {
		t.Fatal(err)
	}
	if c.Web.SessionTTL != config.DefaultWebSessionTTL || !c.Web.LoginLinkAtStart || c.Web.SlackClientID != "" || c.Web.OIDCIssuer != "" {
		t.Errorf("defaults (embedded): %+v", c.Web)
	}
	c, err = config.Load(lookup(minimal(map[string]string{
		"DATABASE_URL": "postgres://h@db/herald", "HERALD_WEB_ADMINS": "U0ADMIN, Boss@Example.com",
		"SLACK_CLIENT_ID": "123.456", "SLACK_CLIENT_SECRET": "s3cret", "SLACK_TEAM_ID": "T01",
		"HERALD_OIDC_ISSUER": "https://accounts.example.com", "HERALD_OIDC_CLIENT_ID": "herald", "HERALD_OIDC_CLIENT_SECRET": "x",
		"HERALD_OIDC_ALLOWED_DOMAINS": "@Example.com,corp.example", "HERALD_WEB_SESSION_TTL": "8h",
	})))
	if err != nil {
		t.Fatal(err)
	}
	w := c.Web
	if w.LoginLinkAtStart || w.SessionTTL != 8*time.Hour || strings.Join(w.Admins, " ") != "u0admin boss@example.com" ||
		strings.Join(w.OIDCAllowedDomains, " ") != "example.com corp.example" || w.SlackTeamID != "T01" || w.OIDCLabel != "single sign-on" {
		t.Errorf("set: %+v", w)
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"slack id without secret", map[string]string{"SLACK_CLIENT_ID": "1"}, "SLACK_CLIENT_ID"},
		{"oidc without client", map[string]string{"HERALD_OIDC_ISSUER": "https://a.example"}, "HERALD_OIDC_CLIENT_ID"},
		{"oidc issuer not a URL", map[string]string{"HERALD_OIDC_ISSUER": "accounts", "HERALD_OIDC_CLIENT_ID": "a", "HERALD_OIDC_CLIENT_SECRET": "b"}, "HERALD_OIDC_ISSUER"},
		{"session too short", map[string]string{"HERALD_WEB_SESSION_TTL": "1m"}, "HERALD_WEB_SESSION_TTL"},
		{"admins with spaces", map[string]string{"HERALD_WEB_ADMINS": "a b"}, "HERALD_WEB_ADMINS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Load(lookup(minimal(tc.env)))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one naming %s", err, tc.want)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Fatal("a secret in the error")
			}
		})
	}
}
