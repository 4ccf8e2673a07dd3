package ui

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/oauth2-proxy/mockoidc"

	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/models"
)

// probePage is a page with one view per role and one form, to test the
// core's checks without any real page.
type probePage struct{}

func (probePage) Mount(r *Router) {
	r.GET("/probe/view", func(c *Ctx) error { return c.String(http.StatusOK, "viewed by "+c.Viewer.User.Name) }, NeedViewer)
	r.GET("/probe/admin", func(c *Ctx) error { return c.String(http.StatusOK, "admin page") }, NeedAdmin)
	r.POST("/probe/act", func(c *Ctx) error {
		if err := c.Audit("probe.act", "probe:1", "", c.FormValue("v")); err != nil {
			return c.Failed("auditing", err)
		}
		return c.SeeOther("/probe/view", "Done: "+c.FormValue("v"))
	}, NeedMember)
}

func probeHarness(t *testing.T, dialect string) *harness {
	return newHarness(t, dialect, func(*harness) []Page { return []Page{probePage{}} })
}

func TestLoginLinkSignsInOnce(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			h := probeHarness(t, d)
			ctx := context.Background()
			links := LoginLinks{Auth: h.Store, BaseURL: "http://herald.test"}
			link, err := links.ForName(ctx, "ada", models.WebRoleMember)
			if err != nil {
				t.Fatal(err)
			}
			path := strings.TrimPrefix(link, "http://herald.test")
			// GET only shows a button: link unfurlers must not spend it.
			expect(t, h.anonymous().get(path), http.StatusOK, "Sign in", `name="token"`)
			token := strings.TrimPrefix(path, "/login/link/")
			rec := h.anonymous().postRaw("/login/link", url.Values{"token": {token}, "next": {"/probe/view"}})
			if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/probe/view" {
				t.Fatalf("redeem: %d %q", rec.Code, rec.Header().Get("Location"))
			}
			ck := sessionFrom(t, rec)
			if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" {
				t.Fatalf("cookie attributes: %+v", ck)
			}
			c := &client{h: h, cookie: ck.Value}
			expect(t, c.get("/probe/view"), http.StatusOK, "viewed by ada")
			// Second use, and a forged token, are refused alike.
			expect(t, h.anonymous().postRaw("/login/link", url.Values{"token": {token}}), http.StatusUnauthorized, "work once")
			expect(t, h.anonymous().postRaw("/login/link", url.Values{"token": {"hlog_nope"}}), http.StatusUnauthorized)
			// An expired link is refused.
			link2, _ := links.ForName(ctx, "ada", "")
			h.Clock.Advance(LoginLinkTTL + time.Second)
			expect(t, h.anonymous().postRaw("/login/link", url.Values{"token": {strings.TrimPrefix(link2, "http://herald.test/login/link/")}}), http.StatusUnauthorized)
		})
	}
}

func sessionFrom(t *testing.T, rec *httptest.ResponseRecorder) *http.Cookie {
	t.Helper()
	for _, ck := range rec.Result().Cookies() {
		if ck.Name == sessionCookie && ck.Value != "" {
			return ck
		}
	}
	t.Fatalf("no session cookie set: %v", rec.Header())
	return nil
}

func TestSignInRequiredAndRolesChecked(t *testing.T) {
	h := probeHarness(t, models.DialectPostgres)
	rec := h.anonymous().get("/probe/view?x=1")
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/login?next=%2Fprobe%2Fview%3Fx%3D1" {
		t.Fatalf("anonymous: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	expect(t, h.anonymous().postRaw("/probe/act", url.Values{}), http.StatusUnauthorized, "Sign in again")

	viewer := h.signIn("vic", models.WebRoleViewer, nil)
	expect(t, viewer.get("/probe/view"), http.StatusOK)
	expect(t, viewer.get("/probe/admin"), http.StatusForbidden, "needs the admin role")
	expect(t, viewer.post("/probe/act", url.Values{"v": {"x"}}), http.StatusForbidden, "needs the member role")

	member := h.signIn("mia", models.WebRoleMember, nil)
	expect(t, member.get("/probe/admin"), http.StatusForbidden)
	rec = member.post("/probe/act", url.Values{"v": {"x"}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("member act: %d %s", rec.Code, rec.Body)
	}
	entries, _, err := h.Store.ListAudit(context.Background(), models.AuditFilter{SubjectPrefix: "probe:"})
	if err != nil || len(entries) != 1 || entries[0].Actor != "web:mia" || entries[0].After != "x" {
		t.Fatalf("audit: %+v %v", entries, err)
	}
	admin := h.signIn("ann", models.WebRoleAdmin, nil)
	expect(t, admin.get("/probe/admin"), http.StatusOK)
}

func TestCSRFRequiredOnForms(t *testing.T) {
	h := probeHarness(t, models.DialectSQLite)
	member := h.signIn("mia", models.WebRoleMember, nil)
	other := h.signIn("olga", models.WebRoleMember, nil)
	cases := []struct {
		name   string
		token  string
		origin string
		want   int
	}{
		{"no token", "", "", http.StatusForbidden},
		{"another session's token", other.CSRF, "", http.StatusForbidden},
		{"right token, foreign origin", member.CSRF, "https://evil.example", http.StatusForbidden},
		{"right token", member.CSRF, "http://herald.test", http.StatusSeeOther},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			form := url.Values{"v": {"y"}}
			if tc.token != "" {
				form.Set(csrfField, tc.token)
			}
			req := httptest.NewRequest(http.MethodPost, "/probe/act", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tc.origin != "" {
				req.Header.Set("Origin", tc.origin)
			}
			rec := member.do(req)
			if rec.Code != tc.want {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.want, rec.Body)
			}
		})
	}
	// The htmx header carries the token too.
	req := httptest.NewRequest(http.MethodPost, "/probe/act", strings.NewReader("v=z"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(csrfHeader, member.CSRF)
	req.Header.Set("HX-Request", "true")
	if rec := member.do(req); rec.Code != http.StatusNoContent || rec.Header().Get("HX-Redirect") != "/probe/view" {
		t.Fatalf("htmx post: %d %v", rec.Code, rec.Header())
	}
}

func TestSecurityHeadersAndLogout(t *testing.T) {
	h := probeHarness(t, models.DialectSQLite)
	c := h.signIn("mia", models.WebRoleMember, nil)
	rec := c.get("/probe/view")
	csp := rec.Header().Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'", "style-src 'self'"} {
		if !strings.Contains(csp, want) {
			t.Fatalf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || rec.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("headers: %v", rec.Header())
	}
	if rec := c.post("/logout", nil); rec.Code != http.StatusSeeOther {
		t.Fatalf("logout: %d", rec.Code)
	}
	if rec := c.get("/probe/view"); rec.Code != http.StatusSeeOther {
		t.Fatalf("after logout: %d", rec.Code)
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/incidents/3":         "/incidents/3",
		"":                     "/incidents",
		"//evil.example/x":     "/incidents",
		"https://evil.example": "/incidents",
		"/\\evil.example":      "/incidents",
		"/x\r\nSet-Cookie:a":   "/incidents",
		"/%0":                  "/incidents",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/a", "//b", "https://c", "/\\d", "", "/%0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := safeNext(s)
		u, err := url.Parse(got)
		if err != nil || u.Host != "" || u.Scheme != "" || !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") {
			t.Fatalf("safeNext(%q) = %q leaves the site", s, got)
		}
	})
}

