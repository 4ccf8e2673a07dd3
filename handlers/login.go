package handlers

import (
	"context"

	"github.com/slack-go/slack"

	"github.com/heraldhq/herald/bot"
	"github.com/heraldhq/herald/models"
)

// LoginLinker issues one-time web sign-in links for Slack users; ui.LoginLinks
// is one. The link is a credential: it is sent only by DM, never logged.
type LoginLinker interface {
	ForSlackUser(ctx context.Context, slackUserID, displayName string) (string, error)
}

// loginCommand is `@incident login`: the bot DMs the caller a one-time
// link that signs them in to the web pages, and says so privately where
// they asked.
func loginCommand(d Deps) bot.Command {
	return bot.Command{
		Name:       "login",
		Help:       "DM you a one-time link that signs you in to Herald's web pages",
		AnyChannel: true,
		Run: func(ctx context.Context, req bot.CommandRequest) error {
			answer := "I sent you a sign-in link in a DM."
			if d.LoginLinks == nil {
				answer = "The web pages are not set up in this Herald, so there is no sign-in link to send."
			} else {
				name := ""
				if u, err := d.Store.UserBySlackID(ctx, req.UserID); err == nil {
					name = u.DisplayName
				} else if !models.IsNotFound(err) {
					return err
				}
				link, err := d.LoginLinks.ForSlackUser(ctx, req.UserID, name)
				if err != nil {
					return err
				}
				// Posting to a user id lands in the bot's DM with them. No
				// unfurl: Slack would fetch the link.
				text := "Here is your one-time link to Herald's web pages (it works once and expires in a few minutes; do not share it):\n" + link
				if _, _, err := d.Slack.PostMessageContext(ctx, req.UserID, slack.MsgOptionText(text, false),
					slack.MsgOptionDisableLinkUnfurl(), slack.MsgOptionDisableMediaUnfurl()); err != nil {
					return slackError("sending a sign-in link by DM", err)
				}
			}
			_, err := d.Slack.PostEphemeralContext(ctx, req.ChannelID, req.UserID, ephemeralOpts(req.ThreadTS, answer)...)
			return slackError("answering login", err)
		},
	}
}
