package bot_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/heraldhq/herald/bot"
	"github.com/heraldhq/herald/models"
)

func runCmd(context.Context, bot.CommandRequest) error      { return nil }
func runKeyword(context.Context, bot.KeywordRequest) error  { return nil }
func runAction(context.Context, bot.ActionRequest) error    { return nil }
func runEvent(context.Context, bot.EventRequest) error      { return nil }
func runJob(context.Context, []byte) error                  { return nil }
func sendNote(context.Context, *models.Incident, int) error { return nil }
func runSlash(context.Context, slack.SlashCommand) (bot.SlashResponse, error) {
	return bot.SlashResponse{}, nil
}

// TestRegistriesRefuseDuplicates registers first, then second, into fresh
// registries; second must fail with ErrDuplicateRegistration.
func TestRegistriesRefuseDuplicates(t *testing.T) {
	tests := []struct {
		name          string
		first, second func(r *bot.Registries) error
	}{
		{
			name:   "command name",
			first:  func(r *bot.Registries) error { return r.Commands.Register(bot.Command{Name: "lead", Run: runCmd}) },
			second: func(r *bot.Registries) error { return r.Commands.Register(bot.Command{Name: "lead", Run: runCmd}) },
		},
		{
			name:   "command name differing only in case",
			first:  func(r *bot.Registries) error { return r.Commands.Register(bot.Command{Name: "lead", Run: runCmd}) },
			second: func(r *bot.Registries) error { return r.Commands.Register(bot.Command{Name: "LEAD", Run: runCmd}) },
		},
		{
			name:  "alias colliding with another command's name",
			first: func(r *bot.Registries) error { return r.Commands.Register(bot.Command{Name: "severity", Run: runCmd}) },
			second: func(r *bot.Registries) error {
				return r.Commands.Register(bot.Command{Name: "sev", Aliases: []string{"Severity"}, Run: runCmd})
			},
		},
		{
			name: "name colliding with another command's alias",
			first: func(r *bot.Registries) error {
				return r.Commands.Register(bot.Command{Name: "severity", Aliases: []string{"sev"}, Run: runCmd})
			},
			second: func(r *bot.Registries) error { return r.Commands.Register(bot.Command{Name: "sev", Run: runCmd}) },
		},
		{
			name: "alias colliding with another command's alias",
			first: func(r *bot.Registries) error {
				return r.Commands.Register(bot.Command{Name: "severity", Aliases: []string{"sev"}, Run: runCmd})
			},
			second: func(r *bot.Registries) error {
				return r.Commands.Register(bot.Command{Name: "seven", Aliases: []string{"SEV"}, Run: runCmd})
			},
		},
		{
			name: "keyword handler",
			first: func(r *bot.Registries) error {
				return r.Keywords.Register(bot.Keyword{Name: "runbook", Phrases: []string{"runbook"}, Run: runKeyword})
			},
			second: func(r *bot.Registries) error {
				return r.Keywords.Register(bot.Keyword{Name: "Runbook", Phrases: []string{"playbook"}, Run: runKeyword})
			},
		},
		{
			name:  "action",
			first: func(r *bot.Registries) error { return r.Actions.Register(bot.Action{ID: "ack", Run: runAction}) },
			second: func(r *bot.Registries) error {
				return r.Actions.Register(bot.Action{ID: "ack", Inline: true, Run: runAction})
			},
		},
		{
			name: "event handler",
			first: func(r *bot.Registries) error {
				return r.Events.Register(bot.EventHandler{Name: "pins", Type: "pin_added", Run: runEvent})
			},
			second: func(r *bot.Registries) error {
				return r.Events.Register(bot.EventHandler{Name: "pins", Type: "reaction_added", Run: runEvent})
			},
		},
		{
			name: "notification",
			first: func(r *bot.Registries) error {
				return r.Notifications.Register(bot.Notification{Name: "lead-reminder", Spec: "@every 2m", MaxCount: 3, Send: sendNote})
			},
			second: func(r *bot.Registries) error {
				return r.Notifications.Register(bot.Notification{Name: "lead-reminder", Spec: "*/5 * * * *", MaxCount: 1, Send: sendNote})
			},
		},
		{
			name: "slash command",
			first: func(r *bot.Registries) error {
				return r.Slash.Register(bot.SlashCommand{Command: "/incident", Run: runSlash})
			},
			second: func(r *bot.Registries) error {
				return r.Slash.Register(bot.SlashCommand{Command: "/Incident", Run: runSlash})
			},
		},
		{
			name:   "job kind",
			first:  func(r *bot.Registries) error { return r.Jobs.Register("headline.post", runJob) },
			second: func(r *bot.Registries) error { return r.Jobs.Register("headline.post", runJob) },
		},
		{
			name: "job kind the dispatcher owns",
			first: func(r *bot.Registries) error {
				_, err := bot.NewDispatcher(r, &fakeQueue{}, nil, discardLogger(t), nil)
				return err
			},
			second: func(r *bot.Registries) error { return r.Jobs.Register(bot.JobSlackEvent, runJob) },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := bot.NewRegistries()
			if err := tt.first(r); err != nil {
				t.Fatalf("first registration: %v", err)
			}
			err := tt.second(r)
			if !errors.Is(err, bot.ErrDuplicateRegistration) {
				t.Fatalf("second registration = %v, want ErrDuplicateRegistration", err)
			}
		})
	}
}

