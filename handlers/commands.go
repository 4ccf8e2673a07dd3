package handlers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/slack-go/slack"

	"github.com/heraldhq/herald/bot"
	"github.com/heraldhq/herald/models"
)

// The `@incident` commands of a comms channel. Each replies to the caller
// privately saying what happened; a mistake of the caller's comes back as a
// *bot.UsageError, which the mention handler turns into the usage line and
// a ❓, with nothing changed. The changes themselves are the shared
// operations of ops.go (timeline, audit, notice, headline refresh).
//
// This file: argument parsing, replies, and the commands on the incident's
// state (lead, severity, status, ack, close, reopen, duration).
// commands_text.go: summary and impact. commands_more.go: the rest.

// --- parsing ---------------------------------------------------------------

// parseUserMention reads a Slack user mention, `<@U123>` or
// `<@W123|name>`, at the start of s (after any spaces). It returns the
// user id and what follows, without its leading spaces; when s does not
// start with a mention, ok is false and rest is s.
func parseUserMention(s string) (id, rest string, ok bool) {
	t := strings.TrimLeftFunc(s, unicode.IsSpace)
	body, found := strings.CutPrefix(t, "<@")
	if !found {
		return "", s, false
	}
	end := strings.IndexByte(body, '>')
	if end < 0 {
		return "", s, false
	}
	id, _, _ = strings.Cut(body[:end], "|")
	if !isSlackUserID(id) {
		return "", s, false
	}
	return id, strings.TrimLeftFunc(body[end+1:], unicode.IsSpace), true
}

