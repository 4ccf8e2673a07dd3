package handlers

import (
	"errors"
	"strings"
	"testing"
	"unicode"

	"github.com/heraldhq/herald/bot"
	"github.com/heraldhq/herald/models"
)

func TestParseUserMention(t *testing.T) {
	tests := []struct {
		name, in       string
		wantID, wantRe string
		wantOK         bool
	}{
		{"plain", "<@U123ABC>", "U123ABC", "", true},
		{"labelled", "<@U123|bob>", "U123", "", true},
		{"enterprise W id", "<@W123>", "W123", "", true},
		{"enterprise W id labelled", "<@W123|bob>", "W123", "", true},
		{"label with spaces", "<@U1|Bob Smith> rest", "U1", "rest", true},
		{"leading spaces", "  \t<@U1> rest", "U1", "rest", true},
		{"no-break space before rest", "<@U1>\u00a0rest", "U1", "rest", true},
		{"rest keeps its lines", "<@U1> line one\nline two\n", "U1", "line one\nline two\n", true},
		{"no space after", "<@U1>rest", "U1", "rest", true},
		{"empty", "", "", "", false},
		{"plain text", "bob", "", "bob", false},
		{"at-name typed without autocomplete", "@bob", "", "@bob", false},
		{"unterminated", "<@U1", "", "<@U1", false},
		{"lower-case id", "<@u1>", "", "<@u1>", false},
		{"channel", "<#C123|general>", "", "<#C123|general>", false},
		{"user group", "<!subteam^S1|@ops>", "", "<!subteam^S1|@ops>", false},
		{"bot id is a user id", "<@B123>", "", "<@B123>", false},
		{"prefix only", "<@U>", "", "<@U>", false},
		{"empty id with label", "<@|bob>", "", "<@|bob>", false},
		{"mention later in the text", "hi <@U1>", "", "hi <@U1>", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, rest, ok := parseUserMention(tt.in)
			if id != tt.wantID || rest != tt.wantRe || ok != tt.wantOK {
				t.Errorf("parseUserMention(%q) = (%q, %q, %v), want (%q, %q, %v)", tt.in, id, rest, ok, tt.wantID, tt.wantRe, tt.wantOK)
			}
		})
	}
}

// FuzzParseUserMention: never panics; a mention found is a valid user id
// that occurs in the input, rest is a suffix of the input without leading
// space, and a failure hands the input back untouched. Rendering the
// mention again and parsing it gives the same answer.
func FuzzParseUserMention(f *testing.F) {
	for _, s := range []string{
		"<@U123>", "<@W123|bob> rest", " <@U1|a b c>\nline", "<@U1", "<@>", "<@|x>", "<@u1>", "<#C1|x>",
		"<@U1>>", "<@U1|<@U2>>", "<@\xff>", "\u00a0<@W9>\u00a0x", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, rest, ok := parseUserMention(s)
		if !ok {
			if id != "" || rest != s {
				t.Fatalf("failed on %q but returned (%q, %q)", s, id, rest)
			}
			return
		}
		if !isSlackUserID(id) || !strings.Contains(s, "<@"+id) {
			t.Fatalf("id %q is not a user id from %q", id, s)
		}
		if !strings.HasSuffix(s, rest) {
			t.Fatalf("rest %q is not the end of %q", rest, s)
		}
		if rest != strings.TrimLeftFunc(rest, unicode.IsSpace) {
			t.Fatalf("rest %q starts with space", rest)
		}
		id2, rest2, ok2 := parseUserMention("<@" + id + "> " + rest)
		if !ok2 || id2 != id || rest2 != strings.TrimLeftFunc(rest, unicode.IsSpace) {
			t.Fatalf("re-parse of %q: (%q, %q, %v)", id, id2, rest2, ok2)
		}
	})
}

func TestSplitTrailingMention(t *testing.T) {
	tests := []struct{ in, text, id string }{
		{"fix the alert <@U1>", "fix the alert", "U1"},
		{"fix the alert <@W123|bob>", "fix the alert", "W123"},
		{"fix the alert <@U1>  \n", "fix the alert", "U1"},
		{"line one\nline two <@U1>", "line one\nline two", "U1"},
		{"line one\nline two\n<@U1>", "line one\nline two", "U1"},
		{"ask <@U1> to fix the alert", "ask <@U1> to fix the alert", ""},
		{"fix the alert", "fix the alert", ""},
		{"<@U1>", "", "U1"},
		{"word<@U1>", "word<@U1>", ""},
		{"fix <@U1> <@U2>", "fix <@U1>", "U2"},
		{"broken <@U1", "broken <@U1", ""},
	}
	for _, tt := range tests {
		text, id := splitTrailingMention(tt.in)
		if text != tt.text || id != tt.id {
			t.Errorf("splitTrailingMention(%q) = (%q, %q), want (%q, %q)", tt.in, text, id, tt.text, tt.id)
		}
	}
}

