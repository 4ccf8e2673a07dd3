package ui

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/internal/fakeclock"
	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/internal/testlog"
	"github.com/heraldhq/herald/models"
)

// harness is a UI on a fresh database: pages under test, real store,
// fake clock. Every page's tests build one.
type harness struct {
	t      testing.TB
	DB     *testdb.DB
	Store  *models.Store
	Clock  *fakeclock.Clock
	Echo   *echo.Echo
	Server *Server
}

var harnessStart = time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)

// newHarness builds the UI with pages on a fresh database of dialect.
// pagesFor receives the store so pages can be built on it.
func newHarness(t testing.TB, dialect string, pagesFor func(h *harness) []Page) *harness {
	t.Helper()
	clock := fakeclock.New(harnessStart)
	db := testdb.New(t, dialect, clock)
	h := &harness{t: t, DB: db, Store: db.Store, Clock: clock}
	var pages []Page
	if pagesFor != nil {
		pages = pagesFor(h)
	}
	s, err := New(Options{Auth: db.Store, Clock: clock, Log: testlog.Logger(t), BaseURL: "http://herald.test", LoginLinksOffered: true}, pages...)
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	if err := s.Register(e); err != nil {
		t.Fatal(err)
	}
	h.Echo, h.Server = e, s
	return h
}

// client is a browser signed in as one web user.
type client struct {
	h      *harness
	cookie string
	CSRF   string
	User   *models.WebUser
}

// signIn makes a web user with role (admin, member, viewer), optionally
// linked to a person and admin of teams, and a session for it.
func (h *harness) signIn(name, role string, personID *string, adminOfTeams ...string) *client {
	h.t.Helper()
	ctx := context.Background()
	u, err := h.Store.UpsertWebUser(ctx, models.WebUser{Subject: "link:" + name, Name: name, Role: role, PersonID: personID})
	if err != nil {
		h.t.Fatal(err)
	}
	if len(adminOfTeams) > 0 || u.Role != role {
		if err := h.Store.SetWebUserRole(ctx, models.Actor{Name: "test"}, u.ID, role, adminOfTeams); err != nil {
			h.t.Fatal(err)
		}
	}
	token, sess, err := h.Store.CreateWebSession(ctx, u.ID, time.Hour)
	if err != nil {
		h.t.Fatal(err)
	}
	return &client{h: h, cookie: token, CSRF: sess.CSRFToken, User: u}
}

// anonymous is a browser nobody signed in on.
func (h *harness) anonymous() *client { return &client{h: h} }

func (c *client) do(req *http.Request) *httptest.ResponseRecorder {
	if c.cookie != "" {
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: c.cookie})
	}
	rec := httptest.NewRecorder()
	c.h.Echo.ServeHTTP(rec, req)
	return rec
}

// get fetches a page.
func (c *client) get(path string) *httptest.ResponseRecorder {
	return c.do(httptest.NewRequest(http.MethodGet, path, nil))
}

// post submits a form with the session's CSRF token.
func (c *client) post(path string, form url.Values) *httptest.ResponseRecorder {
	if form == nil {
		form = url.Values{}
	}
	form.Set(csrfField, c.CSRF)
	return c.postRaw(path, form)
}

// postRaw submits a form as given (no CSRF token added).
func (c *client) postRaw(path string, form url.Values) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

// expect fails the test unless rec has the status and contains every text.
func expect(t testing.TB, rec *httptest.ResponseRecorder, code int, texts ...string) {
	t.Helper()
	if rec.Code != code {
		t.Fatalf("status %d, want %d; body:\n%s", rec.Code, code, truncate(rec.Body.String(), 3000))
	}
	for _, s := range texts {
		if !strings.Contains(rec.Body.String(), s) {
			t.Fatalf("body lacks %q:\n%s", s, truncate(rec.Body.String(), 3000))
		}
	}
}
