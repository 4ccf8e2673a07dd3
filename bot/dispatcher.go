package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/heraldhq/herald/models"
)

// Job kinds the dispatcher stores for work done after Slack is answered.
const (
	JobSlackEvent  = "slack.event"
	JobSlackAction = "slack.action"
)

// ErrBadPayload means a request body (already verified as Slack's) is not a
// payload Herald understands.
var ErrBadPayload = errors.New("malformed Slack payload")

// JobQueue is the storage the dispatcher needs: receipts and jobs.
type JobQueue interface {
	RecordSlackEvent(ctx context.Context, eventID, kind string, jobs ...models.NewJob) error
	EnqueueJobs(ctx context.Context, jobs ...models.NewJob) (int, error)
}

// Waker is told when new jobs are stored, so they run at once.
type Waker interface{ Wake() }

// Dispatcher routes verified Slack requests to the registries. Anything
// slower than a database write is stored as a job and run after Slack has
// its answer.
type Dispatcher struct {
	reg     *Registries
	queue   JobQueue
	waker   Waker
	log     *slog.Logger
	metrics *Metrics
}

// NewDispatcher wires a dispatcher; it registers the job kinds it stores.
func NewDispatcher(reg *Registries, queue JobQueue, waker Waker, log *slog.Logger, metrics *Metrics) (*Dispatcher, error) {
	d := &Dispatcher{reg: reg, queue: queue, waker: waker, log: log, metrics: metrics}
	if err := reg.Jobs.Register(JobSlackEvent, d.runEventJob); err != nil {
		return nil, err
	}
	if err := reg.Jobs.Register(JobSlackAction, d.runActionJob); err != nil {
		return nil, err
	}
	return d, nil
}

// Slash runs a slash command's handler and returns its immediate reply.
func (d *Dispatcher) Slash(ctx context.Context, cmd slack.SlashCommand) (SlashResponse, error) {
	h, ok := d.reg.Slash.Lookup(cmd.Command)
	if !ok {
		return SlashResponse{Text: fmt.Sprintf("Herald does not handle %s. Check the slash command's Request URL in your Slack app settings.", cmd.Command)}, nil
	}
	resp, err := h.Run(ctx, cmd)
	if err != nil {
		var ue *UsageError
		if errors.As(err, &ue) {
			return SlashResponse{Text: ue.Message}, nil
		}
		return SlashResponse{}, fmt.Errorf("%s: %w", cmd.Command, err)
	}
	d.wake()
	return resp, nil
}

// eventJob is the stored form of one event for one handler.
type eventJob struct {
	Handler string          `json:"handler"`
	Body    json.RawMessage `json:"body"`
}

// Event handles an Events API request body. It returns the challenge for
// url_verification; for callbacks it stores one job per interested handler
// (keyed by event id, so retries and other replicas add nothing).
func (d *Dispatcher) Event(ctx context.Context, body []byte) (challenge string, err error) {
	outer, err := slackevents.ParseEvent(json.RawMessage(body), slackevents.OptionNoVerifyToken())
	if err != nil {
		if t, ok := d.unhandledEventType(body); ok {
			d.log.InfoContext(ctx, "ignoring Slack event nothing handles", "type", t, "err", err)
			return "", nil
		}
		return "", fmt.Errorf("%w: %v", ErrBadPayload, err)
	}
	switch outer.Type {
	case slackevents.URLVerification:
		uv, ok := outer.Data.(*slackevents.EventsAPIURLVerificationEvent)
		if !ok || uv.Challenge == "" {
			return "", fmt.Errorf("%w: url_verification without a challenge", ErrBadPayload)
		}
		return uv.Challenge, nil
	case slackevents.CallbackEvent:
		cb, ok := outer.Data.(*slackevents.EventsAPICallbackEvent)
		if !ok || cb.EventID == "" {
			return "", fmt.Errorf("%w: event_callback without an event_id", ErrBadPayload)
		}
		return "", d.recordEvent(ctx, cb.EventID, outer.InnerEvent.Type, body)
	default:
		d.log.DebugContext(ctx, "ignoring Slack event envelope", "type", outer.Type)
		return "", nil
	}
}

