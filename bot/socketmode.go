package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// SocketHandler is what Socket Mode hands Slack's requests to: the same
// three methods as the HTTP endpoints' web.SlackDispatcher. *Dispatcher
// implements it.
type SocketHandler interface {
	Slash(ctx context.Context, cmd slack.SlashCommand) (SlashResponse, error)
	Event(ctx context.Context, body []byte) (string, error)
	Interaction(ctx context.Context, payload []byte) (InteractionResponse, error)
}

var _ SocketHandler = (*Dispatcher)(nil)

// socketConcurrency bounds the requests handled at once; more wait, which
// slows reading from the websocket rather than piling up goroutines.
const socketConcurrency = 16

// SocketMode receives Slack's events, slash commands and interactions over
// a Socket Mode websocket instead of HTTP (SLACK_APP_TOKEN set): Herald
// needs no public URL. Requests need no signature check; the websocket is
// authenticated by the app-level token. Each request is acknowledged on the
// socket as the HTTP endpoints would answer it.
type SocketMode struct {
	client  *socketmode.Client
	handler SocketHandler
	log     *slog.Logger
	slots   chan struct{}
}

// NewSocketMode builds the Socket Mode transport. client must carry the
// app-level token (slack.OptionAppLevelToken); opts tune the socketmode
// client (tests shorten the ping interval, for instance).
func NewSocketMode(client *slack.Client, handler SocketHandler, log *slog.Logger, opts ...socketmode.Option) *SocketMode {
	opts = append([]socketmode.Option{socketmode.OptionLog(slogWriter{log})}, opts...)
	return &SocketMode{
		client:  socketmode.New(client, opts...),
		handler: handler,
		log:     log,
		slots:   make(chan struct{}, socketConcurrency),
	}
}

// Run connects, reconnecting as Slack asks, and handles requests until ctx
// ends (then it returns nil, after the requests in hand are answered) or
// the connection fails for good, e.g. a revoked app token.
func (s *SocketMode) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	runErr := make(chan error, 1)
	go func() { runErr <- s.client.RunContext(ctx) }()

	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		select {
		case <-ctx.Done():
			<-runErr
			return nil
		case err := <-runErr:
			if ctx.Err() != nil || errors.Is(err, context.Canceled) {
				return nil
			}
			return fmt.Errorf("slack socket mode: %w", err)
		case evt := <-s.client.Events:
			req := s.request(ctx, evt)
			if req == nil {
				continue
			}
			select {
			case s.slots <- struct{}{}:
			case <-ctx.Done():
				continue
			}
			wg.Add(1)
			go func() {
				defer func() { <-s.slots; wg.Done() }()
				s.serve(ctx, req)
			}()
		}
	}
}

// request logs the socketmode client's own events and returns the Slack
// request an event carries, if any.
func (s *SocketMode) request(ctx context.Context, evt socketmode.Event) *socketmode.Request {
	switch evt.Type {
	case socketmode.EventTypeEventsAPI, socketmode.EventTypeSlashCommand, socketmode.EventTypeInteractive:
		return evt.Request
	case socketmode.EventTypeErrorBadMessage:
		// slack-go could not parse the request (an inner event type it
		// does not know, say). Herald reads the raw payload itself, so
		// handle it anyway rather than leave Slack redelivering it.
		bad, _ := evt.Data.(*socketmode.ErrorBadMessage)
		if bad != nil {
			var req socketmode.Request
			if json.Unmarshal(bad.Message, &req) == nil && req.EnvelopeID != "" {
				s.log.DebugContext(ctx, "Socket Mode request slack-go could not parse; handling the raw payload", "type", req.Type, "err", bad.Cause)
				return &req
			}
			s.log.WarnContext(ctx, "unreadable Socket Mode message", "err", bad.Cause)
		}
	case socketmode.EventTypeConnecting:
		s.log.DebugContext(ctx, "connecting to Slack in Socket Mode")
	case socketmode.EventTypeConnected:
		s.log.InfoContext(ctx, "connected to Slack in Socket Mode")
	case socketmode.EventTypeHello:
		if evt.Request != nil {
			s.log.DebugContext(ctx, "Slack Socket Mode hello", "connections", evt.Request.NumConnections)
		}
	case socketmode.EventTypeConnectionError:
		attrs := []any{}
		if ce, ok := evt.Data.(*slack.ConnectionErrorEvent); ok {
			attrs = append(attrs, "err", ce.ErrorObj, "attempt", ce.Attempt, "retry_in", ce.Backoff)
		}
		s.log.WarnContext(ctx, "Slack Socket Mode connection failed; retrying", attrs...)
	case socketmode.EventTypeInvalidAuth:
		s.log.ErrorContext(ctx, "Slack refused the app-level token (SLACK_APP_TOKEN): create one with the connections:write scope")
	case socketmode.EventTypeIncomingError:
		attrs := []any{}
		if ie, ok := evt.Data.(*slack.IncomingEventError); ok {
			attrs = append(attrs, "err", ie.ErrorObj)
		}
		s.log.WarnContext(ctx, "reading from the Slack Socket Mode connection", attrs...)
	case socketmode.EventTypeErrorWriteFailed:
		attrs := []any{}
		if we, ok := evt.Data.(*socketmode.ErrorWriteFailed); ok {
			attrs = append(attrs, "err", we.Cause)
			if we.Response != nil {
				attrs = append(attrs, "envelope_id", we.Response.EnvelopeID)
			}
		}
		s.log.WarnContext(ctx, "could not acknowledge a Slack request; Slack will redeliver it", attrs...)
	default:
		s.log.DebugContext(ctx, "Socket Mode event", "type", evt.Type)
	}
	return nil
}

