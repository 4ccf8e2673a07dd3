package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"github.com/heraldhq/herald/bot"
	"github.com/heraldhq/herald/models"
)

// JobPostHeadline posts or refreshes an incident's headline post.
const JobPostHeadline = "headline.post"

type headlineJob struct {
	IncidentID int64 `json:"incident_id"`
}

func headlineJobFor(inc *models.Incident) models.NewJob {
	p, _ := json.Marshal(headlineJob{IncidentID: inc.ID})
	return models.NewJob{Kind: JobPostHeadline, Payload: p}
}

// declareSlash handles `/incident <title>`: the incident is stored, with its
// headline job, before Slack gets its answer.
func declareSlash(d Deps) bot.SlashCommand {
	return bot.SlashCommand{
		Command: "/incident",
		Run: func(ctx context.Context, cmd slack.SlashCommand) (bot.SlashResponse, error) {
			title := strings.TrimSpace(cmd.Text)
			if title == "" {
				return bot.SlashResponse{}, bot.Usagef("Say what is wrong after the command, for example `/incident Checkout is returning 500s`.")
			}
			if n := len([]rune(title)); n > models.MaxTitleLength {
				return bot.SlashResponse{}, bot.Usagef("That title is %d characters; keep it under %d and put the detail in the summary later.", n, models.MaxTitleLength)
			}
			reporter, err := d.Store.UpsertSlackUser(ctx, models.SlackUser{ID: cmd.UserID, DisplayName: cmd.UserName})
			if err != nil {
				return bot.SlashResponse{}, err
			}
			n := models.NewIncident{
				Title:      title,
				Source:     "slack",
				ReporterID: &reporter.ID,
				Jobs:       func(inc *models.Incident) []models.NewJob { return []models.NewJob{headlineJobFor(inc)} },
			}
			if cmd.TriggerID != "" {
				// Slack sends one trigger id per invocation: a replayed
				// request finds the incident it already made.
				n.IdempotencyKey = "slack-slash:" + cmd.TriggerID
			}
			inc, created, err := d.Store.CreateIncident(ctx, n)
			if err != nil {
				return bot.SlashResponse{}, err
			}
			if created {
				d.Log.InfoContext(ctx, "incident declared", "incident", inc.Number, "source", "slash_command")
			}
			return bot.SlashResponse{Text: fmt.Sprintf("Incident #%d declared: *%s*. Its headline post is on its way to %s.",
				inc.Number, bot.EscapeMrkdwn(inc.Title), channelLink(d.Settings))}, nil
		},
	}
}

func channelLink(s Settings) string {
	if s.IncidentChannelID != "" {
		return "<#" + s.IncidentChannelID + ">"
	}
	return "#" + s.IncidentChannelName
}

// postHeadline posts the headline post, or updates it in place when it
// exists, so a retried job never posts twice once the first post is saved.
func postHeadline(d Deps) bot.JobFunc {
	return func(ctx context.Context, payload []byte) error {
		var j headlineJob
		if err := json.Unmarshal(payload, &j); err != nil {
			return fmt.Errorf("%w: %v", bot.ErrPermanent, err)
		}
		inc, err := d.Store.IncidentByID(ctx, j.IncidentID)
		if err != nil {
			if models.IsNotFound(err) {
				return fmt.Errorf("%w: %v", bot.ErrPermanent, err)
			}
			return err
		}
		blocks := bot.HeadlineBlocks(bot.Headline{Incident: inc, Now: d.Clock.Now()})
		opts := []slack.MsgOption{slack.MsgOptionText(bot.HeadlineText(inc), false), slack.MsgOptionBlocks(blocks...)}
		hp, err := d.Store.HeadlinePostFor(ctx, inc.ID)
		switch {
		case err == nil:
			if _, _, _, err := d.Slack.UpdateMessageContext(ctx, hp.ChannelID, hp.MessageTS, opts...); err != nil {
				return slackError("updating headline post", err)
			}
			return nil
		case !models.IsNotFound(err):
			return err
		}
		channel, ts, err := d.Slack.PostMessageContext(ctx, d.Settings.incidentsChannel(), opts...)
		if err != nil {
			return slackError("posting headline post", err)
		}
		return d.Store.SaveHeadlinePost(ctx, inc.ID, channel, ts)
	}
}
