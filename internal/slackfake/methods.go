package slackfake

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Channel is a conversation the fake knows.
type Channel struct {
	ID         string
	Name       string
	IsPrivate  bool
	IsArchived bool
	Topic      string
	Purpose    string
	Members    []string
	Created    int64
}

// Message is a message posted (and perhaps updated) through the fake.
type Message struct {
	Channel  string
	TS       string
	ThreadTS string
	User     string
	Text     string
	Blocks   json.RawMessage // nil when posted without blocks
	Updates  int             // how many chat.update calls changed it
}

// User is a workspace member the fake knows (see AddUser).
type User struct {
	ID       string
	Name     string // handle
	RealName string
	Email    string
	TZ       string // IANA name; default UTC
	IsBot    bool
}

// ChannelID returns the id of the channel called name ("#name" works too),
// creating a public channel when there is none: Herald posts to
// "#incidents" and tests want to know the id Slack would have answered.
func (f *Fake) ChannelID(name string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch, _ := f.resolve(name)
	return ch.ID
}

// AddChannel creates a channel and returns its id; an existing name
// returns the existing channel's id.
func (f *Fake) AddChannel(name string, private bool) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	name = strings.TrimPrefix(name, "#")
	if id, ok := f.byName[name]; ok {
		return id
	}
	return f.newChannel(name, private).ID
}

// Channel returns a copy of a channel by id or name.
func (f *Fake) Channel(idOrName string) (Channel, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := f.lookup(idOrName)
	if ch == nil {
		return Channel{}, false
	}
	out := *ch
	out.Members = slices.Clone(ch.Members)
	return out, true
}

// Messages returns the messages posted to a channel (id or name), oldest
// first, as they read now. Ephemeral messages are not among them.
func (f *Fake) Messages(channel string) []Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := f.lookup(channel)
	if ch == nil {
		return nil
	}
	var out []Message
	for _, k := range f.msgOrder {
		if m := f.messages[k]; m.Channel == ch.ID {
			out = append(out, *m)
		}
	}
	return out
}

// Pinned reports whether a message is pinned.
func (f *Fake) Pinned(channelID, ts string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.pins[channelID+"|"+ts]
}

// AddUser makes a person known to users.info and users.lookupByEmail.
func (f *Fake) AddUser(u User) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if u.TZ == "" {
		u.TZ = "UTC"
	}
	f.users[u.ID] = &u
}

// --- state helpers (called with f.mu held) ------------------------------

var (
	channelIDPattern   = regexp.MustCompile(`^[CGD][A-Z0-9]{6,}$`)
	channelNamePattern = regexp.MustCompile(`^[a-z0-9_-]+$`)
)

func (f *Fake) next() int64 { f.seq++; return f.seq }

// nextTS is a unique, increasing message timestamp: 1700000000.000100,
// 1700000000.000200...
func (f *Fake) nextTS() string {
	us := f.next() * 100
	return fmt.Sprintf("%d.%06d", baseTS+us/1_000_000, us%1_000_000)
}

func (f *Fake) newID(prefix string) string { return fmt.Sprintf("%s0FK%06X", prefix, f.next()) }

func (f *Fake) newChannel(name string, private bool) *Channel {
	ch := &Channel{ID: f.newID("C"), Name: name, IsPrivate: private, Created: baseTS + f.seq, Members: []string{BotUserID}}
	if private {
		ch.ID = f.newID("G")
	}
	f.channels[ch.ID] = ch
	f.chanOrder = append(f.chanOrder, ch.ID)
	f.byName[name] = ch.ID
	return ch
}

func (f *Fake) lookup(idOrName string) *Channel {
	if ch, ok := f.channels[idOrName]; ok {
		return ch
	}
	if id, ok := f.byName[strings.TrimPrefix(idOrName, "#")]; ok {
		return f.channels[id]
	}
	return nil
}

// resolve finds a channel by id or name. The fake is lenient like a busy
// workspace: an id it has not seen (from a fixture, say) or a new name is
// taken to be an existing public channel. It reports false only for an
// empty or malformed reference.
func (f *Fake) resolve(ref string) (*Channel, bool) {
	if ch := f.lookup(ref); ch != nil {
		return ch, true
	}
	switch {
	case channelIDPattern.MatchString(ref):
		ch := &Channel{ID: ref, Name: strings.ToLower(ref), IsPrivate: ref[0] == 'G', Created: baseTS}
		f.channels[ref] = ch
		f.chanOrder = append(f.chanOrder, ref)
		f.byName[ch.Name] = ref
		return ch, true
	case channelNamePattern.MatchString(strings.TrimPrefix(ref, "#")):
		return f.newChannel(strings.TrimPrefix(ref, "#"), false), true
	default:
		return nil, false
	}
}

