package bot_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/heraldhq/herald/bot"
)

// fakeSocketHandler is a bot.SocketHandler whose answers tests set.
type fakeSocketHandler struct {
	mu           sync.Mutex
	events       [][]byte
	slash        []slack.SlashCommand
	interactions [][]byte

	eventErr error
	slashRes bot.SlashResponse
	slashErr error
	interRes bot.InteractionResponse
	interErr error
}

func (h *fakeSocketHandler) Event(_ context.Context, body []byte) (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(h.events, body)
	return "", h.eventErr
}

func (h *fakeSocketHandler) Slash(_ context.Context, cmd slack.SlashCommand) (bot.SlashResponse, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.slash = append(h.slash, cmd)
	return h.slashRes, h.slashErr
}

func (h *fakeSocketHandler) Interaction(_ context.Context, payload []byte) (bot.InteractionResponse, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.interactions = append(h.interactions, payload)
	return h.interRes, h.interErr
}

// socketSlashPayload is a slash command as Socket Mode sends it: JSON, not
// a form.
const socketSlashPayload = `{"token":"x","team_id":"T1DC2JH3J","team_domain":"testteamnow","channel_id":"G8PSS9T3V","channel_name":"foobar",` +
	`"user_id":"U2CERLKJA","user_name":"roadrunner","command":"/incident","text":"Checkout is down","api_app_id":"A1",` +
	`"is_enterprise_install":"false","response_url":"https://hooks.slack.com/commands/T1/1/x","trigger_id":"398738663015.47445629121.803a"}`

func socketRequest(tb testing.TB, typ, envelopeID string, payload []byte) *socketmode.Request {
	tb.Helper()
	return &socketmode.Request{Type: typ, EnvelopeID: envelopeID, Payload: json.RawMessage(payload)}
}

func marshal(tb testing.TB, v any) string {
	tb.Helper()
	if v == nil {
		return "null"
	}
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

func TestSocketModeHandle(t *testing.T) {
	ctx := context.Background()
	mention := fixture(t, "events_app_mention.slackdocs.json")
	actions := fixture(t, "interactive_block_actions.json")
	tests := []struct {
		name        string
		h           *fakeSocketHandler
		req         *socketmode.Request
		wantAck     bool
		wantPayload string // JSON of the ack payload
		check       func(t *testing.T, h *fakeSocketHandler)
	}{
		{
			name: "event stored", h: &fakeSocketHandler{}, req: socketRequest(t, "events_api", "e1", mention),
			wantAck: true, wantPayload: "null",
			check: func(t *testing.T, h *fakeSocketHandler) {
				if len(h.events) != 1 || string(h.events[0]) != string(mention) {
					t.Errorf("Event got %q, want the raw envelope payload", h.events)
				}
			},
		},
		{
			name: "event not stored: no ack, Slack redelivers", h: &fakeSocketHandler{eventErr: errors.New("database is down")},
			req: socketRequest(t, "events_api", "e2", mention), wantAck: false,
		},
		{
			name: "bad event: acked, retrying cannot help", h: &fakeSocketHandler{eventErr: bot.ErrBadPayload},
			req: socketRequest(t, "events_api", "e3", []byte(`{}`)), wantAck: true, wantPayload: "null",
		},
		{
			name: "slash command reply", h: &fakeSocketHandler{slashRes: bot.SlashResponse{Text: "Incident #1 declared"}},
			req: socketRequest(t, "slash_commands", "s1", []byte(socketSlashPayload)), wantAck: true,
			wantPayload: `{"response_type":"ephemeral","text":"Incident #1 declared"}`,
			check: func(t *testing.T, h *fakeSocketHandler) {
				if len(h.slash) != 1 || h.slash[0].Command != "/incident" || h.slash[0].Text != "Checkout is down" || h.slash[0].UserID != "U2CERLKJA" || h.slash[0].TriggerID == "" {
					t.Errorf("Slash got %+v", h.slash)
				}
			},
		},
		{
			name: "slash command in channel with blocks",
			h: &fakeSocketHandler{slashRes: bot.SlashResponse{InChannel: true, Blocks: []slack.Block{
				slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "*hi*", false, false), nil, nil),
			}}},
			req: socketRequest(t, "slash_commands", "s2", []byte(socketSlashPayload)), wantAck: true,
			wantPayload: `{"response_type":"in_channel","blocks":[{"type":"section","text":{"type":"mrkdwn","text":"*hi*"}}]}`,
		},
		{
			name: "slash command with nothing to say", h: &fakeSocketHandler{},
			req: socketRequest(t, "slash_commands", "s3", []byte(socketSlashPayload)), wantAck: true, wantPayload: "null",
		},
		{
			name: "slash command failed: apology, still acked", h: &fakeSocketHandler{slashErr: errors.New("database is down")},
			req: socketRequest(t, "slash_commands", "s4", []byte(socketSlashPayload)), wantAck: true,
			wantPayload: `{"response_type":"ephemeral","text":"Sorry, Herald could not do that just now (s4). Nothing was declared; please try again."}`,
		},
		{
			name: "slash command payload unreadable", h: &fakeSocketHandler{},
			req: socketRequest(t, "slash_commands", "s5", []byte(`"nope"`)), wantAck: true, wantPayload: "null",
			check: func(t *testing.T, h *fakeSocketHandler) {
				if len(h.slash) != 0 {
					t.Error("Slash called with an unreadable payload")
				}
			},
		},
		{
			name: "interaction", h: &fakeSocketHandler{}, req: socketRequest(t, "interactive", "i1", actions),
			wantAck: true, wantPayload: "null",
			check: func(t *testing.T, h *fakeSocketHandler) {
				if len(h.interactions) != 1 || string(h.interactions[0]) != string(actions) {
					t.Errorf("Interaction got %q, want the raw payload", h.interactions)
				}
			},
		},
		{
			name: "interaction with a response body",
			h:    &fakeSocketHandler{interRes: bot.InteractionResponse{Body: map[string]any{"response_action": "errors", "errors": map[string]string{"title": "Too long"}}}},
			req:  socketRequest(t, "interactive", "i2", fixture(t, "interactive_view_submission.json")), wantAck: true,
			wantPayload: `{"errors":{"title":"Too long"},"response_action":"errors"}`,
		},
		{
			name: "interaction failed: still acked", h: &fakeSocketHandler{interErr: errors.New("views.open failed")},
			req: socketRequest(t, "interactive", "i3", actions), wantAck: true, wantPayload: "null",
		},
		{
			name: "unknown request type with an envelope: acked", h: &fakeSocketHandler{},
			req: socketRequest(t, "something_new", "x1", []byte(`{}`)), wantAck: true, wantPayload: "null",
		},
		{
			name: "no envelope id: nothing to ack", h: &fakeSocketHandler{},
			req: socketRequest(t, "events_api", "", mention), wantAck: false,
			check: func(t *testing.T, h *fakeSocketHandler) {
				if len(h.events) != 0 {
					t.Error("handled a request without an envelope id")
				}
			},
		},
		{name: "nil request", h: &fakeSocketHandler{}, req: nil, wantAck: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sm := bot.NewSocketMode(slack.New("", slack.OptionAppLevelToken("xapp-test")), tt.h, discardLogger(t))
			payload, ack := sm.HandleSocketRequest(ctx, tt.req)
			if ack != tt.wantAck {
				t.Fatalf("ack = %v, want %v", ack, tt.wantAck)
			}
			if ack {
				if got := marshal(t, payload); got != tt.wantPayload {
					t.Errorf("ack payload = %s, want %s", got, tt.wantPayload)
				}
			}
			if tt.check != nil {
				tt.check(t, tt.h)
			}
		})
	}
}

