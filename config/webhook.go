package config

import (
	"net/url"
	"slices"
	"strings"
)

// Webhook is the signed-webhook paging vendor (HERALD_WEBHOOK_*): every
// page of its modes is POSTed as HMAC-signed JSON, after the mode's other
// vendors failed (or as the only vendor of a mode nobody else serves).
type Webhook struct {
	URL    string   // HERALD_WEBHOOK_URL; empty: no webhook vendor
	Secret string   // HERALD_WEBHOOK_SECRET: the HMAC key
	Modes  []string // HERALD_WEBHOOK_MODES; empty: every mode
	// StatusURL (HERALD_WEBHOOK_STATUS_URL) is asked, GET <it>/<payload
	// id>, before a page taken over from a dead replica is sent again.
	// Empty: such a page is sent again unasked.
	StatusURL string
}

// MinWebhookSecret is the shortest HMAC key accepted.
const MinWebhookSecret = 32

// webhook reads and checks the webhook vendor's settings together. The
// URL is never echoed in an error: it may carry a token.
func (p *parser) webhook() Webhook {
	w := Webhook{URL: p.str("HERALD_WEBHOOK_URL", ""), Secret: p.str("HERALD_WEBHOOK_SECRET", ""), StatusURL: p.str("HERALD_WEBHOOK_STATUS_URL", "")}
	if raw := strings.TrimSpace(p.str("HERALD_WEBHOOK_MODES", "")); raw != "" {
		for _, m := range strings.Split(raw, ",") {
			m = strings.ToLower(strings.TrimSpace(m))
			if !slices.Contains(pagingModes, m) {
				p.failValue("HERALD_WEBHOOK_MODES", raw, "a comma-separated list of modes: slack, email, sms, call")
				break
			}
			if !slices.Contains(w.Modes, m) {
				w.Modes = append(w.Modes, m)
			}
		}
	}
	if w.URL == "" {
		if w.Secret != "" || len(w.Modes) > 0 || w.StatusURL != "" {
			p.fail("HERALD_WEBHOOK_URL", "the URL pages are POSTed to (HERALD_WEBHOOK_SECRET, HERALD_WEBHOOK_MODES and HERALD_WEBHOOK_STATUS_URL mean nothing without it)")
		}
		return w
	}
	if u, err := url.Parse(w.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		p.fail("HERALD_WEBHOOK_URL", "an absolute http(s) URL")
	}
	if w.StatusURL != "" {
		if u, err := url.Parse(w.StatusURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			p.fail("HERALD_WEBHOOK_STATUS_URL", "an absolute http(s) URL; Herald asks GET <it>/<message id>")
		}
	}
	if len(w.Secret) < MinWebhookSecret {
		p.fail("HERALD_WEBHOOK_SECRET", "at least 32 characters to sign each page with HMAC-SHA256 (required with HERALD_WEBHOOK_URL; create one with `openssl rand -hex 32`)")
	}
	return w
}
