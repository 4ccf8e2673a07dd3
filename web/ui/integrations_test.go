package ui

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/models"
)

var inKeyPattern = regexp.MustCompile(`hrld_[0-9a-f]{32}_[A-Za-z0-9_-]+`)

// keyOn finds the one key a page shows ("" if none).
func keyOn(t *testing.T, body string) string {
	t.Helper()
	keys := map[string]bool{}
	for _, k := range inKeyPattern.FindAllString(body, -1) {
		keys[k] = true
	}
	if len(keys) > 1 {
		t.Fatalf("a page shows %d different keys", len(keys))
	}
	for k := range keys {
		return k
	}
	return ""
}

// TestIntegrationKeyShownOnce: the key is on the create (and rotate) page
// only, with examples that carry it; the database holds its hash and a
// sealed copy, the audit log neither; it works, rotates, and revokes.
func TestIntegrationKeyShownOnce(t *testing.T) {
	t.Parallel()
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			f := newSvcFixture(t, d)
			h, ctx := f.h, context.Background()
			admin := h.signIn("ann", models.WebRoleAdmin, nil)
			expect(t, admin.get("/integrations/new"), http.StatusOK, "checkout", "ledger")
			rec := admin.post("/integrations", url.Values{"name": {"prometheus"}, "services": {"checkout", "ledger"}, "quota": {"600"}})
			expect(t, rec, http.StatusOK, "shown only on this page", `data-copy="integration-key"`, `id="integration-key"`,
				"http://herald.test/api/v1/webhooks/alertmanager?service=checkout", "http://herald.test/api/v1/webhooks/grafana?service=ledger")
			if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q", cc)
			}
			key := keyOn(t, rec.Body.String())
			if key == "" {
				t.Fatal("the create page shows no key")
			}
			body := html.UnescapeString(rec.Body.String())
			for _, want := range []string{"credentials: " + key, "authorization_credentials: " + key, `-H "Authorization: Bearer ` + key + `"`} {
				if !strings.Contains(body, want) {
					t.Errorf("the key page's examples lack %q", want)
				}
			}
			if f.forgets != 1 {
				t.Errorf("forgets %d after create", f.forgets)
			}

			// Never again: not on the integration's page or the list.
			for _, path := range []string{"/integrations/prometheus", "/integrations", "/services/checkout"} {
				rec := admin.get(path)
				expect(t, rec, http.StatusOK, "prometheus")
				if strings.Contains(rec.Body.String(), key) || keyOn(t, rec.Body.String()) != "" {
					t.Errorf("%s shows the key", path)
				}
			}
			expect(t, admin.get("/integrations/prometheus"), http.StatusOK, "credentials: &lt;YOUR-KEY&gt;", "600")

			// The row holds the hash and a sealed copy, never the key.
			var row struct {
				KeyHash   string
				KeySealed string
			}
			if err := h.DB.Gorm.Raw(`SELECT key_hash, key_sealed FROM integrations WHERE name = ?`, "prometheus").Scan(&row).Error; err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256([]byte(key))
			if row.KeyHash != hex.EncodeToString(sum[:]) || row.KeySealed == "" || strings.Contains(row.KeySealed, key) || strings.Contains(row.KeySealed, key[len(key)-20:]) {
				t.Errorf("stored row %+v", row)
			}
			a := f.audits(t, "integration:")
			if len(a) != 1 || a[0].Action != "integration.create" || strings.Contains(a[0].After+a[0].Before, key) || !strings.Contains(a[0].After, `"quota_per_minute":600`) {
				t.Errorf("audit %+v", a)
			}
			if _, err := h.Store.AuthenticateKey(ctx, key); err != nil {
				t.Fatalf("the shown key does not work: %v", err)
			}

			// Rotate: a new key, shown once; both work until the rotation finishes.
			rec = admin.post("/integrations/prometheus/rotate", nil)
			expect(t, rec, http.StatusOK, "keeps working until you finish the rotation")
			key2 := keyOn(t, rec.Body.String())
			if key2 == "" || key2 == key {
				t.Fatalf("rotation showed %q", key2)
			}
			for _, k := range []string{key, key2} {
				if _, err := h.Store.AuthenticateKey(ctx, k); err != nil {
					t.Errorf("during the rotation a key fails: %v", err)
				}
			}
			expect(t, admin.get("/integrations/prometheus"), http.StatusOK, "rotating", "Finish rotation")
			expect(t, admin.post("/integrations/prometheus/finish-rotation", nil), http.StatusSeeOther)
			if _, err := h.Store.AuthenticateKey(ctx, key); err == nil {
				t.Error("the old key works after the rotation finished")
			}
			if _, err := h.Store.AuthenticateKey(ctx, key2); err != nil {
				t.Errorf("the new key fails: %v", err)
			}
			expect(t, admin.post("/integrations/prometheus/revoke", nil), http.StatusSeeOther)
			if _, err := h.Store.AuthenticateKey(ctx, key2); err == nil {
				t.Error("a revoked key works")
			}
			expect(t, admin.get("/integrations/prometheus"), http.StatusOK, "revoked", "Issue a new key")
			var actions []string
			for _, e := range f.audits(t, "integration:") {
				actions = append(actions, e.Action)
				if strings.Contains(e.Before+e.After, key) || strings.Contains(e.Before+e.After, key2) {
					t.Errorf("audit %s holds a key", e.Action)
				}
			}
			if got := strings.Join(actions, ","); got != "integration.revoke,integration.finish_rotation,integration.rotate,integration.create" {
				t.Errorf("audited %s", got)
			}
			if f.forgets != 4 {
				t.Errorf("forgets %d, want 4", f.forgets)
			}
			expect(t, admin.get("/integrations/ghost"), http.StatusNotFound)
			expect(t, admin.post("/integrations/ghost/rotate", nil), http.StatusNotFound)
		})
	}
}

