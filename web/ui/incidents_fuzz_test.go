package ui

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/heraldhq/herald/models"
)

// FuzzIncidentListQuery: any query string gets the list or a 400, never a
// 500, and nothing of it reaches the page unescaped.
func FuzzIncidentListQuery(f *testing.F) {
	for _, s := range []string{"", "status=open&severity=2", "from=2026-12-01&to=2026-12-31", "q=%25_%5C", "page=0", "team=%3Cscript%3E", "severity=sev9&page=99999999999"} {
		f.Add(s)
	}
	fx := newIncFixture(f, models.DialectSQLite)
	viewer := fx.signIn("vera", models.WebRoleViewer, nil)
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		rec := viewer.get("/incidents?" + q.Encode())
		if rec.Code != http.StatusOK && rec.Code != http.StatusBadRequest {
			t.Fatalf("?%s: status %d", raw, rec.Code)
		}
		if strings.Contains(rec.Body.String(), "<script>") {
			t.Fatalf("?%s: unescaped script", raw)
		}
	})
}

// FuzzIncNumber: only plain positive decimal numbers are incident numbers.
func FuzzIncNumber(f *testing.F) {
	for _, s := range []string{"1", "0", "-1", "01", "1e3", "99999999999999999999", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, ok := incNumber(s)
		if ok && (n < 1 || strings.TrimLeft(s, "0123456789") != "") {
			t.Fatalf("%q accepted as %d", s, n)
		}
	})
}

// FuzzIncMarkdown: escaped text never opens an HTML tag or a link.
func FuzzIncMarkdown(f *testing.F) {
	for _, s := range []string{"<script>", "a\\<b", "[x](javascript:1)", "- item\n# head", "`code`"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, out := range []string{incMDInline(s), incMDBlock(s)} {
			for i := 0; i < len(out); i++ {
				if (out[i] == '<' || out[i] == '[') && !escaped(out, i) {
					t.Fatalf("%q → %q: unescaped %c at %d", s, out, out[i], i)
				}
			}
		}
	})
}

// escaped reports whether out[i] follows an odd run of backslashes.
func escaped(out string, i int) bool {
	n := 0
	for j := i - 1; j >= 0 && out[j] == '\\'; j-- {
		n++
	}
	return n%2 == 1
}
