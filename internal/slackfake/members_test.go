package slackfake_test

import (
	"context"
	"slices"
	"testing"

	"github.com/slack-go/slack"

	"github.com/heraldhq/herald/internal/slackfake"
)

func TestDirectMessagesInvitesAndTopics(t *testing.T) {
	ctx := context.Background()
	f := slackfake.New(t)
	api := client(f)

	// A user id as the channel is a DM with that user.
	ch, ts, err := api.PostMessageContext(ctx, "U0ALICE", slack.MsgOptionText("write it up", false))
	if err != nil || ch != slackfake.DMChannelID("U0ALICE") {
		t.Fatalf("DM answered channel %q, %v", ch, err)
	}
	if msgs := f.Messages(ch); len(msgs) != 1 || msgs[0].TS != ts || msgs[0].Text != "write it up" {
		t.Fatalf("DM messages = %+v", msgs)
	}
	if c := f.Calls("chat.postMessage")[0]; c.Param("channel") != "U0ALICE" {
		t.Errorf("recorded channel %q, want the user id sent", c.Param("channel"))
	}

	created, err := api.CreateConversationContext(ctx, slack.CreateConversationParams{ChannelName: "inc-1-fire"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := api.InviteUsersToConversationContext(ctx, created.ID, "U0ALICE", "W0BOB"); err != nil {
		t.Fatal(err)
	}
	_, err = api.InviteUsersToConversationContext(ctx, created.ID, "U0ALICE")
	if code := slackErr(t, err); code != "already_in_channel" {
		t.Errorf("second invite: %s, want already_in_channel", code)
	}
	_, err = api.InviteUsersToConversationContext(ctx, created.ID, slackfake.BotUserID)
	if code := slackErr(t, err); code != "cant_invite_self" {
		t.Errorf("inviting the bot: %s, want cant_invite_self", code)
	}
	_, err = api.InviteUsersToConversationContext(ctx, "not a channel", "U0ALICE")
	if code := slackErr(t, err); code != "channel_not_found" {
		t.Errorf("inviting to nowhere: %s", code)
	}
	if _, err := api.SetTopicOfConversationContext(ctx, created.ID, "Incident #1"); err != nil {
		t.Fatal(err)
	}
	got, _ := f.Channel("inc-1-fire")
	if got.Topic != "Incident #1" || !slices.Contains(got.Members, "U0ALICE") || !slices.Contains(got.Members, "W0BOB") {
		t.Errorf("channel = %+v", got)
	}
}
