package bot_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/slack-go/slack"

	"github.com/heraldhq/herald/bot"
)

// TestDryRunLogRedactsSecrets: the dry run logs what it would send, but
// not a sign-in link's token or an integration key inside the text.
func TestDryRunLogRedactsSecrets(t *testing.T) {
	var logs bytes.Buffer
	client := bot.NewSlackClient(bot.SlackClientOptions{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	text := "Your link: http://localhost:8080/login/link/hlog_AbC-12_xyz and key hrld_01abc_SeCrEt"
	if _, _, err := client.PostMessageContext(context.Background(), "U1", slack.MsgOptionText(text, false)); err != nil {
		t.Fatal(err)
	}
	got := logs.String()
	if strings.Contains(got, "AbC-12_xyz") || strings.Contains(got, "SeCrEt") || !strings.Contains(got, "hlog_[redacted in the dry-run log]") ||
		!strings.Contains(got, "SLACK DRY RUN") || !strings.Contains(got, "Your link") {
		t.Fatalf("dry-run log:\n%s", got)
	}
}
