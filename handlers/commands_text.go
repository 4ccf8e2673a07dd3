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

// `@incident summary` and `@incident impact`: without text, show the
// current value with a Change button (a modal); with text, propose it with
// Set / Cancel buttons, so a stray mention does not overwrite what others
// wrote.

// Action ids and modal callback ids of the summary and impact flow.
const (
	ActionSetSummary    = "incident.set_summary"
	ActionSetImpact     = "incident.set_impact"
	ActionCancel        = "incident.cancel"
	ActionChangeSummary = "incident.change_summary"
	ActionChangeImpact  = "incident.change_impact"
	CallbackChangeSum   = "change_summary"
	CallbackChangeImp   = "change_impact"
)

// maxButtonValue is Slack's limit on a button's value.
const maxButtonValue = 2000

// maxTextInput is Slack's limit on a plain_text_input's value.
const maxTextInput = 3000

// textBlock is the block and action id of the change modal's one input.
const textBlock = "text"

// textField describes the summary or the impact.
type textField struct {
	name     string // "summary" or "impact", as setText takes it
	title    string // "Summary"
	help     string
	setID    string
	changeID string
	callback string
	example  string
}

var (
	summaryField = textField{
		name: "summary", title: "Summary", help: "show or set what is happening",
		setID: ActionSetSummary, changeID: ActionChangeSummary, callback: CallbackChangeSum,
		example: "What is happening? What do we know?",
	}
	impactField = textField{
		name: "impact", title: "Impact", help: "show or set who is affected, and how badly",
		setID: ActionSetImpact, changeID: ActionChangeImpact, callback: CallbackChangeImp,
		example: "Who or what is affected, and how badly?",
	}
)

func (f textField) current(inc *models.Incident) string {
	if f.name == "impact" {
		return inc.Impact
	}
	return inc.Summary
}

func summaryCommand(d Deps) bot.Command { return d.textCommand(summaryField) }
func impactCommand(d Deps) bot.Command  { return d.textCommand(impactField) }

func (d Deps) textCommand(f textField) bot.Command {
	return d.incidentCommand(bot.Command{
		Name: f.name, Usage: "[text]", Help: f.help,
	}, func(ctx context.Context, req bot.CommandRequest, inc *models.Incident, actor *models.ExternalUser) error {
		text := slackUnescape(req.Args)
		if strings.TrimSpace(text) == "" {
			return d.showText(ctx, req, f, inc)
		}
		if text == f.current(inc) {
			return bot.Usagef("The %s of incident #%d already says that.", f.name, inc.Number)
		}
		value, err := json.Marshal(incidentText{IncidentID: inc.ID, Text: text})
		if err != nil {
			return err
		}
		if len(value) > maxButtonValue {
			// Too long to carry in a button: set it at once.
			_, err := d.setText(ctx, inc.ID, actor, f.name, text)
			if err := refuse(err, fmt.Sprintf("The %s of incident #%d already says that.", f.name, inc.Number)); err != nil {
				return err
			}
			return d.confirm(ctx, req, fmt.Sprintf("%s of incident #%d updated.", f.title, inc.Number))
		}
		setBtn := slack.NewButtonBlockElement(f.setID, string(value), plainText("Set "+f.name))
		setBtn.Style = slack.StylePrimary
		cancel := slack.NewButtonBlockElement(ActionCancel, strconv.FormatInt(inc.ID, 10), plainText("Cancel"))
		blocks := []slack.Block{
			slack.NewSectionBlock(mrkdwnText(fmt.Sprintf("Set the %s of incident #%d to:", f.name, inc.Number)), nil, nil),
			slack.NewSectionBlock(mrkdwnText(quote(text)), nil, nil),
			slack.NewActionBlock("incident_"+f.name+"_confirm", setBtn, cancel),
		}
		return d.reply(ctx, req, fmt.Sprintf("Set the %s of incident #%d to:\n%s", f.name, inc.Number, bot.EscapeMrkdwn(text)), blocks...)
	})
}

// showText answers with the current value and a Change button.
func (d Deps) showText(ctx context.Context, req bot.CommandRequest, f textField, inc *models.Incident) error {
	cur := f.current(inc)
	shown := "_None yet._"
	if strings.TrimSpace(cur) != "" {
		shown = quote(cur)
	}
	change := slack.NewButtonBlockElement(f.changeID, strconv.FormatInt(inc.ID, 10), plainText("Change"))
	blocks := []slack.Block{
		slack.NewSectionBlock(mrkdwnText(fmt.Sprintf("*%s of incident #%d*", f.title, inc.Number)), nil, nil),
		slack.NewSectionBlock(mrkdwnText(shown), nil, nil),
		slack.NewActionBlock("incident_"+f.name+"_show", change),
	}
	fallback := fmt.Sprintf("%s of incident #%d:\n%s", f.title, inc.Number, bot.EscapeMrkdwn(orNone(cur)))
	return d.reply(ctx, req, fallback, blocks...)
}

