package web

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/heraldhq/herald/models"
)

func TestParseIrisCreate(t *testing.T) {
	long := strings.Repeat("é", 200)
	cases := []struct {
		name, body, field string
		check             func(t *testing.T, c *irisCreate)
	}{
		{"title from context.title", `{"plan":"db","context":{"title":" Disk full ","summary":"97%"}}`, "", func(t *testing.T, c *irisCreate) {
			if c.Plan != "db" || c.Title != "Disk full" || c.Message != "97%" || c.Context != `{"title":" Disk full ","summary":"97%"}` {
				t.Fatalf("%+v", c)
			}
		}},
		{"title from summary, message from notes", `{"plan":"db","context":{"summary":"Lag","notes":"see graph"}}`, "", func(t *testing.T, c *irisCreate) {
			if c.Title != "Lag" || c.Message != "see graph" {
				t.Fatalf("%+v", c)
			}
		}},
		{"title from the plan", `{"plan":"db","context":{"notes":"x","n":12345678901234567890}}`, "", func(t *testing.T, c *irisCreate) {
			if c.Title != "db" || c.Message != "x" || !strings.Contains(c.Context, "12345678901234567890") ||
				len(c.Labels) != 1 || c.Labels["notes"] != "x" {
				t.Fatalf("%+v", c)
			}
		}},
		{"long title cut", `{"plan":"db","context":{"title":"` + long + `"}}`, "", func(t *testing.T, c *irisCreate) {
			if n := utf8.RuneCountInString(c.Title); n != models.MaxTitleLength || !strings.HasSuffix(c.Title, "…") {
				t.Fatalf("title of %d runes: %q", n, c.Title)
			}
		}},
		{"dynamic targets", `{"plan":"db","context":{},"dynamic_targets":[{"role":"user","target":"ann"},{"role":"oncall","target":"dba"}]}`, "", func(t *testing.T, c *irisCreate) {
			if len(c.DynamicTargets) != 2 || c.DynamicTargets[1] != (irisTarget{Role: "oncall-primary", Target: "dba"}) {
				t.Fatalf("%+v", c.DynamicTargets)
			}
		}},
		{"unknown fields ignored", `{"plan":"db","context":{},"priority":"x"}`, "", nil},
		{"not an object", `[1]`, "", nil},
		{"empty", ``, "", nil},
		{"no plan", `{"context":{}}`, "plan", nil},
		{"plan not a string", `{"plan":3,"context":{}}`, "plan", nil},
		{"blank plan", `{"plan":"  ","context":{}}`, "plan", nil},
		{"no context", `{"plan":"db"}`, "context", nil},
		{"null context", `{"plan":"db","context":null}`, "context", nil},
		{"context a list", `{"plan":"db","context":[1]}`, "context", nil},
		{"context too big", `{"plan":"db","context":{"x":"` + strings.Repeat("a", irisMaxContext) + `"}}`, "context", nil},
		{"application not a string", `{"plan":"db","context":{},"application":1}`, "application", nil},
		{"dynamic targets not a list", `{"plan":"db","context":{},"dynamic_targets":{}}`, "dynamic_targets", nil},
		{"dynamic target without target", `{"plan":"db","context":{},"dynamic_targets":[{"role":"user"}]}`, "dynamic_targets[0].target", nil},
		{"dynamic target bad role", `{"plan":"db","context":{},"dynamic_targets":[{"role":"user","target":"a"},{"role":"boss","target":"b"}]}`, "dynamic_targets[1].role", nil},
		{"dynamic target to a channel", `{"plan":"db","context":{},"dynamic_targets":[{"role":"slack-channel","target":"C1"}]}`, "dynamic_targets[0].role", nil},
		{"dynamic target literal", `{"plan":"db","context":{},"dynamic_targets":[{"role":"literal_target","target":"x@y"}]}`, "dynamic_targets[0].role", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ferr := parseIrisCreate([]byte(c.body))
			wantErr := c.check == nil && c.name != "unknown fields ignored"
			if !wantErr {
				if ferr != nil {
					t.Fatalf("unexpected error %v", ferr)
				}
				if c.check != nil {
					c.check(t, got)
				}
				return
			}
			if ferr == nil || ferr.Field != c.field {
				t.Fatalf("error %v, want one naming %q", ferr, c.field)
			}
		})
	}
}

