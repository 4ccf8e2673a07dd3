package bot_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/heraldhq/herald/bot"
	"github.com/heraldhq/herald/models"
)

// go test ./bot -run Golden -update rewrites testdata/*.golden.json.
var update = flag.Bool("update", false, "rewrite golden files in testdata/ with the current output")

// golden compares got, marshalled as indented JSON, with testdata/name.
// Like json.MarshalIndent, but without escaping <, > and & as \u003c…, so
// the files show Slack's own escaping (&lt;) exactly as Slack receives it.
func golden(t *testing.T, name string, got any) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(got); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./bot -run %s -update to create it)", err, t.Name())
	}
	if !bytes.Equal(b, want) {
		t.Errorf("%s differs from the output (run with -update if the change is intended):\n--- got\n%s\n--- want\n%s", path, b, want)
	}
}

var (
	reportedAt = time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	renderNow  = reportedAt.Add(47 * time.Minute)
)

func ptr[T any](v T) *T { return &v }

func TestHeadlineBlocksGolden(t *testing.T) {
	tests := []struct {
		file string
		h    bot.Headline
	}{
		{
			file: "headline_new.golden.json",
			h: bot.Headline{Now: renderNow, Incident: &models.Incident{
				ID: 107, Number: 7, Title: "Checkout is returning 500s", Status: models.StatusInvestigating,
				Reporter:   &models.ExternalUser{SlackUserID: "U061F7AUR", DisplayName: "Ada"},
				ReportedAt: reportedAt,
			}},
		},
		{
			file: "headline_sev1_lead.golden.json",
			h: bot.Headline{Now: renderNow, Incident: &models.Incident{
				ID: 142, Number: 42, Title: "Payments <!channel> down & out", Severity: models.SEV1, Status: models.StatusIdentified,
				Summary: "  Card payments fail for <!channel> users.\n" +
					"Root cause: <https://evil|x> is *not* a link we made; see <@U999> & <#C123>.\n\n" +
					"Next update in 30m.  \n",
				Reporter:   &models.ExternalUser{DisplayName: "Alertmanager <!here>"},
				Lead:       &models.ExternalUser{SlackUserID: "U0LAN0Z89", DisplayName: "Grace"},
				ReportedAt: reportedAt,
			}},
		},
		{
			file: "headline_paged_claimed.golden.json",
			h: bot.Headline{Now: renderNow, DocURL: "https://herald.example.com/incidents/8",
				Comms:  &models.CommsChannel{ChannelID: "C0INC8", ChannelName: "inc-8-queue-backlog"},
				Paging: models.PagingSummary{Paged: []string{"<@U0ALICE>", "bob"}, State: models.EscalationClaimed, ClaimedBy: "Alice <b>"},
				Incident: &models.Incident{
					ID: 108, Number: 8, Title: "Queue backlog", Severity: models.SEV2, Status: models.StatusInvestigating,
					Reporter: &models.ExternalUser{SlackUserID: "U061F7AUR"}, ReportedAt: reportedAt,
					AcknowledgedAt: ptr(reportedAt.Add(4 * time.Minute)),
				}},
		},
		{
			file: "headline_resolved.golden.json",
			h: bot.Headline{Now: renderNow.Add(24 * time.Hour), Incident: &models.Incident{
				ID: 103, Number: 3, Title: "Search latency", Severity: models.SEV3, Status: models.StatusResolved,
				Summary:    "Index rebuilt.",
				Reporter:   &models.ExternalUser{SlackUserID: "U061F7AUR"},
				Lead:       &models.ExternalUser{SlackUserID: "U0LAN0Z89"},
				ReportedAt: reportedAt,
				ResolvedAt: ptr(reportedAt.Add(2*time.Hour + 5*time.Minute + 31*time.Second)),
			}},
		},
	}
	for _, tt := range tests {
		t.Run(strings.TrimSuffix(tt.file, ".golden.json"), func(t *testing.T) {
			blocks := bot.HeadlineBlocks(tt.h)
			golden(t, tt.file, blocks)

			// User text never becomes a live mention or link in mrkdwn.
			// (Herald's own <@U…> references and <!date…> are fine; the
			// header is plain_text, which Slack does not parse.)
			for _, text := range mrkdwnTexts(blocks) {
				for _, forbidden := range []string{"<!channel>", "<!here>", "<https://evil", "<@U999>", "<#C123>", "<!"} {
					if strings.Contains(text, forbidden) && !strings.Contains(text, "<!date^") {
						t.Errorf("mrkdwn %q contains %q unescaped", text, forbidden)
					}
				}
			}
			// Every block survives Slack's own decoder.
			b, _ := json.Marshal(blocks)
			var round slack.Blocks
			if err := json.Unmarshal(b, &round); err != nil || len(round.BlockSet) != len(blocks) {
				t.Errorf("blocks do not round-trip through slack.Blocks: %v", err)
			}
		})
	}
}

