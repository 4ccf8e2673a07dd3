package web

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/slack-go/slack"

	"github.com/heraldhq/herald/bot"
)

type slackEndpoints struct{ o Options }

// verifiedBody reads the raw body, bounded, and checks Slack's signature
// before anything looks inside it.
func (s *slackEndpoints) verifiedBody(c echo.Context, endpoint string) ([]byte, error) {
	r := c.Request()
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), r.Body, s.o.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			s.o.Metrics.Request(endpoint, "too_large", 0)
			return nil, echo.NewHTTPError(http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is larger than %d bytes", s.o.MaxBodyBytes))
		}
		return nil, echo.NewHTTPError(http.StatusBadRequest, "could not read request body")
	}
	if err := s.o.Verifier.Verify(r.Header, body); err != nil {
		s.o.Metrics.Request(endpoint, "unauthorized", 0)
		s.o.Log.WarnContext(r.Context(), "rejected Slack request", "endpoint", endpoint, "reason", err.Error(),
			"request_id", c.Response().Header().Get(echo.HeaderXRequestID))
		return nil, echo.NewHTTPError(http.StatusUnauthorized, "invalid Slack signature: "+err.Error())
	}
	return body, nil
}

func badRequest(format string, args ...any) error {
	return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf(format, args...))
}

// ParseSlashCommand decodes a slash command's form body.
func ParseSlashCommand(body []byte) (slack.SlashCommand, error) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return slack.SlashCommand{}, fmt.Errorf("%w: slash command body is not form-encoded: %v", bot.ErrBadPayload, err)
	}
	cmd := slack.SlashCommand{
		Token: form.Get("token"), TeamID: form.Get("team_id"), TeamDomain: form.Get("team_domain"),
		EnterpriseID: form.Get("enterprise_id"), EnterpriseName: form.Get("enterprise_name"),
		ChannelID: form.Get("channel_id"), ChannelName: form.Get("channel_name"),
		UserID: form.Get("user_id"), UserName: form.Get("user_name"),
		Command: form.Get("command"), Text: form.Get("text"),
		ResponseURL: form.Get("response_url"), TriggerID: form.Get("trigger_id"), APIAppID: form.Get("api_app_id"),
	}
	var missing []string
	for _, f := range []struct{ name, v string }{{"command", cmd.Command}, {"user_id", cmd.UserID}, {"channel_id", cmd.ChannelID}} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return slack.SlashCommand{}, fmt.Errorf("%w: slash command is missing %s", bot.ErrBadPayload, strings.Join(missing, ", "))
	}
	return cmd, nil
}

type slashReply struct {
	ResponseType string        `json:"response_type"`
	Text         string        `json:"text,omitempty"`
	Blocks       []slack.Block `json:"blocks,omitempty"`
}

func (s *slackEndpoints) commands(c echo.Context) error {
	start := s.o.Clock.Now()
	body, err := s.verifiedBody(c, "commands")
	if err != nil {
		return err
	}
	cmd, err := ParseSlashCommand(body)
	if err != nil {
		s.o.Metrics.Request("commands", "bad_request", s.o.Clock.Now().Sub(start))
		return badRequest("%v", err)
	}
	ctx := c.Request().Context()
	resp, err := s.o.Dispatcher.Slash(ctx, cmd)
	if err != nil {
		// Slack shows only a 200's text to the user: explain there.
		s.o.Log.ErrorContext(ctx, "slash command failed", "command", cmd.Command, "err", err,
			"request_id", c.Response().Header().Get(echo.HeaderXRequestID))
		s.o.Metrics.Request("commands", "error", s.o.Clock.Now().Sub(start))
		return c.JSON(http.StatusOK, slashReply{ResponseType: slack.ResponseTypeEphemeral,
			Text: "Sorry, Herald could not do that just now (" + c.Response().Header().Get(echo.HeaderXRequestID) + "). Nothing was declared; please try again."})
	}
	reply := slashReply{ResponseType: slack.ResponseTypeEphemeral, Text: resp.Text, Blocks: resp.Blocks}
	if resp.InChannel {
		reply.ResponseType = slack.ResponseTypeInChannel
	}
	s.o.Metrics.Request("commands", "ok", s.o.Clock.Now().Sub(start))
	if reply.Text == "" && len(reply.Blocks) == 0 {
		return c.NoContent(http.StatusOK)
	}
	return c.JSON(http.StatusOK, reply)
}

func (s *slackEndpoints) events(c echo.Context) error {
	start := s.o.Clock.Now()
	body, err := s.verifiedBody(c, "events")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if n := c.Request().Header.Get("X-Slack-Retry-Num"); n != "" {
		s.o.Log.InfoContext(ctx, "Slack is retrying an event delivery", "retry_num", n, "reason", c.Request().Header.Get("X-Slack-Retry-Reason"))
	}
	challenge, err := s.o.Dispatcher.Event(ctx, body)
	if errors.Is(err, bot.ErrBadPayload) {
		s.o.Metrics.Request("events", "bad_request", s.o.Clock.Now().Sub(start))
		return badRequest("%v", err)
	}
	if err != nil {
		// Not stored: a 500 makes Slack retry, which is what we want.
		s.o.Metrics.Request("events", "error", s.o.Clock.Now().Sub(start))
		return err
	}
	s.o.Metrics.Request("events", "ok", s.o.Clock.Now().Sub(start))
	if challenge != "" {
		return c.JSON(http.StatusOK, map[string]string{"challenge": challenge})
	}
	return c.NoContent(http.StatusOK)
}

func (s *slackEndpoints) actions(c echo.Context) error {
	start := s.o.Clock.Now()
	body, err := s.verifiedBody(c, "actions")
	if err != nil {
		return err
	}
	form, err := url.ParseQuery(string(body))
	if err != nil || form.Get("payload") == "" {
		s.o.Metrics.Request("actions", "bad_request", s.o.Clock.Now().Sub(start))
		return badRequest("interactivity request must be form-encoded with a payload field")
	}
	resp, err := s.o.Dispatcher.Interaction(c.Request().Context(), []byte(form.Get("payload")))
	if errors.Is(err, bot.ErrBadPayload) {
		s.o.Metrics.Request("actions", "bad_request", s.o.Clock.Now().Sub(start))
		return badRequest("%v", err)
	}
	if err != nil {
		s.o.Metrics.Request("actions", "error", s.o.Clock.Now().Sub(start))
		return err
	}
	s.o.Metrics.Request("actions", "ok", s.o.Clock.Now().Sub(start))
	if resp.Body != nil {
		return c.JSON(http.StatusOK, resp.Body)
	}
	return c.NoContent(http.StatusOK)
}
