package handlers

import (
	"context"
	"errors"
	"fmt"

	"github.com/slack-go/slack"

	"github.com/heraldhq/herald/bot"
	"github.com/heraldhq/herald/models"
)

// The headline post's buttons. Each runs as a stored job after Slack is
// answered (edit, which needs the trigger_id, is in declare.go).

// tellClicker answers the person who clicked, privately, where they clicked.
func (d Deps) tellClicker(ctx context.Context, req bot.ActionRequest, text string) error {
	channel := req.Callback.Channel.ID
	if channel == "" {
		channel = req.Callback.Container.ChannelID
	}
	if channel == "" {
		return nil
	}
	if _, err := d.Slack.PostEphemeralContext(ctx, channel, req.Callback.User.ID, slack.MsgOptionText(text, false)); err != nil {
		return slackError("answering a button", err)
	}
	return nil
}

// buttonOp runs an incident operation for a click and explains refusals to
// the clicker instead of failing the job.
func (d Deps) buttonOp(id string, op func(ctx context.Context, inc *models.Incident, actor *models.ExternalUser) (string, error)) bot.Action {
	return bot.Action{
		ID: id,
		Run: func(ctx context.Context, req bot.ActionRequest) error {
			inc, err := d.incidentOfAction(ctx, req)
			if err != nil {
				return err
			}
			actor, err := d.actor(ctx, req.Callback.User.ID)
			if err != nil {
				return err
			}
			reply, err := op(ctx, inc, actor)
			if msg, ok := explain(err); ok {
				return d.tellClicker(ctx, req, msg)
			}
			if err != nil {
				return err
			}
			if reply != "" {
				return d.tellClicker(ctx, req, reply)
			}
			return nil
		},
	}
}

func createCommsButton(d Deps) bot.Action {
	return d.buttonOp(bot.ActionCreateComms, func(ctx context.Context, inc *models.Incident, actor *models.ExternalUser) (string, error) {
		if _, err := d.Store.EnqueueJobs(ctx, commsCreateJob(inc, []string{actor.SlackUserID})); err != nil {
			return "", err
		}
		return fmt.Sprintf("Creating the comms channel for incident #%d; you will be invited.", inc.Number), nil
	})
}

func closeButton(d Deps) bot.Action {
	return d.buttonOp(bot.ActionClose, func(ctx context.Context, inc *models.Incident, actor *models.ExternalUser) (string, error) {
		_, err := d.closeIncident(ctx, inc.ID, actor)
		if errors.Is(err, models.ErrNoChange) {
			return fmt.Sprintf("Incident #%d is already closed.", inc.Number), nil
		}
		return "", err
	})
}

func reopenButton(d Deps) bot.Action {
	return d.buttonOp(bot.ActionReopen, func(ctx context.Context, inc *models.Incident, actor *models.ExternalUser) (string, error) {
		_, err := d.reopen(ctx, inc.ID, actor)
		if errors.Is(err, models.ErrNoChange) {
			return fmt.Sprintf("Incident #%d is already open.", inc.Number), nil
		}
		return "", err
	})
}

const pagingNotConfigured = "⚠️ Paging is not configured on this Herald, so *nobody has been paged*. " +
	"I recorded the request on the incident timeline. Reach on-call another way now."

func (d Deps) recordPageRequest(ctx context.Context, inc *models.Incident, actor *models.ExternalUser, target string) error {
	return d.Store.AddTimelineEvent(ctx, &models.TimelineEvent{
		IncidentID: inc.ID, Kind: models.TimelinePageRequest, AuthorID: idOf(actor),
		Text: fmt.Sprintf("%s asked to page %s; paging is not configured, nobody was paged", mention(actor), target),
	})
}

// docButton acknowledges clicks on the headline's "Incident doc" link
// button: Slack opens the URL itself but still tells us about the click.
func docButton() bot.Action {
	return bot.Action{ID: bot.ActionDoc, Inline: true, Run: func(context.Context, bot.ActionRequest) error { return nil }}
}