// TestIntegrationPermissions: viewers read and never write; a team admin
// manages only integrations scoped to their teams' services; bad input
// re-renders naming the field, storing nothing.
func TestIntegrationPermissions(t *testing.T) {
	t.Parallel()
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			f := newSvcFixture(t, d)
			h, ctx := f.h, context.Background()
			if _, _, err := h.Store.CreateIntegration(ctx, models.NewIntegration{Name: "both", Services: []string{"checkout", "ledger"}}); err != nil {
				t.Fatal(err)
			}
			names := func() int {
				ins, err := h.Store.IntegrationSummaries(ctx)
				if err != nil {
					t.Fatal(err)
				}
				return len(ins)
			}
			expect(t, h.anonymous().get("/integrations"), http.StatusSeeOther)
			viewer := h.signIn("vic", models.WebRoleViewer, nil)
			expect(t, viewer.get("/integrations"), http.StatusOK, "both", "checkout")
			expect(t, viewer.get("/integrations/both"), http.StatusOK, "&lt;YOUR-KEY&gt;")
			expect(t, viewer.post("/integrations", url.Values{"name": {"x"}, "services": {"checkout"}}), http.StatusForbidden)
			expect(t, viewer.post("/integrations/both/revoke", nil), http.StatusForbidden)
			expect(t, viewer.get("/integrations/new"), http.StatusForbidden)

			ta := h.signIn("tad", models.WebRoleMember, nil, f.teamA.ID)
			rec := ta.post("/integrations", url.Values{"name": {"sneaky"}, "services": {"checkout", "ledger"}})
			expect(t, rec, http.StatusForbidden, "ledger")
			if keyOn(t, rec.Body.String()) != "" || names() != 1 {
				t.Fatal("a refused create made a key")
			}
			for _, action := range []string{"rotate", "finish-rotation", "revoke"} {
				expect(t, ta.post("/integrations/both/"+action, nil), http.StatusForbidden)
			}
			if in, err := h.Store.IntegrationByName(ctx, "both"); err != nil || in.RevokedAt != nil {
				t.Fatalf("a refused revoke: %v %+v", err, in)
			}
			if f.forgets != 0 || len(f.audits(t, "integration:")) != 0 {
				t.Fatal("refused writes were audited or forgot caches")
			}
			page := ta.get("/integrations/new")
			expect(t, page, http.StatusOK, `value="checkout"`)
			if strings.Contains(page.Body.String(), `value="ledger"`) {
				t.Error("a team admin is offered another team's service")
			}

			// Validation.
			for _, tc := range []struct {
				form url.Values
				want string
			}{
				{url.Values{"name": {"bad name"}, "services": {"checkout"}}, "Name: 1-64 letters"},
				{url.Values{"name": {"ok"}}, "Services: choose at least one"},
				{url.Values{"name": {"ok"}, "services": {"ghost"}}, "Services: there is no service"},
				{url.Values{"name": {"ok"}, "services": {"checkout"}, "quota": {"-1"}}, "Quota per minute:"},
				{url.Values{"name": {"both"}, "services": {"checkout"}}, "Name: an integration named"},
			} {
				rec := ta.post("/integrations", tc.form)
				expect(t, rec, http.StatusUnprocessableEntity, tc.want)
				if keyOn(t, rec.Body.String()) != "" {
					t.Errorf("%v: a key on a refused form", tc.form)
				}
			}
			if names() != 1 {
				t.Fatal("invalid forms stored an integration")
			}
			rec = ta.post("/integrations", url.Values{"name": {"mine"}, "services": {"checkout"}})
			expect(t, rec, http.StatusOK, "http://herald.test/api/v1/webhooks/alertmanager?service=checkout")
			if keyOn(t, rec.Body.String()) == "" {
				t.Fatal("no key shown")
			}
			expect(t, ta.post("/integrations/mine/rotate", nil), http.StatusOK)
			expect(t, ta.post("/integrations/mine/revoke", nil), http.StatusSeeOther)

			admin := h.signIn("ann", models.WebRoleAdmin, nil)
			expect(t, admin.post("/integrations/both/revoke", nil), http.StatusSeeOther)
		})
	}
}

