package web_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

	"github.com/heraldhq/herald/internal/fakeclock"
	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/internal/testlog"
	"github.com/heraldhq/herald/notifications"
	"github.com/heraldhq/herald/web"
)

// fakeClaimer records claims. Incident ids: 7 → #3 paging; 8 → #4 not
// paging; 9 → fails once, then claims; anything else does not exist.
type fakeClaimer struct {
	mu     sync.Mutex
	claims []string
	failed bool
}

func (f *fakeClaimer) ClaimTarget(_ context.Context, id int64) (web.ClaimTarget, error) {
	switch id {
	case 7:
		return web.ClaimTarget{Number: 3, Title: `Checkout <script>alert(1)</script> down`}, nil
	case 8:
		return web.ClaimTarget{Number: 4, Title: "Old news"}, nil
	case 9:
		return web.ClaimTarget{Number: 5, Title: "Flaky"}, nil
	}
	return web.ClaimTarget{}, fmt.Errorf("loading incident: %w", errNotFound)
}

var errNotFound = gorm.ErrRecordNotFound

func (f *fakeClaimer) ClaimByLink(ctx context.Context, id int64, code string) (web.ClaimTarget, error) {
	t, err := f.ClaimTarget(ctx, id)
	if err != nil {
		return t, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case id == 8:
		return t, web.ErrNotPaging
	case id == 9 && !f.failed:
		f.failed = true
		return t, errors.New("database hiccup")
	}
	f.claims = append(f.claims, fmt.Sprintf("%d/%s", id, code))
	t.By = "Alice Archer"
	return t, nil
}

func (f *fakeClaimer) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.claims)
}

type claimApp struct {
	h       http.Handler
	links   *notifications.ClaimLinks
	clock   *fakeclock.Clock
	claimer *fakeClaimer
	logs    *bytes.Buffer
}

