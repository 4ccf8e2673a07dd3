package handlers

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/heraldhq/herald/bot"
	"github.com/heraldhq/herald/models"
)

// Slack events in comms channels: who takes part, pinned messages and
// messages marked with the pin emoji go on the timeline, renames are
// followed, and keywords get their replies. Events elsewhere are ignored.
//
// The dispatcher stores each event once (by event_id), but a handler may
// still run twice (a retry after a failure half-way, a lease that ran out),
// so each is safe to repeat: timeline entries carry the message ts as
// their SourceRef, keyword replies are jobs keyed by the message, and the
// one counter (a participant's messages) is bumped last, alone.

// defaultPinEmoji is the reaction that adds a message to the timeline when
// HERALD_PIN_EMOJI is empty.
const defaultPinEmoji = "pushpin"

// futureSlack is how far after now a Slack timestamp may be before it is
// taken for garbage (clock skew between Slack and us is far smaller).
const futureSlack = time.Hour

// commsIncident returns the incident worked in a channel, or nil when the
// channel is not a comms channel.
func (d Deps) commsIncident(ctx context.Context, channelID string) (*models.Incident, error) {
	if channelID == "" {
		return nil, nil
	}
	inc, err := d.Store.IncidentByCommsChannel(ctx, channelID)
	if models.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return inc, nil
}

// eventTime reads a Slack ts, falling back to now for a missing or absurd
// one.
func (d Deps) eventTime(ts string) time.Time {
	now := d.Clock.Now()
	t := slackTime(ts, now)
	if t.After(now.Add(futureSlack)) {
		return now
	}
	return t
}

// isBot reports whether a Slack user id is Herald's own.
func (d Deps) isBot(userID string) bool {
	return d.Settings.BotUserID != "" && userID == d.Settings.BotUserID
}

func wrongEvent(want string, data any) error {
	return fmt.Errorf("%w: %s event of type %T", bot.ErrPermanent, want, data)
}

// --- messages ------------------------------------------------------------

// messageSubtypes are the message subtypes people write; the rest (edits,
// deletions, joins, bot messages...) are not someone speaking.
var messageSubtypes = map[string]bool{"": true, "thread_broadcast": true, "file_share": true}

// messageHandler records who speaks in comms channels and runs the keyword
// handlers on what they say.
func messageHandler(d Deps, keywords *bot.KeywordRegistry) bot.EventHandler {
	return bot.EventHandler{
		Name: "comms-messages",
		Type: "message",
		Run: func(ctx context.Context, req bot.EventRequest) error {
			ev, ok := req.Inner.Data.(*slackevents.MessageEvent)
			if !ok {
				return wrongEvent("message", req.Inner.Data)
			}
			if !messageSubtypes[ev.SubType] || ev.BotID != "" || ev.User == "" || d.isBot(ev.User) {
				return nil
			}
			inc, err := d.commsIncident(ctx, ev.Channel)
			if err != nil || inc == nil {
				return err
			}
			speaker, err := d.actor(ctx, ev.User)
			if err != nil {
				return err
			}
			// Keywords first: if the count below fails, the retry finds
			// the keyword slots taken and replies nothing twice.
			if err := d.runKeywords(ctx, keywords, inc, ev); err != nil {
				return err
			}
			return d.Store.TouchParticipant(ctx, inc.ID, speaker.ID, d.eventTime(ev.TimeStamp), true)
		},
	}
}

// runKeywords runs the keyword handlers whose phrases a message contains,
// each at most once per channel per cooldown. Commands for Herald
// (`@incident ...`) are left to the command handler.
func (d Deps) runKeywords(ctx context.Context, keywords *bot.KeywordRegistry, inc *models.Incident, ev *slackevents.MessageEvent) error {
	if keywords == nil || strings.TrimSpace(ev.Text) == "" || d.mentionsBot(ev.Text) {
		return nil
	}
	for _, m := range keywords.Match(ev.Text) {
		granted, err := d.Store.TakeKeywordSlot(ctx, ev.Channel, strings.ToLower(m.Keyword.Name), d.Settings.KeywordCooldown)
		if err != nil {
			return err
		}
		if !granted {
			continue
		}
		err = m.Keyword.Run(ctx, bot.KeywordRequest{
			Incident: inc, ChannelID: ev.Channel, UserID: ev.User, MessageTS: ev.TimeStamp,
			ThreadTS: ev.ThreadTimeStamp, Text: ev.Text, Phrase: m.Phrase,
		})
		if err != nil {
			return fmt.Errorf("keyword %s: %w", m.Keyword.Name, err)
		}
	}
	return nil
}

