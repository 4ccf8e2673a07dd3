package handlers_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/heraldhq/herald/handlers"
)

const botID = "U0LAN0Z89"

func TestParseMention(t *testing.T) {
	tests := []struct {
		name      string
		text      string
		botUserID string
		wantName  string
		wantArgs  string
		wantOK    bool
	}{
		{"leading mention", "<@U0LAN0Z89> status", botID, "status", "", true},
		{"the Slack docs fixture", "<@U0LAN0Z89> is it everything a river should be?", botID, "is", "it everything a river should be?", true},
		{"mention mid-text", "hey <@U0LAN0Z89> lead <@U061F7AUR>", botID, "lead", "<@U061F7AUR>", true},
		{"labelled mention", "<@U0LAN0Z89|incident> severity 1", botID, "severity", "1", true},
		{"labelled mention with spaces in the label", "<@U0LAN0Z89|the incident bot> help", botID, "help", "", true},
		{"W-prefixed bot id", "<@W0LAN0Z89> help", "W0LAN0Z89", "help", "", true},
		{"W-prefixed other user with loose matching", "<@W123ABC> help", "", "help", "", true},
		{"other user first, then the bot", "<@U061F7AUR> <@U0LAN0Z89> lead <@U061F7AUR>", botID, "lead", "<@U061F7AUR>", true},
		{"other user first, bot id unknown: first mention counts", "<@U061F7AUR> <@U0LAN0Z89> lead", "", "<@u0lan0z89>", "lead", true},
		{"only another user mentioned", "<@U061F7AUR> status", botID, "", "", false},
		{"no mention", "status resolved", botID, "", "", false},
		{"no mention, loose", "status resolved", "", "", "", false},
		{"empty text", "", botID, "", "", false},
		{"broken mention", "<@U0LAN0Z89 status", botID, "", "", false},
		{"lower-case id is not a mention", "<@u0lan0z89> status", "", "", "", false},
		{"channel mention is not a user mention", "<!channel> <#C123> status", "", "", "", false},
		{"bare mention", "<@U0LAN0Z89>", botID, "", "", true},
		{"mention and whitespace", "<@U0LAN0Z89>  \n\t ", botID, "", "", true},
		{"no space after the mention", "<@U0LAN0Z89>help", botID, "help", "", true},
		{"trailing colon", "<@U0LAN0Z89>: help", botID, "help", "", true},
		{"trailing comma", "<@U0LAN0Z89>, status resolved", botID, "status", "resolved", true},
		{"colon and space", "<@U0LAN0Z89> : help", botID, "help", "", true},
		{"uppercase command lowered", "<@U0LAN0Z89> SUMMARY Mixed Case Args", botID, "summary", "Mixed Case Args", true},
		{"non-ASCII command lowered", "<@U0LAN0Z89> ÉTAT résolu", botID, "état", "résolu", true},
		{
			"multi-line args keep their line breaks",
			"<@U0LAN0Z89> summary Card payments fail.\n\n• EU only\n  • since 09:30\n",
			botID, "summary", "Card payments fail.\n\n• EU only\n  • since 09:30", true,
		},
		{"args on the next line", "<@U0LAN0Z89> summary\nline one\nline two", botID, "summary", "line one\nline two", true},
		{"command on the next line", "<@U0LAN0Z89>\nhelp", botID, "help", "", true},
		{"CRLF", "<@U0LAN0Z89> summary a\r\nb\r\n", botID, "summary", "a\r\nb", true},
		{"tab separated", "<@U0LAN0Z89>\tseverity\t2", botID, "severity", "2", true},
		// Slack clients insert no-break spaces (e.g. after an autocompleted
		// mention); they separate words like any other space.
		{"no-break space after the mention", "<@U0LAN0Z89>\u00a0help", botID, "help", "", true},
		{"no-break space before args", "<@U0LAN0Z89> severity\u00a01", botID, "severity", "1", true},
		{"ideographic space", "<@U0LAN0Z89>\u3000status\u3000resolved", botID, "status", "resolved", true},
		{"second bot mention in args is kept", "<@U0LAN0Z89> note ask <@U0LAN0Z89> later", botID, "note", "ask <@U0LAN0Z89> later", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name, args, ok := handlers.ParseMention(tt.text, tt.botUserID)
			if name != tt.wantName || args != tt.wantArgs || ok != tt.wantOK {
				t.Errorf("ParseMention(%q, %q) = (%q, %q, %v), want (%q, %q, %v)",
					tt.text, tt.botUserID, name, args, ok, tt.wantName, tt.wantArgs, tt.wantOK)
			}
		})
	}
}

// FuzzParseMention: never panics; the name is one lower-case word without
// whitespace, args never start or end with whitespace, and both come from
// the text after a mention.
func FuzzParseMention(f *testing.F) {
	for _, s := range []string{
		"<@U0LAN0Z89> is it everything a river should be?", // the app_mention fixture
		"<@U0LAN0Z89> status",
		"<@U0LAN0Z89|incident>: SUMMARY line one\n\nline two\n",
		"<@U061F7AUR> <@U0LAN0Z89> lead <@U061F7AUR>",
		"<@W0LAN0Z89>\u00a0help",
		"<@U0LAN0Z89>\u2028x\u0085y",
		"<@U0LAN0Z89> \xff\xfe",
		"<@U0LAN0Z89",
		"",
	} {
		f.Add(s, botID)
		f.Add(s, "")
	}
	f.Fuzz(func(t *testing.T, text, botUserID string) {
		name, args, ok := handlers.ParseMention(text, botUserID)
		if !ok {
			if name != "" || args != "" {
				t.Fatalf("not ok but name=%q args=%q", name, args)
			}
			return
		}
		if !strings.Contains(text, "<@") {
			t.Fatalf("ok without a mention in %q", text)
		}
		if strings.ContainsFunc(name, unicode.IsSpace) {
			t.Fatalf("name %q contains whitespace", name)
		}
		if name != strings.ToLower(name) {
			t.Fatalf("name %q is not lower case", name)
		}
		if name == "" && args != "" {
			t.Fatalf("args %q without a name", args)
		}
		if args != "" {
			first, _ := utf8.DecodeRuneInString(args)
			last, _ := utf8.DecodeLastRuneInString(args)
			if unicode.IsSpace(first) || unicode.IsSpace(last) {
				t.Fatalf("args %q start or end with whitespace", args)
			}
			if !strings.Contains(text, args) {
				t.Fatalf("args %q are not a substring of %q: line breaks or content changed", args, text)
			}
		}
	})
}
