package bot

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/heraldhq/herald/models"
)

// FuzzParseIncidentForm: a view submission's values come from Slack. An
// accepted form has a trimmed title within Herald's length and a valid
// (or unset) severity; errors are keyed by the form's own blocks.
func FuzzParseIncidentForm(f *testing.F) {
	f.Add(" Checkout down ", "sum", "SEV2", "U1", kindReport, "payments")
	f.Add("", "", "SEV9", "", "", "")
	f.Add(strings.Repeat("é", 151), "", "", "", "", "")
	f.Fuzz(func(t *testing.T, title, summary, severity, lead, kind, services string) {
		state := &slack.ViewState{Values: map[string]map[string]slack.BlockAction{
			blockTitle:    {blockTitle: {Value: title}},
			blockSummary:  {blockSummary: {Value: summary}},
			blockSeverity: {blockSeverity: {SelectedOption: slack.OptionBlockObject{Value: severity}}},
			blockLead:     {blockLead: {SelectedUser: lead}},
			blockKind:     {blockKind: {SelectedOption: slack.OptionBlockObject{Value: kind}}},
			blockServices: {blockServices: {Value: services}},
		}}
		form, errs := ParseIncidentForm(state)
		for block := range errs {
			if block != blockTitle && block != blockSeverity {
				t.Fatalf("error on unknown block %q", block)
			}
		}
		if errs != nil {
			return
		}
		if form.Title == "" || form.Title != strings.TrimSpace(form.Title) || utf8.RuneCountInString(form.Title) > models.MaxTitleLength {
			t.Fatalf("accepted title %q", form.Title)
		}
		if severity != "" && !form.Severity.Valid() {
			t.Fatalf("accepted severity %q as %d", severity, form.Severity)
		}
		if form.IsReport != (kind == kindReport) {
			t.Fatalf("kind %q → report %v", kind, form.IsReport)
		}
	})
}
