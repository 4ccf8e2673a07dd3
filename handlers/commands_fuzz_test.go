package handlers

import (
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/heraldhq/herald/bot"
)

// channelAlphabet is what a parsed channel name may hold.
var channelAlphabet = regexp.MustCompile(`^[a-z0-9_-]+$`)

// FuzzParsePageArgs: `@incident page` text from Slack. A refusal is a
// usage error (shown to the person); an accepted request names exactly one
// person or team and, if any, one of Herald's priorities.
func FuzzParsePageArgs(f *testing.F) {
	for _, s := range []string{"<@U123> urgent db is down", "<!subteam^S1|@dba> high", "@dba priority=low x", "dba critical", "", "<@U1|bob>", "<@> x", "<!subteam^>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, args string) {
		p, err := parsePageArgs(args)
		if err != nil {
			var ue *bot.UsageError
			if !errors.As(err, &ue) {
				t.Fatalf("%q: %v (%T), want a usage error", args, err, err)
			}
			return
		}
		if (p.UserID == "") == (p.Team == "") {
			t.Fatalf("%q: user %q, team %q: want exactly one", args, p.UserID, p.Team)
		}
		if p.Priority != "" && !slices.Contains(pagePriorities, p.Priority) {
			t.Fatalf("%q: priority %q", args, p.Priority)
		}
		if strings.ContainsAny(p.UserID+p.Team, "<>| \n") {
			t.Fatalf("%q: target %q%q carries markup", args, p.UserID, p.Team)
		}
	})
}

// FuzzParseChannelName: `@incident rename` text. An accepted name is in
// Slack's channel alphabet, within Slack's length, and parses to itself.
func FuzzParseChannelName(f *testing.F) {
	for _, s := range []string{"inc-42-db", "<#C123|old-name>", "Ünïcödé Name!", "", strings.Repeat("a", 81), "<#C1>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, args string) {
		name, err := parseChannelName(args)
		if err != nil {
			var ue *bot.UsageError
			if !errors.As(err, &ue) {
				t.Fatalf("%q: %v (%T), want a usage error", args, err, err)
			}
			return
		}
		if !channelAlphabet.MatchString(name) || len(name) > maxChannelName || !utf8.ValidString(name) {
			t.Fatalf("%q → %q", args, name)
		}
		if again, err := parseChannelName(name); err != nil || again != name {
			t.Fatalf("%q → %q → %q, %v", args, name, again, err)
		}
	})
}

// FuzzParseMeta: a modal's private_metadata comes back from Slack; it is
// ours, but anything parses without panicking and what we wrote comes
// back the same.
func FuzzParseMeta(f *testing.F) {
	f.Add(`{"c":"C1","ts":"1.2","u":"U1","t":"hi","i":7}`, "C1", "hello <!channel>", int64(3))
	f.Add(`not json`, "", "", int64(0))
	f.Add(`{"i":"x"}`, "C", "\xff", int64(-1))
	f.Fuzz(func(t *testing.T, raw, channel, text string, id int64) {
		_ = parseMeta(raw)
		m := declareMeta{ChannelID: channel, MessageText: text, IncidentID: id}
		if !utf8.ValidString(channel) || !utf8.ValidString(text) {
			return // JSON replaces invalid UTF-8
		}
		if got := parseMeta(m.encode()); got != m {
			t.Fatalf("%+v round-trips to %+v", m, got)
		}
	})
}
