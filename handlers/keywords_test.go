package handlers_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/heraldhq/herald/bot"
	"github.com/heraldhq/herald/handlers"
)

func TestParseKeywords(t *testing.T) {
	got, err := handlers.ParseKeywords([]byte(`
keywords:
  - name: runbook
    phrases: ["runbook", " playbook "]
    reply: "Runbooks live at https://wiki.example.com/runbooks"
  - name: on-call
    phrases:
      - who is on call
    reply: |
      Use @incident page.
`))
	if err != nil {
		t.Fatal(err)
	}
	want := []handlers.KeywordConfig{
		{Name: "runbook", Phrases: []string{"runbook", "playbook"}, Reply: "Runbooks live at https://wiki.example.com/runbooks"},
		{Name: "on-call", Phrases: []string{"who is on call"}, Reply: "Use @incident page."},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseKeywords = %+v, want %+v", got, want)
	}
}

func TestParseKeywordsErrors(t *testing.T) {
	ok := "  - name: ok\n    phrases: [ok]\n    reply: fine\n"
	tests := []struct {
		name, yaml, want string
	}{
		{"empty file", "", "keywords: no entries"},
		{"no list", "other: 1\n", `unknown field "other"`},
		{"empty list", "keywords: []\n", "keywords: no entries"},
		{"missing name", "keywords:\n  - phrases: [a]\n    reply: b\n", "keywords[0].name: required"},
		{"blank name", "keywords:\n  - name: '  '\n    phrases: [a]\n    reply: b\n", "keywords[0].name: required"},
		{"missing reply", "keywords:\n" + ok + "  - name: x\n    phrases: [a]\n", "keywords[1].reply: required"},
		{"blank reply", "keywords:\n" + ok + "  - name: x\n    phrases: [a]\n    reply: \"\\n\"\n", "keywords[1].reply: required"},
		{"no phrases", "keywords:\n" + ok + "  - name: x\n    reply: b\n", "keywords[1].phrases: at least one phrase required"},
		{"empty phrase list", "keywords:\n  - name: x\n    phrases: []\n    reply: b\n", "keywords[0].phrases: at least one phrase required"},
		{"blank phrase", "keywords:\n  - name: x\n    phrases: [a, ' ']\n    reply: b\n", "keywords[0].phrases[1]: empty phrase"},
		{"long phrase", "keywords:\n  - name: x\n    phrases: [" + strings.Repeat("a", 101) + "]\n    reply: b\n", "keywords[0].phrases[0]: longer than 100"},
		{"too many phrases", "keywords:\n  - name: x\n    phrases: [" + strings.Repeat("a,", 50) + "b]\n    reply: b\n", "keywords[0].phrases: more than 50"},
		{"duplicate name", "keywords:\n" + ok + "  - name: OK\n    phrases: [a]\n    reply: b\n", `keywords[1].name: "OK" is already the name of keywords[0]`},
		{"typo in a field", "keywords:\n  - name: x\n    phrase: [a]\n    reply: b\n", `unknown field "phrase"`},
		{"phrases not a list", "keywords:\n  - name: x\n    phrases: {a: b}\n    reply: b\n", "[3:14]"},
		{"not YAML", "keywords: [\n", "invalid YAML: [1:"},
		// goccy/go-yaml#735: the parser panics on these; they must be errors.
		{"tag on a scalar for the list", "keywords:\n  ! 00000000000000000", "invalid YAML"},
		{"tag on a scalar for phrases", "keywords:\n  - name: x\n    phrases: !00 0\n    reply: b\n", "invalid YAML"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := handlers.ParseKeywords([]byte(tt.yaml))
			if err == nil {
				t.Fatalf("ParseKeywords(%q) succeeded, want an error containing %q", tt.yaml, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines (bad in a start-up log): %q", err)
			}
		})
	}
}

func TestLoadKeywordsNamesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keywords.yaml")
	if err := os.WriteFile(path, []byte("keywords:\n  - name: x\n    phrases: [a]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := handlers.LoadKeywords(path)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "keywords[0].reply: required") {
		t.Errorf("LoadKeywords error = %v, want the path and the field", err)
	}
	if _, err := handlers.LoadKeywords(filepath.Join(t.TempDir(), "missing.yaml")); err == nil || !os.IsNotExist(err) {
		t.Errorf("missing file: error = %v, want not-exist", err)
	}
}

// The shipped example loads, registers, and answers what it promises.
func TestExampleKeywordsFile(t *testing.T) {
	ks, err := handlers.LoadKeywords("../examples/keywords.yaml")
	if err != nil {
		t.Fatal(err)
	}
	reg := registerAll(t, ks)
	for text, want := range map[string]string{
		"is there a runbook for the checkout service?": "runbook",
		"Should we update the status page?":            "status-page",
		"who's on call for payments":                   "on-call",
		"who’s on call for payments":                   "on-call",
		"we need to escalate":                          "on-call",
	} {
		m := reg.Match(text)
		if len(m) != 1 || m[0].Keyword.Name != want {
			t.Errorf("Match(%q) = %+v, want %s", text, m, want)
		}
		if len(m) == 1 && strings.Contains(want, "on-call") {
			if !strings.Contains(ks[2].Reply, "@incident page") {
				t.Errorf("on-call reply %q does not point to @incident page", ks[2].Reply)
			}
		}
	}
}

func registerAll(t testing.TB, ks []handlers.KeywordConfig) *bot.KeywordRegistry {
	t.Helper()
	reg := bot.NewRegistries()
	d := builtinDeps(t)
	d.Keywords = ks
	if err := handlers.RegisterBuiltins(reg, d); err != nil {
		t.Fatalf("registering %+v: %v", ks, err)
	}
	return reg.Keywords
}

// FuzzParseKeywords: never panics; what it accepts is valid (names, replies
// and phrases present, trimmed, UTF-8, unique names) and registers as
// keyword handlers without error, and every phrase matches itself.
func FuzzParseKeywords(f *testing.F) {
	if b, err := os.ReadFile("../examples/keywords.yaml"); err == nil {
		f.Add(b)
	}
	for _, s := range []string{
		"",
		"keywords: []",
		"keywords:\n  - name: a\n    phrases: [b]\n    reply: c\n",
		"keywords:\n  - name: a\n    phrases: ['(', '[x]', '\\\\', '.*']\n    reply: c\n",
		"keywords:\n  - {name: a, phrases: [b], reply: c}\n  - {name: A, phrases: [b], reply: c}\n",
		"keywords:\n  - name: a\n    phrases: [\"\\xff\"]\n    reply: c\n",
		"keywords: &x\n  - *x\n",
		"keywords:\n  - name: [1]\n",
		"keywords:\n  ! 00000000000000000", // goccy/go-yaml#735
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ks, err := handlers.ParseKeywords(data)
		if err != nil {
			if ks != nil {
				t.Fatalf("error %v with keywords %+v", err, ks)
			}
			return
		}
		if len(ks) == 0 {
			t.Fatal("accepted a file without keywords")
		}
		names := map[string]bool{}
		for i, k := range ks {
			if k.Name == "" || k.Reply == "" || len(k.Phrases) == 0 {
				t.Fatalf("keywords[%d] = %+v accepted with a missing field", i, k)
			}
			if names[strings.ToLower(k.Name)] {
				t.Fatalf("duplicate name %q accepted", k.Name)
			}
			names[strings.ToLower(k.Name)] = true
			for _, s := range append([]string{k.Name, k.Reply}, k.Phrases...) {
				if s != strings.TrimSpace(s) || !utf8.ValidString(s) || s == "" {
					t.Fatalf("keywords[%d] has an untrimmed, empty or invalid value %q", i, s)
				}
			}
		}
		reg := registerAll(t, ks)
		for _, k := range ks {
			for _, p := range k.Phrases {
				found := false
				for _, m := range reg.Match(p) {
					found = found || m.Keyword.Name == k.Name
				}
				if !found {
					t.Fatalf("phrase %q of %q does not match itself", p, k.Name)
				}
			}
		}
	})
}