func TestFailedCommandRegistrationLeavesNoTrace(t *testing.T) {
	r := bot.NewCommandRegistry()
	if err := r.Register(bot.Command{Name: "severity", Run: runCmd}); err != nil {
		t.Fatal(err)
	}
	err := r.Register(bot.Command{Name: "status", Aliases: []string{"st", "severity"}, Run: runCmd})
	if !errors.Is(err, bot.ErrDuplicateRegistration) {
		t.Fatalf("Register = %v", err)
	}
	for _, name := range []string{"status", "st"} {
		if _, ok := r.Lookup(name); ok {
			t.Errorf("Lookup(%q) found a command whose registration failed", name)
		}
	}
	if n := len(r.All()); n != 1 {
		t.Errorf("All() has %d commands, want 1", n)
	}
}

func TestRegistriesRefuseInvalidRegistrations(t *testing.T) {
	tests := []struct {
		name     string
		register func(r *bot.Registries) error
	}{
		{"command without Run", func(r *bot.Registries) error { return r.Commands.Register(bot.Command{Name: "lead"}) }},
		{"command with an empty name", func(r *bot.Registries) error { return r.Commands.Register(bot.Command{Name: "", Run: runCmd}) }},
		{"command with two words", func(r *bot.Registries) error { return r.Commands.Register(bot.Command{Name: "set lead", Run: runCmd}) }},
		{"command with an empty alias", func(r *bot.Registries) error {
			return r.Commands.Register(bot.Command{Name: "lead", Aliases: []string{""}, Run: runCmd})
		}},
		{"command with a two-word alias", func(r *bot.Registries) error {
			return r.Commands.Register(bot.Command{Name: "lead", Aliases: []string{"set lead"}, Run: runCmd})
		}},
		{"keyword without Run", func(r *bot.Registries) error {
			return r.Keywords.Register(bot.Keyword{Name: "runbook", Phrases: []string{"runbook"}})
		}},
		{"keyword without phrases", func(r *bot.Registries) error {
			return r.Keywords.Register(bot.Keyword{Name: "runbook", Run: runKeyword})
		}},
		{"keyword with a blank phrase", func(r *bot.Registries) error {
			return r.Keywords.Register(bot.Keyword{Name: "runbook", Phrases: []string{"runbook", "  "}, Run: runKeyword})
		}},
		{"keyword without a name", func(r *bot.Registries) error {
			return r.Keywords.Register(bot.Keyword{Phrases: []string{"runbook"}, Run: runKeyword})
		}},
		{"action without Run", func(r *bot.Registries) error { return r.Actions.Register(bot.Action{ID: "ack"}) }},
		{"action without an id", func(r *bot.Registries) error { return r.Actions.Register(bot.Action{Run: runAction}) }},
		{"event handler without Run", func(r *bot.Registries) error {
			return r.Events.Register(bot.EventHandler{Name: "pins", Type: "pin_added"})
		}},
		{"event handler without a type", func(r *bot.Registries) error { return r.Events.Register(bot.EventHandler{Name: "pins", Run: runEvent}) }},
		{"event handler without a name", func(r *bot.Registries) error {
			return r.Events.Register(bot.EventHandler{Type: "pin_added", Run: runEvent})
		}},
		{"notification without Send", func(r *bot.Registries) error {
			return r.Notifications.Register(bot.Notification{Name: "n", Spec: "@every 2m", MaxCount: 1})
		}},
		{"notification with MaxCount 0", func(r *bot.Registries) error {
			return r.Notifications.Register(bot.Notification{Name: "n", Spec: "@every 2m", Send: sendNote})
		}},
		{"notification with a bad cron spec", func(r *bot.Registries) error {
			return r.Notifications.Register(bot.Notification{Name: "n", Spec: "every two minutes", MaxCount: 1, Send: sendNote})
		}},
		{"notification with six cron fields", func(r *bot.Registries) error {
			return r.Notifications.Register(bot.Notification{Name: "n", Spec: "0 */5 * * * *", MaxCount: 1, Send: sendNote})
		}},
		{"notification with a bad interval", func(r *bot.Registries) error {
			return r.Notifications.Register(bot.Notification{Name: "n", Spec: "@every 2 minutes", MaxCount: 1, Send: sendNote})
		}},
		{"notification with an empty spec", func(r *bot.Registries) error {
			return r.Notifications.Register(bot.Notification{Name: "n", MaxCount: 1, Send: sendNote})
		}},
		{"slash command without Run", func(r *bot.Registries) error { return r.Slash.Register(bot.SlashCommand{Command: "/incident"}) }},
		{"slash command without the slash", func(r *bot.Registries) error {
			return r.Slash.Register(bot.SlashCommand{Command: "incident", Run: runSlash})
		}},
		{"job without a func", func(r *bot.Registries) error { return r.Jobs.Register("headline.post", nil) }},
		{"job without a kind", func(r *bot.Registries) error { return r.Jobs.Register("", runJob) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.register(bot.NewRegistries())
			if !errors.Is(err, bot.ErrInvalidRegistration) {
				t.Fatalf("Register = %v, want ErrInvalidRegistration", err)
			}
			if errors.Is(err, bot.ErrDuplicateRegistration) {
				t.Fatalf("Register = %v also matches ErrDuplicateRegistration", err)
			}
		})
	}
}

