package notifications

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/heraldhq/herald/models"
)

// Render writes a page's subject and body for a mode. Every message carries
// the claim code; SMS and voice get short forms. (User-defined templates
// are rendered by RenderTemplate.)
func Render(inc *models.Incident, n models.PlanNotification, mode Mode, code string) (subject, body string) {
	sev := inc.Severity.String()
	subject = fmt.Sprintf("[%s] Incident #%d: %s", strings.ToUpper(n.Priority), inc.Number, inc.Title)
	switch mode {
	case ModeSMS:
		body = fmt.Sprintf("Herald #%d %s: %s. Reply \"%s claim\" to claim.", inc.Number, sev, truncate(spokenLine(inc.Title), 80), code)
	case ModeCall:
		body = fmt.Sprintf("This is Herald. Incident %d, %s: %s. Press 1 to claim, 2 to escalate now, 3 to repeat.", inc.Number, sev, spokenLine(inc.Title))
	default:
		body = fmt.Sprintf("Incident #%d: %s\nSeverity: %s · Status: %s\n%s\nClaim code: %s", inc.Number, inc.Title, sev, inc.Status, inc.Summary, code)
	}
	return subject, body
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// spokenLine makes a title safe for SMS and speech: control characters
// (newlines, escape sequences) become spaces. Titles from Slack can hold
// them; the HTTP intakes already refuse or replace them.
func spokenLine(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}
