package web_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/heraldhq/herald/bot"
	"github.com/heraldhq/herald/internal/fakeclock"
	"github.com/heraldhq/herald/internal/testlog"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/web"
)

func fixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "slack", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestParseSlashCommand(t *testing.T) {
	tests := []struct {
		fixture string
		want    slack.SlashCommand
	}{
		{
			fixture: "slash_command.slackdocs_signing_example.form",
			want: slack.SlashCommand{
				Token: "xyzz0WbapA4vBCDEFasx0q6G", TeamID: "T1DC2JH3J", TeamDomain: "testteamnow",
				ChannelID: "G8PSS9T3V", ChannelName: "foobar", UserID: "U2CERLKJA", UserName: "roadrunner",
				Command: "/webhook-collect", Text: "",
				ResponseURL: "https://hooks.slack.com/commands/T1DC2JH3J/397700885554/96rGlfmibIGlgcZRskXaIFfN",
				TriggerID:   "398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c",
			},
		},
		{
			fixture: "slash_command.weather.form",
			want: slack.SlashCommand{
				Token: "gIkuvaNzQIHg97ATvDxqgjtO", TeamID: "T0001", TeamDomain: "example",
				EnterpriseID: "E0001", EnterpriseName: "Globular Construct Inc",
				ChannelID: "C2147483705", ChannelName: "test", UserID: "U2147483697", UserName: "Steve",
				Command: "/weather", Text: "94070", ResponseURL: "https://hooks.slack.com/commands/1234/5678",
				TriggerID: "13345224609.738474920.8088930838d88f008e0", APIAppID: "A123456",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			got, err := web.ParseSlashCommand(fixture(t, tt.fixture))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("ParseSlashCommand =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestParseSlashCommandText(t *testing.T) {
	base := "command=%2Fincident&user_id=U1&channel_id=C1&text="
	for encoded, want := range map[string]string{
		"Checkout+is+down":                               "Checkout is down",
		"line+one%0Aline+two":                            "line one\nline two",
		"%3C%21channel%3E+%26+%3Chttps%3A%2F%2Fx%7Cy%3E": "<!channel> & <https://x|y>",
		"%F0%9F%94%A5+%C3%A9":                            "🔥 é",
	} {
		got, err := web.ParseSlashCommand([]byte(base + encoded))
		if err != nil {
			t.Fatal(err)
		}
		if got.Text != want || got.Command != "/incident" {
			t.Errorf("text %q → %q, want %q", encoded, got.Text, want)
		}
	}
}

func TestParseSlashCommandErrors(t *testing.T) {
	tests := []struct {
		name        string
		body        string
		wantMissing []string
		notMissing  []string
	}{
		{"empty body", "", []string{"command", "user_id", "channel_id"}, nil},
		{"no command", "user_id=U1&channel_id=C1", []string{"command"}, []string{"user_id", "channel_id"}},
		{"no user", "command=%2Fincident&channel_id=C1", []string{"user_id"}, []string{"command", "channel_id"}},
		{"no channel", "command=%2Fincident&user_id=U1", []string{"channel_id"}, []string{"command", "user_id"}},
		{"empty values", "command=&user_id=&channel_id=C1", []string{"command", "user_id"}, []string{"channel_id"}},
		{"JSON body", `{"command":"/incident","user_id":"U1","channel_id":"C1"}`, []string{"command", "user_id", "channel_id"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := web.ParseSlashCommand([]byte(tt.body))
			if !errors.Is(err, bot.ErrBadPayload) {
				t.Fatalf("ParseSlashCommand = %v, want ErrBadPayload", err)
			}
			msg := err.Error()
			for _, f := range tt.wantMissing {
				if !strings.Contains(msg, f) {
					t.Errorf("error %q does not name %s", msg, f)
				}
			}
			_, missingPart, _ := strings.Cut(msg, "missing")
			for _, f := range tt.notMissing {
				if strings.Contains(missingPart, f) {
					t.Errorf("error %q names %s, which is present", msg, f)
				}
			}
		})
	}
	for _, body := range []string{"command=%2Fincident&user_id=U1&channel_id=C1&text=%zz", "a=1;b=2&command=%2Fx&user_id=U&channel_id=C"} {
		if _, err := web.ParseSlashCommand([]byte(body)); !errors.Is(err, bot.ErrBadPayload) {
			t.Errorf("ParseSlashCommand(%q) = %v, want ErrBadPayload", body, err)
		}
	}
}

// FuzzParseSlashCommand: never panics; success means the required fields
// are there and re-encoding the command parses back to the same value;
// failure is always ErrBadPayload.
func FuzzParseSlashCommand(f *testing.F) {
	f.Add(fixture(f, "slash_command.slackdocs_signing_example.form"))
	f.Add(fixture(f, "slash_command.weather.form"))
	f.Add([]byte("command=%2Fincident&user_id=U1&channel_id=C1&text=a%0Ab"))
	f.Add([]byte("command=/incident&command=/other&user_id=U1&channel_id=C1"))
	f.Add([]byte("command=%2Fincident&user_id=U1&channel_id=C1&text=%zz"))
	f.Add([]byte("a=1;b=2"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, body []byte) {
		cmd, err := web.ParseSlashCommand(body)
		if err != nil {
			if !errors.Is(err, bot.ErrBadPayload) {
				t.Fatalf("ParseSlashCommand = %v: not ErrBadPayload", err)
			}
			if cmd != (slack.SlashCommand{}) {
				t.Fatalf("error with a non-zero command %+v", cmd)
			}
			return
		}
		if cmd.Command == "" || cmd.UserID == "" || cmd.ChannelID == "" {
			t.Fatalf("parsed a command missing required fields: %+v", cmd)
		}
		v := url.Values{}
		for k, s := range map[string]string{
			"token": cmd.Token, "team_id": cmd.TeamID, "team_domain": cmd.TeamDomain, "enterprise_id": cmd.EnterpriseID,
			"enterprise_name": cmd.EnterpriseName, "channel_id": cmd.ChannelID, "channel_name": cmd.ChannelName,
			"user_id": cmd.UserID, "user_name": cmd.UserName, "command": cmd.Command, "text": cmd.Text,
			"response_url": cmd.ResponseURL, "trigger_id": cmd.TriggerID, "api_app_id": cmd.APIAppID,
		} {
			v.Set(k, s)
		}
		again, err := web.ParseSlashCommand([]byte(v.Encode()))
		if err != nil || again != cmd {
			t.Fatalf("re-encoded command parses as %+v, %v; want %+v", again, err, cmd)
		}
	})
}

// --- the endpoints, with the real dispatcher over an in-memory queue -----

const secret = "test-signing-secret"

type memQueue struct {
	mu     sync.Mutex
	events []string
	jobs   []models.NewJob
	err    error
}

func (q *memQueue) RecordSlackEvent(_ context.Context, eventID, _ string, jobs ...models.NewJob) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err != nil {
		return q.err
	}
	q.events = append(q.events, eventID)
	q.jobs = append(q.jobs, jobs...)
	return nil
}

func (q *memQueue) EnqueueJobs(_ context.Context, jobs ...models.NewJob) (int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err != nil {
		return 0, q.err
	}
	q.jobs = append(q.jobs, jobs...)
	return len(jobs), nil
}

type ready struct{}

func (ready) Ready(context.Context) error { return nil }

type server struct {
	h     http.Handler
	clock *fakeclock.Clock
	queue *memQueue
	slash []slack.SlashCommand
}

func newServer(t *testing.T) *server {
	t.Helper()
	s := &server{clock: fakeclock.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)), queue: &memQueue{}}
	reg := bot.NewRegistries()
	log := testlog.Logger(t)
	d, err := bot.NewDispatcher(reg, s.queue, nil, log, nil)
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(reg.Slash.Register(bot.SlashCommand{Command: "/weather", Run: func(_ context.Context, cmd slack.SlashCommand) (bot.SlashResponse, error) {
		s.slash = append(s.slash, cmd)
		if cmd.Text == "fail" {
			return bot.SlashResponse{}, errors.New("database is down")
		}
		return bot.SlashResponse{Text: "Sunny in " + cmd.Text, InChannel: cmd.Text == "loud"}, nil
	}}))
	must(reg.Events.Register(bot.EventHandler{Name: "mentions", Type: "app_mention", Run: func(context.Context, bot.EventRequest) error { return nil }}))
	must(reg.Actions.Register(bot.Action{ID: "a", Run: func(context.Context, bot.ActionRequest) error { return nil }}))
	s.h = web.New(web.Options{Verifier: bot.NewVerifier(secret, s.clock), Dispatcher: d, Ready: ready{}, Log: log, Clock: s.clock, MaxBodyBytes: 64 << 10})
	return s
}

func (s *server) post(path string, body []byte, signed bool) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(string(body)))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if signed {
		for k, v := range bot.Sign(secret, s.clock.Now(), body) {
			r.Header[k] = v
		}
	}
	w := httptest.NewRecorder()
	s.h.ServeHTTP(w, r)
	return w
}