// fakeSlack is Slack's side of Socket Mode: apps.connections.open, then a
// websocket that sends what the test queues and collects the acks.
type fakeSlack struct {
	t      *testing.T
	srv    *httptest.Server
	send   chan string // messages to send on the socket
	acks   chan socketmode.Response
	opened chan string // the Authorization header of each connections.open
}

type ackPayload struct {
	EnvelopeID string          `json:"envelope_id"`
	Payload    json.RawMessage `json:"payload"`
}

func newFakeSlack(t *testing.T) *fakeSlack {
	f := &fakeSlack{t: t, send: make(chan string, 16), acks: make(chan socketmode.Response, 16), opened: make(chan string, 4)}
	// Slack's client sends Origin: https://api.slack.com; accept it.
	upgrader := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	quit := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("POST /apps.connections.open", func(w http.ResponseWriter, r *http.Request) {
		select {
		case f.opened <- r.Header.Get("Authorization"):
		default:
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "url": "ws" + strings.TrimPrefix(f.srv.URL, "http") + "/link"})
	})
	mux.HandleFunc("GET /link", func(w http.ResponseWriter, r *http.Request) {
		conn, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			t.Errorf("upgrade: %v", err)
			return
		}
		defer conn.Close()
		done := make(chan struct{})
		go func() { // reader: acks
			defer close(done)
			for {
				var a ackPayload
				if err := conn.ReadJSON(&a); err != nil {
					return
				}
				select {
				case f.acks <- socketmode.Response{EnvelopeID: a.EnvelopeID, Payload: a.Payload}:
				case <-quit:
					return
				}
			}
		}()
		for {
			select {
			case msg := <-f.send:
				if err := conn.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
					return
				}
			case <-done:
				return
			case <-quit:
				return
			}
		}
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	t.Cleanup(func() { close(quit) }) // runs first: ends the socket handler
	return f
}

