package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/slack-go/slack"

	"github.com/heraldhq/herald/bot"
	"github.com/heraldhq/herald/models"
)

// Callback id of the message shortcut (see slack-app-manifest.yml).
const CallbackDeclareFromMessage = "declare_from_message"

// JobDeclareConfirm tells the reporter, privately, that the incident exists.
const JobDeclareConfirm = "declare.confirm"

// declareMeta round-trips through the modal's private_metadata (Slack
// allows 3,000 characters).
type declareMeta struct {
	ChannelID   string `json:"c,omitempty"` // where the reporter asked
	MessageTS   string `json:"ts,omitempty"`
	MessageUser string `json:"u,omitempty"`
	MessageText string `json:"t,omitempty"`
	IncidentID  int64  `json:"i,omitempty"` // edit modal
}

func (m declareMeta) encode() string {
	b, _ := json.Marshal(m)
	return string(b)
}

func parseMeta(s string) declareMeta {
	var m declareMeta
	_ = json.Unmarshal([]byte(s), &m) // our own JSON; empty on tampering
	return m
}

// declareSlash handles `/incident [title]`: it opens the declare modal,
// with the title filled in from the text.
func declareSlash(d Deps) bot.SlashCommand {
	return bot.SlashCommand{
		Command: "/incident",
		Run: func(ctx context.Context, cmd slack.SlashCommand) (bot.SlashResponse, error) {
			title := strings.TrimSpace(cmd.Text)
			if n := len([]rune(title)); n > models.MaxTitleLength {
				return bot.SlashResponse{}, bot.Usagef("That title is %d characters; keep it under %d and put the detail in the summary.", n, models.MaxTitleLength)
			}
			if cmd.TriggerID == "" {
				return bot.SlashResponse{}, bot.Usagef("Slack sent no trigger_id, so I cannot open the form. Please try again.")
			}
			view := bot.IncidentModal(bot.CallbackDeclare, bot.IncidentForm{Title: title}, declareMeta{ChannelID: cmd.ChannelID}.encode())
			if _, err := d.Slack.OpenViewContext(ctx, cmd.TriggerID, view); err != nil {
				return bot.SlashResponse{}, slackError("opening the declare form", err)
			}
			return bot.SlashResponse{}, nil
		},
	}
}

// declareFromMessage handles the message shortcut: the message becomes the
// summary and the first timeline entry.
func declareFromMessage(d Deps) bot.Shortcut {
	return bot.Shortcut{
		CallbackID: CallbackDeclareFromMessage,
		Run: func(ctx context.Context, cb slack.InteractionCallback) error {
			text := slackUnescape(cb.Message.Text) // message text arrives with &, < and > escaped
			title := strings.TrimSpace(strings.SplitN(text, "\n", 2)[0])
			meta := declareMeta{ChannelID: cb.Channel.ID, MessageTS: cb.Message.Timestamp, MessageUser: cb.Message.User, MessageText: truncate(text, 2000)}
			view := bot.IncidentModal(bot.CallbackDeclare, bot.IncidentForm{Title: truncate(title, 80), Summary: text}, meta.encode())
			if _, err := d.Slack.OpenViewContext(ctx, cb.TriggerID, view); err != nil {
				return slackError("opening the declare form", err)
			}
			return nil
		},
	}
}

// declareSubmit creates the incident from the modal, exactly once per view
// (the view id is the idempotency key), with its headline, reminders and
// confirmation stored in the same transaction.
func declareSubmit(d Deps) bot.ViewSubmission {
	return bot.ViewSubmission{
		CallbackID: bot.CallbackDeclare,
		Submit: func(ctx context.Context, cb slack.InteractionCallback) (map[string]string, error) {
			form, errs := bot.ParseIncidentForm(cb.View.State)
			if errs != nil {
				return errs, nil
			}
			meta := parseMeta(cb.View.PrivateMetadata)
			reporter, err := d.Store.UpsertSlackUser(ctx, models.SlackUser{ID: cb.User.ID, DisplayName: cb.User.Name})
			if err != nil {
				return nil, err
			}
			n := models.NewIncident{
				Title: form.Title, Summary: form.Summary, Impact: form.Impact, Severity: form.Severity,
				Source: "slack", IdempotencyKey: "slack-view:" + cb.View.ID, ReporterID: &reporter.ID,
				IsReport: form.IsReport, Services: form.Services, Reminders: d.reminderPlan(d.Clock.Now()),
			}
			if form.LeadSlackID != "" {
				lead, err := d.Store.UpsertSlackUser(ctx, models.SlackUser{ID: form.LeadSlackID})
				if err != nil {
					return nil, err
				}
				n.LeadID = &lead.ID
			}
			if meta.MessageTS != "" {
				n.Timeline = []models.TimelineEvent{d.messageEntry(ctx, meta)}
			}
			n.Jobs = func(inc *models.Incident) []models.NewJob {
				jobs := []models.NewJob{
					headlineJob(inc.ID, inc.Version),
					jsonJob(JobDeclareConfirm, "", incidentText{IncidentID: inc.ID, UserID: cb.User.ID, Text: meta.ChannelID}),
				}
				if d.wantsCommsChannel(inc) {
					jobs = append(jobs, commsCreateJob(inc, nil))
				}
				return jobs
			}
			inc, created, err := d.Store.CreateIncident(ctx, n)
			if errors.Is(err, models.ErrInvalid) {
				return map[string]string{"title": strings.TrimPrefix(err.Error(), models.ErrInvalid.Error()+": ")}, nil
			}
			if err != nil {
				return nil, err
			}
			if created {
				d.Log.InfoContext(ctx, "incident declared", "incident", inc.Number, "severity", int(inc.Severity), "report", inc.IsReport)
			}
			return nil, nil
		},
	}
}

