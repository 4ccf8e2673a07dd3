package main

import (
	"bytes"
	"context"
	"io"
	"mime/quotedprintable"
	"net/http"
	"net/mail"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/smtpfake"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
)

// A page e-mailed by the real app carries a claim link; GET shows a form
// and changes nothing, POST claims the escalation in the sender's name,
// once.
func TestEmailClaimLinkEndToEnd(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dialect string) {
		smtp := smtpfake.New(t)
		h := newHarness(t, dialect,
			withEnv("SMTP_HOST", "127.0.0.1"), withEnv("SMTP_PORT", strconv.Itoa(smtp.Port)),
			withEnv("SMTP_FROM", "Herald <pager@herald.example>"), withEnv("SMTP_TLS", "none"),
			withEnv("HERALD_CLAIM_LINK_SECRET", "e2e-claim-link-secret-0123456789abcdef"))
		ctx := context.Background()
		demo, err := os.ReadFile("../../examples/demo.yaml")
		if err != nil {
			t.Fatal(err)
		}
		c, err := parseConfigFile("examples/demo.yaml", demo)
		if err != nil {
			t.Fatal(err)
		}
		if err := applyCatalog(ctx, h.db.Store, "examples/demo.yaml", c, notifications.ApplyOptions{}, io.Discard); err != nil {
			t.Fatal(err)
		}
		inc, _, err := h.db.Store.CreateIncident(ctx, models.NewIncident{Title: "Checkout down", Severity: models.SEV2, Source: "slack"})
		if err != nil {
			t.Fatal(err)
		}
		eng := h.app.Engine
		if err := eng.Escalate(ctx, inc.ID, "demo"); err != nil {
			t.Fatal(err)
		}
		if _, err := eng.EscalateDue(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := eng.SendDue(ctx); err != nil {
			t.Fatal(err)
		}
		// Step 1 pages the secondary (sam) at medium: Slack and e-mail.
		mails := smtp.Messages()
		if len(mails) != 1 || !strings.Contains(mails[0].To[0], "sam@example.com") {
			t.Fatalf("mails: %+v", mails)
		}
		msg, err := mail.ReadMessage(strings.NewReader(mails[0].Data))
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
		if err != nil {
			t.Fatal(err)
		}
		link := regexp.MustCompile(`http://herald\.test/claim/[A-Za-z0-9_-]+`).FindString(string(body))
		if link == "" {
			t.Fatalf("no claim link in:\n%s", body)
		}
		path := strings.TrimPrefix(link, "http://herald.test")
		token := strings.TrimPrefix(path, "/claim/")
		var sent models.Message
		if err := h.db.Gorm.Where("mode = 'email' AND incident_id = ?", inc.ID).Take(&sent).Error; err != nil {
			t.Fatal(err)
		}
		if sent.Status != models.MessageSent || "<"+sent.VendorID+">" != msg.Header.Get("Message-Id") {
			t.Errorf("message row: status %s vendor id %q, mail Message-ID %q", sent.Status, sent.VendorID, msg.Header.Get("Message-Id"))
		}

		for range 2 {
			r := h.get(path)
			if r.Status != http.StatusOK || !bytes.Contains(r.Body, []byte("Claim incident #"+strconv.FormatInt(inc.Number, 10))) {
				t.Fatalf("GET claim page: %s", r)
			}
		}
		if esc, err := h.db.Store.EscalationOf(ctx, inc.ID); err != nil || esc.State != models.EscalationActive {
			t.Fatalf("after GET: escalation %+v, %v; want still active", esc, err)
		}

		claim := func() response {
			form := url.Values{"token": {token}}.Encode()
			return h.do(h.node, path, http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, []byte(form))
		}
		if r := claim(); r.Status != http.StatusOK || !bytes.Contains(r.Body, []byte("Claimed incident #")) || !bytes.Contains(r.Body, []byte("Sam Second")) {
			t.Fatalf("POST claim: %s", r)
		}
		esc, err := h.db.Store.EscalationOf(ctx, inc.ID)
		if err != nil || esc.State != models.EscalationClaimed || esc.ClaimedBy != "Sam Second" {
			t.Fatalf("escalation %+v, %v; want claimed by Sam Second", esc, err)
		}
		// The link acknowledges the incident like the Slack button does.
		if got, err := h.db.Store.IncidentByID(ctx, inc.ID); err != nil || got.AcknowledgedAt == nil {
			t.Fatalf("incident after the claim link: %+v, %v; want acknowledged", got, err)
		}
		tl, err := h.db.Store.Timeline(ctx, inc.ID)
		if err != nil {
			t.Fatal(err)
		}
		acked := false
		for _, e := range tl {
			acked = acked || (e.Kind == models.TimelineAcknowledged && e.Author != nil && e.Author.SlackUserID == "U0DEMOSAM")
		}
		if !acked {
			t.Errorf("timeline has no acknowledgement by Sam (the link's recipient): %+v", tl)
		}
		if r := claim(); r.Status != http.StatusGone || !bytes.Contains(r.Body, []byte("already used")) {
			t.Fatalf("second POST: %s", r)
		}
		if n := h.count("claim_tokens"); n != 1 {
			t.Errorf("claim_tokens rows: %d", n)
		}
		for _, secret := range []string{"sam@example.com", "demo@example.com", "morgan@example.com", token} {
			if strings.Contains(h.logs.String(), secret) {
				t.Errorf("the log holds %q:\n%s", secret, h.logs.String())
			}
		}
	})
}

// Embedded mode generates the claim-link secret once and keeps it.
func TestClaimLinkSecretGenerated(t *testing.T) {
	h := newHarness(t, models.DialectSQLite)
	cfg := h.cfg
	cfg.DataDir = t.TempDir()
	first, err := claimLinkSecret(cfg, h.log)
	if err != nil || len(first) != 64 {
		t.Fatalf("generated %q, %v", first, err)
	}
	st, err := os.Stat(cfg.DataDir + "/" + claimLinkSecretFile)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("secret file: %v, %v", st, err)
	}
	again, err := claimLinkSecret(cfg, h.log)
	if err != nil || again != first {
		t.Fatalf("second start: %q, %v; want the same secret", again, err)
	}
	if strings.Contains(h.logs.String(), first) {
		t.Error("the secret was logged")
	}
	cfg.ClaimLinkSecret = "from-the-environment-0123456789abcdef"
	if s, _ := claimLinkSecret(cfg, h.log); s != cfg.ClaimLinkSecret {
		t.Errorf("HERALD_CLAIM_LINK_SECRET ignored: %q", s)
	}
	cfg.ClaimLinkSecret, cfg.DatabaseURL = "", "postgres://db/herald"
	if _, err := claimLinkSecret(cfg, h.log); err == nil || !strings.Contains(err.Error(), "HERALD_CLAIM_LINK_SECRET") {
		t.Errorf("Postgres without a secret: %v", err)
	}
}