// mentionsBot reports whether text mentions Herald (then it is a command).
func (d Deps) mentionsBot(text string) bool {
	if d.Settings.BotUserID == "" {
		return false
	}
	for _, m := range mentionPattern.FindAllStringSubmatch(text, -1) {
		if m[1] == d.Settings.BotUserID {
			return true
		}
	}
	return false
}

// --- pins and the pin emoji ------------------------------------------------

// addMessageEntry puts a Slack message on the timeline, dated when it was
// posted and credited to its author. The message ts is the entry's
// SourceRef, so the same message adds one entry of each kind however often
// the event comes.
func (d Deps) addMessageEntry(ctx context.Context, inc *models.Incident, kind models.TimelineKind, ts, author, text string) error {
	var authorID *string
	if author != "" {
		u, err := d.actor(ctx, author)
		if err != nil {
			return err
		}
		authorID = &u.ID
	}
	text = slackUnescape(text) // stored as plain text; Slack sends &, < and > escaped
	if strings.TrimSpace(text) == "" {
		text = "(a message without text)"
	}
	ref := ts
	return d.Store.AddTimelineEvent(ctx, &models.TimelineEvent{
		IncidentID: inc.ID, Kind: kind, Text: text, AuthorID: authorID, SourceRef: &ref, OccurredAt: d.eventTime(ts),
	})
}

// pinnedMessage is the message a pin event is about: channel, ts, and the
// author and text when the event carries them.
func pinnedMessage(ev slackevents.Item, channel string) (ch, ts string, msg *slackevents.ItemMessage) {
	ch = channel
	if ch == "" {
		ch = ev.Channel
	}
	ts = ev.Timestamp
	if ev.Message != nil && ev.Message.Timestamp != "" {
		ts = ev.Message.Timestamp
	}
	return ch, ts, ev.Message
}

// pinAddedHandler puts pinned messages on the timeline.
func pinAddedHandler(d Deps) bot.EventHandler {
	return bot.EventHandler{
		Name: "comms-pin-added",
		Type: "pin_added",
		Run: func(ctx context.Context, req bot.EventRequest) error {
			ev, ok := req.Inner.Data.(*slackevents.PinAddedEvent)
			if !ok {
				return wrongEvent("pin_added", req.Inner.Data)
			}
			// Herald pins its own summary in each comms channel: that is
			// not news for the timeline.
			if (ev.Item.Type != "" && ev.Item.Type != "message") || d.isBot(ev.User) {
				return nil
			}
			channel, ts, msg := pinnedMessage(ev.Item, ev.Channel)
			if ts == "" {
				return nil
			}
			inc, err := d.commsIncident(ctx, channel)
			if err != nil || inc == nil {
				return err
			}
			if msg == nil || (msg.Text == "" && msg.User == "") {
				m, err := d.fetchMessage(ctx, channel, ts)
				if err != nil || m == nil {
					return err
				}
				return d.addMessageEntry(ctx, inc, models.TimelinePin, ts, m.User, m.Text)
			}
			return d.addMessageEntry(ctx, inc, models.TimelinePin, ts, msg.User, msg.Text)
		},
	}
}

// pinRemovedHandler hides an unpinned message's timeline entry (it is
// kept, marked removed).
func pinRemovedHandler(d Deps) bot.EventHandler {
	return bot.EventHandler{
		Name: "comms-pin-removed",
		Type: "pin_removed",
		Run: func(ctx context.Context, req bot.EventRequest) error {
			ev, ok := req.Inner.Data.(*slackevents.PinRemovedEvent)
			if !ok {
				return wrongEvent("pin_removed", req.Inner.Data)
			}
			if ev.Item.Type != "" && ev.Item.Type != "message" {
				return nil
			}
			channel, ts, _ := pinnedMessage(ev.Item, ev.Channel)
			if ts == "" {
				return nil
			}
			inc, err := d.commsIncident(ctx, channel)
			if err != nil || inc == nil {
				return err
			}
			_, err = d.Store.RemoveTimelineSource(ctx, inc.ID, models.TimelinePin, ts)
			return err
		},
	}
}

// pinEmoji is the configured reaction name, without colons.
func (s Settings) pinEmoji() string {
	if e := strings.Trim(s.PinEmoji, ": "); e != "" {
		return e
	}
	return defaultPinEmoji
}

