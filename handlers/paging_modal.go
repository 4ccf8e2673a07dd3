package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"github.com/heraldhq/herald/bot"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
)

// CallbackPage is the page-on-call modal.
const CallbackPage = "page_oncall"

type pageMeta struct {
	IncidentID int64  `json:"i"`
	ChannelID  string `json:"c"`
}

// pageButton opens the page modal (teams, people, priority, message), or,
// when paging is not configured, records the request and says nobody was
// paged.
func pageButton(d Deps) bot.Action {
	return bot.Action{
		ID:     bot.ActionPage,
		Inline: true, // the modal needs the 3-second trigger_id
		Run: func(ctx context.Context, req bot.ActionRequest) error {
			inc, err := d.incidentOfAction(ctx, req)
			if err != nil {
				return err
			}
			if d.Pager == nil || d.Directory == nil {
				actor, err := d.actor(ctx, req.Callback.User.ID)
				if err != nil {
					return err
				}
				if err := d.recordPageRequest(ctx, inc, actor, "on-call"); err != nil {
					return err
				}
				return d.tellClicker(ctx, req, pagingNotConfigured)
			}
			teams, err := d.Directory.ListTeams(ctx)
			if err != nil {
				return err
			}
			meta, _ := json.Marshal(pageMeta{IncidentID: inc.ID, ChannelID: req.Callback.Channel.ID})
			if _, err := d.Slack.OpenViewContext(ctx, req.Callback.TriggerID, pageModal(inc, teams, string(meta))); err != nil {
				return slackError("opening the page form", err)
			}
			return nil
		},
	}
}

func pageModal(inc *models.Incident, teams []models.Team, meta string) slack.ModalViewRequest {
	plain := func(s string) *slack.TextBlockObject {
		return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
	}
	var blocks []slack.Block
	blocks = append(blocks, slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType,
		fmt.Sprintf("*Incident #%d: %s*\nPages go out at once and repeat until someone claims. You may wake someone up.", inc.Number, bot.EscapeMrkdwn(inc.Title)), false, false), nil, nil))
	if len(teams) > 0 {
		var opts []*slack.OptionBlockObject
		for i, t := range teams {
			if i == 100 { // Slack's limit on static options
				break
			}
			opts = append(opts, slack.NewOptionBlockObject(t.Name, plain(t.Name), nil))
		}
		sel := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain("A team's on-call or plan"), "teams", opts...)
		b := slack.NewInputBlock("teams", plain("Team"), nil, sel)
		b.Optional = true
		blocks = append(blocks, b)
	}
	people := slack.NewOptionsMultiSelectBlockElement(slack.MultiOptTypeUser, plain("People"), "people")
	pb := slack.NewInputBlock("people", plain("People"), nil, people)
	pb.Optional = true
	var prio []*slack.OptionBlockObject
	for _, p := range notifications.Priorities {
		prio = append(prio, slack.NewOptionBlockObject(p, plain(p), nil))
	}
	ps := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain("Priority"), "priority", prio...)
	ps.InitialOption = prio[2] // high
	msg := slack.NewPlainTextInputBlockElement(plain("What do you need from them?"), "message")
	msg.Multiline = true
	mb := slack.NewInputBlock("message", plain("Message"), nil, msg)
	mb.Optional = true
	blocks = append(blocks, pb, slack.NewInputBlock("priority", plain("Priority"), nil, ps), mb)
	return slack.ModalViewRequest{
		Type: slack.VTModal, CallbackID: CallbackPage, Title: plain("Page on-call"), Submit: plain("Page"), Close: plain("Cancel"),
		Blocks: slack.Blocks{BlockSet: blocks}, PrivateMetadata: meta,
	}
}

// pageSubmit pages the chosen team and people and tells the clicker what
// happened.
func pageSubmit(d Deps) bot.ViewSubmission {
	return bot.ViewSubmission{
		CallbackID: CallbackPage,
		Submit: func(ctx context.Context, cb slack.InteractionCallback) (map[string]string, error) {
			var meta pageMeta
			if json.Unmarshal([]byte(cb.View.PrivateMetadata), &meta) != nil || meta.IncidentID == 0 {
				return map[string]string{"priority": "This form lost track of its incident; close it and click Page again."}, nil
			}
			v := cb.View.State.Values
			team := v["teams"]["teams"].SelectedOption.Value
			users := v["people"]["people"].SelectedUsers
			priority := v["priority"]["priority"].SelectedOption.Value
			message := strings.TrimSpace(v["message"]["message"].Value)
			if team == "" && len(users) == 0 {
				field := "people"
				return map[string]string{field: "Choose a team or at least one person to page."}, nil
			}
			if !notifications.ValidPriority(priority) {
				return map[string]string{"priority": "Choose a priority."}, nil
			}
			inc, err := d.Store.IncidentByID(ctx, meta.IncidentID)
			if err != nil {
				return nil, err
			}
			actor, err := d.actor(ctx, cb.User.ID)
			if err != nil {
				return nil, err
			}
			var reqs []pageRequest
			if team != "" {
				reqs = append(reqs, pageRequest{Team: team, Message: message})
			}
			for _, u := range users {
				reqs = append(reqs, pageRequest{UserID: u, Priority: priority, Message: message})
			}
			var replies []string
			for _, r := range reqs {
				reply, err := d.page(ctx, inc, actor, r)
				if msg, ok := explain(err); ok {
					replies = append(replies, "⚠️ "+msg)
					continue
				}
				if err != nil {
					return nil, err
				}
				replies = append(replies, reply)
			}
			if meta.ChannelID != "" {
				if _, err := d.Slack.PostEphemeralContext(ctx, meta.ChannelID, cb.User.ID, slack.MsgOptionText(strings.Join(replies, "\n"), false)); err != nil {
					d.Log.WarnContext(ctx, "telling the pager what was paged", "err", err)
				}
			}
			return nil, nil
		},
	}
}
