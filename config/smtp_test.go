package config_test

import (
	"strings"
	"testing"

	"github.com/heraldhq/herald/config"
)

func TestSMTPConfig(t *testing.T) {
	c, err := config.Load(lookup(minimal(nil)))
	if err != nil {
		t.Fatal(err)
	}
	if c.SMTPHost != "" || c.SMTPPort != 587 || c.SMTPTLS != "starttls" || c.ClaimLinkSecret != "" {
		t.Errorf("defaults: host %q port %d tls %q", c.SMTPHost, c.SMTPPort, c.SMTPTLS)
	}
	c, err = config.Load(lookup(minimal(map[string]string{
		"SMTP_HOST": "smtp.example.com", "SMTP_PORT": "465", "SMTP_TLS": "TLS", "SMTP_FROM": "Herald <herald@example.com>",
		"SMTP_USERNAME": "herald", "SMTP_PASSWORD": "pw",
	})))
	if err != nil {
		t.Fatal(err)
	}
	if c.SMTPHost != "smtp.example.com" || c.SMTPPort != 465 || c.SMTPTLS != "tls" || c.SMTPUsername != "herald" || c.SMTPPassword != "pw" {
		t.Errorf("parsed %+v", c)
	}

	secret := strings.Repeat("s", 32)
	bad := []struct {
		env      map[string]string
		variable string
	}{
		{map[string]string{"SMTP_HOST": "h"}, "SMTP_FROM"},
		{map[string]string{"SMTP_HOST": "h", "SMTP_FROM": "not an address"}, "SMTP_FROM"},
		{map[string]string{"SMTP_HOST": "h", "SMTP_FROM": "a@b.example", "SMTP_USERNAME": "u"}, "SMTP_USERNAME"},
		{map[string]string{"SMTP_PORT": "0"}, "SMTP_PORT"},
		{map[string]string{"SMTP_PORT": "65536"}, "SMTP_PORT"},
		{map[string]string{"SMTP_TLS": "ssl"}, "SMTP_TLS"},
		{map[string]string{"HERALD_CLAIM_LINK_SECRET": "short"}, "HERALD_CLAIM_LINK_SECRET"},
		{map[string]string{"SMTP_HOST": "h", "SMTP_FROM": "a@b.example", "DATABASE_URL": "postgres://db/herald"}, "HERALD_CLAIM_LINK_SECRET"},
	}
	for _, tc := range bad {
		_, err := config.Load(lookup(minimal(tc.env)))
		if err == nil || !strings.Contains(err.Error(), tc.variable) {
			t.Errorf("%v: error %v, want one naming %s", tc.env, err, tc.variable)
		}
	}
	// The password and the secret never appear in an error.
	_, err = config.Load(lookup(minimal(map[string]string{"HERALD_CLAIM_LINK_SECRET": "tooshort-secret", "SMTP_PASSWORD": "hunter2", "SMTP_HOST": "h", "SMTP_FROM": "a@b.example"})))
	if err == nil || strings.Contains(err.Error(), "tooshort-secret") || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error %v", err)
	}
	// Postgres with a secret is fine; embedded needs none.
	for _, env := range []map[string]string{
		{"SMTP_HOST": "h", "SMTP_FROM": "a@b.example", "DATABASE_URL": "postgres://db/herald", "HERALD_CLAIM_LINK_SECRET": secret},
		{"SMTP_HOST": "h", "SMTP_FROM": "a@b.example"},
	} {
		if _, err := config.Load(lookup(minimal(env))); err != nil {
			t.Errorf("%v: %v", env, err)
		}
	}
}