// serve handles one request and acknowledges it if it should be.
func (s *SocketMode) serve(ctx context.Context, req *socketmode.Request) {
	payload, ack := s.handle(ctx, req)
	if !ack {
		return
	}
	if err := s.client.AckCtx(ctx, req.EnvelopeID, payload); err != nil {
		s.log.WarnContext(ctx, "acknowledging a Slack request", "type", req.Type, "envelope_id", req.EnvelopeID, "err", err)
	}
}

// socketSlashReply is the ack payload of a slash command: the same body as
// the HTTP endpoint's reply.
type socketSlashReply struct {
	ResponseType string        `json:"response_type"`
	Text         string        `json:"text,omitempty"`
	Blocks       []slack.Block `json:"blocks,omitempty"`
}

// handle routes one Socket Mode request to the handler and returns the ack
// payload (nil for none) and whether to acknowledge at all. An event that
// could not be stored is not acknowledged, so Slack redelivers it; every
// other failure is logged and acknowledged, as retrying cannot help.
func (s *SocketMode) handle(ctx context.Context, req *socketmode.Request) (payload any, ack bool) {
	if req == nil || req.EnvelopeID == "" {
		return nil, false
	}
	log := s.log.With("envelope_id", req.EnvelopeID, "type", req.Type)
	switch req.Type {
	case socketmode.RequestTypeEventsAPI:
		if req.RetryAttempt > 0 {
			log.InfoContext(ctx, "Slack is retrying an event delivery", "retry_num", req.RetryAttempt, "reason", req.RetryReason)
		}
		_, err := s.handler.Event(ctx, req.Payload)
		switch {
		case errors.Is(err, ErrBadPayload):
			log.WarnContext(ctx, "rejected Slack event", "err", err)
		case err != nil:
			log.ErrorContext(ctx, "storing Slack event failed; not acknowledging it, so Slack redelivers", "err", err)
			return nil, false
		}
		return nil, true

	case socketmode.RequestTypeSlashCommands:
		var cmd slack.SlashCommand
		if err := json.Unmarshal(req.Payload, &cmd); err != nil || cmd.Command == "" {
			log.WarnContext(ctx, "rejected Slack slash command", "err", fmt.Errorf("%w: %v", ErrBadPayload, err))
			return nil, true
		}
		resp, err := s.handler.Slash(ctx, cmd)
		if err != nil {
			log.ErrorContext(ctx, "slash command failed", "command", cmd.Command, "err", err)
			return socketSlashReply{ResponseType: slack.ResponseTypeEphemeral,
				Text: "Sorry, Herald could not do that just now (" + req.EnvelopeID + "). Nothing was declared; please try again."}, true
		}
		reply := socketSlashReply{ResponseType: slack.ResponseTypeEphemeral, Text: resp.Text, Blocks: resp.Blocks}
		if resp.InChannel {
			reply.ResponseType = slack.ResponseTypeInChannel
		}
		if reply.Text == "" && len(reply.Blocks) == 0 {
			return nil, true
		}
		return reply, true

	case socketmode.RequestTypeInteractive:
		resp, err := s.handler.Interaction(ctx, req.Payload)
		switch {
		case errors.Is(err, ErrBadPayload):
			log.WarnContext(ctx, "rejected Slack interaction", "err", err)
			return nil, true
		case err != nil:
			log.ErrorContext(ctx, "Slack interaction failed", "err", err)
			return nil, true
		}
		if resp.Body != nil {
			return resp.Body, true
		}
		return nil, true

	default:
		// Acknowledge what Herald does not handle, so it is not resent.
		log.DebugContext(ctx, "ignoring Socket Mode request type")
		return nil, true
	}
}

// slogWriter adapts slog to the socketmode client's debug logger.
type slogWriter struct{ log *slog.Logger }

func (w slogWriter) Output(_ int, s string) error {
	w.log.Debug("slack socketmode: " + strings.TrimSpace(s))
	return nil
}
