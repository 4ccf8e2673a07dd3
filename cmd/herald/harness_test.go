package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald/bot"
	"github.com/heraldhq/herald/config"
	"github.com/heraldhq/herald/internal/fakeclock"
	"github.com/heraldhq/herald/internal/slackfake"
	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/models"
)

// End-to-end harness: the real App (Build), served over HTTP, on a fresh
// database of one dialect, talking to a fake Slack. Nothing runs in the
// background: tests run jobs with drain and move time with the fake clock.

const (
	testSigningSecret = "e2e-signing-secret"
	fixturesDir       = "/work/shared/fixtures"
)

// testStart is where the fake clock starts (whole seconds, so stored times
// compare exactly on both dialects).
var testStart = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)

// harness is one Herald deployment under test: a database, a fake Slack, a
// clock, and one or more replicas (nodes) of the app.
type harness struct {
	t       testing.TB
	ctx     context.Context
	dialect string
	clock   *fakeclock.Clock // nil with the system clock
	sysTime bool
	secret  string
	fake    *slackfake.Fake
	db      *testdb.DB
	cfg     config.Config
	log     *slog.Logger
	logs    *syncBuffer

	*node // the first replica
	seq   atomic.Int64
}

// node is one running App (a replica) with its HTTP server.
type node struct {
	app    *App
	srv    *httptest.Server
	client *http.Client
	closed bool
}

type harnessOption func(*harness)

// withClockAt starts the fake clock at t.
func withClockAt(t time.Time) harnessOption {
	return func(h *harness) { h.clock = fakeclock.New(t) }
}

// withSystemClock uses the wall clock (benchmarks).
func withSystemClock() harnessOption {
	return func(h *harness) { h.clock, h.sysTime = nil, true }
}

// withSigningSecret sets SLACK_SIGNING_SECRET.
func withSigningSecret(s string) harnessOption { return func(h *harness) { h.secret = s } }

// withQuietLogs discards logs (benchmarks).
func withQuietLogs() harnessOption {
	return func(h *harness) {
		h.log = slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError + 1}))
	}
}

func newHarness(t testing.TB, dialect string, opts ...harnessOption) *harness {
	t.Helper()
	h := &harness{t: t, ctx: context.Background(), dialect: dialect, clock: fakeclock.New(testStart), secret: testSigningSecret, logs: &syncBuffer{}}
	for _, o := range opts {
		o(h)
	}
	if h.log == nil {
		h.log = slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("herald log:\n%s", h.logs.String())
			}
		})
	}
	h.fake = slackfake.New(t)
	h.db = testdb.New(t, dialect, h.clockOrSystem())
	h.cfg = config.Config{
		Addr: ":0", BaseURL: "http://herald.test", EncryptedFieldKey: h.db.Keyset,
		SlackBotToken: "xoxb-test", SlackSigningSecret: h.secret, SlackAPIURL: h.fake.APIURL(),
		IncidentChannelName: "incidents", IncidentBotName: "incident",
		LogLevel: slog.LevelInfo, LogFormat: "text",
		Workers: 4, JobLease: 30 * time.Second, ShutdownTimeout: 5 * time.Second,
	}
	switch dialect {
	case models.DialectPostgres:
		h.cfg.DatabaseURL = h.db.URL
	case models.DialectSQLite:
		// openDatabase opens DataDir/herald.db: the file testdb migrated.
		if filepath.Base(h.db.URL) != "herald.db" {
			t.Fatalf("testdb SQLite file %q is not named herald.db", h.db.URL)
		}
		h.cfg.DataDir = filepath.Dir(h.db.URL)
	}
	h.node = h.startNode()
	return h
}

func (h *harness) clockOrSystem() models.Clock {
	if h.sysTime {
		return models.SystemClock{}
	}
	return h.clock
}

// now is the time the app sees.
func (h *harness) now() time.Time { return h.clockOrSystem().Now() }

// startNode builds another App on the same database, Slack and clock: a
// replica, or the process that comes back after a crash.
func (h *harness) startNode() *node {
	h.t.Helper()
	app, err := Build(h.ctx, h.cfg, h.log, BuildOptions{Clock: h.clockOrSystem()})
	if err != nil {
		h.t.Fatalf("Build: %v", err)
	}
	n := &node{app: app, srv: httptest.NewServer(app.Echo)}
	n.client = n.srv.Client()
	n.client.Timeout = 30 * time.Second
	h.t.Cleanup(n.crash)
	return n
}

// crash stops the node the hard way: no draining, jobs left as they are.
func (n *node) crash() {
	if n.closed {
		return
	}
	n.closed = true
	n.srv.Close()
	_ = n.app.Close()
}

// drain runs every due job on this node and returns how many ran.
func (h *harness) drain(n *node) int {
	h.t.Helper()
	ran, err := n.app.Worker.Drain(h.ctx)
	if err != nil {
		h.t.Fatalf("Drain: %v", err)
	}
	return ran
}

// --- requests ------------------------------------------------------------

type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) String() string { return fmt.Sprintf("%d %s", r.Status, bytes.TrimSpace(r.Body)) }