func TestParsePageArgs(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want pageRequest
		bad  bool
	}{
		{"person", "<@U1>", pageRequest{UserID: "U1"}, false},
		{"enterprise person with label", "<@W123|bob> urgent db is down", pageRequest{UserID: "W123", Priority: "urgent", Message: "db is down"}, false},
		{"team", "payments", pageRequest{Team: "payments"}, false},
		{"team with at", "@db-oncall high", pageRequest{Team: "db-oncall", Priority: "high"}, false},
		{"user group", "<!subteam^S0123|@sre> low", pageRequest{Team: "sre", Priority: "low"}, false},
		{"user group without label", "<!subteam^S0123>", pageRequest{Team: "S0123"}, false},
		{"each priority: low", "ops low", pageRequest{Team: "ops", Priority: "low"}, false},
		{"each priority: medium", "ops medium", pageRequest{Team: "ops", Priority: "medium"}, false},
		{"each priority: high", "ops HIGH", pageRequest{Team: "ops", Priority: "high"}, false},
		{"each priority: urgent", "ops urgent: now", pageRequest{Team: "ops", Priority: "urgent", Message: "now"}, false},
		{"explicit priority", "ops priority=medium check disk", pageRequest{Team: "ops", Priority: "medium", Message: "check disk"}, false},
		{"message without priority", "ops the disk is full", pageRequest{Team: "ops", Message: "the disk is full"}, false},
		{"multi-line message kept", "ops high line one\n\nline two", pageRequest{Team: "ops", Priority: "high", Message: "line one\n\nline two"}, false},
		{"escaped message unescaped", "ops errors &gt; 5%", pageRequest{Team: "ops", Message: "errors > 5%"}, false},
		{"nobody", "", pageRequest{}, true},
		{"spaces only", "  \n ", pageRequest{}, true},
		{"bad explicit priority", "ops priority=extreme", pageRequest{}, true},
		{"lookalike priority critical", "<@U1> critical db down", pageRequest{}, true},
		{"lookalike priority p1", "ops P1", pageRequest{}, true},
		{"broken mention", "<@U1 urgent", pageRequest{}, true},
		{"channel is not a target", "<#C1|general>", pageRequest{}, true},
		{"punctuation is not a team", "!!!", pageRequest{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parsePageArgs(tt.in)
			if tt.bad {
				var ue *bot.UsageError
				if !errors.As(err, &ue) {
					t.Fatalf("parsePageArgs(%q) = %+v, %v; want a usage error", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("parsePageArgs(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestParseChannelName(t *testing.T) {
	tests := []struct {
		in, want string
		bad      bool
	}{
		{"db-outage", "db-outage", false},
		{"#DB Outage", "db-outage", false},
		{"Café crème", "cafe-creme", false},
		{"<#C0123|old-name>", "old-name", false},
		{"inc_42", "inc_42", false},
		{"", "", true},
		{"###", "", true},
		{strings.Repeat("a", 81), "", true},
		{strings.Repeat("a", 80), strings.Repeat("a", 80), false},
	}
	for _, tt := range tests {
		got, err := parseChannelName(tt.in)
		if tt.bad {
			var ue *bot.UsageError
			if !errors.As(err, &ue) {
				t.Errorf("parseChannelName(%q) = %q, %v; want a usage error", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("parseChannelName(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

// The severity and status arguments go to the models' parsers; these are
// the spellings the commands document.
func TestCommandSeverityAndStatusArguments(t *testing.T) {
	sevs := map[string]models.Severity{
		"1": models.SEV1, "sev2": models.SEV2, "SEV3": models.SEV3, "4": models.SEV4,
		"critical": models.SEV1, "Major": models.SEV2, " minor ": models.SEV3, "trivial": models.SEV4,
	}
	for in, want := range sevs {
		if got, err := models.ParseSeverity(in); err != nil || got != want {
			t.Errorf("ParseSeverity(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"0", "5", "sev", "high", "1 2", "sev1\nsev2", ""} {
		if got, err := models.ParseSeverity(in); err == nil {
			t.Errorf("ParseSeverity(%q) = %v, want an error", in, got)
		}
	}
	for _, s := range models.Statuses {
		if got, err := models.ParseStatus(strings.ToUpper(string(s))); err != nil || got != s {
			t.Errorf("ParseStatus(%q) = %v, %v", s, got, err)
		}
	}
	for _, in := range []string{"closed", "fixed", "", "investigating now"} {
		if got, err := models.ParseStatus(in); err == nil {
			t.Errorf("ParseStatus(%q) = %v, want an error", in, got)
		}
	}
}

func TestEscapeKeepingMentions(t *testing.T) {
	in := "<@U1> said a < b & <@W2|bob> <#C3|general> <!channel> <https://x>"
	want := "<@U1> said a &lt; b &amp; <@W2|bob> <#C3|general> &lt;!channel&gt; &lt;https://x&gt;"
	if got := escapeKeepingMentions(in); got != want {
		t.Errorf("escapeKeepingMentions = %q\nwant %q", got, want)
	}
}

func TestQuoteKeepsLinesAndLimit(t *testing.T) {
	if got := quote("a\n\nb <c>"); got != "> a\n> \n> b &lt;c&gt;" {
		t.Errorf("quote = %q", got)
	}
	long := quote(strings.Repeat("&", 3000))
	if n := len([]rune(long)); n > 2900 {
		t.Errorf("quote of a long text is %d characters", n)
	}
	if !strings.HasSuffix(long, "&amp;…") {
		t.Errorf("quote cut an entity: ...%q", long[len(long)-12:])
	}
}