func (ch *Channel) json() result {
	return result{
		"id": ch.ID, "name": ch.Name, "name_normalized": ch.Name, "is_channel": !ch.IsPrivate, "is_group": false,
		"is_im": false, "is_private": ch.IsPrivate, "is_archived": ch.IsArchived, "is_general": ch.Name == "general",
		"is_member": slices.Contains(ch.Members, BotUserID), "created": ch.Created, "creator": BotUserID,
		"context_team_id": TeamID, "num_members": len(ch.Members),
		"topic":   result{"value": ch.Topic, "creator": "", "last_set": 0},
		"purpose": result{"value": ch.Purpose, "creator": "", "last_set": 0},
	}
}

func (m *Message) json() result {
	out := result{"type": "message", "user": m.User, "bot_id": BotID, "app_id": AppID, "text": m.Text, "ts": m.TS, "team": TeamID}
	if m.Blocks != nil {
		out["blocks"] = m.Blocks
	}
	if m.ThreadTS != "" {
		out["thread_ts"] = m.ThreadTS
	}
	if m.Updates > 0 {
		out["edited"] = result{"user": BotUserID, "ts": m.TS}
	}
	return out
}

func (f *Fake) userJSON(id string) result {
	u, ok := f.users[id]
	if !ok {
		// Unknown ids (from fixtures) are people with plain profiles.
		u = &User{ID: id, Name: strings.ToLower(id), RealName: "User " + id, TZ: "UTC", IsBot: id == BotUserID}
		if id == BotUserID {
			u.Name, u.RealName = BotName, BotName
		}
	}
	profile := result{"real_name": u.RealName, "display_name": u.Name, "real_name_normalized": u.RealName, "team": TeamID}
	if u.Email != "" {
		profile["email"] = u.Email
	}
	if u.IsBot {
		profile["bot_id"] = BotID
	}
	return result{
		"id": u.ID, "team_id": TeamID, "name": u.Name, "real_name": u.RealName, "deleted": false,
		"tz": u.TZ, "tz_label": u.TZ, "tz_offset": 0, "is_bot": u.IsBot, "is_admin": false, "is_app_user": false,
		"profile": profile,
	}
}

// jsonParam decodes a JSON-valued parameter, reporting false when absent or
// not JSON.
func jsonParam(c *Call, key string, v any) bool {
	raw := c.Params.Get(key)
	return raw != "" && json.Unmarshal([]byte(raw), v) == nil
}

// --- methods -----------------------------------------------------------

// methodFunc answers one Web API method; it runs with f.mu held.
type methodFunc func(f *Fake, c *Call) result

// builtinMethods is every method the fake answers itself, assembled
// explicitly for each Fake (no package-level registration).
func builtinMethods() map[string]methodFunc {
	m := baseMethods()
	addMemberMethods(m)
	addHistoryMethods(m)
	return m
}

func baseMethods() map[string]methodFunc {
	return map[string]methodFunc{
		"auth.test":             authTest,
		"chat.postMessage":      postMessage,
		"chat.postEphemeral":    postEphemeral,
		"chat.update":           updateMessage,
		"chat.getPermalink":     getPermalink,
		"views.open":            openView,
		"views.push":            openView,
		"views.update":          updateView,
		"views.publish":         publishView,
		"pins.add":              addPin,
		"pins.remove":           removePin,
		"conversations.create":  createConversation,
		"conversations.info":    conversationInfo,
		"conversations.list":    listConversations,
		"conversations.join":    joinConversation,
		"conversations.archive": archiveConversation,
		"users.info":            userInfo,
		"users.lookupByEmail":   userByEmail,
	}
}

func authTest(_ *Fake, _ *Call) result {
	return result{"ok": true, "url": "https://" + TeamDomain + ".slack.com/", "team": TeamName, "user": BotName,
		"team_id": TeamID, "user_id": BotUserID, "bot_id": BotID, "is_enterprise_install": false}
}

// messageContent validates text/blocks/attachments as Slack does.
func messageContent(c *Call) (text string, blocks json.RawMessage, errCode string) {
	text = c.Params.Get("text")
	if raw := c.Params.Get("blocks"); raw != "" {
		var arr []json.RawMessage
		if json.Unmarshal([]byte(raw), &arr) != nil {
			return "", nil, "invalid_blocks"
		}
		blocks = json.RawMessage(raw)
	}
	if text == "" && blocks == nil && c.Params.Get("attachments") == "" {
		return "", nil, "no_text"
	}
	return text, blocks, ""
}