// JSON decodes the body as an object.
func (r response) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("response %s is not a JSON object: %v", r, err)
	}
	return m
}

// do sends a request with exactly the given headers.
func (h *harness) do(n *node, path string, header http.Header, body []byte) response {
	h.t.Helper()
	req, err := http.NewRequestWithContext(h.ctx, http.MethodPost, n.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := n.client.Do(req)
	if err != nil {
		h.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatalf("POST %s: reading answer: %v", path, err)
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// get fetches one of the operational endpoints.
func (h *harness) get(path string) response {
	h.t.Helper()
	resp, err := h.client.Get(h.srv.URL + path)
	if err != nil {
		h.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// signedHeaders are the headers Slack sends with body, signed now.
func (h *harness) signedHeaders(contentType string, body []byte) http.Header {
	hdr := bot.Sign(h.secret, h.now(), body)
	hdr.Set("Content-Type", contentType)
	return hdr
}

// postSigned sends body to path signed like Slack, to the first node.
func (h *harness) postSigned(path, contentType string, body []byte, extra http.Header) response {
	h.t.Helper()
	hdr := h.signedHeaders(contentType, body)
	for k, vs := range extra {
		hdr[k] = vs
	}
	return h.do(h.node, path, hdr, body)
}

const formType = "application/x-www-form-urlencoded"

// slashForm is a slash command body: Slack's documented example with the
// command, text and a fresh trigger_id set.
func (h *harness) slashForm(command, text string) url.Values {
	form := readFixtureForm(h.t, "slack/slash_command.slackdocs_signing_example.form")
	form.Set("command", command)
	form.Set("text", text)
	form.Set("trigger_id", fmt.Sprintf("398738663015.47445629121.e2e%08d", h.seq.Add(1)))
	return form
}

// slash sends a signed `/incident <text>` to the first node.
func (h *harness) slash(text string) response {
	h.t.Helper()
	return h.postSigned("/slack/commands", formType, []byte(h.slashForm("/incident", text).Encode()), nil)
}

// event sends a signed Events API body to a node.
func (h *harness) event(n *node, body []byte, extra http.Header) response {
	h.t.Helper()
	hdr := h.signedHeaders("application/json", body)
	for k, vs := range extra {
		hdr[k] = vs
	}
	return h.do(n, "/slack/events", hdr, body)
}

// --- database --------------------------------------------------------------

// count counts the rows of a table, optionally filtered.
func (h *harness) count(table string, where ...any) int64 {
	h.t.Helper()
	q := h.db.Gorm.WithContext(h.ctx).Table(table)
	if len(where) > 0 {
		q = q.Where(where[0], where[1:]...)
	}
	var n int64
	if err := q.Count(&n).Error; err != nil {
		h.t.Fatalf("counting %s: %v", table, err)
	}
	return n
}

// jobs loads every job, oldest first.
func (h *harness) jobs() []models.Job {
	h.t.Helper()
	var jobs []models.Job
	if err := h.db.Gorm.WithContext(h.ctx).Order("created_at, id").Find(&jobs).Error; err != nil {
		h.t.Fatalf("loading jobs: %v", err)
	}
	return jobs
}

// assertNothingStored checks a rejected request left no trace.
func (h *harness) assertNothingStored() {
	h.t.Helper()
	for _, table := range []string{"incidents", "jobs", "external_users", "timeline_events", "slack_event_receipts"} {
		if n := h.count(table); n != 0 {
			h.t.Errorf("%s has %d rows, want none", table, n)
		}
	}
	if calls := h.fake.CallsExcept("auth.test"); len(calls) != 0 {
		h.t.Errorf("Slack was called %d times, want none: first %s", len(calls), calls[0].Method)
	}
}

// --- fixtures --------------------------------------------------------------

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixturesDir, name))
	if err != nil {
		t.Fatalf("fixture: %v", err)
	}
	return b
}

func readFixtureForm(t testing.TB, name string) url.Values {
	t.Helper()
	form, err := url.ParseQuery(string(readFixture(t, name)))
	if err != nil {
		t.Fatalf("fixture %s: %v", name, err)
	}
	return form
}

// mentionEvent is Slack's documented app_mention callback with the text,
// event id and any other inner-event fields replaced.
func mentionEvent(t testing.TB, eventID, text string, inner map[string]any) []byte {
	t.Helper()
	var outer map[string]any
	if err := json.Unmarshal(readFixture(t, "slack/events_app_mention.slackdocs.json"), &outer); err != nil {
		t.Fatal(err)
	}
	ev := outer["event"].(map[string]any)
	ev["text"] = text
	for k, v := range inner {
		ev[k] = v
	}
	outer["event_id"] = eventID
	b, err := json.Marshal(outer)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// --- small things ------------------------------------------------------------

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// forEachDialect runs fn as a subtest per store.
func forEachDialect(t *testing.T, fn func(t *testing.T, dialect string)) {
	t.Helper()
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) { fn(t, d) })
	}
}

func mustContain(t testing.TB, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s = %q, want it to contain %q", what, got, w)
		}
	}
}