// mrkdwnTexts lists the mrkdwn text of every section and field.
func mrkdwnTexts(blocks []slack.Block) []string {
	var out []string
	add := func(o *slack.TextBlockObject) {
		if o != nil && o.Type == slack.MarkdownType {
			out = append(out, o.Text)
		}
	}
	for _, b := range blocks {
		if s, ok := b.(*slack.SectionBlock); ok {
			add(s.Text)
			for _, f := range s.Fields {
				add(f)
			}
		}
	}
	return out
}

func TestHeadlineBlocksLimits(t *testing.T) {
	inc := &models.Incident{
		Number: 1, Title: strings.Repeat("é", 400), Summary: strings.Repeat("<", 2000), Status: models.StatusInvestigating,
		ReportedAt: reportedAt,
	}
	blocks := bot.HeadlineBlocks(bot.Headline{Incident: inc, Now: renderNow})
	header, ok := blocks[0].(*slack.HeaderBlock)
	if !ok {
		t.Fatalf("first block is %T", blocks[0])
	}
	if n := len([]rune(header.Text.Text)); n > 150 {
		t.Errorf("header is %d characters; Slack allows 150", n)
	}
	section, ok := blocks[1].(*slack.SectionBlock)
	if !ok {
		t.Fatalf("second block is %T", blocks[1])
	}
	if n := len([]rune(section.Text.Text)); n > 3000 {
		t.Errorf("summary is %d characters; Slack allows 3000", n)
	}
	if !strings.HasSuffix(section.Text.Text, "…") {
		t.Errorf("truncated summary does not end with an ellipsis")
	}
	// Without a summary there is no summary section (one with text).
	inc.Summary = " \n "
	for _, b := range bot.HeadlineBlocks(bot.Headline{Incident: inc, Now: renderNow}) {
		if s, ok := b.(*slack.SectionBlock); ok && s.Text != nil {
			t.Errorf("blank summary rendered as %q", s.Text.Text)
		}
	}
}

func TestHeadlineText(t *testing.T) {
	inc := &models.Incident{Number: 9, Title: "DB <!channel> & co", Severity: models.SEV2, Status: models.StatusMonitoring}
	if got, want := bot.HeadlineText(inc), "Incident #9: DB &lt;!channel&gt; &amp; co (SEV2 (major), Monitoring)"; got != want {
		t.Errorf("HeadlineText = %q, want %q", got, want)
	}
}

func TestEscapeMrkdwn(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"plain text, *bold* _it_ ~strike~ `code`", "plain text, *bold* _it_ ~strike~ `code`"},
		{"<!channel>", "&lt;!channel&gt;"},
		{"<!here|here> <!everyone>", "&lt;!here|here&gt; &lt;!everyone&gt;"},
		{"<@U123>", "&lt;@U123&gt;"},
		{"<https://evil|x>", "&lt;https://evil|x&gt;"},
		{"a & b", "a &amp; b"},
		{"&lt; is already escaped", "&amp;lt; is already escaped"},
		{"x > y < z", "x &gt; y &lt; z"},
		{"multi\nline\n", "multi\nline\n"},
		{"émoji 🔥", "émoji 🔥"},
	}
	for _, tt := range tests {
		if got := bot.EscapeMrkdwn(tt.in); got != tt.want {
			t.Errorf("EscapeMrkdwn(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestHumanDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{400 * time.Millisecond, "0s"},
		{500 * time.Millisecond, "1s"},
		{45 * time.Second, "45s"},
		{59*time.Second + 499*time.Millisecond, "59s"},
		{59*time.Second + 500*time.Millisecond, "1m"},
		{time.Minute, "1m"},
		{time.Minute + 59*time.Second, "1m"},
		{59 * time.Minute, "59m"},
		{time.Hour, "1h 0m"},
		{2*time.Hour + 5*time.Minute + 31*time.Second, "2h 5m"},
		{23*time.Hour + 59*time.Minute + 59*time.Second, "23h 59m"},
		{24 * time.Hour, "1d 0h 0m"},
		{50*time.Hour + 3*time.Minute, "2d 2h 3m"},
		{400 * 24 * time.Hour, "400d 0h 0m"},
	}
	for _, tt := range tests {
		if got := bot.HumanDuration(tt.d); got != tt.want {
			t.Errorf("HumanDuration(%s) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestSlackDate(t *testing.T) {
	tests := []struct {
		t    time.Time
		want string
	}{
		{time.Unix(1531420618, 0), "<!date^1531420618^{date_short_pretty} at {time}|12 Jul 2018 18:36 UTC>"},
		// The fallback is UTC whatever the location of t.
		{time.Date(2026, 3, 1, 9, 30, 0, 0, time.FixedZone("CET", 3600)), "<!date^1772353800^{date_short_pretty} at {time}|1 Mar 2026 08:30 UTC>"},
		{time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC), "<!date^1798761599^{date_short_pretty} at {time}|31 Dec 2026 23:59 UTC>"},
	}
	for _, tt := range tests {
		if got := bot.SlackDate(tt.t); got != tt.want {
			t.Errorf("SlackDate(%s) = %q, want %q", tt.t, got, tt.want)
		}
	}
}