func TestSlashEndpoint(t *testing.T) {
	s := newServer(t)
	w := s.post("/slack/commands", fixture(t, "slash_command.weather.form"), true)
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	var reply map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &reply); err != nil {
		t.Fatal(err)
	}
	if reply["response_type"] != "ephemeral" || reply["text"] != "Sunny in 94070" {
		t.Errorf("reply = %v", reply)
	}
	if len(s.slash) != 1 || s.slash[0].UserID != "U2147483697" {
		t.Errorf("handler got %+v", s.slash)
	}

	// A failure is still a 200: Slack shows only a 200's text.
	w = s.post("/slack/commands", []byte("command=%2Fweather&user_id=U1&channel_id=C1&text=fail"), true)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "could not do that") {
		t.Errorf("failing command: %d %s", w.Code, w.Body)
	}
	w = s.post("/slack/commands", []byte("command=%2Fweather&user_id=U1&channel_id=C1&text=loud"), true)
	if !strings.Contains(w.Body.String(), `"response_type":"in_channel"`) {
		t.Errorf("in-channel reply: %s", w.Body)
	}
	w = s.post("/slack/commands", []byte("user_id=U1"), true)
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "command") || !strings.Contains(w.Body.String(), "channel_id") {
		t.Errorf("missing fields: %d %s", w.Code, w.Body)
	}
}