func TestCommandLookup(t *testing.T) {
	r := bot.NewCommandRegistry()
	for _, c := range []bot.Command{
		{Name: "severity", Aliases: []string{"sev", "Priority"}, Usage: "<1-4>", Help: "set the severity", Run: runCmd},
		{Name: "Lead", Usage: "<@person>", Help: "set the lead", Run: runCmd},
		{Name: "help", Help: "list the commands", AnyChannel: true, Run: runCmd},
	} {
		if err := r.Register(c); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name     string
		wantName string // "" means not found
	}{
		{"severity", "severity"},
		{"SEVERITY", "severity"},
		{"sev", "severity"},
		{"Sev", "severity"},
		{"priority", "severity"},
		{"PRIORITY", "severity"},
		{"lead", "Lead"},
		{"LEAD", "Lead"},
		{"help", "help"},
		{"", ""},
		{"se", ""},
		{"severity ", ""},
		{"leads", ""},
	}
	for _, tt := range tests {
		c, ok := r.Lookup(tt.name)
		switch {
		case tt.wantName == "" && ok:
			t.Errorf("Lookup(%q) = %q, want not found", tt.name, c.Name)
		case tt.wantName != "" && !ok:
			t.Errorf("Lookup(%q) not found, want %q", tt.name, tt.wantName)
		case ok && c.Name != tt.wantName:
			t.Errorf("Lookup(%q) = %q, want %q", tt.name, c.Name, tt.wantName)
		}
	}
	// Registration order is kept.
	var names []string
	for _, c := range r.All() {
		names = append(names, c.Name)
	}
	if got := strings.Join(names, ","); got != "severity,Lead,help" {
		t.Errorf("All() = %s", got)
	}
}

