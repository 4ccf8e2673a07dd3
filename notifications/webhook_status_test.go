package notifications_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/testlog"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
)

const (
	statusSecret = "status-lookup-secret-0123456789abcdef"
	statusDest   = "+15550002222"
)

// statusReceiver is a webhook receiver that keeps the contract of
// docs/operations.md: it records each payload id on receipt and answers
// signed GET /status/<id> lookups from what it recorded. lookup, when
// set, overrides the answer (to test failures).
type statusReceiver struct {
	srv    *httptest.Server
	lookup func(w http.ResponseWriter, r *http.Request) bool // true: answered

	mu       sync.Mutex
	posts    []string // payload ids, in order
	lookups  []string // ids asked for
	badSigs  int      // requests whose signature did not verify
	badIdems int      // requests whose Idempotency-Key was not the id
}

func newStatusReceiver(t *testing.T) *statusReceiver {
	t.Helper()
	rc := &statusReceiver{}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *statusReceiver) serve(w http.ResponseWriter, r *http.Request) {
	ts, sig, idem := r.Header.Get(notifications.WebhookTimestampHeader), r.Header.Get(notifications.WebhookSignatureHeader), r.Header.Get("Idempotency-Key")
	if r.Method == http.MethodPost {
		body, _ := io.ReadAll(r.Body)
		var p notifications.WebhookPayload
		_ = json.Unmarshal(body, &p)
		rc.mu.Lock()
		defer rc.mu.Unlock()
		if notifications.VerifyWebhookSignature(statusSecret, ts, body, sig, time.Now(), 5*time.Minute) != nil {
			rc.badSigs++
		}
		if idem != p.ID {
			rc.badIdems++
		}
		rc.posts = append(rc.posts, p.ID)
		return
	}
	id, _ := strings.CutPrefix(r.URL.Path, "/status/")
	rc.mu.Lock()
	rc.lookups = append(rc.lookups, id)
	if notifications.VerifyWebhookSignature(statusSecret, ts, []byte(id), sig, time.Now(), 5*time.Minute) != nil {
		rc.badSigs++
	}
	if idem != id {
		rc.badIdems++
	}
	received := false
	for _, p := range rc.posts {
		received = received || p == id
	}
	override := rc.lookup
	rc.mu.Unlock()
	if override != nil && override(w, r) {
		return
	}
	if !received {
		http.NotFound(w, r)
		return
	}
	_, _ = w.Write([]byte(`{"received":true}`))
}

func (rc *statusReceiver) counts() (posts, lookups []string, badSigs, badIdems int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]string(nil), rc.posts...), append([]string(nil), rc.lookups...), rc.badSigs, rc.badIdems
}

