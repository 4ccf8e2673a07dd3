package slackfake

import (
	"slices"
	"strconv"
	"strings"
)

// Reading messages back: conversations.history and conversations.replies
// answer from the messages posted through the fake (chat.postMessage) and
// the ones a test adds with AddMessage, as Slack does: history holds the
// top-level messages (and thread replies also sent to the channel), newest
// first; replies hold a thread, its parent first.

func addHistoryMethods(builtins map[string]methodFunc) {
	builtins["conversations.history"] = conversationHistory
	builtins["conversations.replies"] = conversationReplies
}

// AddMessage records a message as if someone had posted it, for the code
// under test to read back (a message a person reacted to, say). The
// channel may be an id or a name; an empty TS gets the next unique one,
// and User defaults to a person (not the bot). It returns the message as
// stored.
func (f *Fake) AddMessage(m Message) Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch, ok := f.resolve(m.Channel)
	if !ok {
		ch, _ = f.resolve("general")
	}
	m.Channel = ch.ID
	if m.TS == "" {
		m.TS = f.nextTS()
	}
	if m.User == "" {
		m.User = "U0FAKEUSER"
	}
	key := ch.ID + "|" + m.TS
	if _, exists := f.messages[key]; !exists {
		f.msgOrder = append(f.msgOrder, key)
	}
	stored := m
	f.messages[key] = &stored
	return m
}

// historyJSON is a message as the history methods show it: only the bot's
// own messages carry a bot_id.
func (m *Message) historyJSON() result {
	if m.User == BotUserID {
		return m.json()
	}
	out := result{"type": "message", "user": m.User, "text": m.Text, "ts": m.TS, "team": TeamID}
	if m.Blocks != nil {
		out["blocks"] = m.Blocks
	}
	if m.ThreadTS != "" {
		out["thread_ts"] = m.ThreadTS
	}
	return out
}

// tsValue orders message timestamps numerically ("" and garbage are 0).
func tsValue(ts string) float64 {
	v, err := strconv.ParseFloat(ts, 64)
	if err != nil {
		return 0
	}
	return v
}

// tsWindow is the oldest/latest/inclusive filter both methods take.
type tsWindow struct {
	oldest, latest float64
	hasLatest      bool
	inclusive      bool
}

func windowOf(c *Call) tsWindow {
	w := tsWindow{oldest: tsValue(c.Params.Get("oldest")), inclusive: truthy(c.Params.Get("inclusive"))}
	if l := c.Params.Get("latest"); l != "" {
		w.latest, w.hasLatest = tsValue(l), true
	}
	return w
}

func (w tsWindow) contains(ts string) bool {
	v := tsValue(ts)
	if w.inclusive {
		return v >= w.oldest && (!w.hasLatest || v <= w.latest)
	}
	return v > w.oldest && (!w.hasLatest || v < w.latest)
}

func truthy(s string) bool { return s == "1" || strings.EqualFold(s, "true") }

// limitOf reads limit: Slack's default is 100, and it caps at 999.
func limitOf(c *Call) int {
	n, err := strconv.Atoi(c.Params.Get("limit"))
	if err != nil || n <= 0 {
		return 100
	}
	return min(n, 999)
}

// channelMessages returns a channel's messages, oldest first.
func (f *Fake) channelMessages(channelID string) []*Message {
	var out []*Message
	for _, k := range f.msgOrder {
		if m := f.messages[k]; m.Channel == channelID {
			out = append(out, m)
		}
	}
	slices.SortStableFunc(out, func(a, b *Message) int {
		av, bv := tsValue(a.TS), tsValue(b.TS)
		switch {
		case av < bv:
			return -1
		case av > bv:
			return 1
		}
		return 0
	})
	return out
}

func conversationHistory(f *Fake, c *Call) result {
	ch := f.lookup(c.Params.Get("channel"))
	if ch == nil {
		if _, ok := f.resolve(c.Params.Get("channel")); !ok {
			return apiError("channel_not_found")
		}
		ch = f.lookup(c.Params.Get("channel"))
	}
	w, limit := windowOf(c), limitOf(c)
	all := f.channelMessages(ch.ID)
	msgs := []result{}
	hasMore := false
	for i := len(all) - 1; i >= 0; i-- { // newest first
		m := all[i]
		if m.ThreadTS != "" && m.ThreadTS != m.TS {
			continue // a thread reply
		}
		if !w.contains(m.TS) {
			continue
		}
		if len(msgs) == limit {
			hasMore = true
			break
		}
		msgs = append(msgs, m.historyJSON())
	}
	return result{"ok": true, "messages": msgs, "has_more": hasMore, "pin_count": 0,
		"response_metadata": result{"next_cursor": ""}}
}

func conversationReplies(f *Fake, c *Call) result {
	ch := f.lookup(c.Params.Get("channel"))
	if ch == nil {
		if _, ok := f.resolve(c.Params.Get("channel")); !ok {
			return apiError("channel_not_found")
		}
		return apiError("thread_not_found")
	}
	ts := c.Params.Get("ts")
	if ts == "" {
		return apiError("invalid_arguments")
	}
	target, ok := f.messages[ch.ID+"|"+ts]
	if !ok {
		return apiError("thread_not_found")
	}
	root := ts
	if target.ThreadTS != "" {
		root = target.ThreadTS
	}
	w, limit := windowOf(c), limitOf(c)
	msgs := []result{}
	hasMore := false
	for _, m := range f.channelMessages(ch.ID) {
		isRoot := m.TS == root
		if !isRoot && m.ThreadTS != root {
			continue
		}
		// Slack always answers the parent first, whatever the window.
		if !isRoot && !w.contains(m.TS) {
			continue
		}
		if len(msgs) == limit {
			hasMore = true
			break
		}
		msgs = append(msgs, m.historyJSON())
	}
	return result{"ok": true, "messages": msgs, "has_more": hasMore,
		"response_metadata": result{"next_cursor": ""}}
}