func TestCommandHelpListsEveryCommand(t *testing.T) {
	r := bot.NewCommandRegistry()
	cmds := []bot.Command{
		{Name: "status", Usage: "<status>", Help: "move the incident along", Run: runCmd},
		{Name: "severity", Aliases: []string{"sev", "priority"}, Usage: "<1-4>", Help: "set the severity", Run: runCmd},
		{Name: "help", Help: "list the commands I understand", Run: runCmd},
		{Name: "lead", Usage: "<@person>", Help: "set the lead", Run: runCmd},
	}
	for _, c := range cmds {
		if err := r.Register(c); err != nil {
			t.Fatal(err)
		}
	}
	help := r.Help("incident")
	want := "*Commands* — mention me in an incident channel: `@incident <command>`\n" +
		"• `help` — list the commands I understand\n" +
		"• `lead <@person>` — set the lead\n" +
		"• `severity <1-4>` (also sev, priority) — set the severity\n" +
		"• `status <status>` — move the incident along\n"
	if help != want {
		t.Errorf("Help =\n%s\nwant\n%s", help, want)
	}
	for _, c := range cmds {
		if !strings.Contains(help, "`"+c.Name) || !strings.Contains(help, c.Help) {
			t.Errorf("Help does not list %q", c.Name)
		}
	}
	if got, want := cmds[1].UsageLine("incident"), "`@incident severity <1-4>`"; got != want {
		t.Errorf("UsageLine = %q, want %q", got, want)
	}
	if got, want := cmds[2].UsageLine("herald"), "`@herald help`"; got != want {
		t.Errorf("UsageLine = %q, want %q", got, want)
	}
}