func postMessage(f *Fake, c *Call) result {
	ch, ok := f.resolve(c.Params.Get("channel"))
	if !ok {
		return apiError("channel_not_found")
	}
	if ch.IsArchived {
		return apiError("is_archived")
	}
	text, blocks, code := messageContent(c)
	if code != "" {
		return apiError(code)
	}
	m := &Message{Channel: ch.ID, TS: f.nextTS(), ThreadTS: c.Params.Get("thread_ts"), User: BotUserID, Text: text, Blocks: blocks}
	key := ch.ID + "|" + m.TS
	f.messages[key] = m
	f.msgOrder = append(f.msgOrder, key)
	return result{"ok": true, "channel": ch.ID, "ts": m.TS, "message": m.json()}
}

func postEphemeral(f *Fake, c *Call) result {
	ch, ok := f.resolve(c.Params.Get("channel"))
	if !ok {
		return apiError("channel_not_found")
	}
	if c.Params.Get("user") == "" {
		return apiError("user_not_found")
	}
	if _, _, code := messageContent(c); code != "" {
		return apiError(code)
	}
	if ch.IsArchived {
		return apiError("is_archived")
	}
	return result{"ok": true, "message_ts": f.nextTS()}
}

func updateMessage(f *Fake, c *Call) result {
	ch := f.lookup(c.Params.Get("channel"))
	if ch == nil {
		if _, ok := f.resolve(c.Params.Get("channel")); !ok {
			return apiError("channel_not_found")
		}
		return apiError("message_not_found")
	}
	m, ok := f.messages[ch.ID+"|"+c.Params.Get("ts")]
	if !ok {
		return apiError("message_not_found")
	}
	text, blocks, code := messageContent(c)
	if code != "" {
		return apiError(code)
	}
	m.Text, m.Updates = text, m.Updates+1
	if blocks != nil {
		m.Blocks = blocks
	}
	return result{"ok": true, "channel": ch.ID, "ts": m.TS, "text": m.Text, "message": m.json()}
}

func getPermalink(f *Fake, c *Call) result {
	ch, ok := f.resolve(c.Params.Get("channel"))
	if !ok {
		return apiError("channel_not_found")
	}
	ts := c.Params.Get("message_ts")
	if ts == "" {
		return apiError("message_not_found")
	}
	link := fmt.Sprintf("https://%s.slack.com/archives/%s/p%s", TeamDomain, ch.ID, strings.ReplaceAll(ts, ".", ""))
	return result{"ok": true, "channel": ch.ID, "permalink": link}
}

// --- views ---

func (f *Fake) storeView(id string, v map[string]any) result {
	v["id"] = id
	v["team_id"] = TeamID
	v["app_id"] = AppID
	v["bot_id"] = BotID
	v["app_installed_team_id"] = TeamID
	v["hash"] = fmt.Sprintf("%d.%08x", baseTS+f.seq, f.next())
	for k, def := range map[string]any{"private_metadata": "", "callback_id": "", "external_id": "", "root_view_id": id,
		"previous_view_id": nil, "clear_on_close": false, "notify_on_close": false, "blocks": []any{}} {
		if _, ok := v[k]; !ok {
			v[k] = def
		}
	}
	v["state"] = result{"values": result{}}
	f.views[id] = v
	return result{"ok": true, "view": v}
}

func openView(f *Fake, c *Call) result {
	if c.Params.Get("trigger_id") == "" {
		return apiError("invalid_arguments")
	}
	var v map[string]any
	if !jsonParam(c, "view", &v) || v["type"] != "modal" {
		return apiError("invalid_arguments")
	}
	return f.storeView(f.newID("V"), v)
}

func updateView(f *Fake, c *Call) result {
	id, ext := c.Params.Get("view_id"), c.Params.Get("external_id")
	if id == "" && ext == "" {
		return apiError("invalid_arguments")
	}
	if id == "" {
		for vid, v := range f.views {
			if v["external_id"] == ext {
				id = vid
			}
		}
		if id == "" {
			return apiError("not_found")
		}
	}
	var v map[string]any
	if !jsonParam(c, "view", &v) {
		return apiError("invalid_arguments")
	}
	if old, ok := f.views[id]; ok {
		if h := c.Params.Get("hash"); h != "" && h != old["hash"] {
			return apiError("hash_conflict")
		}
		if _, ok := v["root_view_id"]; !ok {
			v["root_view_id"] = old["root_view_id"]
		}
	}
	return f.storeView(id, v)
}

func publishView(f *Fake, c *Call) result {
	user := c.Params.Get("user_id")
	if user == "" {
		return apiError("invalid_arguments")
	}
	var v map[string]any
	if !jsonParam(c, "view", &v) || v["type"] != "home" {
		return apiError("invalid_arguments")
	}
	id, ok := f.homeViews[user]
	if !ok {
		id = f.newID("V")
		f.homeViews[user] = id
	}
	return f.storeView(id, v)
}