// messageEntry is the timeline entry of the message an incident was
// declared from, dated when it was posted.
func (d Deps) messageEntry(ctx context.Context, m declareMeta) models.TimelineEvent {
	ref := m.MessageTS
	e := models.TimelineEvent{Kind: models.TimelineMessage, Text: m.MessageText, SourceRef: &ref, OccurredAt: slackTime(m.MessageTS, d.Clock.Now())}
	if m.MessageUser != "" {
		if u, err := d.Store.UpsertSlackUser(ctx, models.SlackUser{ID: m.MessageUser}); err == nil {
			e.AuthorID = &u.ID
		}
	}
	return e
}

// confirmDeclared tells the reporter where the incident is.
func confirmDeclared(d Deps) bot.JobFunc {
	return incidentJob(d, func(ctx context.Context, inc *models.Incident, p incidentText) error {
		where := d.Settings.incidentsChannel(inc.IsReport)
		if strings.HasPrefix(where, "#") {
			where = "*" + where + "*"
		} else {
			where = "<#" + where + ">"
		}
		text := fmt.Sprintf("Incident #%d declared: *%s*. The headline post is in %s; the doc is at %s.",
			inc.Number, bot.EscapeMrkdwn(inc.Title), where, d.Settings.docURL(inc))
		if channel := p.Text; channel != "" {
			_, err := d.Slack.PostEphemeralContext(ctx, channel, p.UserID, slack.MsgOptionText(text, false))
			switch slackErrorCode(err) {
			case "":
				return nil
			case "channel_not_found", "not_in_channel", "is_archived":
				// Declared from a channel the bot is not in: say it in a DM.
			default:
				return slackError("confirming the declaration", err)
			}
		}
		_, _, err := d.Slack.PostMessageContext(ctx, p.UserID, slack.MsgOptionText(text, false))
		return slackError("confirming the declaration", err)
	})
}

// editButton opens the edit modal, pre-filled.
func editButton(d Deps) bot.Action {
	return bot.Action{
		ID:     bot.ActionEdit,
		Inline: true, // the trigger_id lasts 3 seconds
		Run: func(ctx context.Context, req bot.ActionRequest) error {
			inc, err := d.incidentOfAction(ctx, req)
			if err != nil {
				return err
			}
			f := bot.IncidentForm{Title: inc.Title, Summary: inc.Summary, Impact: inc.Impact, Severity: inc.Severity, Services: inc.AffectedServices}
			if inc.Lead != nil {
				f.LeadSlackID = inc.Lead.SlackUserID
			}
			view := bot.IncidentModal(bot.CallbackEdit, f, declareMeta{IncidentID: inc.ID}.encode())
			if _, err := d.Slack.OpenViewContext(ctx, req.Callback.TriggerID, view); err != nil {
				return slackError("opening the edit form", err)
			}
			return nil
		},
	}
}

// editSubmit applies the edit modal.
func editSubmit(d Deps) bot.ViewSubmission {
	return bot.ViewSubmission{
		CallbackID: bot.CallbackEdit,
		Submit: func(ctx context.Context, cb slack.InteractionCallback) (map[string]string, error) {
			form, errs := bot.ParseIncidentForm(cb.View.State)
			if errs != nil {
				return errs, nil
			}
			meta := parseMeta(cb.View.PrivateMetadata)
			if meta.IncidentID == 0 {
				return map[string]string{"title": "This form lost track of its incident; close it and click Edit again."}, nil
			}
			actor, err := d.actor(ctx, cb.User.ID)
			if err != nil {
				return nil, err
			}
			var lead *models.ExternalUser
			if form.LeadSlackID != "" {
				if lead, err = d.actor(ctx, form.LeadSlackID); err != nil {
					return nil, err
				}
			}
			_, err = d.edit(ctx, meta.IncidentID, actor, form, lead)
			if err != nil && !errors.Is(err, models.ErrNoChange) {
				return nil, err
			}
			return nil, nil
		},
	}
}

// incidentOfAction loads the incident a headline button belongs to.
func (d Deps) incidentOfAction(ctx context.Context, req bot.ActionRequest) (*models.Incident, error) {
	id, err := strconv.ParseInt(req.Action.Value, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("%w: button value %q is not an incident id", bot.ErrPermanent, req.Action.Value)
	}
	inc, err := d.Store.IncidentByID(ctx, id)
	if models.IsNotFound(err) {
		return nil, fmt.Errorf("%w: %v", bot.ErrPermanent, err)
	}
	return inc, err
}
