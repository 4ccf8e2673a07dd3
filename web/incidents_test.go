package web_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/internal/fakeclock"
	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/internal/testlog"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/web"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// docT0 is when the incident pages' fake clocks start.
var docT0 = time.Date(2026, 11, 22, 14, 5, 0, 0, time.UTC)

func newPagesApp(t testing.TB, incidents web.IncidentReader, clock models.Clock) *echo.Echo {
	log := testlog.Logger(t)
	return web.New(web.Options{Incidents: incidents, Clock: clock, Log: log})
}

func get(h http.Handler, target string, header ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func check(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// wantHTML checks the status, the content type and that every want is in
// the body.
func wantHTML(t *testing.T, w *httptest.ResponseRecorder, code int, want ...string) string {
	t.Helper()
	body := w.Body.String()
	if w.Code != code {
		t.Fatalf("status = %d, want %d; body:\n%s", w.Code, code, body)
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type = %q, want text/html", ct)
	}
	for _, s := range want {
		if !strings.Contains(body, s) {
			t.Errorf("body lacks %q; body:\n%s", s, body)
		}
	}
	return body
}

func wantAbsent(t *testing.T, body string, unwanted ...string) {
	t.Helper()
	for _, s := range unwanted {
		if strings.Contains(body, s) {
			t.Errorf("body contains %q, which it must not", s)
		}
	}
}

type docFixture struct {
	live, report *models.Incident
}

// seedDoc records, on a fake clock, a live incident with everything the
// doc page shows (hostile text included) and a resolved report whose comms
// channel is still being created.
func seedDoc(t *testing.T, s *models.Store, clock *fakeclock.Clock) docFixture {
	t.Helper()
	ctx := context.Background()
	alice, err := s.UpsertSlackUser(ctx, models.SlackUser{ID: "U0ALICE", DisplayName: "Alice Archer", Email: "alice@example.com"})
	check(t, err)
	bob, err := s.UpsertSlackUser(ctx, models.SlackUser{ID: "U0BOB", DisplayName: `Bob "<b>bold</b>" Baker`})
	check(t, err)
	carol, err := s.UpsertSlackUser(ctx, models.SlackUser{ID: "U0CAROL"})
	check(t, err)

	live, _, err := s.CreateIncident(ctx, models.NewIncident{
		Title:    `<script>alert("title")</script> Checkout is down`,
		Summary:  "Payments fail at the last step.\n<script>alert('summary')</script>\n  indented third line",
		Impact:   "EU customers cannot pay.\nUS & APAC unaffected.",
		Severity: models.SEV2, Source: "slack", ReporterID: &alice.ID, LeadID: &bob.ID,
		Services: "checkout, payments-api",
	})
	check(t, err)
	clock.Advance(3 * time.Minute)
	ack := clock.Now()
	_, err = s.ChangeIncident(ctx, live.ID, &bob.ID, func(inc *models.Incident) (models.Change, error) {
		inc.AcknowledgedAt = &ack
		return models.Change{Action: "incident.ack", Timeline: []models.TimelineEvent{{Kind: models.TimelineAcknowledged, Text: "Bob acknowledged"}}}, nil
	})
	check(t, err)
	check(t, s.SetRole(ctx, live.ID, "comms", carol.ID, &bob.ID))
	check(t, s.SetRole(ctx, live.ID, "Scribe", alice.ID, &bob.ID))
	clock.Advance(2 * time.Minute)
	check(t, s.AddTimelineEvent(ctx, &models.TimelineEvent{IncidentID: live.ID, Kind: models.TimelineNote, AuthorID: &bob.ID,
		Text: "Rolled back <script>alert(\"note\")</script>\nsecond line"}))
	ref := "1732284600.000100"
	check(t, s.AddTimelineEvent(ctx, &models.TimelineEvent{IncidentID: live.ID, Kind: models.TimelinePin, AuthorID: &alice.ID,
		Text: "REMOVED PIN TEXT", SourceRef: &ref}))
	if removed, err := s.RemoveTimelineSource(ctx, live.ID, models.TimelinePin, ref); err != nil || !removed {
		t.Fatalf("removing the pin: removed=%v, err=%v", removed, err)
	}
	// An entry that happened earlier than it was recorded sorts by when it
	// happened.
	check(t, s.AddTimelineEvent(ctx, &models.TimelineEvent{IncidentID: live.ID, Kind: models.TimelineMessage, AuthorID: &carol.ID,
		Text: "first alert fired", OccurredAt: docT0.Add(-10 * time.Minute)}))
	done := clock.Now()
	check(t, s.AddActionItem(ctx, &models.ActionItem{IncidentID: live.ID, Text: "Alert on checkout <latency>", OwnerID: &alice.ID, CreatedByID: &bob.ID}))
	check(t, s.AddActionItem(ctx, &models.ActionItem{IncidentID: live.ID, Text: "Write the rollback runbook", CreatedByID: &bob.ID, DoneAt: &done}))
	check(t, s.TouchParticipant(ctx, live.ID, alice.ID, docT0.Add(time.Minute), false))
	check(t, s.TouchParticipant(ctx, live.ID, bob.ID, docT0.Add(2*time.Minute), true))
	check(t, s.TouchParticipant(ctx, live.ID, bob.ID, docT0.Add(4*time.Minute), true))
	_, err = s.ClaimCommsChannel(ctx, live.ID, "inc-1-checkout", false, time.Minute)
	check(t, err)
	check(t, s.CompleteCommsChannel(ctx, live.ID, "C0INC1", "inc-1-checkout"))

	clock.Advance(time.Hour)
	report, _, err := s.CreateIncident(ctx, models.NewIncident{Title: "Nightly export skipped", Severity: models.SEV4, Source: "slack", ReporterID: &carol.ID, IsReport: true})
	check(t, err)
	resolved := clock.Now()
	_, err = s.ChangeIncident(ctx, report.ID, &carol.ID, func(inc *models.Incident) (models.Change, error) {
		inc.Status, inc.ResolvedAt, inc.ResolvedByID = models.StatusResolved, &resolved, &carol.ID
		return models.Change{Action: "incident.close"}, nil
	})
	check(t, err)
	_, err = s.ClaimCommsChannel(ctx, report.ID, "inc-2-export", true, time.Minute)
	check(t, err)

	clock.Advance(25 * time.Minute) // the live incident has run 1h 30m
	return docFixture{live: live, report: report}
}

func TestIncidentDocPage(t *testing.T) {
	for _, dialect := range testdb.Dialects {
		t.Run(dialect, func(t *testing.T) {
			clock := fakeclock.New(docT0)
			db := testdb.New(t, dialect, clock)
			f := seedDoc(t, db.Store, clock)
			h := newPagesApp(t, db.Store, clock)

			w := get(h, fmt.Sprintf("/incidents/%d", f.live.Number))
			body := wantHTML(t, w, http.StatusOK,
				`<html lang="en">`,
				`<title>Incident #1: &lt;script&gt;alert(&#34;title&#34;)&lt;/script&gt; Checkout is down · Herald</title>`,
				`<h1>&lt;script&gt;alert(&#34;title&#34;)&lt;/script&gt; Checkout is down</h1>`,
				`<link rel="stylesheet" href="/static/herald.css">`,
				`<span class="badge status-investigating">investigating</span>`,
				`SEV2 (major)`,
				// Lead, reporter, roles: names escaped, Slack ids shown.
				`<dd>Bob &#34;&lt;b&gt;bold&lt;/b&gt;&#34; Baker <span class="slack-id">(U0BOB)</span></dd>`,
				`<dd>Alice Archer <span class="slack-id">(U0ALICE)</span></dd>`,
				"<dt>comms</dt>", "<dt>scribe</dt>",
				// Times with date, year and zone, machine-readable too.
				`<dd><time datetime="2026-11-22T14:05:00Z">22 Nov 2026 14:05 UTC</time></dd>`,
				`<dd><time datetime="2026-11-22T14:08:00Z">22 Nov 2026 14:08 UTC</time></dd>`,
				"<dt>Time to acknowledge</dt>\n<dd>3m</dd>",
				"<dt>Running for</dt>\n<dd>1h 30m",
				// Multi-line text kept, in a pre-wrap block.
				"<p class=\"prewrap\">Payments fail at the last step.\n&lt;script&gt;alert(&#39;summary&#39;)&lt;/script&gt;\n  indented third line</p>",
				"<p class=\"prewrap\">EU customers cannot pay.\nUS &amp; APAC unaffected.</p>",
				"checkout, payments-api",
				// Timeline, action items, participants, channel.
				"Rolled back &lt;script&gt;alert(&#34;note&#34;)&lt;/script&gt;\nsecond line",
				`<span class="kind">Acknowledged</span>`,
				"Alert on checkout &lt;latency&gt;",
				"1 of 2 open.",
				`<span class="state">Done</span> <span class="prewrap">Write the rollback runbook</span>`,
				"<td class=\"num\">2</td>",
				`<a href="https://slack.com/app_redirect?channel=C0INC1">#inc-1-checkout</a>`,
			)
			wantAbsent(t, body, "<script", "REMOVED PIN TEXT", "Report of a past incident", "alice@example.com", "<dt>Time to resolve</dt>")

			// The timeline is in the order things happened.
			iMsg, iDeclared, iAck, iNote := strings.Index(body, "first alert fired"), strings.Index(body, "Incident declared:"), strings.Index(body, "Bob acknowledged"), strings.Index(body, "Rolled back")
			if !(iMsg >= 0 && iMsg < iDeclared && iDeclared < iAck && iAck < iNote) {
				t.Errorf("timeline out of order: message %d, declared %d, ack %d, note %d", iMsg, iDeclared, iAck, iNote)
			}
			for k, v := range map[string]string{
				"Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'",
				"Cache-Control":           "no-store",
				"X-Content-Type-Options":  "nosniff",
			} {
				if got := w.Header().Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			golden(t, filepath.Join("testdata", "incident_doc.golden.html"), w.Body.Bytes())

			// The resolved report: badge, resolution, no link to a channel
			// that does not exist yet.
			body = wantHTML(t, get(h, fmt.Sprintf("/incidents/%d", f.report.Number)), http.StatusOK,
				`<span class="badge report">Report of a past incident</span>`,
				`<span class="badge status-resolved">resolved</span>`,
				"SEV4 (trivial)",
				"<dt>Resolved</dt>\n<dd><time datetime=\"2026-11-22T15:10:00Z\">22 Nov 2026 15:10 UTC</time></dd>",
				"<dt>Resolved by</dt>\n<dd>U0CAROL</dd>",
				"<dt>Time to resolve</dt>\n<dd>0s</dd>",
				"#inc-2-export <span class=\"muted\">(being created)</span>",
				"<dt>Acknowledged</dt>\n<dd>Never</dd>",
				"No lead assigned", "No roles assigned.", "No action items.", "Nobody has joined yet.",
			)
			wantAbsent(t, body, "app_redirect", "pending:", "Running for")
		})
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		check(t, os.MkdirAll(filepath.Dir(path), 0o755))
		check(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./web -run TestIncidentDocPage -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the rendered page (rerun with -update if the change is intended); got:\n%s", path, got)
	}
}

func TestIncidentDocErrors(t *testing.T) {
	for _, dialect := range testdb.Dialects {
		t.Run(dialect, func(t *testing.T) {
			clock := fakeclock.New(docT0)
			db := testdb.New(t, dialect, clock)
			h := newPagesApp(t, db.Store, clock)

			wantHTML(t, get(h, "/incidents/999"), http.StatusNotFound, "Incident #999 does not exist", "<title>Incident not found · Herald</title>")
			for _, bad := range []string{"abc", "0", "-1", "%2B1", "1e3", "12abc", "99999999999999999999999"} {
				wantHTML(t, get(h, "/incidents/"+bad), http.StatusBadRequest, "is not an incident number")
			}
			body := wantHTML(t, get(h, "/incidents/%3Cscript%3Ealert(1)%3C%2Fscript%3E"), http.StatusBadRequest)
			wantAbsent(t, body, "<script")
		})
	}
}

func TestIncidentList(t *testing.T) {
	for _, dialect := range testdb.Dialects {
		t.Run(dialect, func(t *testing.T) {
			clock := fakeclock.New(docT0)
			db := testdb.New(t, dialect, clock)
			ctx := context.Background()
			lead, err := db.Store.UpsertSlackUser(ctx, models.SlackUser{ID: "U0LEAD", DisplayName: "Lee <Lead>"})
			check(t, err)
			// 53 incidents; every fourth is resolved (13), the rest open (40).
			for i := 1; i <= 53; i++ {
				n := models.NewIncident{Title: fmt.Sprintf("Incident title %d", i), Source: "test", Severity: models.Severity(i%4 + 1), LeadID: &lead.ID}
				if i == 7 {
					n.Title = "<script>alert(7)</script>"
				}
				inc, _, err := db.Store.CreateIncident(ctx, n)
				check(t, err)
				if i%4 == 0 {
					now := clock.Now()
					_, err := db.Store.ChangeIncident(ctx, inc.ID, nil, func(inc *models.Incident) (models.Change, error) {
						inc.Status, inc.ResolvedAt = models.StatusResolved, &now
						return models.Change{}, nil
					})
					check(t, err)
				}
				clock.Advance(time.Minute)
			}
			h := newPagesApp(t, db.Store, clock)

			body := wantHTML(t, get(h, "/incidents"), http.StatusOK,
				"<title>Incidents · Herald</title>", "Showing 1–50 of 53, newest first.",
				`<a href="/incidents?page=2" rel="next">Older incidents</a>`, "Page 1 of 2",
				`<a href="/incidents" aria-current="page">All</a>`,
				"Lee &lt;Lead&gt; <span class=\"slack-id\">(U0LEAD)</span>",
				"&lt;script&gt;alert(7)&lt;/script&gt;",
				`<td><time datetime="2026-11-22T14:08:00Z">22 Nov 2026 14:08 UTC</time></td>`)
			wantAbsent(t, body, "<script", `rel="prev"`)
			if got, want := listed(body), seq(53, 4); !equal(got, want) {
				t.Errorf("page 1 lists %v, want %v", got, want)
			}

			body = wantHTML(t, get(h, "/incidents?page=2"), http.StatusOK, "Showing 51–53 of 53", "Page 2 of 2",
				`<a href="/incidents" rel="prev">Newer incidents</a>`, "<title>Incidents (page 2) · Herald</title>")
			wantAbsent(t, body, `rel="next"`)
			if got, want := listed(body), seq(3, 1); !equal(got, want) {
				t.Errorf("page 2 lists %v, want %v", got, want)
			}

			body = wantHTML(t, get(h, "/incidents?status=open"), http.StatusOK, "Showing 1–40 of 40",
				`<a href="/incidents?status=open" aria-current="page">Open</a>`, "<h1>Open incidents</h1>")
			wantAbsent(t, body, "status-resolved", `rel="next"`, `rel="prev"`)
			if got := listed(body); len(got) != 40 || got[0] != 53 || got[39] != 1 {
				t.Errorf("open lists %v", got)
			}

			body = wantHTML(t, get(h, "/incidents?status=Resolved"), http.StatusOK, "Showing 1–13 of 13")
			wantAbsent(t, body, "status-investigating")
			var wantResolved []int64
			for n := int64(52); n > 0; n -= 4 {
				wantResolved = append(wantResolved, n)
			}
			if got := listed(body); !equal(got, wantResolved) {
				t.Errorf("resolved lists %v, want %v", got, wantResolved)
			}

			// Past the last page: a pointer back rather than an empty table.
			body = wantHTML(t, get(h, "/incidents?status=resolved&page=3"), http.StatusOK, "There is no page 3", `href="/incidents?status=resolved"`)
			if got := listed(body); len(got) != 0 {
				t.Errorf("page 3 lists %v", got)
			}

			for _, bad := range []string{"?page=0", "?page=-1", "?page=abc", "?page=1.5", "?page=99999999999", "?status=closed", "?status=%3Cscript%3E"} {
				body := wantHTML(t, get(h, "/incidents"+bad), http.StatusBadRequest)
				wantAbsent(t, body, "<script")
			}
		})
	}
}

func TestIncidentListEmpty(t *testing.T) {
	clock := fakeclock.New(docT0)
	db := testdb.New(t, models.DialectSQLite, clock)
	h := newPagesApp(t, db.Store, clock)
	body := wantHTML(t, get(h, "/incidents"), http.StatusOK, "<p>No incidents.</p>")
	wantAbsent(t, body, "<table", "Page 1 of")
	wantHTML(t, get(h, "/incidents?status=open"), http.StatusOK, "<p>No open incidents.</p>")
}

var listedRE = regexp.MustCompile(`<td><a href="/incidents/(\d+)">#`)

// listed returns the incident numbers a list page shows, in order.
func listed(body string) []int64 {
	var out []int64
	for _, m := range listedRE.FindAllStringSubmatch(body, -1) {
		n, _ := strconv.ParseInt(m[1], 10, 64)
		out = append(out, n)
	}
	return out
}

func seq(from, to int64) []int64 {
	var out []int64
	for n := from; n >= to; n-- {
		out = append(out, n)
	}
	return out
}

func equal(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

type failingReader struct{}

func (failingReader) IncidentDocument(context.Context, int64) (*models.IncidentDoc, error) {
	return nil, errors.New("connection refused: secret-host:5432")
}

func (failingReader) ListIncidents(context.Context, models.IncidentFilter) ([]models.Incident, int64, error) {
	return nil, 0, errors.New("connection refused: secret-host:5432")
}

func TestIncidentPagesStoreFailure(t *testing.T) {
	h := newPagesApp(t, failingReader{}, fakeclock.New(docT0))
	for _, path := range []string{"/incidents/1", "/incidents"} {
		body := wantHTML(t, get(h, path), http.StatusInternalServerError, "Herald could not load this page")
		wantAbsent(t, body, "secret-host")
	}
}

func TestIncidentPagesOff(t *testing.T) {
	h := newPagesApp(t, nil, fakeclock.New(docT0))
	for _, path := range []string{"/incidents", "/incidents/1", "/static/herald.css"} {
		if w := get(h, path); w.Code != http.StatusNotFound {
			t.Errorf("GET %s without Incidents = %d, want 404", path, w.Code)
		}
	}
}

func TestStaticCSS(t *testing.T) {
	h := newPagesApp(t, failingReader{}, fakeclock.New(docT0))
	w := get(h, "/static/herald.css")
	if w.Code != http.StatusOK {
		t.Fatalf("status = %d", w.Code)
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/css") {
		t.Errorf("Content-Type = %q, want text/css", ct)
	}
	if !strings.Contains(w.Body.String(), ".prewrap") || !strings.Contains(w.Body.String(), "pre-wrap") {
		t.Error("stylesheet lacks the pre-wrap class")
	}
	etag := w.Header().Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	if w := get(h, "/static/herald.css", "If-None-Match", etag); w.Code != http.StatusNotModified {
		t.Errorf("revalidation status = %d, want 304", w.Code)
	}
	for _, path := range []string{"/static/nope.css", "/static/", "/static/../server.go", "/static/%2e%2e/server.go"} {
		if w := get(h, path); w.Code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", path, w.Code)
		}
	}
}
