package web

import (
	"strings"
	"testing"
	"unicode"
)

// An Iris incident's title comes from its context, anything the caller
// sent: it is made one line without control characters, like the
// webhooks' titles, because it reaches SMS bodies and Slack headers.
func TestIrisTitleHostile(t *testing.T) {
	cases := []struct{ name, body, want string }{
		{"newlines and bell", `{"plan":"db","context":{"title":"Disk\nfull\u0007 now\r\n"}}`, "Disk full now"},
		{"escape sequence", `{"plan":"db","context":{"title":"\u001b[31mred\u001b[0m"}}`, "[31mred [0m"},
		{"control-only title falls back to the plan", `{"plan":"db","context":{"title":"\u0000\u0001"}}`, "db"},
		{"plan with a newline", `{"plan":"db\nx","context":{"notes":"n"}}`, "db x"},
		{"markup stays verbatim", `{"plan":"db","context":{"title":"<!channel> *b* <https://evil|click>"}}`, "<!channel> *b* <https://evil|click>"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ferr := parseIrisCreate([]byte(c.body))
			if ferr != nil {
				t.Fatalf("refused: %v", ferr)
			}
			if got.Title != c.want {
				t.Fatalf("title %q, want %q", got.Title, c.want)
			}
			if strings.ContainsFunc(got.Title, unicode.IsControl) {
				t.Fatalf("title %q has control characters", got.Title)
			}
		})
	}
}

// Invalid UTF-8 in an Iris context is refused naming the field (stored,
// PostgreSQL would refuse it with a 500).
func TestIrisContextInvalidUTF8(t *testing.T) {
	for _, body := range []string{
		"{\"plan\":\"db\",\"context\":{\"title\":\"ok \xff\xfe end\"}}",
		"{\"plan\":\"db\",\"context\":{\"\xc3\":\"v\"}}",
	} {
		_, ferr := parseIrisCreate([]byte(body))
		if ferr == nil || !strings.Contains(ferr.Error(), "context") || !strings.Contains(ferr.Error(), "UTF-8") {
			t.Errorf("%q: %v, want a context error about UTF-8", body, ferr)
		}
	}
}