// unhandledEventType reports the inner type of an event_callback that no
// handler is registered for. slack-go refuses inner types it does not know
// (new ones Slack adds); those are acknowledged, not answered with a 400,
// which would make Slack retry and eventually disable the app's events.
func (d *Dispatcher) unhandledEventType(body []byte) (string, bool) {
	var env struct {
		Type  string `json:"type"`
		Event struct {
			Type string `json:"type"`
		} `json:"event"`
	}
	if json.Unmarshal(body, &env) != nil || env.Type != slackevents.CallbackEvent || env.Event.Type == "" {
		return "", false
	}
	return env.Event.Type, len(d.reg.Events.For(env.Event.Type)) == 0
}

func (d *Dispatcher) recordEvent(ctx context.Context, eventID, eventType string, body []byte) error {
	handlers := d.reg.Events.For(eventType)
	jobs := make([]models.NewJob, 0, len(handlers))
	for _, h := range handlers {
		payload, err := json.Marshal(eventJob{Handler: h.Name, Body: body})
		if err != nil {
			return fmt.Errorf("encoding event job: %w", err)
		}
		jobs = append(jobs, models.NewJob{Kind: JobSlackEvent, Payload: payload, DedupKey: "event:" + eventID + ":" + h.Name})
	}
	err := d.queue.RecordSlackEvent(ctx, eventID, eventType, jobs...)
	if errors.Is(err, models.ErrDuplicate) {
		d.metrics.duplicateEvent()
		d.log.InfoContext(ctx, "Slack event already received; not handling it again", "event_id", eventID, "type", eventType)
		return nil
	}
	if err != nil {
		return err
	}
	d.wake()
	return nil
}

func (d *Dispatcher) runEventJob(ctx context.Context, payload []byte) error {
	var j eventJob
	if err := json.Unmarshal(payload, &j); err != nil {
		return fmt.Errorf("%w: event job: %v", ErrPermanent, err)
	}
	h, ok := d.reg.Events.Lookup(j.Handler)
	if !ok {
		return fmt.Errorf("%w: no event handler %q (removed since the event was stored?)", ErrPermanent, j.Handler)
	}
	outer, err := slackevents.ParseEvent(j.Body, slackevents.OptionNoVerifyToken())
	if err != nil {
		return fmt.Errorf("%w: stored event: %v", ErrPermanent, err)
	}
	cb, _ := outer.Data.(*slackevents.EventsAPICallbackEvent)
	req := EventRequest{Inner: outer.InnerEvent, TeamID: outer.TeamID}
	if cb != nil {
		req.EventID = cb.EventID
	}
	return h.Run(ctx, req)
}

// actionJob is the stored form of one block action.
type actionJob struct {
	Index    int             `json:"index"`
	Callback json.RawMessage `json:"callback"`
}

// InteractionResponse is what the interactivity endpoint answers: nothing,
// or a JSON body (view submission errors).
type InteractionResponse struct {
	Body any
}

// Interaction handles an interactivity payload (the decoded `payload` form
// field). Inline actions run now; the rest are stored as jobs.
func (d *Dispatcher) Interaction(ctx context.Context, payload []byte) (InteractionResponse, error) {
	var cb slack.InteractionCallback
	if err := json.Unmarshal(payload, &cb); err != nil {
		return InteractionResponse{}, fmt.Errorf("%w: %v", ErrBadPayload, err)
	}
	switch cb.Type {
	case slack.InteractionTypeBlockActions:
		return InteractionResponse{}, d.blockActions(ctx, cb, payload)
	case slack.InteractionTypeViewSubmission:
		return d.viewSubmission(ctx, cb)
	case slack.InteractionTypeMessageAction, slack.InteractionTypeShortcut:
		h, ok := d.reg.Shortcuts.Lookup(cb.CallbackID)
		if !ok {
			d.log.WarnContext(ctx, "no handler for shortcut", "callback_id", cb.CallbackID)
			return InteractionResponse{}, nil
		}
		if err := h.Run(ctx, cb); err != nil {
			return InteractionResponse{}, fmt.Errorf("shortcut %s: %w", cb.CallbackID, err)
		}
		return InteractionResponse{}, nil
	case slack.InteractionTypeViewClosed:
		return InteractionResponse{}, nil
	default:
		d.log.InfoContext(ctx, "ignoring interaction type nothing handles", "type", cb.Type)
		return InteractionResponse{}, nil
	}
}