func TestEndpointsRefuseUnsignedRequests(t *testing.T) {
	s := newServer(t)
	for _, path := range []string{"/slack/commands", "/slack/events", "/slack/actions"} {
		w := s.post(path, fixture(t, "slash_command.weather.form"), false)
		if w.Code != http.StatusUnauthorized {
			t.Errorf("%s unsigned: status %d", path, w.Code)
		}
	}
	// Signed long ago: a replay.
	body := fixture(t, "events_app_mention.slackdocs.json")
	r := httptest.NewRequest(http.MethodPost, "/slack/events", strings.NewReader(string(body)))
	for k, v := range bot.Sign(secret, s.clock.Now().Add(-time.Hour), body) {
		r.Header[k] = v
	}
	w := httptest.NewRecorder()
	s.h.ServeHTTP(w, r)
	if w.Code != http.StatusUnauthorized || len(s.queue.events) != 0 {
		t.Errorf("replayed event: status %d, stored %v", w.Code, s.queue.events)
	}
	if len(s.slash) != 0 {
		t.Error("an unsigned slash command ran")
	}
}

func TestEventsEndpoint(t *testing.T) {
	s := newServer(t)
	w := s.post("/slack/events", fixture(t, "events_url_verification.json"), true)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"`) {
		t.Errorf("url_verification: %d %s", w.Code, w.Body)
	}
	w = s.post("/slack/events", fixture(t, "events_app_mention.slackdocs.json"), true)
	if w.Code != http.StatusOK || len(s.queue.events) != 1 || len(s.queue.jobs) != 1 {
		t.Errorf("app_mention: %d, events %v, jobs %d", w.Code, s.queue.events, len(s.queue.jobs))
	}
	w = s.post("/slack/events", []byte("{not json"), true)
	if w.Code != http.StatusBadRequest {
		t.Errorf("bad JSON: status %d", w.Code)
	}
	s.queue.err = errors.New("database is down")
	w = s.post("/slack/events", fixture(t, "events_app_mention.slackdocs.json"), true)
	if w.Code != http.StatusInternalServerError || strings.Contains(w.Body.String(), "database is down") {
		t.Errorf("storage failure: %d %s (want a 500 that Slack retries, without internals)", w.Code, w.Body)
	}
}

func TestActionsEndpoint(t *testing.T) {
	s := newServer(t)
	form := url.Values{"payload": {string(fixture(t, "interactive_block_actions.json"))}}.Encode()
	w := s.post("/slack/actions", []byte(form), true)
	if w.Code != http.StatusOK || len(s.queue.jobs) != 1 || s.queue.jobs[0].Kind != bot.JobSlackAction {
		t.Errorf("block_actions: %d, jobs %+v", w.Code, s.queue.jobs)
	}
	for _, body := range []string{"", "payload=", "payload=%7Bnope"} {
		if w := s.post("/slack/actions", []byte(body), true); w.Code != http.StatusBadRequest {
			t.Errorf("body %q: status %d, want 400", body, w.Code)
		}
	}
}

func TestBodyLimit(t *testing.T) {
	s := newServer(t)
	big := []byte("command=%2Fweather&user_id=U1&channel_id=C1&text=" + strings.Repeat("x", 65<<10))
	if w := s.post("/slack/commands", big, true); w.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body: status %d", w.Code)
	}
}