// TestIntegrationExamples: the examples use Herald's base URL and real
// paths, with the key only when given.
func TestIntegrationExamples(t *testing.T) {
	t.Parallel()
	ex := inExamples("https://herald.example.com/", "checkout", "")
	all := ""
	for _, e := range ex {
		all += e.Text
	}
	for _, want := range []string{
		"url: https://herald.example.com/api/v1/webhooks/alertmanager?service=checkout",
		"type: Bearer\n            credentials: <YOUR-KEY>",
		"url: https://herald.example.com/api/v1/webhooks/grafana?service=checkout",
		"authorization_scheme: Bearer\n          authorization_credentials: <YOUR-KEY>",
		`curl -X PUT -H "Authorization: Bearer <YOUR-KEY>"`,
		`"service":"checkout"`,
		"  https://herald.example.com/api/v1/incidents\n",
		"'https://herald.example.com/api/v1/heartbeat?service=checkout'",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("examples lack %q:\n%s", want, all)
		}
	}
	withKey := inExamples("http://h", "", "hrld_x")
	if !strings.Contains(withKey[0].Text, "credentials: hrld_x") || !strings.Contains(withKey[0].Text, "?service=<SERVICE>") {
		t.Errorf("with a key and no service:\n%s", withKey[0].Text)
	}
	hooks := inWebhooks("http://h", []string{"a.b"})
	if hooks[0].Generic != "http://h/api/v1/webhooks/generic?service=a.b" {
		t.Errorf("webhooks %+v", hooks)
	}
}

// FuzzIntegrationForm: the integration form's parser never panics and
// accepts only what the store would.
func FuzzIntegrationForm(f *testing.F) {
	f.Add("prometheus", "checkout", "600")
	f.Add("", "", "-1")
	f.Add("new", " ", "1e9")
	f.Fuzz(func(t *testing.T, name, service, quota string) {
		n, errs := inParseForm(name, []string{service}, quota)
		if len(errs) == 0 {
			if models.ValidIntegrationName(n.Name) != nil || len(n.Services) == 0 || n.QuotaPerMinute < 0 || n.QuotaPerMinute > models.MaxIntegrationQuota {
				t.Errorf("accepted %+v", n)
			}
		}
	})
}
