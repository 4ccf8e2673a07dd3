package slackfake_test

import (
	"context"
	"testing"

	"github.com/slack-go/slack"

	"github.com/heraldhq/herald/internal/slackfake"
)

func timestamps(msgs []slack.Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.Timestamp
	}
	return out
}

func TestHistoryAndReplies(t *testing.T) {
	ctx := context.Background()
	f := slackfake.New(t)
	api := client(f)
	ch := f.AddChannel("inc-1", false)

	a := f.AddMessage(slackfake.Message{Channel: ch, TS: "1700000100.000100", User: "U0ALICE", Text: "first"})
	reply := f.AddMessage(slackfake.Message{Channel: "#inc-1", TS: "1700000150.000100", ThreadTS: a.TS, User: "U0BOB", Text: "in the thread"})
	_, posted, err := api.PostMessageContext(ctx, ch, slack.MsgOptionText("from the bot", false))
	if err != nil {
		t.Fatal(err)
	}
	b := f.AddMessage(slackfake.Message{Channel: ch, User: "U0BOB", Text: "auto ts"})
	if b.TS == "" || b.Channel != ch {
		t.Fatalf("AddMessage = %+v, want a ts and the channel id", b)
	}
	if got := len(f.Messages(ch)); got != 4 {
		t.Fatalf("Messages = %d, want 4 (seeded ones included)", got)
	}

	// History: top-level only, newest first, and posted messages too.
	resp, err := api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: ch})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := timestamps(resp.Messages), []string{b.TS, a.TS, posted}; !sortedAs(got, want) {
		t.Errorf("history = %v, want top-level messages newest first (%v, in ts order)", got, want)
	}
	for _, m := range resp.Messages {
		switch m.Timestamp {
		case a.TS:
			if m.User != "U0ALICE" || m.Text != "first" || m.BotID != "" {
				t.Errorf("seeded message reads %+v", m.Msg)
			}
		case posted:
			if m.User != slackfake.BotUserID || m.BotID != slackfake.BotID {
				t.Errorf("the bot's message reads user %q bot %q", m.User, m.BotID)
			}
		}
	}

	// One message: latest=ts inclusive limit 1.
	resp, err = api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: ch, Latest: a.TS, Inclusive: true, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got := timestamps(resp.Messages); len(got) != 1 || got[0] != a.TS {
		t.Errorf("latest=%s inclusive limit 1 = %v", a.TS, got)
	}
	// Not inclusive: the message itself is left out; the one before it
	// comes instead (b: the fake's own timestamps start at 1700000000).
	resp, err = api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: ch, Latest: a.TS, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got := timestamps(resp.Messages); len(got) != 1 || got[0] != b.TS {
		t.Errorf("latest=%s exclusive = %v, want [%s]", a.TS, got, b.TS)
	}
	// A thread reply is not in history: latest=reply gives the message before it.
	resp, err = api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: ch, Latest: reply.TS, Inclusive: true, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got := timestamps(resp.Messages); len(got) != 1 || got[0] != a.TS || !resp.HasMore {
		t.Errorf("latest=reply = %v (has_more %v), want the parent before it, and more", got, resp.HasMore)
	}

	// Replies: parent first, whatever the window.
	msgs, _, _, err := api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{ChannelID: ch, Timestamp: reply.TS, Latest: reply.TS, Oldest: reply.TS, Inclusive: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := timestamps(msgs); len(got) != 2 || got[0] != a.TS || got[1] != reply.TS {
		t.Errorf("replies = %v, want parent then the reply", got)
	}
	if msgs[1].ThreadTimestamp != a.TS || msgs[1].Text != "in the thread" {
		t.Errorf("reply reads %+v", msgs[1].Msg)
	}
	_, _, _, err = api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{ChannelID: ch, Timestamp: "1600000000.000001"})
	if code := slackErr(t, err); code != "thread_not_found" {
		t.Errorf("replies of an unknown ts: %s, want thread_not_found", code)
	}
}

// sortedAs reports whether got holds want's timestamps, newest first.
func sortedAs(got, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	seen := map[string]bool{}
	for _, w := range want {
		seen[w] = true
	}
	for i, g := range got {
		if !seen[g] || (i > 0 && got[i-1] < g) {
			return false
		}
	}
	return true
}