// TestTakenOverWebhookNotSentTwice: a page taken over from a sender that
// died is looked up at the receiver's status URL first; only a "received"
// answer stops the resend.
func TestTakenOverWebhookNotSentTwice(t *testing.T) {
	t.Parallel()
	answer := func(code int, body string) func(w http.ResponseWriter, r *http.Request) bool {
		return func(w http.ResponseWriter, _ *http.Request) bool {
			w.WriteHeader(code)
			_, _ = w.Write([]byte(body))
			return true
		}
	}
	stall := func(_ http.ResponseWriter, r *http.Request) bool {
		select { // until the lookup times out (the test's own bound too)
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
		return true
	}
	cases := []struct {
		name      string
		takenOver bool // the first sender dies holding the lease
		deadSent  bool // ...after the receiver got its page
		noStatus  bool // no status URL configured
		lookup    func(w http.ResponseWriter, r *http.Request) bool
		wantPosts int // in all, the dead sender's included
		wantLooks int
		wantFirst bool // recorded as already accepted, not sent again
		wantLog   string
	}{
		{name: "received before the sender died", takenOver: true, deadSent: true, wantPosts: 1, wantLooks: 1, wantFirst: true, wantLog: "already accepted"},
		{name: "404: died before sending", takenOver: true, wantPosts: 1, wantLooks: 1},
		{name: `200 {"received":false}`, takenOver: true, lookup: answer(200, `{"received":false}`), wantPosts: 1, wantLooks: 1},
		{name: "500: sent again", takenOver: true, deadSent: true, lookup: answer(500, `oops`), wantPosts: 2, wantLooks: 1, wantLog: "could not ask the vendor"},
		{name: "garbled 200: sent again", takenOver: true, deadSent: true, lookup: answer(200, `<html>`), wantPosts: 2, wantLooks: 1, wantLog: "could not ask the vendor"},
		{name: "timeout: sent again", takenOver: true, deadSent: true, lookup: stall, wantPosts: 2, wantLooks: 1, wantLog: "could not ask the vendor"},
		{name: "no status URL: sent again unasked", takenOver: true, deadSent: true, noStatus: true, wantPosts: 2},
		{name: "not taken over: no lookup", wantPosts: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			forEachDialect(t, func(t *testing.T, f *fixture) {
				rc := newStatusReceiver(t)
				rc.lookup = tc.lookup
				cfg := notifications.WebhookConfig{Name: "hook", URL: rc.srv.URL + "/hook", Secret: statusSecret,
					StatusURL: rc.srv.URL + "/status/", StatusTimeout: 200 * time.Millisecond,
					Modes: []notifications.Mode{notifications.ModeSMS}, Log: quiet(t)}
				if tc.noStatus {
					cfg.StatusURL = ""
				}
				wh, err := notifications.NewWebhook(cfg)
				if err != nil {
					t.Fatal(err)
				}
				var logs bytes.Buffer
				other := notifications.NewEngine(f.replica(), vendorsOf(wh), notifications.DirectoryRoles{Dir: f.store}, f.alerts, f.clock,
					slog.New(testlog.Wrap(t, slog.NewTextHandler(&logs, nil))), notifications.EngineOptions{Owner: "alive"})
				ann := f.person("ann", noSlack)
				f.contact(ann, notifications.ModeSMS, statusDest, true)
				f.plan("p", steps(step(user("ann", "high", 0, 0))))
				inc := f.escalate("db down", "p")
				if _, err := other.EscalateDue(f.ctx); err != nil {
					t.Fatal(err)
				}
				if tc.takenOver {
					leased, err := f.store.LeaseQueuedMessages(f.ctx, "dead", 10, 30*time.Second)
					if err != nil || len(leased) != 1 {
						t.Fatalf("lease: %v %v", leased, err)
					}
					if tc.deadSent {
						m := leased[0]
						if _, err := wh.Send(f.ctx, notifications.Message{ID: m.ID, Mode: notifications.ModeSMS, Destination: statusDest,
							Subject: m.Subject, Body: m.Body, ClaimCode: m.ClaimCode, IncidentID: inc.ID}); err != nil {
							t.Fatal(err)
						}
					}
					f.clock.Advance(31 * time.Second)
					if n, err := other.ReclaimExpiredSends(f.ctx); err != nil || n != 1 {
						t.Fatalf("reclaimed %d (%v), want 1", n, err)
					}
				}
				f.tickWith(other)

				posts, looks, badSigs, badIdems := rc.counts()
				if len(posts) != tc.wantPosts || len(looks) != tc.wantLooks || badSigs != 0 || badIdems != 0 {
					t.Fatalf("%d POSTs and %d lookups (%d bad signatures, %d bad Idempotency-Keys), want %d and %d",
						len(posts), len(looks), badSigs, badIdems, tc.wantPosts, tc.wantLooks)
				}
				ms := f.messages(inc)
				if len(ms) != 1 || ms[0].Status != models.MessageSent || ms[0].Vendor != "hook" || ms[0].TakenOver != tc.takenOver {
					t.Fatalf("messages %+v", ms)
				}
				id := posts[0]
				for _, l := range looks {
					if l != id {
						t.Fatalf("looked up %q, want the payload id %q", l, id)
					}
				}
				if ms[0].VendorID != id {
					t.Fatalf("vendor id %q, want the payload id %q", ms[0].VendorID, id)
				}
				cs := f.changes(ms[0])
				last := cs[len(cs)-1].Detail
				if already := strings.Contains(last, "already accepted by hook before the takeover; not sent again"); already != tc.wantFirst {
					t.Fatalf("last change %q", last)
				}
				if tc.wantLog != "" && !strings.Contains(logs.String(), tc.wantLog) {
					t.Fatalf("log lacks %q:\n%s", tc.wantLog, logs.String())
				}
				if strings.Contains(logs.String(), statusDest) || strings.Contains(logs.String(), statusSecret) {
					t.Fatalf("log holds the phone number or the secret:\n%s", logs.String())
				}
			})
		})
	}
}

// TestWebhookFindSentURL: the lookup goes to the status URL's path plus
// the payload id, its query kept, and a message without a stored id is
// never looked up.
func TestWebhookFindSentURL(t *testing.T) {
	t.Parallel()
	var got []string
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Method+" "+r.URL.RequestURI())
		mu.Unlock()
		_, _ = w.Write([]byte(`{"received":true}`))
	}))
	t.Cleanup(srv.Close)
	wh, err := notifications.NewWebhook(notifications.WebhookConfig{Name: "hook", URL: srv.URL, Secret: statusSecret,
		StatusURL: srv.URL + "/v1/herald?token=abc", Log: quiet(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	id, found, err := wh.FindSent(ctx, notifications.Message{ID: 42, Mode: notifications.ModeSMS}, time.Time{})
	if err != nil || !found || id != "herald-msg-42" {
		t.Fatalf("FindSent = %q %v %v", id, found, err)
	}
	if _, found, err := wh.FindSent(ctx, notifications.Message{Mode: notifications.ModeSMS}, time.Time{}); found || err != nil {
		t.Fatalf("a message without an id: found %v, %v", found, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || got[0] != "GET /v1/herald/herald-msg-42?token=abc" {
		t.Fatalf("requests %v", got)
	}
	if _, err := notifications.NewWebhook(notifications.WebhookConfig{Name: "hook", URL: srv.URL, Secret: statusSecret, StatusURL: "ftp://x"}); err == nil {
		t.Fatal("an ftp status URL was accepted")
	}
}