// reactionName drops a skin tone: "thumbsup::skin-tone-2" is "thumbsup".
func reactionName(r string) string {
	name, _, _ := strings.Cut(r, "::")
	return name
}

// reactionHandler puts messages marked with the pin emoji on the timeline.
// The event does not carry the message, so it is read from Slack.
func reactionHandler(d Deps) bot.EventHandler {
	return bot.EventHandler{
		Name: "comms-pin-reaction",
		Type: "reaction_added",
		Run: func(ctx context.Context, req bot.EventRequest) error {
			ev, ok := req.Inner.Data.(*slackevents.ReactionAddedEvent)
			if !ok {
				return wrongEvent("reaction_added", req.Inner.Data)
			}
			if reactionName(ev.Reaction) != d.Settings.pinEmoji() || ev.Item.Type != "message" || ev.Item.Timestamp == "" || d.isBot(ev.User) {
				return nil
			}
			inc, err := d.commsIncident(ctx, ev.Item.Channel)
			if err != nil || inc == nil {
				return err
			}
			m, err := d.fetchMessage(ctx, ev.Item.Channel, ev.Item.Timestamp)
			if err != nil || m == nil {
				return err
			}
			author := m.User
			if author == "" {
				author = ev.ItemUser
			}
			return d.addMessageEntry(ctx, inc, models.TimelineReaction, ev.Item.Timestamp, author, m.Text)
		},
	}
}

// fetchMessage reads one message from Slack, or returns nil when it is
// gone. Channel history holds top-level messages only; a thread reply is
// read from its thread.
func (d Deps) fetchMessage(ctx context.Context, channelID, ts string) (*slack.Message, error) {
	resp, err := d.Slack.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{
		ChannelID: channelID, Latest: ts, Inclusive: true, Limit: 1,
	})
	if err != nil {
		return nil, slackError("reading the message", err)
	}
	for i := range resp.Messages {
		if resp.Messages[i].Timestamp == ts {
			return &resp.Messages[i], nil
		}
	}
	msgs, _, _, err := d.Slack.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{
		ChannelID: channelID, Timestamp: ts, Latest: ts, Oldest: ts, Inclusive: true,
	})
	switch slackErrorCode(err) {
	case "":
	case "thread_not_found", "message_not_found":
		err = nil
	}
	if err != nil {
		return nil, slackError("reading the message's thread", err)
	}
	for i := range msgs {
		if msgs[i].Timestamp == ts {
			return &msgs[i], nil
		}
	}
	d.Log.InfoContext(ctx, "message to add to the timeline is gone", "channel", channelID, "ts", ts)
	return nil, nil
}

// --- channels ----------------------------------------------------------------

// channelRenameHandler follows renamed comms channels.
func channelRenameHandler(d Deps) bot.EventHandler {
	return bot.EventHandler{
		Name: "comms-channel-rename",
		Type: "channel_rename",
		Run: func(ctx context.Context, req bot.EventRequest) error {
			ev, ok := req.Inner.Data.(*slackevents.ChannelRenameEvent)
			if !ok {
				return wrongEvent("channel_rename", req.Inner.Data)
			}
			if ev.Channel.Name == "" {
				return nil
			}
			inc, err := d.commsIncident(ctx, ev.Channel.ID)
			if err != nil || inc == nil {
				return err
			}
			return d.Store.RenameCommsChannel(ctx, ev.Channel.ID, ev.Channel.Name)
		},
	}
}

// memberJoinedHandler records who joins a comms channel.
func memberJoinedHandler(d Deps) bot.EventHandler {
	return bot.EventHandler{
		Name: "comms-member-joined",
		Type: "member_joined_channel",
		Run: func(ctx context.Context, req bot.EventRequest) error {
			ev, ok := req.Inner.Data.(*slackevents.MemberJoinedChannelEvent)
			if !ok {
				return wrongEvent("member_joined_channel", req.Inner.Data)
			}
			if ev.User == "" || d.isBot(ev.User) {
				return nil
			}
			inc, err := d.commsIncident(ctx, ev.Channel)
			if err != nil || inc == nil {
				return err
			}
			u, err := d.actor(ctx, ev.User)
			if err != nil {
				return err
			}
			return d.Store.TouchParticipant(ctx, inc.ID, u.ID, d.eventTime(ev.EventTimestamp), false)
		},
	}
}
