package bot_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/heraldhq/herald/bot"
	"github.com/heraldhq/herald/models"
)

// recorder collects what handlers were called with.
type recorder struct {
	mu      sync.Mutex
	events  []bot.EventRequest
	actions []bot.ActionRequest
	names   []string
}

func (r *recorder) event(name string) func(context.Context, bot.EventRequest) error {
	return func(_ context.Context, req bot.EventRequest) error {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.events = append(r.events, req)
		r.names = append(r.names, name)
		return nil
	}
}

func (r *recorder) action(name string) func(context.Context, bot.ActionRequest) error {
	return func(_ context.Context, req bot.ActionRequest) error {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.actions = append(r.actions, req)
		r.names = append(r.names, name)
		return nil
	}
}

type dispatcherEnv struct {
	reg   *bot.Registries
	queue *fakeQueue
	waker *countingWaker
	rec   *recorder
	d     *bot.Dispatcher
}

// newDispatcherEnv builds a dispatcher with two app_mention handlers, one
// pin_added handler, an inline action "a" is NOT registered by default.
func newDispatcherEnv(t testing.TB, register func(reg *bot.Registries, rec *recorder) error) *dispatcherEnv {
	t.Helper()
	e := &dispatcherEnv{reg: bot.NewRegistries(), queue: &fakeQueue{}, waker: &countingWaker{}, rec: &recorder{}}
	d, err := bot.NewDispatcher(e.reg, e.queue, e.waker, discardLogger(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	e.d = d
	if register != nil {
		if err := register(e.reg, e.rec); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

func mentionHandlers(reg *bot.Registries, rec *recorder) error {
	for _, h := range []bot.EventHandler{
		{Name: "incident-commands", Type: "app_mention", Run: rec.event("incident-commands")},
		{Name: "Mention-Audit", Type: "app_mention", Run: rec.event("Mention-Audit")},
		{Name: "pins", Type: "pin_added", Run: rec.event("pins")},
	} {
		if err := reg.Events.Register(h); err != nil {
			return err
		}
	}
	return nil
}

// runJob runs a stored job the way the worker would: by kind, from the
// job registry.
func runStoredJob(t testing.TB, reg *bot.Registries, j models.NewJob) error {
	t.Helper()
	fn, ok := reg.Jobs.Lookup(j.Kind)
	if !ok {
		t.Fatalf("no job func for kind %q", j.Kind)
	}
	return fn(context.Background(), j.Payload)
}

func TestEventURLVerification(t *testing.T) {
	e := newDispatcherEnv(t, mentionHandlers)
	challenge, err := e.d.Event(context.Background(), fixture(t, "events_url_verification.json"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"; challenge != want {
		t.Errorf("challenge = %q, want %q", challenge, want)
	}
	if len(e.queue.events)+len(e.queue.enqueued) != 0 || e.waker.count() != 0 {
		t.Error("url_verification stored something")
	}
}

func TestEventCallbackStoresOneJobPerHandler(t *testing.T) {
	e := newDispatcherEnv(t, mentionHandlers)
	body := fixture(t, "events_app_mention.slackdocs.json")
	challenge, err := e.d.Event(context.Background(), body)
	if err != nil || challenge != "" {
		t.Fatalf("Event = %q, %v", challenge, err)
	}
	if len(e.queue.events) != 1 {
		t.Fatalf("recorded %d events, want 1", len(e.queue.events))
	}
	rec := e.queue.events[0]
	if rec.EventID != "Ev123ABC456" || rec.Kind != "app_mention" {
		t.Errorf("recorded event %q of kind %q", rec.EventID, rec.Kind)
	}
	var keys []string
	for _, j := range rec.Jobs {
		if j.Kind != bot.JobSlackEvent {
			t.Errorf("job kind %q, want %q", j.Kind, bot.JobSlackEvent)
		}
		keys = append(keys, j.DedupKey)
	}
	if got, want := strings.Join(keys, " "), "event:Ev123ABC456:incident-commands event:Ev123ABC456:Mention-Audit"; got != want {
		t.Errorf("dedup keys = %s, want %s", got, want)
	}
	if e.waker.count() != 1 {
		t.Errorf("woke the worker %d times, want 1", e.waker.count())
	}
	if len(e.rec.names) != 0 {
		t.Error("a handler ran before Slack was answered")
	}

	// A redelivery (Slack retry, or another replica) stores nothing more.
	if _, err := e.d.Event(context.Background(), body); err != nil {
		t.Fatalf("redelivery: %v", err)
	}
	if len(e.queue.events) != 1 || e.waker.count() != 1 {
		t.Errorf("redelivery stored again: %d events, %d wakes", len(e.queue.events), e.waker.count())
	}
}

func TestEventJobsRunTheRightHandlerWithParsedData(t *testing.T) {
	e := newDispatcherEnv(t, mentionHandlers)
	if _, err := e.d.Event(context.Background(), fixture(t, "events_app_mention.slackdocs.json")); err != nil {
		t.Fatal(err)
	}
	for _, j := range e.queue.events[0].Jobs {
		if err := runStoredJob(t, e.reg, j); err != nil {
			t.Fatalf("job %s: %v", j.DedupKey, err)
		}
	}
	if got := strings.Join(e.rec.names, ","); got != "incident-commands,Mention-Audit" {
		t.Fatalf("handlers run: %s", got)
	}
	for _, req := range e.rec.events {
		if req.EventID != "Ev123ABC456" || req.TeamID != "T123ABC456" || req.Inner.Type != "app_mention" {
			t.Errorf("request = %+v", req)
		}
		ev, ok := req.Inner.Data.(*slackevents.AppMentionEvent)
		if !ok {
			t.Fatalf("Inner.Data is %T, want *slackevents.AppMentionEvent", req.Inner.Data)
		}
		if ev.Text != "<@U0LAN0Z89> is it everything a river should be?" || ev.User != "U061F7AUR" || ev.Channel != "C123ABC456" || ev.TimeStamp != "1515449522.000016" {
			t.Errorf("app_mention = %+v", ev)
		}
	}
}

func TestPinAddedEventJob(t *testing.T) {
	e := newDispatcherEnv(t, mentionHandlers)
	if _, err := e.d.Event(context.Background(), fixture(t, "events_pin_added.json")); err != nil {
		t.Fatal(err)
	}
	jobs := e.queue.events[0].Jobs
	if len(jobs) != 1 || jobs[0].DedupKey != "event:Ev123ABC456:pins" {
		t.Fatalf("jobs = %+v", jobs)
	}
	if err := runStoredJob(t, e.reg, jobs[0]); err != nil {
		t.Fatal(err)
	}
	ev, ok := e.rec.events[0].Inner.Data.(*slackevents.PinAddedEvent)
	if !ok {
		t.Fatalf("Inner.Data is %T", e.rec.events[0].Inner.Data)
	}
	if ev.Item.Message == nil || ev.Item.Message.Text != "<@U0LAN0Z89> is it everything a river should be?" {
		t.Errorf("pinned item = %+v", ev.Item)
	}
}

func TestEventWithoutHandlersIsRecordedWithNoJobs(t *testing.T) {
	e := newDispatcherEnv(t, nil)
	if _, err := e.d.Event(context.Background(), fixture(t, "events_app_mention.slackdocs.json")); err != nil {
		t.Fatal(err)
	}
	if len(e.queue.events) != 1 || len(e.queue.events[0].Jobs) != 0 {
		t.Errorf("events = %+v", e.queue.events)
	}
}

func TestEventIgnoresEnvelopesNothingHandles(t *testing.T) {
	for name, body := range map[string]string{
		"app_rate_limited": `{"token":"x","type":"app_rate_limited","team_id":"T123","minute_rate_limited":1518467820,"api_app_id":"A123"}`,
		"unknown envelope": `{"type":"something_new","team_id":"T123"}`,
		"no type":          `{}`,
		// Inner event types slack-go does not know, with no handler:
		// acknowledged, not a 400 that would make Slack retry and
		// eventually disable the subscription.
		"unknown inner event": `{"type":"event_callback","event_id":"Ev9","team_id":"T1","event":{"type":"brand_new_event","user":"U1"}}`,
	} {
		t.Run(name, func(t *testing.T) {
			e := newDispatcherEnv(t, mentionHandlers)
			challenge, err := e.d.Event(context.Background(), []byte(body))
			if err != nil || challenge != "" {
				t.Fatalf("Event = %q, %v; want ignored", challenge, err)
			}
			if len(e.queue.enqueued) != 0 || len(jobsOf(e.queue.events)) != 0 {
				t.Errorf("stored jobs for an ignored envelope")
			}
		})
	}
}

func jobsOf(evs []recordedEvent) []models.NewJob {
	var out []models.NewJob
	for _, ev := range evs {
		out = append(out, ev.Jobs...)
	}
	return out
}

func TestEventBadPayloads(t *testing.T) {
	for name, body := range map[string]string{
		"not JSON":                        `token=x&type=event_callback`,
		"truncated JSON":                  `{"type":"event_callback","event_id":"Ev1"`,
		"empty body":                      ``,
		"JSON array":                      `[1,2]`,
		"url_verification sans challenge": `{"type":"url_verification","token":"x"}`,
		"event_callback sans event_id":    `{"type":"event_callback","event":{"type":"app_mention","text":"hi"}}`,
		"event_callback sans event":       `{"type":"event_callback","event_id":"Ev1"}`,
		"inner event of the wrong shape":  `{"type":"event_callback","event_id":"Ev1","event":{"type":"app_mention","text":42}}`,
	} {
		t.Run(name, func(t *testing.T) {
			e := newDispatcherEnv(t, mentionHandlers)
			_, err := e.d.Event(context.Background(), []byte(body))
			if !errors.Is(err, bot.ErrBadPayload) {
				t.Fatalf("Event = %v, want ErrBadPayload", err)
			}
			if len(e.queue.events) != 0 {
				t.Error("stored a bad payload")
			}
		})
	}
}

func TestEventStorageFailureIsNotABadPayload(t *testing.T) {
	e := newDispatcherEnv(t, mentionHandlers)
	e.queue.err = errors.New("database is down")
	_, err := e.d.Event(context.Background(), fixture(t, "events_app_mention.slackdocs.json"))
	if err == nil || errors.Is(err, bot.ErrBadPayload) {
		t.Fatalf("Event = %v, want a storage error (so Slack retries), not ErrBadPayload", err)
	}
	if e.waker.count() != 0 {
		t.Error("woke the worker although nothing was stored")
	}
}

func TestEventJobFailures(t *testing.T) {
	e := newDispatcherEnv(t, mentionHandlers)
	fn, _ := e.reg.Jobs.Lookup(bot.JobSlackEvent)
	for name, payload := range map[string]string{
		"not JSON":        `nope`,
		"unknown handler": `{"handler":"removed-since","body":{"type":"event_callback","event_id":"Ev1","event":{"type":"app_mention"}}}`,
		"bad body":        `{"handler":"pins","body":{"type":"event_callback","event_id":"Ev1","event":{"type":"pin_added","item":7}}}`,
	} {
		if err := fn(context.Background(), []byte(payload)); !errors.Is(err, bot.ErrPermanent) {
			t.Errorf("%s: job = %v, want ErrPermanent", name, err)
		}
	}
}

func blockActionsFixture(t testing.TB) []byte { return fixture(t, "interactive_block_actions.json") }

func TestInteractionInlineActionRunsAtOnce(t *testing.T) {
	e := newDispatcherEnv(t, func(reg *bot.Registries, rec *recorder) error {
		return reg.Actions.Register(bot.Action{ID: "a", Inline: true, Run: rec.action("a")})
	})
	resp, err := e.d.Interaction(context.Background(), blockActionsFixture(t))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Body != nil {
		t.Errorf("response body = %v, want none", resp.Body)
	}
	if len(e.queue.enqueued) != 0 {
		t.Errorf("inline action was enqueued: %+v", e.queue.enqueued)
	}
	if len(e.rec.actions) != 1 {
		t.Fatalf("inline action ran %d times, want 1", len(e.rec.actions))
	}
	checkActionRequest(t, e.rec.actions[0])
}

func checkActionRequest(t *testing.T, req bot.ActionRequest) {
	t.Helper()
	if req.Action == nil || req.Action.ActionID != "a" || req.Action.BlockID != "b" || req.Action.Value != "click_me_123" || req.Action.ActionTs != "1596530385.194939" {
		t.Errorf("action = %+v", req.Action)
	}
	cb := req.Callback
	if cb.Type != slack.InteractionTypeBlockActions || cb.User.ID != "W111" || cb.Channel.ID != "C111" || cb.TriggerID != "111.222.valid" ||
		cb.Container.MessageTs != "111.222" || cb.ResponseURL != "https://hooks.slack.com/actions/T111/111/random-value" {
		t.Errorf("callback = %+v", cb)
	}
}

func TestInteractionInlineActionErrorIsReturned(t *testing.T) {
	e := newDispatcherEnv(t, func(reg *bot.Registries, _ *recorder) error {
		return reg.Actions.Register(bot.Action{ID: "a", Inline: true, Run: func(context.Context, bot.ActionRequest) error {
			return errors.New("views.open failed")
		}})
	})
	_, err := e.d.Interaction(context.Background(), blockActionsFixture(t))
	if err == nil || errors.Is(err, bot.ErrBadPayload) || !strings.Contains(err.Error(), "views.open failed") {
		t.Fatalf("Interaction = %v", err)
	}
}

func TestInteractionActionIsEnqueuedAndTheJobRunsIt(t *testing.T) {
	e := newDispatcherEnv(t, func(reg *bot.Registries, rec *recorder) error {
		return reg.Actions.Register(bot.Action{ID: "a", Run: rec.action("a")})
	})
	if _, err := e.d.Interaction(context.Background(), blockActionsFixture(t)); err != nil {
		t.Fatal(err)
	}
	if len(e.rec.actions) != 0 {
		t.Fatal("non-inline action ran before Slack was answered")
	}
	if len(e.queue.enqueued) != 1 {
		t.Fatalf("enqueued %d jobs, want 1", len(e.queue.enqueued))
	}
	j := e.queue.enqueued[0]
	if j.Kind != bot.JobSlackAction || j.DedupKey != "action:W111:a:1596530385.194939" {
		t.Errorf("job = %s %s", j.Kind, j.DedupKey)
	}
	if e.waker.count() == 0 {
		t.Error("did not wake the worker")
	}
	if err := runStoredJob(t, e.reg, j); err != nil {
		t.Fatal(err)
	}
	if len(e.rec.actions) != 1 {
		t.Fatalf("job ran the action %d times", len(e.rec.actions))
	}
	checkActionRequest(t, e.rec.actions[0])
}

func TestInteractionUnknownActionIsIgnored(t *testing.T) {
	e := newDispatcherEnv(t, nil)
	if _, err := e.d.Interaction(context.Background(), blockActionsFixture(t)); err != nil {
		t.Fatal(err)
	}
	if len(e.queue.enqueued) != 0 {
		t.Error("enqueued an action nothing handles")
	}
}

func TestInteractionEnqueueFailureIsReturned(t *testing.T) {
	e := newDispatcherEnv(t, func(reg *bot.Registries, rec *recorder) error {
		return reg.Actions.Register(bot.Action{ID: "a", Run: rec.action("a")})
	})
	e.queue.err = errors.New("database is down")
	_, err := e.d.Interaction(context.Background(), blockActionsFixture(t))
	if err == nil || errors.Is(err, bot.ErrBadPayload) {
		t.Fatalf("Interaction = %v, want the storage error", err)
	}
}

func TestInteractionViewSubmissionWithoutHandler(t *testing.T) {
	e := newDispatcherEnv(t, nil)
	resp, err := e.d.Interaction(context.Background(), fixture(t, "interactive_view_submission.json"))
	if err != nil || resp.Body != nil {
		t.Fatalf("Interaction = %+v, %v; want ignored", resp, err)
	}
}

func TestInteractionBadPayloads(t *testing.T) {
	for name, payload := range map[string]string{
		"not JSON":       `payload=%7B%7D`,
		"truncated":      `{"type":"block_actions","actions":[`,
		"empty":          ``,
		"wrong shape":    `{"type":"block_actions","actions":"a"}`,
		"user as string": `{"type":"block_actions","user":"W111"}`,
	} {
		t.Run(name, func(t *testing.T) {
			e := newDispatcherEnv(t, nil)
			if _, err := e.d.Interaction(context.Background(), []byte(payload)); !errors.Is(err, bot.ErrBadPayload) {
				t.Fatalf("Interaction = %v, want ErrBadPayload", err)
			}
		})
	}
}

func TestActionJobFailures(t *testing.T) {
	e := newDispatcherEnv(t, func(reg *bot.Registries, rec *recorder) error {
		return reg.Actions.Register(bot.Action{ID: "a", Run: rec.action("a")})
	})
	fn, _ := e.reg.Jobs.Lookup(bot.JobSlackAction)
	cb := blockActionsFixture(t)
	job := func(index int, callback []byte) []byte {
		b, err := json.Marshal(map[string]any{"index": index, "callback": json.RawMessage(callback)})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for name, payload := range map[string][]byte{
		"not JSON":          []byte("nope"),
		"index too large":   job(1, cb),
		"negative index":    job(-1, cb),
		"removed handler":   job(0, bytes.Replace(cb, []byte(`"action_id": "a"`), []byte(`"action_id": "gone"`), 1)),
		"callback mangled":  job(0, []byte(`{"type":"block_actions","actions":"a"}`)),
		"callback no array": job(0, []byte(`{"type":"block_actions"}`)),
	} {
		if err := fn(context.Background(), payload); !errors.Is(err, bot.ErrPermanent) {
			t.Errorf("%s: job = %v, want ErrPermanent", name, err)
		}
	}
	if len(e.rec.actions) != 0 {
		t.Error("a failing job ran the handler")
	}
}

func TestSlashDispatch(t *testing.T) {
	var got slack.SlashCommand
	e := newDispatcherEnv(t, func(reg *bot.Registries, _ *recorder) error {
		if err := reg.Slash.Register(bot.SlashCommand{Command: "/incident", Run: func(_ context.Context, cmd slack.SlashCommand) (bot.SlashResponse, error) {
			got = cmd
			switch cmd.Text {
			case "":
				return bot.SlashResponse{}, bot.Usagef("Say what is wrong")
			case "fail":
				return bot.SlashResponse{}, errors.New("database is down")
			}
			return bot.SlashResponse{Text: "declared", InChannel: true}, nil
		}}); err != nil {
			return err
		}
		return nil
	})
	ctx := context.Background()
	resp, err := e.d.Slash(ctx, slack.SlashCommand{Command: "/INCIDENT", Text: "checkout down", UserID: "U1"})
	if err != nil || resp.Text != "declared" || !resp.InChannel || got.Text != "checkout down" {
		t.Errorf("Slash = %+v, %v", resp, err)
	}
	if e.waker.count() != 1 {
		t.Errorf("woke %d times, want 1", e.waker.count())
	}
	resp, err = e.d.Slash(ctx, slack.SlashCommand{Command: "/incident"})
	if err != nil || resp.Text != "Say what is wrong" {
		t.Errorf("usage error: Slash = %+v, %v", resp, err)
	}
	if _, err = e.d.Slash(ctx, slack.SlashCommand{Command: "/incident", Text: "fail"}); err == nil || !strings.Contains(err.Error(), "/incident") {
		t.Errorf("failing command: Slash error = %v", err)
	}
	resp, err = e.d.Slash(ctx, slack.SlashCommand{Command: "/weather", Text: "94070"})
	if err != nil || !strings.Contains(resp.Text, "/weather") || resp.InChannel {
		t.Errorf("unknown command: Slash = %+v, %v", resp, err)
	}
}
