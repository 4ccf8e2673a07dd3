package slackfake

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// Direct messages, invitations and topics: Slack behaviour Herald's comms
// channels and report reminders rely on, kept as state so tests can look at
// a channel's members and topic instead of only at the calls.

// userIDPattern matches member ids (U…, and W… on Enterprise Grid).
var userIDPattern = regexp.MustCompile(`^[UW][A-Z0-9]{2,}$`)

// maxTopic is Slack's limit on conversations.setTopic.
const maxTopic = 250

func addMemberMethods(builtins map[string]methodFunc) {
	post := builtins["chat.postMessage"]
	builtins["chat.postMessage"] = func(f *Fake, c *Call) result {
		// Slack accepts a user id as the channel: the message goes to the
		// app's direct message with that person, and the answer names the
		// DM's D… id.
		// The recorded call keeps the user id the caller sent.
		if user := c.Params.Get("channel"); userIDPattern.MatchString(user) {
			dm := *c
			dm.Params = url.Values{}
			for k, vs := range c.Params {
				dm.Params[k] = slices.Clone(vs)
			}
			dm.Params.Set("channel", f.dm(user).ID)
			return post(f, &dm)
		}
		return post(f, c)
	}
	builtins["conversations.open"] = openConversation
	builtins["conversations.invite"] = inviteConversation
	builtins["conversations.setTopic"] = setTopic
}

// DMChannelID is the id of the app's direct message with a user: where
// chat.postMessage with channel=<user id> lands. Messages(DMChannelID(u))
// reads what the user was sent.
func DMChannelID(userID string) string { return "D" + userID }

// dm returns (creating on first use) the DM channel with a user. Called
// with f.mu held.
func (f *Fake) dm(userID string) *Channel {
	id := DMChannelID(userID)
	if ch, ok := f.channels[id]; ok {
		return ch
	}
	ch := &Channel{ID: id, Name: "@" + strings.ToLower(userID), IsPrivate: true, Created: baseTS + f.seq, Members: []string{BotUserID, userID}}
	f.channels[id] = ch
	f.chanOrder = append(f.chanOrder, id)
	f.byName[ch.Name] = id
	return ch
}

func openConversation(f *Fake, c *Call) result {
	users := splitUsers(c.Params.Get("users"))
	if len(users) != 1 || !userIDPattern.MatchString(users[0]) {
		return apiError("users_list_not_supplied")
	}
	ch := f.dm(users[0])
	return result{"ok": true, "channel": result{"id": ch.ID, "is_im": true, "user": users[0]}}
}

// inviteConversation adds members. Like Slack: inviting the bot itself is
// cant_invite_self, and a call whose every user is already a member is
// already_in_channel.
func inviteConversation(f *Fake, c *Call) result {
	ch, ok := f.resolve(c.Params.Get("channel"))
	if !ok {
		return apiError("channel_not_found")
	}
	if ch.IsArchived {
		return apiError("is_archived")
	}
	users := splitUsers(c.Params.Get("users"))
	if len(users) == 0 {
		return apiError("no_user")
	}
	added := 0
	for _, u := range users {
		switch {
		case u == BotUserID:
			return apiError("cant_invite_self")
		case !userIDPattern.MatchString(u):
			return apiError("user_not_found")
		case !slices.Contains(ch.Members, u):
			ch.Members = append(ch.Members, u)
			added++
		}
	}
	if added == 0 {
		return apiError("already_in_channel")
	}
	return result{"ok": true, "channel": ch.json()}
}

func setTopic(f *Fake, c *Call) result {
	ch, ok := f.resolve(c.Params.Get("channel"))
	if !ok {
		return apiError("channel_not_found")
	}
	if ch.IsArchived {
		return apiError("is_archived")
	}
	topic := c.Params.Get("topic")
	if len([]rune(topic)) > maxTopic {
		return apiError("too_long")
	}
	ch.Topic = topic
	return result{"ok": true, "channel": ch.json()}
}

func splitUsers(s string) []string {
	var out []string
	for _, u := range strings.Split(s, ",") {
		if u = strings.TrimSpace(u); u != "" {
			out = append(out, u)
		}
	}
	return out
}