// TestOIDCSignIn runs the whole authorization-code flow against a mock
// OpenID provider: state, nonce and PKCE checked, user created, admin
// promotion by e-mail, refused domain.
func TestOIDCSignIn(t *testing.T) {
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	cfg := m.Config()
	for _, tc := range []struct {
		name     string
		user     *mockoidc.MockUser
		domains  []string
		wantCode int
		wantRole string
	}{
		{"admin by e-mail", &mockoidc.MockUser{Subject: "s1", Email: "boss@example.com", EmailVerified: true, PreferredUsername: "boss"}, nil, http.StatusSeeOther, models.WebRoleAdmin},
		{"viewer by default", &mockoidc.MockUser{Subject: "s2", Email: "eve@example.com", EmailVerified: true}, []string{"example.com"}, http.StatusSeeOther, models.WebRoleViewer},
		{"other domain refused", &mockoidc.MockUser{Subject: "s3", Email: "mallory@evil.example", EmailVerified: true}, []string{"example.com"}, http.StatusForbidden, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prov := &OIDCProvider{Name: "corp", Label: "Corp", Issuer: cfg.Issuer, ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, AllowedDomains: tc.domains}
			h := newHarness(t, models.DialectSQLite, func(*harness) []Page { return []Page{probePage{}} })
			h.Clock.Set(time.Now()) // the mock signs tokens with the real time
			s, err := New(Options{Auth: h.Store, Clock: h.Clock, BaseURL: "http://herald.test", OIDC: []*OIDCProvider{prov}, AdminSubjects: []string{"boss@example.com"}}, probePage{})
			if err != nil {
				t.Fatal(err)
			}
			e := echo.New()
			if err := s.Register(e); err != nil {
				t.Fatal(err)
			}
			m.QueueUser(tc.user)
			rec := oidcRoundTrip(t, e, "/login/oidc/corp?next=/probe/view")
			if rec.Code != tc.wantCode {
				t.Fatalf("callback: %d, want %d: %s", rec.Code, tc.wantCode, rec.Body)
			}
			if tc.wantRole == "" {
				return
			}
			users, err := h.Store.ListWebUsers(context.Background())
			if err != nil || len(users) != 1 || users[0].Role != tc.wantRole || users[0].Subject != "oidc:"+cfg.Issuer+"#"+tc.user.Subject {
				t.Fatalf("users: %+v %v", users, err)
			}
			if rec.Header().Get("Location") != "/probe/view" {
				t.Fatalf("next: %q", rec.Header().Get("Location"))
			}
		})
	}
}

// oidcRoundTrip follows the browser's part of the flow: Herald redirects
// to the provider, the provider redirects back with a code, Herald's
// callback answers (returned).
func oidcRoundTrip(t *testing.T, e *echo.Echo, start string) *httptest.ResponseRecorder {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	base, _ := url.Parse("http://herald.test")
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, start, nil))
	if rec.Code != http.StatusFound {
		t.Fatalf("start: %d %s", rec.Code, rec.Body)
	}
	jar.SetCookies(base, rec.Result().Cookies())
	authURL := rec.Header().Get("Location")
	// The provider signs the user in and redirects back (no redirects
	// followed: the redirect target is the Echo app, not a server).
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	back, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || back.Query().Get("code") == "" {
		t.Fatalf("provider redirect: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	req := httptest.NewRequest(http.MethodGet, back.RequestURI(), nil)
	for _, ck := range jar.Cookies(&url.URL{Scheme: "http", Host: "herald.test", Path: back.Path}) {
		req.AddCookie(ck)
	}
	rec = httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}
