package notifications_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
)

func TestRender(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("database replica lag ", 20)
	inc := &models.Incident{Number: 12345, Title: long, Summary: "replicas behind", Severity: models.SEV1, Status: models.StatusInvestigating}
	n := models.PlanNotification{Role: "user", Target: "alice", Priority: "urgent"}
	tests := []struct {
		mode     notifications.Mode
		maxRunes int
		want     []string
	}{
		{notifications.ModeSMS, 160, []string{"#12345", "SEV1", `"654321 claim"`, "…"}},
		{notifications.ModeCall, 0, []string{"Incident 12345", "Press 1 to claim"}},
		{notifications.ModeSlack, 0, []string{"Incident #12345", "replicas behind", "Claim code: 654321"}},
		{notifications.ModeEmail, 0, []string{"Severity: SEV1", "Claim code: 654321"}},
	}
	for _, tt := range tests {
		subject, body := notifications.Render(inc, n, tt.mode, "654321")
		if !strings.HasPrefix(subject, "[URGENT] Incident #12345: ") {
			t.Errorf("%s subject %q", tt.mode, subject)
		}
		for _, w := range tt.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s body %q lacks %q", tt.mode, body, w)
			}
		}
		if tt.maxRunes > 0 && utf8.RuneCountInString(body) > tt.maxRunes {
			t.Errorf("%s body is %d characters, want at most %d: %q", tt.mode, utf8.RuneCountInString(body), tt.maxRunes, body)
		}
	}
}