// Keyword phrases match case-insensitively, as whole words: a phrase must not
// be preceded or followed by a letter, digit or underscore (in any script).
// So "runbook" matches "see the Runbook." and "runbook's", but not
// "runbooks" — plurals are not stemmed; register them as their own phrase.
// Punctuation, including hyphens, is a boundary: "db" matches "db-01".
func TestKeywordMatch(t *testing.T) {
	r := bot.NewKeywordRegistry()
	for _, k := range []bot.Keyword{
		{Name: "runbook", Phrases: []string{"runbook"}, Run: runKeyword},
		{Name: "database", Phrases: []string{"db", "database", "postgres down"}, Run: runKeyword},
		{Name: "regexp-safe", Phrases: []string{"5xx (errors)", "c++"}, Run: runKeyword},
		{Name: "cyrillic", Phrases: []string{"сбой"}, Run: runKeyword},
	} {
		if err := r.Register(k); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		text string
		want []string // "handler=phrase as written in the text"
	}{
		{"see the Runbook.", []string{"runbook=Runbook"}},
		{"RUNBOOK", []string{"runbook=RUNBOOK"}},
		{"runbook", []string{"runbook=runbook"}},
		{"the runbook's third step", []string{"runbook=runbook"}},
		{"(runbook)", []string{"runbook=runbook"}},
		{"link: <https://wiki/runbook|runbook>", []string{"runbook=runbook"}},
		{"line one\nrunbook\nline three", []string{"runbook=runbook"}},
		{"*runbook*", []string{"runbook=runbook"}},
		{"all the runbooks", nil},
		{"prerunbook", nil},
		{"runbook_v2", nil},
		{"runbook2", nil},
		{"the db is slow", []string{"database=db"}},
		{"DB", []string{"database=DB"}},
		{"db-01 is down", []string{"database=db"}},
		{"ask dbadmin", nil},
		{"mydb", nil},
		{"dbé", nil},
		{"ødb", nil},
		{"Postgres  down", nil},
		{"is Postgres down?", []string{"database=Postgres down"}},
		{"the db runbook", []string{"runbook=runbook", "database=db"}},
		{"5xx (errors) everywhere", []string{"regexp-safe=5xx (errors)"}},
		{"5xx errors everywhere", nil},
		{"we use c++ here", []string{"regexp-safe=c++"}},
		{"Сбой оплаты", []string{"cyrillic=Сбой"}},
		{"сбойный", nil},
		{"", nil},
		{"nothing to see", nil},
	}
	for _, tt := range tests {
		var got []string
		for _, m := range r.Match(tt.text) {
			got = append(got, m.Keyword.Name+"="+m.Phrase)
		}
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("Match(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}

func TestNotificationSchedules(t *testing.T) {
	r := bot.NewNotificationRegistry()
	for _, n := range []bot.Notification{
		{Name: "every-2m", Spec: "@every 2m", MaxCount: 3, Send: sendNote},
		{Name: "cron-5m", Spec: "*/5 * * * *", MaxCount: 3, Send: sendNote},
		{Name: "hourly", Spec: "@hourly", MaxCount: 1, Send: sendNote},
	} {
		if err := r.Register(n); err != nil {
			t.Fatalf("Register(%q): %v", n.Spec, err)
		}
	}
	at := func(s string) time.Time {
		t.Helper()
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	tests := []struct {
		name     string
		from     string
		wantNext string
	}{
		{"every-2m", "2026-03-01T12:00:00Z", "2026-03-01T12:02:00Z"},
		{"every-2m", "2026-03-01T12:00:30Z", "2026-03-01T12:02:30Z"},
		// Intervals count whole seconds: the sub-second part is dropped.
		{"every-2m", "2026-03-01T12:00:30.75Z", "2026-03-01T12:02:30Z"},
		{"every-2m", "2026-03-01T23:59:00Z", "2026-03-02T00:01:00Z"},
		// Cron specs land on the wall clock, not one period after t.
		{"cron-5m", "2026-03-01T12:00:00Z", "2026-03-01T12:05:00Z"},
		{"cron-5m", "2026-03-01T12:01:00Z", "2026-03-01T12:05:00Z"},
		{"cron-5m", "2026-03-01T12:04:59Z", "2026-03-01T12:05:00Z"},
		{"cron-5m", "2026-03-01T12:05:00Z", "2026-03-01T12:10:00Z"},
		{"cron-5m", "2026-03-01T23:57:00Z", "2026-03-02T00:00:00Z"},
		{"hourly", "2026-03-01T12:30:00Z", "2026-03-01T13:00:00Z"},
	}
	for _, tt := range tests {
		n, ok := r.Lookup(tt.name)
		if !ok {
			t.Fatalf("Lookup(%q) not found", tt.name)
		}
		if got, want := n.Next(at(tt.from)), at(tt.wantNext); !got.Equal(want) {
			t.Errorf("%s.Next(%s) = %s, want %s", tt.name, tt.from, got.Format(time.RFC3339Nano), tt.wantNext)
		}
	}
	// Successive runs of an interval are one period apart.
	n, _ := r.Lookup("every-2m")
	tm := at("2026-03-01T12:00:00Z")
	for i := 1; i <= 5; i++ {
		tm = n.Next(tm)
		if want := at("2026-03-01T12:00:00Z").Add(time.Duration(i) * 2 * time.Minute); !tm.Equal(want) {
			t.Fatalf("run %d at %s, want %s", i, tm, want)
		}
	}
	if got := len(r.All()); got != 3 {
		t.Errorf("All() has %d notifications, want 3", got)
	}
}

func TestEventRegistryByType(t *testing.T) {
	r := bot.NewEventRegistry()
	for _, h := range []bot.EventHandler{
		{Name: "commands", Type: "app_mention", Run: runEvent},
		{Name: "pins", Type: "pin_added", Run: runEvent},
		{Name: "mention-log", Type: "app_mention", Run: runEvent},
	} {
		if err := r.Register(h); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	for _, h := range r.For("app_mention") {
		names = append(names, h.Name)
	}
	if got := strings.Join(names, ","); got != "commands,mention-log" {
		t.Errorf("For(app_mention) = %s", got)
	}
	if got := r.For("reaction_added"); len(got) != 0 {
		t.Errorf("For(reaction_added) = %v", got)
	}
	if got := strings.Join(r.Types(), ","); got != "app_mention,pin_added" {
		t.Errorf("Types() = %s", got)
	}
	if _, ok := r.Lookup("PINS"); !ok {
		t.Error("Lookup is not case-insensitive")
	}
}