// isSlackUserID reports whether id looks like a user id: U or W (Enterprise
// Grid) and upper-case letters or digits.
func isSlackUserID(id string) bool {
	if len(id) < 2 || (id[0] != 'U' && id[0] != 'W') {
		return false
	}
	for _, r := range id[1:] {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}

// splitTrailingMention takes a user mention off the end of s, as in
// `action fix the alert <@U123>`. Without one, id is "" and text is s.
func splitTrailingMention(s string) (text, id string) {
	s = strings.TrimRightFunc(s, unicode.IsSpace)
	i := strings.LastIndex(s, "<@")
	if i < 0 {
		return s, ""
	}
	if i > 0 {
		if r := lastRune(s[:i]); !unicode.IsSpace(r) {
			return s, "" // part of a word
		}
	}
	id, rest, ok := parseUserMention(s[i:])
	if !ok || rest != "" {
		return s, ""
	}
	return strings.TrimRightFunc(s[:i], unicode.IsSpace), id
}

func lastRune(s string) rune {
	r := []rune(s)
	if len(r) == 0 {
		return 0
	}
	return r[len(r)-1]
}

// cutWord splits off the first word of s; rest keeps its line breaks.
func cutWord(s string) (word, rest string) {
	s = strings.TrimLeftFunc(s, unicode.IsSpace)
	end := strings.IndexFunc(s, unicode.IsSpace)
	if end < 0 {
		return s, ""
	}
	return s[:end], strings.TrimLeftFunc(s[end:], unicode.IsSpace)
}

// slackUnescape turns message text as Slack sends it (&, < and > escaped)
// back into what the person typed, for fields stored as plain text.
// Mentions (<@U123>) stay as they are.
var slackUnescape = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace

// --- replies ---------------------------------------------------------------

// reply answers the caller privately, in the thread they wrote in.
func (d Deps) reply(ctx context.Context, req bot.CommandRequest, text string, blocks ...slack.Block) error {
	opts := ephemeralOpts(req.ThreadTS, text)
	if len(blocks) > 0 {
		opts = append(opts, slack.MsgOptionBlocks(blocks...))
	}
	if _, err := d.Slack.PostEphemeralContext(ctx, req.ChannelID, req.UserID, opts...); err != nil {
		return slackError("answering @"+d.Settings.BotName+" "+req.Name, err)
	}
	return nil
}

// confirm is reply after a change is stored: failing to say so is logged,
// not returned, so the event is not run again to make the change twice.
func (d Deps) confirm(ctx context.Context, req bot.CommandRequest, text string) error {
	if err := d.reply(ctx, req, text); err != nil {
		d.Log.WarnContext(ctx, "could not confirm an incident command", "command", req.Name, "err", err)
	}
	return nil
}

// refuse turns an operation's error into the caller's *bot.UsageError when
// it is theirs to fix: noChange explains models.ErrNoChange, explain the
// rest. Other errors are returned as they are.
func refuse(err error, noChange string) error {
	if err == nil {
		return nil
	}
	if noChange != "" && errors.Is(err, models.ErrNoChange) {
		return &bot.UsageError{Message: noChange}
	}
	if msg, ok := explain(err); ok {
		return &bot.UsageError{Message: msg}
	}
	return err
}

// commandIncident is the incident a command works on.
func commandIncident(req bot.CommandRequest) (*models.Incident, error) {
	if req.Incident == nil {
		return nil, bot.Usagef("`%s` works in an incident's channel, and this channel is not one.", req.Name)
	}
	return req.Incident, nil
}

// incidentCommand builds a command that needs the incident and the caller.
func (d Deps) incidentCommand(c bot.Command, run func(ctx context.Context, req bot.CommandRequest, inc *models.Incident, actor *models.ExternalUser) error) bot.Command {
	c.Run = func(ctx context.Context, req bot.CommandRequest) error {
		inc, err := commandIncident(req)
		if err != nil {
			return err
		}
		actor, err := d.actor(ctx, req.UserID)
		if err != nil {
			return err
		}
		return run(ctx, req, inc, actor)
	}
	return c
}

// noArgs refuses arguments to a command that takes none.
func noArgs(req bot.CommandRequest) error {
	if strings.TrimSpace(req.Args) != "" {
		return bot.Usagef("`%s` takes no arguments.", req.Name)
	}
	return nil
}

// --- the incident's state -----------------------------------------------

func leadCommand(d Deps) bot.Command {
	return d.incidentCommand(bot.Command{
		Name: "lead", Aliases: []string{"commander"}, Usage: "[@person]",
		Help: "make someone (you, without a name) the incident's lead",
	}, func(ctx context.Context, req bot.CommandRequest, inc *models.Incident, actor *models.ExternalUser) error {
		lead := actor
		if args := strings.TrimSpace(req.Args); args != "" {
			id, rest, ok := parseUserMention(args)
			if !ok || rest != "" {
				return bot.Usagef("Name one person with an @mention, or nobody to lead it yourself.")
			}
			if id == d.Settings.BotUserID {
				return bot.Usagef("I can keep notes, but a person has to lead the incident.")
			}
			var err error
			if lead, err = d.actor(ctx, id); err != nil {
				return err
			}
		}
		_, err := d.setLead(ctx, inc.ID, actor, lead)
		if err := refuse(err, fmt.Sprintf("%s is already leading incident #%d.", mention(lead), inc.Number)); err != nil {
			return err
		}
		return d.confirm(ctx, req, fmt.Sprintf("%s is now leading incident #%d.", mention(lead), inc.Number))
	})
}

func severityCommand(d Deps) bot.Command {
	return d.incidentCommand(bot.Command{
		Name: "severity", Aliases: []string{"sev"}, Usage: "<1-4|critical|major|minor|trivial>",
		Help: "set how bad it is",
	}, func(ctx context.Context, req bot.CommandRequest, inc *models.Incident, actor *models.ExternalUser) error {
		if strings.TrimSpace(req.Args) == "" {
			return bot.Usagef("Incident #%d is %s. Which severity should it be?", inc.Number, inc.Severity)
		}
		sev, err := models.ParseSeverity(req.Args)
		if err != nil {
			return &bot.UsageError{Message: err.Error()}
		}
		_, err = d.setSeverity(ctx, inc.ID, actor, sev)
		if err := refuse(err, fmt.Sprintf("Incident #%d is already %s.", inc.Number, sev)); err != nil {
			return err
		}
		return d.confirm(ctx, req, fmt.Sprintf("Incident #%d is now %s.", inc.Number, sev))
	})
}

func statusCommand(d Deps) bot.Command {
	return d.incidentCommand(bot.Command{
		Name: "status", Usage: "<investigating|identified|monitoring|resolved>",
		Help: "say where the response stands",
	}, func(ctx context.Context, req bot.CommandRequest, inc *models.Incident, actor *models.ExternalUser) error {
		if strings.TrimSpace(req.Args) == "" {
			return bot.Usagef("Incident #%d is %s. Which status should it have?", inc.Number, inc.Status)
		}
		status, err := models.ParseStatus(req.Args)
		if err != nil {
			return &bot.UsageError{Message: err.Error()}
		}
		_, err = d.setStatus(ctx, inc.ID, actor, status)
		noChange := fmt.Sprintf("Incident #%d is already %s.", inc.Number, status)
		if status == models.StatusResolved {
			noChange = fmt.Sprintf("Incident #%d is already closed.", inc.Number)
		}
		if err := refuse(err, noChange); err != nil {
			return err
		}
		return d.confirm(ctx, req, fmt.Sprintf("Incident #%d is now %s.", inc.Number, status))
	})
}

func ackCommand(d Deps) bot.Command {
	return d.incidentCommand(bot.Command{
		Name: "ack", Aliases: []string{"acknowledge"},
		Help: "say someone is on it",
	}, func(ctx context.Context, req bot.CommandRequest, inc *models.Incident, actor *models.ExternalUser) error {
		if err := noArgs(req); err != nil {
			return err
		}
		_, err := d.acknowledge(ctx, inc.ID, actor)
		if errors.Is(err, models.ErrNoChange) {
			// The incident may have changed since the mention was read.
			if cur, lerr := d.Store.IncidentByID(ctx, inc.ID); lerr == nil && !cur.IsOpen() {
				return bot.Usagef("Incident #%d is closed; there is nothing to acknowledge.", inc.Number)
			}
			return bot.Usagef("Incident #%d is already acknowledged.", inc.Number)
		}
		if err := refuse(err, ""); err != nil {
			return err
		}
		return d.confirm(ctx, req, fmt.Sprintf("Acknowledged incident #%d.", inc.Number))
	})
}

func closeCommand(d Deps) bot.Command {
	return d.incidentCommand(bot.Command{
		Name: "close", Aliases: []string{"resolve"},
		Help: "mark the incident resolved",
	}, func(ctx context.Context, req bot.CommandRequest, inc *models.Incident, actor *models.ExternalUser) error {
		if err := noArgs(req); err != nil {
			return err
		}
		closed, err := d.closeIncident(ctx, inc.ID, actor)
		if err := refuse(err, fmt.Sprintf("Incident #%d is already closed.", inc.Number)); err != nil {
			return err
		}
		return d.confirm(ctx, req, fmt.Sprintf("Closed incident #%d after %s. `@%s reopen` opens it again.",
			inc.Number, bot.HumanDuration(closed.Duration(d.Clock.Now())), d.Settings.BotName))
	})
}

func reopenCommand(d Deps) bot.Command {
	return d.incidentCommand(bot.Command{
		Name: "reopen", Help: "open a closed incident again",
	}, func(ctx context.Context, req bot.CommandRequest, inc *models.Incident, actor *models.ExternalUser) error {
		if err := noArgs(req); err != nil {
			return err
		}
		_, err := d.reopen(ctx, inc.ID, actor)
		if err := refuse(err, fmt.Sprintf("Incident #%d is already open.", inc.Number)); err != nil {
			return err
		}
		return d.confirm(ctx, req, fmt.Sprintf("Re-opened incident #%d.", inc.Number))
	})
}

func durationCommand(d Deps) bot.Command {
	return d.incidentCommand(bot.Command{
		Name: "duration", Help: "how long the incident has run",
	}, func(ctx context.Context, req bot.CommandRequest, inc *models.Incident, _ *models.ExternalUser) error {
		now := d.Clock.Now()
		took := bot.HumanDuration(inc.Duration(now))
		if inc.IsOpen() {
			return d.reply(ctx, req, fmt.Sprintf("Incident #%d has been running for %s, since %s.", inc.Number, took, bot.SlackDate(inc.ReportedAt)))
		}
		if inc.ResolvedAt == nil {
			return d.reply(ctx, req, fmt.Sprintf("Incident #%d is closed; it started %s.", inc.Number, bot.SlackDate(inc.ReportedAt)))
		}
		return d.reply(ctx, req, fmt.Sprintf("Incident #%d ran for %s: from %s until it was closed %s.",
			inc.Number, took, bot.SlackDate(inc.ReportedAt), bot.SlackDate(*inc.ResolvedAt)))
	})
}