func TestParseIrisClaims(t *testing.T) {
	owner, ferr := parseIrisClaim([]byte(`{"owner":"ann"}`))
	if ferr != nil || owner == nil || *owner != "ann" {
		t.Fatalf("claim: %v, %v", owner, ferr)
	}
	if owner, ferr = parseIrisClaim([]byte(`{"owner":null}`)); ferr != nil || owner != nil {
		t.Fatalf("unclaim: %v, %v", owner, ferr)
	}
	for _, body := range []string{`{}`, `{"owner":""}`, `{"owner":3}`, `"ann"`} {
		if _, ferr := parseIrisClaim([]byte(body)); ferr == nil {
			t.Errorf("parseIrisClaim(%s) accepted", body)
		}
	}
	owner, ids, ferr := parseIrisClaimMany([]byte(`{"owner":"ann","incident_ids":[3,"4",3,5]}`))
	if ferr != nil || *owner != "ann" || len(ids) != 3 || ids[0] != 3 || ids[1] != 4 || ids[2] != 5 {
		t.Fatalf("claim many: %v %v %v", owner, ids, ferr)
	}
	many := "[" + strings.Repeat("1,", irisMaxClaims) + "1]"
	for body, field := range map[string]string{
		`{"incident_ids":[1]}`:                        "owner",
		`{"owner":"ann"}`:                             "incident_ids",
		`{"owner":"ann","incident_ids":[]}`:           "incident_ids",
		`{"owner":"ann","incident_ids":1}`:            "incident_ids",
		`{"owner":"ann","incident_ids":[1,0]}`:        "incident_ids[1]",
		`{"owner":"ann","incident_ids":["x"]}`:        "incident_ids[0]",
		`{"owner":"ann","incident_ids":[1.5]}`:        "incident_ids[0]",
		`{"owner":"ann","incident_ids":` + many + `}`: "incident_ids",
	} {
		if _, _, ferr := parseIrisClaimMany([]byte(body)); ferr == nil || ferr.Field != field {
			t.Errorf("parseIrisClaimMany(%.60s) = %v, want an error naming %s", body, ferr, field)
		}
	}
}

func TestParseIrisResolve(t *testing.T) {
	for body, want := range map[string]bool{``: true, ` `: true, `{"resolved":true}`: true, `{"resolved":false}`: false} {
		if got, ferr := parseIrisResolve([]byte(body)); ferr != nil || got != want {
			t.Errorf("parseIrisResolve(%q) = %v, %v", body, got, ferr)
		}
	}
	for _, body := range []string{`{}`, `{"resolved":"yes"}`, `[]`} {
		if _, ferr := parseIrisResolve([]byte(body)); ferr == nil {
			t.Errorf("parseIrisResolve(%q) accepted", body)
		}
	}
}