func envelope(t *testing.T, typ, id string, payload []byte) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{"type": typ, "envelope_id": id, "payload": json.RawMessage(payload), "accepts_response_payload": typ != "events_api"})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestSocketModeOverAWebsocket runs the real socketmode client against a
// fake Slack, with the real dispatcher behind it.
func TestSocketModeOverAWebsocket(t *testing.T) {
	fs := newFakeSlack(t)
	var slashGot []slack.SlashCommand
	var mu sync.Mutex
	e := newDispatcherEnv(t, func(reg *bot.Registries, rec *recorder) error {
		if err := mentionHandlers(reg, rec); err != nil {
			return err
		}
		if err := reg.Actions.Register(bot.Action{ID: "a", Run: rec.action("a")}); err != nil {
			return err
		}
		return reg.Slash.Register(bot.SlashCommand{Command: "/incident", Run: func(_ context.Context, cmd slack.SlashCommand) (bot.SlashResponse, error) {
			mu.Lock()
			slashGot = append(slashGot, cmd)
			mu.Unlock()
			return bot.SlashResponse{Text: "Incident #1 declared: *" + cmd.Text + "*"}, nil
		}})
	})
	client := slack.New("xoxb-not-used", slack.OptionAppLevelToken("xapp-1-test"), slack.OptionAPIURL(fs.srv.URL+"/"))
	sm := bot.NewSocketMode(client, e.d, discardLogger(t))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runErr := make(chan error, 1)
	go func() { runErr <- sm.Run(ctx) }()

	select {
	case auth := <-fs.opened:
		if auth != "Bearer xapp-1-test" {
			t.Errorf("apps.connections.open authorised with %q, want the app-level token", auth)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("apps.connections.open was not called")
	}
	fs.send <- `{"type":"hello","num_connections":1,"debug_info":{"host":"fake"},"connection_info":{"app_id":"A1"}}`
	fs.send <- envelope(t, "events_api", "env-event", fixture(t, "events_app_mention.slackdocs.json"))
	fs.send <- envelope(t, "slash_commands", "env-slash", []byte(socketSlashPayload))
	fs.send <- envelope(t, "interactive", "env-action", fixture(t, "interactive_block_actions.json"))
	// An inner event type slack-go does not know and nothing handles:
	// slack-go reports a bad message, Herald still acknowledges it.
	fs.send <- envelope(t, "events_api", "env-unknown", []byte(`{"type":"event_callback","event_id":"Ev9","team_id":"T1","event":{"type":"brand_new_event"}}`))

	acks := map[string]json.RawMessage{}
	timeout := time.After(10 * time.Second)
	for len(acks) < 4 {
		select {
		case a := <-fs.acks:
			if _, dup := acks[a.EnvelopeID]; dup {
				t.Errorf("envelope %s acknowledged twice", a.EnvelopeID)
			}
			p, _ := a.Payload.(json.RawMessage)
			acks[a.EnvelopeID] = p
		case <-timeout:
			t.Fatalf("acks so far: %v", acks)
		}
	}
	for _, id := range []string{"env-event", "env-slash", "env-action", "env-unknown"} {
		if _, ok := acks[id]; !ok {
			t.Errorf("no ack for %s", id)
		}
	}
	var reply map[string]any
	if err := json.Unmarshal(acks["env-slash"], &reply); err != nil {
		t.Fatalf("slash ack payload %s: %v", acks["env-slash"], err)
	}
	if reply["response_type"] != "ephemeral" || reply["text"] != "Incident #1 declared: *Checkout is down*" {
		t.Errorf("slash ack payload = %v", reply)
	}
	if p := acks["env-event"]; len(p) != 0 && string(p) != "null" {
		t.Errorf("event ack carries a payload: %s", p)
	}

	// The dispatcher stored the event's jobs and the action's job, and ran
	// the slash command.
	if len(e.queue.events) != 1 || e.queue.events[0].EventID != "Ev123ABC456" || len(e.queue.events[0].Jobs) != 2 {
		t.Errorf("stored events = %+v", e.queue.events)
	}
	if len(e.queue.enqueued) != 1 || e.queue.enqueued[0].Kind != bot.JobSlackAction {
		t.Errorf("enqueued = %+v", e.queue.enqueued)
	}
	mu.Lock()
	if len(slashGot) != 1 || slashGot[0].UserID != "U2CERLKJA" {
		t.Errorf("slash handler got %+v", slashGot)
	}
	mu.Unlock()

	cancel()
	select {
	case err := <-runErr:
		if err != nil {
			t.Errorf("Run after cancel = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

func TestSocketModeRunFailsOnARevokedToken(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok":false,"error":"invalid_auth"}`))
	}))
	defer srv.Close()
	client := slack.New("", slack.OptionAppLevelToken("xapp-revoked"), slack.OptionAPIURL(srv.URL+"/"))
	sm := bot.NewSocketMode(client, &fakeSocketHandler{}, discardLogger(t))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := sm.Run(ctx)
	if err == nil || !strings.Contains(err.Error(), "invalid_auth") {
		t.Fatalf("Run = %v, want the invalid_auth error", err)
	}
}