// viewErrors is Slack's answer that keeps a modal open with field errors.
type viewErrors struct {
	ResponseAction string            `json:"response_action"`
	Errors         map[string]string `json:"errors"`
}

func (d *Dispatcher) viewSubmission(ctx context.Context, cb slack.InteractionCallback) (InteractionResponse, error) {
	h, ok := d.reg.Views.Lookup(cb.View.CallbackID)
	if !ok {
		d.log.WarnContext(ctx, "no handler for view submission", "callback_id", cb.View.CallbackID)
		return InteractionResponse{}, nil
	}
	fieldErrs, err := h.Submit(ctx, cb)
	if err != nil {
		return InteractionResponse{}, fmt.Errorf("view %s: %w", cb.View.CallbackID, err)
	}
	if len(fieldErrs) > 0 {
		return InteractionResponse{Body: viewErrors{ResponseAction: "errors", Errors: fieldErrs}}, nil
	}
	d.wake()
	return InteractionResponse{}, nil
}

func (d *Dispatcher) blockActions(ctx context.Context, cb slack.InteractionCallback, payload []byte) error {
	var jobs []models.NewJob
	for i, a := range cb.ActionCallback.BlockActions {
		h, ok := d.reg.Actions.Lookup(a.ActionID)
		if !ok {
			d.log.WarnContext(ctx, "no handler for Block Kit action", "action_id", a.ActionID)
			continue
		}
		if h.Inline {
			if err := h.Run(ctx, ActionRequest{Callback: cb, Action: a}); err != nil {
				return fmt.Errorf("action %s: %w", a.ActionID, err)
			}
			continue
		}
		p, err := json.Marshal(actionJob{Index: i, Callback: payload})
		if err != nil {
			return fmt.Errorf("encoding action job: %w", err)
		}
		// A double click sends two payloads with different action_ts;
		// handlers are idempotent for that. The key only stops a replay of
		// the very same payload.
		jobs = append(jobs, models.NewJob{Kind: JobSlackAction, Payload: p, DedupKey: fmt.Sprintf("action:%s:%s:%s", cb.User.ID, a.ActionID, a.ActionTs)})
	}
	if len(jobs) == 0 {
		d.wake() // inline actions may have stored work
		return nil
	}
	if _, err := d.queue.EnqueueJobs(ctx, jobs...); err != nil {
		return err
	}
	d.wake()
	return nil
}

func (d *Dispatcher) runActionJob(ctx context.Context, payload []byte) error {
	var j actionJob
	if err := json.Unmarshal(payload, &j); err != nil {
		return fmt.Errorf("%w: action job: %v", ErrPermanent, err)
	}
	var cb slack.InteractionCallback
	if err := json.Unmarshal(j.Callback, &cb); err != nil {
		return fmt.Errorf("%w: stored interaction: %v", ErrPermanent, err)
	}
	actions := cb.ActionCallback.BlockActions
	if j.Index < 0 || j.Index >= len(actions) {
		return fmt.Errorf("%w: action index %d out of range", ErrPermanent, j.Index)
	}
	a := actions[j.Index]
	h, ok := d.reg.Actions.Lookup(a.ActionID)
	if !ok {
		return fmt.Errorf("%w: no action handler %q", ErrPermanent, a.ActionID)
	}
	return h.Run(ctx, ActionRequest{Callback: cb, Action: a})
}

func (d *Dispatcher) wake() {
	if d.waker != nil {
		d.waker.Wake()
	}
}