func orNone(s string) string {
	if strings.TrimSpace(s) == "" {
		return "(none yet)"
	}
	return s
}

// quote renders plain text as a mrkdwn quote, every line kept, within a
// section's 3,000 characters.
func quote(s string) string {
	q := "> " + strings.ReplaceAll(bot.EscapeMrkdwn(s), "\n", "\n> ")
	if r := []rune(q); len(r) > 2900 {
		q = string(r[:2899])
		if amp := strings.LastIndexByte(q, '&'); amp > strings.LastIndexByte(q, ';') {
			q = q[:amp] // not half an entity
		}
		q += "…"
	}
	return q
}

func plainText(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
}

func mrkdwnText(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
}

// setTextButton applies a proposed summary or impact.
func setTextButton(d Deps, f textField) bot.Action {
	return bot.Action{
		ID: f.setID,
		Run: func(ctx context.Context, req bot.ActionRequest) error {
			var p incidentText
			if err := json.Unmarshal([]byte(req.Action.Value), &p); err != nil || p.IncidentID == 0 {
				return fmt.Errorf("%w: %s button value is not a proposal", bot.ErrPermanent, f.setID)
			}
			actor, err := d.actor(ctx, req.Callback.User.ID)
			if err != nil {
				return err
			}
			inc, err := d.setText(ctx, p.IncidentID, actor, f.name, p.Text)
			switch {
			case errors.Is(err, models.ErrNoChange):
				return d.tellClicker(ctx, req, fmt.Sprintf("The %s already says that.", f.name))
			case models.IsNotFound(err):
				return fmt.Errorf("%w: %v", bot.ErrPermanent, err)
			}
			if msg, ok := explain(err); ok {
				return d.tellClicker(ctx, req, msg)
			}
			if err != nil {
				return err
			}
			return d.tellClicker(ctx, req, fmt.Sprintf("%s of incident #%d updated.", f.title, inc.Number))
		},
	}
}

// cancelButton drops a proposal.
func cancelButton(d Deps) bot.Action {
	return bot.Action{
		ID: ActionCancel,
		Run: func(ctx context.Context, req bot.ActionRequest) error {
			return d.tellClicker(ctx, req, "Okay, I changed nothing.")
		},
	}
}

// changeMeta round-trips through the change modal's private_metadata.
type changeMeta struct {
	IncidentID int64 `json:"i"`
}

// changeTextButton opens the change modal, pre-filled.
func changeTextButton(d Deps, f textField) bot.Action {
	return bot.Action{
		ID:     f.changeID,
		Inline: true, // the trigger_id lasts 3 seconds
		Run: func(ctx context.Context, req bot.ActionRequest) error {
			inc, err := d.incidentOfAction(ctx, req)
			if err != nil {
				return err
			}
			if _, err := d.Slack.OpenViewContext(ctx, req.Callback.TriggerID, changeTextModal(f, inc)); err != nil {
				return slackError("opening the "+f.name+" form", err)
			}
			return nil
		},
	}
}

func changeTextModal(f textField, inc *models.Incident) slack.ModalViewRequest {
	in := slack.NewPlainTextInputBlockElement(plainText(f.example), textBlock)
	in.Multiline = true
	in.MaxLength = maxTextInput
	in.InitialValue = truncate(f.current(inc), maxTextInput)
	block := slack.NewInputBlock(textBlock, plainText(fmt.Sprintf("%s of incident #%d", f.title, inc.Number)), nil, in)
	meta, _ := json.Marshal(changeMeta{IncidentID: inc.ID})
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      f.callback,
		Title:           plainText("Change " + f.name),
		Submit:          plainText("Save"),
		Close:           plainText("Cancel"),
		Blocks:          slack.Blocks{BlockSet: []slack.Block{block}},
		PrivateMetadata: string(meta),
	}
}

// changeTextSubmit applies the change modal.
func changeTextSubmit(d Deps, f textField) bot.ViewSubmission {
	return bot.ViewSubmission{
		CallbackID: f.callback,
		Submit: func(ctx context.Context, cb slack.InteractionCallback) (map[string]string, error) {
			var meta changeMeta
			if err := json.Unmarshal([]byte(cb.View.PrivateMetadata), &meta); err != nil || meta.IncidentID == 0 {
				return map[string]string{textBlock: "This form lost track of its incident; close it and ask again."}, nil
			}
			text := ""
			if cb.View.State != nil {
				text = strings.TrimSpace(cb.View.State.Values[textBlock][textBlock].Value)
			}
			if text == "" {
				return map[string]string{textBlock: fmt.Sprintf("Write the %s, or press Cancel.", f.name)}, nil
			}
			actor, err := d.actor(ctx, cb.User.ID)
			if err != nil {
				return nil, err
			}
			_, err = d.setText(ctx, meta.IncidentID, actor, f.name, text)
			if errors.Is(err, models.ErrNoChange) {
				return nil, nil
			}
			if msg, ok := explain(err); ok {
				return map[string]string{textBlock: msg}, nil
			}
			return nil, err
		},
	}
}
