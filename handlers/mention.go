package handlers

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/heraldhq/herald/bot"
	"github.com/heraldhq/herald/models"
)

// mentionPattern finds a user mention, with an optional "|label" suffix.
var mentionPattern = regexp.MustCompile(`<@([UW][A-Z0-9]+)(?:\|[^>]*)?>`)

// ParseMention extracts the command name and its arguments from the text of
// an app_mention: the words after the bot's mention. botUserID may be empty
// (then the first mention counts). Arguments keep their line breaks.
func ParseMention(text, botUserID string) (name, args string, ok bool) {
	rest := ""
	found := false
	for _, m := range mentionPattern.FindAllStringSubmatchIndex(text, -1) {
		id := text[m[2]:m[3]]
		if botUserID == "" || id == botUserID {
			rest, found = text[m[1]:], true
			break
		}
	}
	if !found {
		return "", "", false
	}
	// Any Unicode space separates words: Slack clients send no-break
	// spaces, e.g. after an autocompleted mention.
	rest = strings.TrimLeftFunc(rest, func(r rune) bool { return unicode.IsSpace(r) || r == ':' || r == ',' })
	if rest == "" {
		return "", "", true
	}
	end := strings.IndexFunc(rest, unicode.IsSpace)
	if end < 0 {
		return strings.ToLower(rest), "", true
	}
	return strings.ToLower(rest[:end]), strings.TrimSpace(rest[end:]), true
}

// mentionHandler turns `@incident <command> ...` into a registry command.
func mentionHandler(d Deps, commands *bot.CommandRegistry) bot.EventHandler {
	return bot.EventHandler{
		Name: "incident-commands",
		Type: "app_mention",
		Run: func(ctx context.Context, req bot.EventRequest) error {
			ev, ok := req.Inner.Data.(*slackevents.AppMentionEvent)
			if !ok {
				return wrongEvent("app_mention", req.Inner.Data)
			}
			if ev.BotID != "" || ev.User == "" || ev.User == d.Settings.BotUserID {
				return nil // never answer bots, ourselves included
			}
			name, args, ok := ParseMention(ev.Text, d.Settings.BotUserID)
			if !ok {
				return nil
			}
			if name == "" {
				name = "help"
			}
			cmd, found := commands.Lookup(name)
			if !found {
				return rejectCommand(ctx, d, ev, fmt.Sprintf("I don't know the command `%s`.", name), "Try `@"+d.Settings.BotName+" help` for the list.")
			}
			inc, err := d.Store.IncidentByCommsChannel(ctx, ev.Channel)
			switch {
			case err == nil:
			case models.IsNotFound(err):
				if !cmd.AnyChannel {
					return rejectCommand(ctx, d, ev, fmt.Sprintf("`%s` works in an incident's channel, and this channel is not one.", cmd.Name), "")
				}
				inc = nil
			default:
				return err
			}
			err = cmd.Run(ctx, bot.CommandRequest{
				Incident: inc, ChannelID: ev.Channel, UserID: ev.User, MessageTS: ev.TimeStamp,
				ThreadTS: ev.ThreadTimeStamp, Name: name, Args: args,
			})
			var ue *bot.UsageError
			if errors.As(err, &ue) {
				return rejectCommand(ctx, d, ev, ue.Message, "Usage: "+cmd.UsageLine(d.Settings.BotName))
			}
			return err
		},
	}
}

// rejectCommand tells the caller, privately, what was wrong and marks their
// message with ❓. Nothing else changes.
func rejectCommand(ctx context.Context, d Deps, ev *slackevents.AppMentionEvent, problem, hint string) error {
	text := problem
	if hint != "" {
		text += "\n" + hint
	}
	if err := d.Slack.AddReactionContext(ctx, "question", slack.NewRefToMessage(ev.Channel, ev.TimeStamp)); err != nil && !isAlreadyReacted(err) {
		return slackError("reacting to unknown command", err)
	}
	if _, err := d.Slack.PostEphemeralContext(ctx, ev.Channel, ev.User, ephemeralOpts(ev.ThreadTimeStamp, text)...); err != nil {
		return slackError("replying to unknown command", err)
	}
	return nil
}

func isAlreadyReacted(err error) bool {
	var se slack.SlackErrorResponse
	return errors.As(err, &se) && se.Err == "already_reacted" || err.Error() == "already_reacted"
}

func ephemeralOpts(threadTS, text string) []slack.MsgOption {
	opts := []slack.MsgOption{slack.MsgOptionText(text, false)}
	if threadTS != "" {
		opts = append(opts, slack.MsgOptionTS(threadTS))
	}
	return opts
}

// helpCommand lists the registered commands, generated from the registry.
func helpCommand(d Deps, commands *bot.CommandRegistry) bot.Command {
	return bot.Command{
		Name:       "help",
		Help:       "list the commands I understand",
		AnyChannel: true,
		Run: func(ctx context.Context, req bot.CommandRequest) error {
			_, err := d.Slack.PostEphemeralContext(ctx, req.ChannelID, req.UserID, ephemeralOpts(req.ThreadTS, commands.Help(d.Settings.BotName))...)
			if err != nil {
				return slackError("posting help", err)
			}
			return nil
		},
	}
}