func TestParseIrisNotification(t *testing.T) {
	cases := []struct {
		name, body, field string
		want              string // "role target priority mode subject|body|template"
	}{
		{"priority", `{"role":"team","target":"dba","subject":"s","body":"b","priority":"high"}`, "", "team dba high  s|b|"},
		{"mode", `{"role":"user","target":"ann","subject":"s","body":"b","mode":"sms"}`, "", "user ann  sms s|b|"},
		{"priority overrides mode", `{"role":"user","target":"ann","subject":"s","body":"b","mode":"junk","priority":"low"}`, "", "user ann low  s|b|"},
		{"template wins over body", `{"role":"user","target":"ann","subject":"s","body":"b","template":"t","context":{"x":1},"mode":"email"}`, "", "user ann  email s||t"},
		{"oncall alias", `{"role":"oncall","target":"dba","subject":"s","body":"b","priority":"urgent"}`, "", "oncall-primary dba urgent  s|b|"},
		{"channel", `{"role":"slack-channel","target":"C1","subject":"","body":"b","mode":"slack"}`, "", "slack-channel C1  slack |b|"},
		{"target list", `{"target_list":[{"role":"user","target":"ann","bcc":true},{"role":"team","target":"dba"}],"subject":"s","body":"b","mode":"email"}`, "", "user ann  email s|b| +1"},
		{"no role", `{"target":"ann","subject":"s","body":"b","priority":"low"}`, "role", ""},
		{"literal target", `{"role":"literal_target","target":"#x","subject":"s","body":"b","mode":"slack"}`, "role", ""},
		{"unknown role", `{"role":"boss","target":"x","subject":"s","body":"b","priority":"low"}`, "role", ""},
		{"no target", `{"role":"user","subject":"s","body":"b","priority":"low"}`, "target", ""},
		{"no subject", `{"role":"user","target":"ann","body":"b","priority":"low"}`, "subject", ""},
		{"subject not a string", `{"role":"user","target":"ann","subject":1,"body":"b","priority":"low"}`, "subject", ""},
		{"long subject", `{"role":"user","target":"ann","subject":"` + strings.Repeat("s", irisMaxSubject+1) + `","body":"b","priority":"low"}`, "subject", ""},
		{"no priority nor mode", `{"role":"user","target":"ann","subject":"s","body":"b"}`, "priority", ""},
		{"category only", `{"role":"user","target":"ann","subject":"s","body":"b","category":"deploys"}`, "category", ""},
		{"bad priority", `{"role":"user","target":"ann","subject":"s","body":"b","priority":"p1"}`, "priority", ""},
		{"bad mode", `{"role":"user","target":"ann","subject":"s","body":"b","mode":"pager"}`, "mode", ""},
		{"no body", `{"role":"user","target":"ann","subject":"s","priority":"low"}`, "body", ""},
		{"email_html only", `{"role":"user","target":"ann","subject":"s","email_html":"<b>x</b>","priority":"low"}`, "body", ""},
		{"body too long", `{"role":"user","target":"ann","subject":"s","body":"` + strings.Repeat("b", 4001) + `","priority":"low"}`, "body", ""},
		{"context a list", `{"role":"user","target":"ann","subject":"s","template":"t","context":[],"priority":"low"}`, "context", ""},
		{"target list with priority", `{"target_list":[{"role":"user","target":"ann"}],"subject":"s","body":"b","priority":"low","mode":"email"}`, "priority", ""},
		{"target list by sms", `{"target_list":[{"role":"user","target":"ann"}],"subject":"s","body":"b","mode":"sms"}`, "mode", ""},
		{"target list entry", `{"target_list":[{"role":"user"}],"subject":"s","body":"b","mode":"email"}`, "target_list[0].target", ""},
		{"empty target list", `{"target_list":[],"subject":"s","body":"b","mode":"email"}`, "target_list", ""},
		{"not an object", `"hello"`, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n, ferr := parseIrisNotification([]byte(c.body))
			if c.want == "" {
				if ferr == nil || ferr.Field != c.field {
					t.Fatalf("error %v, want one naming %q", ferr, c.field)
				}
				return
			}
			if ferr != nil {
				t.Fatalf("unexpected error %v", ferr)
			}
			got := n.Targets[0].Role + " " + n.Targets[0].Target + " " + n.Priority + " " + string(n.Mode) + " " + n.Subject + "|" + n.Body + "|" + n.Template
			if len(n.Targets) > 1 {
				got += " +1"
			}
			if got != c.want {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
}

// FuzzIrisBodies: every request body parser answers a value or a field
// error, never panics; an accepted incident's context is a JSON object
// within Iris's bound and its title fits Herald's.
func FuzzIrisBodies(f *testing.F) {
	for _, s := range []string{
		`{"plan":"db","context":{"title":"Disk full","notes":"x"},"dynamic_targets":[{"role":"user","target":"ann"}]}`,
		`{"owner":"ann","incident_ids":[1,"2"]}`, `{"owner":null}`, `{"resolved":false}`,
		`{"role":"team","target":"dba","subject":"s","template":"t","context":{"a":[1]},"priority":"high"}`,
		`{"target_list":[{"role":"user","target":"ann"}],"subject":"s","body":"b","mode":"email"}`,
		``, `null`, `[]`, `{"context":{"title":7}}`, `{"plan":"p","context":{"title":"` + strings.Repeat("ü", 151) + `"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if c, ferr := parseIrisCreate(body); ferr == nil {
			var m map[string]any
			if err := json.Unmarshal([]byte(c.Context), &m); err != nil || m == nil || len(c.Context) > irisMaxContext {
				t.Fatalf("accepted context %q", c.Context)
			}
			if c.Title == "" || utf8.RuneCountInString(c.Title) > models.MaxTitleLength {
				t.Fatalf("title %q", c.Title)
			}
		} else if c != nil {
			t.Fatal("a value with an error")
		}
		_, _ = parseIrisClaim(body)
		if _, ids, ferr := parseIrisClaimMany(body); ferr == nil {
			for _, id := range ids {
				if id <= 0 {
					t.Fatalf("id %d accepted", id)
				}
			}
		}
		_, _ = parseIrisResolve(body)
		if n, ferr := parseIrisNotification(body); ferr == nil {
			if len(n.Targets) == 0 || (n.Priority == "" && n.Mode == "") || (n.Body == "" && n.Template == "") {
				t.Fatalf("accepted %+v", n)
			}
		}
	})
}
