package bot_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/heraldhq/herald/bot"
	"github.com/heraldhq/herald/models"
)

// slackDate is the one markup the headline itself writes (SlackDate).
var slackDate = regexp.MustCompile(`<!date\^\d+\^\{date_short_pretty\} at \{time\}\|[^<>]*>`)

var unescapeMrkdwn = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace

// FuzzEscapeMrkdwn: escaped text has no angle brackets (no <!channel>,
// <@U…> or <url|label> survives), every & starts an entity, and
// unescaping gives the input back.
func FuzzEscapeMrkdwn(f *testing.F) {
	for _, s := range []string{"<!channel>", "<@U123> *bold* <https://evil|click>", "&lt;!here&gt;", "a & b", "<<>>&&"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := bot.EscapeMrkdwn(s)
		if strings.ContainsAny(got, "<>") {
			t.Fatalf("%q escaped to %q", s, got)
		}
		for i := strings.IndexByte(got, '&'); i >= 0; i = indexFrom(got, '&', i+1) {
			rest := got[i:]
			if !strings.HasPrefix(rest, "&amp;") && !strings.HasPrefix(rest, "&lt;") && !strings.HasPrefix(rest, "&gt;") {
				t.Fatalf("%q escaped to %q: a bare &", s, got)
			}
		}
		if back := unescapeMrkdwn(got); back != s {
			t.Fatalf("%q escaped to %q unescapes to %q", s, got, back)
		}
	})
}

func indexFrom(s string, c byte, from int) int {
	if i := strings.IndexByte(s[from:], c); i >= 0 {
		return from + i
	}
	return -1
}

// FuzzHeadlineHostileText: whatever the title, summary and affected
// services say, no mrkdwn text of the headline (nor its fallback) carries
// Slack markup that pings or links: those fields are plain text in the
// header or escaped everywhere else.
func FuzzHeadlineHostileText(f *testing.F) {
	f.Add("<!channel> down", "<@U123> *bold* <https://evil|click>", "<!here>", "<@U9>")
	f.Add("ok", "", "", "")
	f.Fuzz(func(t *testing.T, title, summary, affected, claimedBy string) {
		now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		inc := &models.Incident{ID: 1, Number: 7, Title: title, Summary: summary, AffectedServices: affected,
			Severity: models.SEV2, Status: models.StatusInvestigating, ReportedAt: now}
		h := bot.Headline{Incident: inc, Now: now, Paging: models.PagingSummary{Paged: []string{"Ann"}, State: models.EscalationClaimed, ClaimedBy: claimedBy}}
		if text := bot.HeadlineText(inc); strings.ContainsAny(text, "<>") {
			t.Fatalf("fallback text %q", text)
		}
		for _, b := range bot.HeadlineBlocks(h) {
			for _, obj := range textObjects(t, b) {
				if obj.Type == slack.MarkdownType && strings.ContainsAny(slackDate.ReplaceAllString(obj.Text, ""), "<>") {
					t.Fatalf("mrkdwn %q carries markup", obj.Text)
				}
			}
		}
	})
}

// textObjects finds every text object in a block through its JSON.
func textObjects(t *testing.T, b slack.Block) []slack.TextBlockObject {
	raw, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	var out []slack.TextBlockObject
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if typ, _ := v["type"].(string); typ == slack.MarkdownType || typ == slack.PlainTextType {
				if text, ok := v["text"].(string); ok {
					out = append(out, slack.TextBlockObject{Type: typ, Text: text})
				}
			}
			for _, c := range v {
				walk(c)
			}
		case []any:
			for _, c := range v {
				walk(c)
			}
		}
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	walk(v)
	return out
}
