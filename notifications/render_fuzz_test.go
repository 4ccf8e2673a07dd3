package notifications_test

import (
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
)

// FuzzRenderSMS: whatever an incident's title says (titles from Slack can
// hold newlines and escape sequences), an SMS or voice body has no control
// characters and always carries the incident number and the claim code.
func FuzzRenderSMS(f *testing.F) {
	f.Add("Disk full")
	f.Add("line one\nline two\x07\x1b[31m\x00")
	f.Add("<!channel> *bold* <https://evil|click>")
	f.Fuzz(func(t *testing.T, title string) {
		inc := &models.Incident{Number: 42, Title: title, Severity: models.SEV1, Status: models.StatusInvestigating}
		for _, mode := range []notifications.Mode{notifications.ModeSMS, notifications.ModeCall} {
			_, body := notifications.Render(inc, models.PlanNotification{Priority: "high"}, mode, "123456")
			if strings.ContainsFunc(body, unicode.IsControl) {
				t.Fatalf("%s body %q has control characters", mode, body)
			}
			if !strings.Contains(body, "123456") && mode == notifications.ModeSMS || !strings.Contains(body, strconv.Itoa(42)) {
				t.Fatalf("%s body %q lost the number or code", mode, body)
			}
		}
	})
}

func TestRenderSMSControlCharacters(t *testing.T) {
	inc := &models.Incident{Number: 3, Title: "db\ndown\x07\x1b[0m", Severity: models.SEV1}
	_, body := notifications.Render(inc, models.PlanNotification{Priority: "high"}, notifications.ModeSMS, "654321")
	if want := `Herald #3 SEV1 (critical): db down  [0m. Reply "654321 claim" to claim.`; body != want {
		t.Fatalf("SMS body %q, want %q", body, want)
	}
}