func newClaimApp(t *testing.T, db *testdb.DB, clock *fakeclock.Clock) *claimApp {
	links, err := notifications.NewClaimLinks([]byte("claim-link-test-secret-0123456789abcdef"), 0)
	check(t, err)
	logs := &bytes.Buffer{}
	log := slog.New(testlog.Wrap(t, slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	c := &fakeClaimer{}
	e := web.New(web.Options{Log: log, Clock: clock, Claims: &web.ClaimPages{Links: links, Used: db.Store, Claimer: c}})
	return &claimApp{h: e, links: links, clock: clock, claimer: c, logs: logs}
}

func (a *claimApp) token(t *testing.T, id int64, code string) string {
	tok, _, err := a.links.Issue(id, code, a.clock.Now())
	check(t, err)
	return tok
}

func (a *claimApp) post(path, formToken string) *httptest.ResponseRecorder {
	form := url.Values{"token": {formToken}}
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	r.Header.Set(echo.HeaderContentType, echo.MIMEApplicationForm)
	w := httptest.NewRecorder()
	a.h.ServeHTTP(w, r)
	return w
}

func TestClaimLinks(t *testing.T) {
	t.Parallel()
	testdb.ForEachDialect(t, nil, func(t *testing.T, db *testdb.DB) {
		clock := fakeclock.New(docT0)
		a := newClaimApp(t, db, clock)
		tok := a.token(t, 7, "314159")

		// GET shows the confirmation, as often as fetched, and claims nothing.
		for range 3 {
			w := get(a.h, "/claim/"+tok)
			body := wantHTML(t, w, http.StatusOK, "Claim incident #3", `method="post"`, `action="/claim/`+tok+`"`,
				`name="token" value="`+tok+`"`, "Checkout &lt;script&gt;", "works once")
			wantAbsent(t, body, "<script>alert", "<style", "style=")
			if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q", cc)
			}
			if rp := w.Header().Get("Referrer-Policy"); rp != "no-referrer" {
				t.Errorf("Referrer-Policy %q: the token must not leak to linked sites", rp)
			}
		}
		if n := a.claimer.count(); n != 0 {
			t.Fatalf("GET claimed %d times", n)
		}

		// POST claims, once.
		w := a.post("/claim/"+tok, tok)
		wantHTML(t, w, http.StatusOK, "Claimed incident #3", "Alice Archer")
		if a.claimer.count() != 1 || a.claimer.claims[0] != "7/314159" {
			t.Fatalf("claims %v", a.claimer.claims)
		}
		w = a.post("/claim/"+tok, tok)
		wantHTML(t, w, http.StatusGone, "already used")
		wantHTML(t, get(a.h, "/claim/"+tok), http.StatusGone, "already used")
		if n := a.claimer.count(); n != 1 {
			t.Fatalf("claimed %d times, want once", n)
		}

		// Expired: 410, nothing claimed.
		old := a.token(t, 7, "111111")
		clock.Advance(24 * time.Hour)
		wantHTML(t, get(a.h, "/claim/"+old), http.StatusGone, "expired")
		wantHTML(t, a.post("/claim/"+old, old), http.StatusGone, "expired")

		// Tampered: 400, even when also expired.
		fresh := a.token(t, 7, "222222")
		raw, _ := base64.RawURLEncoding.DecodeString(fresh)
		raw[8] ^= 1 // incident id 7 → 6
		forged := base64.RawURLEncoding.EncodeToString(raw)
		wantHTML(t, get(a.h, "/claim/"+forged), http.StatusBadRequest, "not valid")
		wantHTML(t, a.post("/claim/"+forged, forged), http.StatusBadRequest, "not valid")
		wantHTML(t, a.post("/claim/"+old+"x", old+"x"), http.StatusBadRequest, "not valid")
		wantHTML(t, get(a.h, "/claim/garbage"), http.StatusBadRequest, "not valid")
		// The form must carry the link's token.
		wantHTML(t, a.post("/claim/"+fresh, ""), http.StatusBadRequest, "does not match")
		if n := a.claimer.count(); n != 1 {
			t.Fatalf("claimed %d times, want once", n)
		}
		// ...and then the link still works.
		wantHTML(t, a.post("/claim/"+fresh, fresh), http.StatusOK, "Claimed incident #3")

		// Not paging: 409, and the link is spent.
		done := a.token(t, 8, "333333")
		wantHTML(t, a.post("/claim/"+done, done), http.StatusConflict, "Incident #4 is not paging anyone")
		wantHTML(t, a.post("/claim/"+done, done), http.StatusGone, "already used")

		// Unknown incident: 404.
		gone := a.token(t, 12345, "444444")
		wantHTML(t, get(a.h, "/claim/"+gone), http.StatusNotFound, "no longer exists")

		// A passing failure gives the link back.
		flaky := a.token(t, 9, "555555")
		wantHTML(t, a.post("/claim/"+flaky, flaky), http.StatusInternalServerError, "could not")
		wantHTML(t, a.post("/claim/"+flaky, flaky), http.StatusOK, "Claimed incident #5")

		// No token in the logs.
		for _, s := range []string{tok, old, fresh, forged, flaky} {
			if strings.Contains(a.logs.String(), s) {
				t.Fatalf("a claim token reached the log:\n%s", a.logs.String())
			}
		}
		if !strings.Contains(a.logs.String(), "/claim/:token") {
			t.Errorf("requests not logged by route:\n%s", a.logs.String())
		}
	})
}

// Two clicks at once claim once.
func TestClaimLinkConcurrentPosts(t *testing.T) {
	t.Parallel()
	testdb.ForEachDialect(t, nil, func(t *testing.T, db *testdb.DB) {
		a := newClaimApp(t, db, fakeclock.New(docT0))
		tok := a.token(t, 7, "314159")
		var wg sync.WaitGroup
		codes := make([]int, 8)
		for i := range codes {
			wg.Add(1)
			go func() { defer wg.Done(); codes[i] = a.post("/claim/"+tok, tok).Code }()
		}
		wg.Wait()
		ok := 0
		for _, c := range codes {
			switch c {
			case http.StatusOK:
				ok++
			case http.StatusGone:
			default:
				t.Errorf("status %d", c)
			}
		}
		if ok != 1 || a.claimer.count() != 1 {
			t.Fatalf("%d successes, %d claims; want 1 and 1 (%v)", ok, a.claimer.count(), codes)
		}
	})
}
