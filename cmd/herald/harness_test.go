package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/heraldhq/herald/bot"
	"github.com/heraldhq/herald/config"
	"github.com/heraldhq/herald/internal/fakeclock"
	"github.com/heraldhq/herald/internal/slackfake"
	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/internal/testlog"
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
	env     map[string]string // configuration besides the harness's own
	tracer  trace.TracerProvider

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

// withEnv sets a configuration variable, as the environment would.
func withEnv(key, value string) harnessOption {
	return func(h *harness) {
		if h.env == nil {
			h.env = map[string]string{}
		}
		h.env[key] = value
	}
}

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
		h.log = slog.New(testlog.Wrap(t, slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelInfo})))
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("herald log:\n%s", h.logs.String())
			}
		})
	}
	h.fake = slackfake.New(t)
	h.db = testdb.New(t, dialect, h.clockOrSystem())
	// The configuration a deployment gets from its environment, so every
	// default (comms template, auto-comms severity...) is the shipped one.
	env := map[string]string{
		"HERALD_ADDR": ":0", "HERALD_BASE_URL": "http://herald.test", "ENCRYPTED_FIELD_KEY": h.db.Keyset,
		"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": h.secret, "SLACK_API_URL": h.fake.APIURL(),
		"INCIDENT_CHANNEL_NAME": "incidents", "INCIDENT_BOT_NAME": "incident",
		"HERALD_WORKERS": "4", "HERALD_JOB_LEASE": "30s", "HERALD_SHUTDOWN_TIMEOUT": "5s",
		"HERALD_WEB_LOGIN_LINK": "false", // tests make their own links
	}
	switch dialect {
	case models.DialectPostgres:
		env["DATABASE_URL"] = h.db.URL
	case models.DialectSQLite:
		// openDatabase opens DataDir/herald.db: the file testdb migrated.
		if filepath.Base(h.db.URL) != "herald.db" {
			t.Fatalf("testdb SQLite file %q is not named herald.db", h.db.URL)
		}
		env["HERALD_DATA_DIR"] = filepath.Dir(h.db.URL)
	}
	for k, v := range h.env {
		env[k] = v
	}
	cfg, err := config.Load(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatalf("test configuration: %v", err)
	}
	h.cfg = cfg
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
	app, err := Build(h.ctx, h.cfg, h.log, BuildOptions{Clock: h.clockOrSystem(), Tracer: h.tracer})
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

// jobOfKind loads the one job of a kind.
func (h *harness) jobOfKind(kind string) models.Job {
	h.t.Helper()
	var out []models.Job
	for _, j := range h.jobs() {
		if j.Kind == kind {
			out = append(out, j)
		}
	}
	if len(out) != 1 {
		h.t.Fatalf("%d %s jobs, want 1", len(out), kind)
	}
	return out[0]
}

// jobsOfKind counts the jobs of a kind.
func (h *harness) jobsOfKind(kind string) int {
	h.t.Helper()
	return int(h.count("jobs", "kind = ?", kind))
}

