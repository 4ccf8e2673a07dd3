package bot

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/slack-go/slack"

	"github.com/heraldhq/herald/models"
)

// Callback ids of Herald's modals.
const (
	CallbackDeclare = "declare_incident"
	CallbackEdit    = "edit_incident"
)

// Block and action ids of the incident form; the submission parser reads
// them back.
const (
	blockTitle    = "title"
	blockSummary  = "summary"
	blockImpact   = "impact"
	blockSeverity = "severity"
	blockLead     = "lead"
	blockKind     = "kind"
	blockServices = "services"
	kindLive      = "live"
	kindReport    = "report"
)

// IncidentForm is the content of the declare and edit modals.
type IncidentForm struct {
	Title       string
	Summary     string
	Impact      string
	Severity    models.Severity
	LeadSlackID string
	IsReport    bool
	Services    string
}

// IncidentModal renders the declare (incident == nil) or edit modal.
// privateMetadata round-trips through Slack to the submission.
func IncidentModal(callbackID string, f IncidentForm, privateMetadata string) slack.ModalViewRequest {
	title, submit := "Declare an incident", "Declare"
	if callbackID == CallbackEdit {
		title, submit = "Edit incident", "Save"
	}
	titleInput := slack.NewPlainTextInputBlockElement(plain("e.g. Checkout returns 500s"), blockTitle)
	titleInput.InitialValue = truncateRunes(f.Title, models.MaxTitleLength)
	titleInput.MaxLength = models.MaxTitleLength

	summary := slack.NewPlainTextInputBlockElement(plain("What is happening? What do we know?"), blockSummary)
	summary.Multiline, summary.InitialValue = true, f.Summary
	impact := slack.NewPlainTextInputBlockElement(plain("Who or what is affected, and how badly?"), blockImpact)
	impact.Multiline, impact.InitialValue = true, f.Impact

	var sevOpts []*slack.OptionBlockObject
	for s := models.SEV1; s <= models.SEV4; s++ {
		sevOpts = append(sevOpts, slack.NewOptionBlockObject(strconv.Itoa(int(s)), plain(s.String()), nil))
	}
	severity := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain("How bad is it?"), blockSeverity, sevOpts...)
	if f.Severity.Valid() {
		severity.InitialOption = sevOpts[int(f.Severity)-1]
	}
	lead := slack.NewOptionsSelectBlockElement(slack.OptTypeUser, plain("Who leads the response?"), blockLead)
	if f.LeadSlackID != "" {
		lead.InitialUser = f.LeadSlackID
	}
	live := slack.NewOptionBlockObject(kindLive, plain("Live incident: happening now"), nil)
	report := slack.NewOptionBlockObject(kindReport, plain("Report of a past incident"), nil)
	kind := slack.NewRadioButtonsBlockElement(blockKind, live, report)
	kind.InitialOption = live
	if f.IsReport {
		kind.InitialOption = report
	}
	services := slack.NewPlainTextInputBlockElement(plain("e.g. checkout, payments-api"), blockServices)
	services.InitialValue = f.Services

	blocks := []slack.Block{
		input(blockTitle, "Title", titleInput, false),
		input(blockSummary, "Summary", summary, true),
		input(blockImpact, "Impact", impact, true),
		input(blockSeverity, "Severity", severity, true),
		input(blockLead, "Lead", lead, true),
	}
	if callbackID == CallbackDeclare {
		blocks = append(blocks, input(blockKind, "Kind", kind, false))
	}
	blocks = append(blocks, input(blockServices, "Affected services", services, true))
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      callbackID,
		Title:           plain(title),
		Submit:          plain(submit),
		Close:           plain("Cancel"),
		Blocks:          slack.Blocks{BlockSet: blocks},
		PrivateMetadata: privateMetadata,
	}
}

func plain(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
}

func input(id, label string, el slack.BlockElement, optional bool) *slack.InputBlock {
	b := slack.NewInputBlock(id, plain(label), nil, el)
	b.Optional = optional
	return b
}

// ParseIncidentForm reads a submitted incident modal. Field errors are
// keyed by block id, ready for a response_action: errors answer.
func ParseIncidentForm(state *slack.ViewState) (IncidentForm, map[string]string) {
	var f IncidentForm
	errs := map[string]string{}
	if state == nil {
		errs[blockTitle] = "The form arrived empty; please try again."
		return f, errs
	}
	value := func(block string) slack.BlockAction {
		if b, ok := state.Values[block]; ok {
			if a, ok := b[block]; ok {
				return a
			}
		}
		return slack.BlockAction{}
	}
	f.Title = strings.TrimSpace(value(blockTitle).Value)
	switch n := len([]rune(f.Title)); {
	case n == 0:
		errs[blockTitle] = "Give the incident a title: one line saying what is wrong."
	case n > models.MaxTitleLength:
		errs[blockTitle] = fmt.Sprintf("Keep the title under %d characters; put detail in the summary.", models.MaxTitleLength)
	}
	f.Summary = strings.TrimSpace(value(blockSummary).Value)
	f.Impact = strings.TrimSpace(value(blockImpact).Value)
	if v := value(blockSeverity).SelectedOption.Value; v != "" {
		s, err := models.ParseSeverity(v)
		if err != nil {
			errs[blockSeverity] = "Pick a severity from the list."
		}
		f.Severity = s
	}
	f.LeadSlackID = value(blockLead).SelectedUser
	f.IsReport = value(blockKind).SelectedOption.Value == kindReport
	f.Services = strings.TrimSpace(value(blockServices).Value)
	if len(errs) == 0 {
		errs = nil
	}
	return f, errs
}