// --- pins ---

func pinKey(f *Fake, c *Call) (string, string) {
	ch, ok := f.resolve(c.Params.Get("channel"))
	if !ok {
		return "", "channel_not_found"
	}
	ts := c.Params.Get("timestamp")
	if ts == "" {
		return "", "no_item_specified"
	}
	return ch.ID + "|" + ts, ""
}

func addPin(f *Fake, c *Call) result {
	key, code := pinKey(f, c)
	if code != "" {
		return apiError(code)
	}
	if f.pins[key] {
		return apiError("already_pinned")
	}
	f.pins[key] = true
	return result{"ok": true}
}

func removePin(f *Fake, c *Call) result {
	key, code := pinKey(f, c)
	if code != "" {
		return apiError(code)
	}
	if !f.pins[key] {
		return apiError("no_pin")
	}
	delete(f.pins, key)
	return result{"ok": true}
}

// --- conversations ---

func createConversation(f *Fake, c *Call) result {
	name := c.Params.Get("name")
	switch {
	case name == "":
		return apiError("invalid_name_required")
	case len(name) > 80:
		return apiError("invalid_name_maxlength")
	case !channelNamePattern.MatchString(name):
		return apiError("invalid_name_specials")
	}
	if _, ok := f.byName[name]; ok {
		return apiError("name_taken")
	}
	ch := f.newChannel(name, c.Params.Get("is_private") == "true")
	return result{"ok": true, "channel": ch.json()}
}

func conversationInfo(f *Fake, c *Call) result {
	ch, ok := f.resolve(c.Params.Get("channel"))
	if !ok {
		return apiError("channel_not_found")
	}
	return result{"ok": true, "channel": ch.json()}
}

func listConversations(f *Fake, c *Call) result {
	types := c.Params.Get("types")
	if types == "" {
		types = "public_channel"
	}
	wantPublic := strings.Contains(types, "public_channel")
	wantPrivate := strings.Contains(types, "private_channel")
	excludeArchived := c.Params.Get("exclude_archived") == "true"
	var all []*Channel
	for _, id := range f.chanOrder {
		ch := f.channels[id]
		if (ch.IsPrivate && !wantPrivate) || (!ch.IsPrivate && !wantPublic) || (excludeArchived && ch.IsArchived) {
			continue
		}
		all = append(all, ch)
	}
	limit, err := strconv.Atoi(c.Params.Get("limit"))
	if err != nil || limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	start := 0
	if cur := c.Params.Get("cursor"); cur != "" {
		raw, err := base64.StdEncoding.DecodeString(cur)
		n, err2 := strconv.Atoi(strings.TrimPrefix(string(raw), "next:"))
		if err != nil || err2 != nil || n < 0 || n > len(all) {
			return apiError("invalid_cursor")
		}
		start = n
	}
	end := min(start+limit, len(all))
	page := make([]result, 0, end-start)
	for _, ch := range all[start:end] {
		page = append(page, ch.json())
	}
	next := ""
	if end < len(all) {
		next = base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("next:%d", end)))
	}
	return result{"ok": true, "channels": page, "response_metadata": result{"next_cursor": next}}
}

func joinConversation(f *Fake, c *Call) result {
	ch, ok := f.resolve(c.Params.Get("channel"))
	if !ok {
		return apiError("channel_not_found")
	}
	if ch.IsArchived {
		return apiError("is_archived")
	}
	if ch.IsPrivate {
		return apiError("method_not_supported_for_channel_type")
	}
	res := result{"ok": true}
	if slices.Contains(ch.Members, BotUserID) {
		res["warning"] = "already_in_channel"
		res["response_metadata"] = result{"warnings": []string{"already_in_channel"}}
	} else {
		ch.Members = append(ch.Members, BotUserID)
	}
	res["channel"] = ch.json()
	return res
}

func archiveConversation(f *Fake, c *Call) result {
	ch, ok := f.resolve(c.Params.Get("channel"))
	if !ok {
		return apiError("channel_not_found")
	}
	if ch.IsArchived {
		return apiError("already_archived")
	}
	ch.IsArchived = true
	return result{"ok": true}
}

// --- users ---

func userInfo(f *Fake, c *Call) result {
	id := c.Params.Get("user")
	if id == "" {
		return apiError("user_not_found")
	}
	return result{"ok": true, "user": f.userJSON(id)}
}

func userByEmail(f *Fake, c *Call) result {
	email := strings.ToLower(strings.TrimSpace(c.Params.Get("email")))
	if email == "" {
		return apiError("invalid_arguments")
	}
	for id, u := range f.users {
		if strings.ToLower(u.Email) == email {
			return result{"ok": true, "user": f.userJSON(id)}
		}
	}
	return apiError("users_not_found")
}