// assertNothingStored checks a rejected request left no trace.
func (h *harness) assertNothingStored() {
	h.t.Helper()
	for _, table := range []string{"incidents", "jobs", "external_users", "timeline_events", "slack_event_receipts",
		"headline_posts", "comms_channels", "audit_log", "recurring_notifications"} {
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

// --- interactivity: modals and buttons ------------------------------------

// slackUser is a person as interactivity payloads name them.
type slackUser struct{ ID, Name string }

var (
	// reporter runs /incident and submits the declare modal (the slash
	// command fixture's sender).
	reporter = slackUser{ID: fixtureUser, Name: fixtureUserName}
	// clicker is the interactivity fixtures' user.
	clicker = slackUser{ID: "W111", Name: "primary-owner"}
	// other is a second responder.
	other = slackUser{ID: "U0OTHERSRE", Name: "other.sre"}
)

// leadID is the Slack user picked as lead in the forms.
const leadID = "U0LEADLEAD"

// slashChannel is where the slash command fixture was typed.
const slashChannel = "G8PSS9T3V"

// incidentForm is what a person types into the declare or edit modal.
type incidentForm struct {
	Title, Summary, Impact, Services string
	Severity                         models.Severity
	Lead                             string // Slack user id; "" leaves it empty
	Report                           bool
}

// values is the modal's view.state.values as Slack sends them: block id →
// action id → element state (bot.IncidentModal uses one id for both). An
// empty text input is a null value, an unpicked select a null option.
func (f incidentForm) values(callbackID string) map[string]any {
	text := func(id, v string) map[string]any {
		var value any
		if v != "" {
			value = v
		}
		return map[string]any{id: map[string]any{"type": "plain_text_input", "value": value}}
	}
	option := func(label, value string) map[string]any {
		return map[string]any{"text": map[string]any{"type": "plain_text", "text": label, "emoji": true}, "value": value}
	}
	var sev any
	if f.Severity.Valid() {
		sev = option(f.Severity.String(), fmt.Sprint(int(f.Severity)))
	}
	var lead any
	if f.Lead != "" {
		lead = f.Lead
	}
	v := map[string]any{
		"title":    text("title", f.Title),
		"summary":  text("summary", f.Summary),
		"impact":   text("impact", f.Impact),
		"severity": map[string]any{"severity": map[string]any{"type": "static_select", "selected_option": sev}},
		"lead":     map[string]any{"lead": map[string]any{"type": "users_select", "selected_user": lead}},
		"services": text("services", f.Services),
	}
	if callbackID == bot.CallbackDeclare {
		kind := option("Live incident: happening now", "live")
		if f.Report {
			kind = option("Report of a past incident", "report")
		}
		v["kind"] = map[string]any{"kind": map[string]any{"type": "radio_buttons", "selected_option": kind}}
	}
	return v
}

// modal is a view as Slack stored it when it was opened.
type modal map[string]any

func (m modal) str(key string) string { s, _ := m[key].(string); return s }

// ID is the view id: the declare modal's idempotency key.
func (m modal) ID() string              { return m.str("id") }
func (m modal) CallbackID() string      { return m.str("callback_id") }
func (m modal) PrivateMetadata() string { return m.str("private_metadata") }

// openedModals are the views Slack opened (views.open answers), in order.
func (h *harness) openedModals() []modal {
	h.t.Helper()
	var out []modal
	for _, c := range h.fake.Calls("views.open") {
		if !c.OK() {
			continue
		}
		var m modal
		if err := json.Unmarshal([]byte(c.ResponseField("view")), &m); err != nil {
			h.t.Fatalf("views.open answer: %v", err)
		}
		out = append(out, m)
	}
	return out
}

// lastModal is the view opened last.
func (h *harness) lastModal() modal {
	h.t.Helper()
	ms := h.openedModals()
	if len(ms) == 0 {
		h.t.Fatal("no modal was opened")
	}
	return ms[len(ms)-1]
}

// newModal is a modal as if Herald had opened it earlier (by another
// replica, or before a restart): Slack's fixture view with Herald's blocks,
// a fresh view id, and the given callback and private_metadata.
func (h *harness) newModal(callbackID, privateMetadata string) modal {
	h.t.Helper()
	var payload map[string]any
	if err := json.Unmarshal(readFixture(h.t, "slack/interactive_view_submission.json"), &payload); err != nil {
		h.t.Fatal(err)
	}
	m := modal(payload["view"].(map[string]any))
	id := fmt.Sprintf("V0E2E%06d", h.seq.Add(1))
	req := bot.IncidentModal(callbackID, bot.IncidentForm{}, privateMetadata)
	b, err := json.Marshal(req.Blocks)
	if err != nil {
		h.t.Fatal(err)
	}
	var blocks any
	_ = json.Unmarshal(b, &blocks)
	m["id"], m["root_view_id"], m["callback_id"], m["private_metadata"], m["blocks"] = id, id, callbackID, privateMetadata, blocks
	return m
}

// declareModal is a declare modal opened from /incident in slashChannel.
func (h *harness) declareModal() modal {
	return h.newModal(bot.CallbackDeclare, `{"c":"`+slashChannel+`"}`)
}

// viewSubmission is the interactivity request body Slack sends when user
// submits m filled in with f: Slack's fixture with the view, its state and
// the user set, form-encoded as payload=<json>.
func (h *harness) viewSubmission(m modal, user slackUser, f incidentForm) []byte {
	h.t.Helper()
	var payload map[string]any
	if err := json.Unmarshal(readFixture(h.t, "slack/interactive_view_submission.json"), &payload); err != nil {
		h.t.Fatal(err)
	}
	view := map[string]any{}
	for k, v := range m {
		view[k] = v
	}
	view["state"] = map[string]any{"values": f.values(m.CallbackID())}
	payload["view"] = view
	payload["user"] = map[string]any{"id": user.ID, "username": user.Name, "name": user.Name, "team_id": "T111"}
	payload["trigger_id"] = fmt.Sprintf("111.222.e2e%08d", h.seq.Add(1))
	b, err := json.Marshal(payload)
	if err != nil {
		h.t.Fatal(err)
	}
	return []byte(url.Values{"payload": {string(b)}}.Encode())
}

// interact sends a signed interactivity body to a node.
func (h *harness) interact(n *node, body []byte) response {
	h.t.Helper()
	return h.do(n, "/slack/actions", h.signedHeaders(formType, body), body)
}

// submit sends user's submission of m to the first node.
func (h *harness) submit(m modal, user slackUser, f incidentForm) response {
	h.t.Helper()
	return h.interact(h.node, h.viewSubmission(m, user, f))
}

// declare submits a fresh declare modal as the reporter and checks Slack
// was told to close it; it returns the incident.
func (h *harness) declare(f incidentForm) *models.Incident {
	h.t.Helper()
	m := h.declareModal()
	if r := h.submit(m, reporter, f); r.Status != http.StatusOK || len(r.Body) != 0 {
		h.t.Fatalf("declare: %s, want an empty 200", r)
	}
	var inc models.Incident
	if err := h.db.Gorm.WithContext(h.ctx).Where("idempotency_key = ?", "slack-view:"+m.ID()).Take(&inc).Error; err != nil {
		h.t.Fatalf("declared incident: %v", err)
	}
	return h.incident(inc.ID)
}

// incident loads an incident with its people.
func (h *harness) incident(id int64) *models.Incident {
	h.t.Helper()
	inc, err := h.db.Store.IncidentByID(h.ctx, id)
	if err != nil {
		h.t.Fatal(err)
	}
	return inc
}

// blockAction is the interactivity body of user clicking the headline
// button actionID of incident: Slack's fixture with the action, a fresh
// action_ts and trigger_id, and the headline post as the container.
func (h *harness) blockAction(actionID string, incidentID int64, user slackUser) []byte {
	h.t.Helper()
	var payload map[string]any
	if err := json.Unmarshal(readFixture(h.t, "slack/interactive_block_actions.json"), &payload); err != nil {
		h.t.Fatal(err)
	}
	channel, ts := h.fake.ChannelID("incidents"), "1700000000.000100"
	if hp, err := h.db.Store.HeadlinePostFor(h.ctx, incidentID); err == nil && hp.Posted() {
		channel, ts = hp.ChannelID, hp.MessageTS
	}
	seq := h.seq.Add(1)
	payload["user"] = map[string]any{"id": user.ID, "username": user.Name, "name": user.Name, "team_id": "T111"}
	payload["trigger_id"] = fmt.Sprintf("111.222.e2e%08d", seq)
	payload["container"] = map[string]any{"type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": false}
	payload["channel"] = map[string]any{"id": channel, "name": "incidents"}
	action := payload["actions"].([]any)[0].(map[string]any)
	action["action_id"], action["block_id"], action["value"] = actionID, "incident_actions", fmt.Sprint(incidentID)
	action["action_ts"] = fmt.Sprintf("%d.%06d", h.now().Unix(), seq)
	b, err := json.Marshal(payload)
	if err != nil {
		h.t.Fatal(err)
	}
	return []byte(url.Values{"payload": {string(b)}}.Encode())
}

// click sends user's click of a headline button to the first node and
// checks Slack got the empty 200 it wants.
func (h *harness) click(actionID string, incidentID int64, user slackUser) {
	h.t.Helper()
	if r := h.interact(h.node, h.blockAction(actionID, incidentID, user)); r.Status != http.StatusOK || len(r.Body) != 0 {
		h.t.Fatalf("click %s: %s, want an empty 200", actionID, r)
	}
}

// --- Slack's side --------------------------------------------------------

// headline is the headline post of an incident as it reads in Slack now.
func (h *harness) headline(incidentID int64) slackfake.Message {
	h.t.Helper()
	hp, err := h.db.Store.HeadlinePostFor(h.ctx, incidentID)
	if err != nil || !hp.Posted() {
		h.t.Fatalf("incident %d has no headline post (%v)", incidentID, err)
	}
	for _, m := range h.fake.Messages(hp.ChannelID) {
		if m.TS == hp.MessageTS {
			return m
		}
	}
	h.t.Fatalf("headline post %s/%s is not in Slack", hp.ChannelID, hp.MessageTS)
	return slackfake.Message{}
}

// buttons lists the action ids of a message's buttons.
func buttons(t testing.TB, m slackfake.Message) []string {
	t.Helper()
	var blocks []struct {
		Type     string `json:"type"`
		Elements []struct {
			ActionID string `json:"action_id"`
		} `json:"elements"`
	}
	if err := json.Unmarshal(m.Blocks, &blocks); err != nil {
		t.Fatalf("message blocks: %v", err)
	}
	var out []string
	for _, b := range blocks {
		if b.Type == "actions" {
			for _, e := range b.Elements {
				out = append(out, e.ActionID)
			}
		}
	}
	return out
}

// messageText is everything readable in a message's blocks and text.
func messageText(t testing.TB, m slackfake.Message) string {
	t.Helper()
	c := slackfake.Call{Params: url.Values{"text": {m.Text}, "blocks": {string(m.Blocks)}}}
	return c.AllText()
}

// slackCalls counts the Web API calls made since the fake started (or was
// reset), auth.test aside, by method.
func (h *harness) slackCalls() (total int, byMethod map[string]int) {
	byMethod = map[string]int{}
	for _, c := range h.fake.CallsExcept("auth.test") {
		byMethod[c.Method]++
		total++
	}
	return total, byMethod
}

// callSummary renders byMethod sorted by method.
func callSummary(byMethod map[string]int) string {
	keys := make([]string, 0, len(byMethod))
	for k := range byMethod {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s×%d", k, byMethod[k]))
	}
	return strings.Join(parts, ", ")
}

// ephemerals are the chat.postEphemeral calls to user.
func (h *harness) ephemerals(user string) []slackfake.Call {
	var out []slackfake.Call
	for _, c := range h.fake.Calls("chat.postEphemeral") {
		if c.Param("user") == user {
			out = append(out, c)
		}
	}
	return out
}

// --- golden files -----------------------------------------------------------

// go test ./cmd/herald -run <Test> -update rewrites testdata/*.golden.json.
var update = flag.Bool("update", false, "rewrite golden files in testdata/ with the current output")

// golden compares a JSON document (keys sorted, indented, <>& unescaped as
// Slack receives them) with testdata/name.
func golden(t testing.TB, name, rawJSON string) {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(rawJSON), &v); err != nil {
		t.Fatalf("golden %s: %v", name, err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	got := buf.Bytes()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/herald -run %s -update to create it)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run with -update if the change is intended):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// commsChannelID is the Slack id of an incident's comms channel, or "" when
// it has none (or it is still being created).
func (h *harness) commsChannelID(incidentID int64) string {
	h.t.Helper()
	cc, err := h.db.Store.CommsChannelFor(h.ctx, incidentID)
	if models.IsNotFound(err) || (err == nil && cc.Pending()) {
		return ""
	}
	if err != nil {
		h.t.Fatal(err)
	}
	return cc.ChannelID
}

// timelineKinds counts an incident's timeline entries by kind.
func (h *harness) timelineKinds(incidentID int64) map[models.TimelineKind]int {
	h.t.Helper()
	tl, err := h.db.Store.Timeline(h.ctx, incidentID)
	if err != nil {
		h.t.Fatal(err)
	}
	out := map[models.TimelineKind]int{}
	for _, e := range tl {
		out[e.Kind]++
	}
	return out
}

// payloadField reads a top-level string of an interactivity body.
func payloadField(t testing.TB, body []byte, key string) string {
	t.Helper()
	form, err := url.ParseQuery(string(body))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(form.Get("payload")), &m); err != nil {
		t.Fatal(err)
	}
	s, _ := m[key].(string)
	return s
}
