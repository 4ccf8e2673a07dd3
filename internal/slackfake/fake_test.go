package slackfake_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/heraldhq/herald/internal/slackfake"
)

func client(f *slackfake.Fake) *slack.Client {
	return slack.New("xoxb-test", slack.OptionAPIURL(f.APIURL()))
}

func slackErr(t *testing.T, err error) string {
	t.Helper()
	var se slack.SlackErrorResponse
	if !errors.As(err, &se) {
		t.Fatalf("want a Slack API error, got %T %v", err, err)
	}
	return se.Err
}

func TestPostAndUpdateMessage(t *testing.T) {
	ctx := context.Background()
	f := slackfake.New(t)
	api := client(f)

	if !strings.HasSuffix(f.APIURL(), "/") {
		t.Fatalf("APIURL %q has no trailing slash", f.APIURL())
	}
	blocks := []slack.Block{slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, "Incident #1: fire", false, false))}
	ch, ts, err := api.PostMessageContext(ctx, "#incidents", slack.MsgOptionText("fallback", false), slack.MsgOptionBlocks(blocks...))
	if err != nil {
		t.Fatal(err)
	}
	if ch != f.ChannelID("incidents") || !strings.HasPrefix(ch, "C") {
		t.Fatalf("channel = %q, want the id of #incidents (%s)", ch, f.ChannelID("incidents"))
	}
	if ts != "1700000000.000100" && !strings.HasPrefix(ts, "1700000000.") {
		t.Fatalf("ts = %q, want a Slack timestamp", ts)
	}
	_, ts2, err := api.PostMessageContext(ctx, ch, slack.MsgOptionText("second", false))
	if err != nil {
		t.Fatal(err)
	}
	if ts2 == ts || ts2 <= ts {
		t.Fatalf("timestamps not unique and increasing: %s then %s", ts, ts2)
	}

	calls := f.Calls("chat.postMessage")
	if len(calls) != 2 {
		t.Fatalf("recorded %d postMessage calls, want 2", len(calls))
	}
	c := calls[0]
	if c.Param("channel") != "#incidents" || c.Token != "xoxb-test" || c.Params.Has("token") || !c.OK() {
		t.Fatalf("recorded call: %+v", c)
	}
	if got := c.ResponseField("ts"); got != ts {
		t.Fatalf("recorded response ts %q, client got %q", got, ts)
	}
	bs, err := c.Blocks()
	if err != nil || len(bs) != 1 || bs[0].BlockType() != slack.MBTHeader {
		t.Fatalf("Blocks() = %v, %v", bs, err)
	}
	if txt := c.AllText(); !strings.Contains(txt, "fallback") || !strings.Contains(txt, "Incident #1: fire") {
		t.Fatalf("AllText() = %q", txt)
	}

	gotCh, gotTS, text, err := api.UpdateMessageContext(ctx, ch, ts, slack.MsgOptionText("updated", false))
	if err != nil || gotCh != ch || gotTS != ts || text != "updated" {
		t.Fatalf("update = %q %q %q %v", gotCh, gotTS, text, err)
	}
	msgs := f.Messages("#incidents")
	if len(msgs) != 2 || msgs[0].Text != "updated" || msgs[0].Updates != 1 {
		t.Fatalf("messages = %+v", msgs)
	}
	_, _, _, err = api.UpdateMessageContext(ctx, ch, "1600000000.000001", slack.MsgOptionText("x", false))
	if code := slackErr(t, err); code != "message_not_found" {
		t.Fatalf("update of unknown message: %s", code)
	}
	_, _, err = api.PostMessageContext(ctx, ch)
	if code := slackErr(t, err); code != "no_text" {
		t.Fatalf("empty message: %s", code)
	}
}

func TestInjectedFailures(t *testing.T) {
	ctx := context.Background()
	f := slackfake.New(t)
	api := client(f)

	f.FailNext("chat.postMessage", "channel_not_found")
	_, _, err := api.PostMessageContext(ctx, "#incidents", slack.MsgOptionText("hi", false))
	if code := slackErr(t, err); code != "channel_not_found" {
		t.Fatalf("error = %q", code)
	}

	f.RateLimitNext("chat.postMessage", 2*time.Second)
	_, _, err = api.PostMessageContext(ctx, "#incidents", slack.MsgOptionText("hi", false))
	var rl *slack.RateLimitedError
	if !errors.As(err, &rl) || rl.RetryAfter != 2*time.Second {
		t.Fatalf("want RateLimitedError after 2s, got %T %v", err, err)
	}

	f.HTTPErrorNext("chat.postMessage", http.StatusServiceUnavailable)
	_, _, err = api.PostMessageContext(ctx, "#incidents", slack.MsgOptionText("hi", false))
	var sc slack.StatusCodeError
	if !errors.As(err, &sc) || sc.Code != http.StatusServiceUnavailable {
		t.Fatalf("want StatusCodeError 503, got %T %v", err, err)
	}

	// Faults are per method and used up.
	if _, _, err := api.PostMessageContext(ctx, "#incidents", slack.MsgOptionText("hi", false)); err != nil {
		t.Fatalf("after the faults: %v", err)
	}
	calls := f.Calls("chat.postMessage")
	want := []struct {
		status int
		err    string
		ok     bool
	}{{200, "channel_not_found", false}, {429, "ratelimited", false}, {503, "", false}, {200, "", true}}
	if len(calls) != len(want) {
		t.Fatalf("recorded %d calls, want %d", len(calls), len(want))
	}
	for i, w := range want {
		if calls[i].Status != w.status || calls[i].Error() != w.err || calls[i].OK() != w.ok {
			t.Errorf("call %d: status %d error %q ok %v, want %+v", i, calls[i].Status, calls[i].Error(), calls[i].OK(), w)
		}
	}
}

func TestAuth(t *testing.T) {
	ctx := context.Background()
	f := slackfake.New(t, slackfake.WithToken("xoxb-right"))
	resp, err := slack.New("xoxb-right", slack.OptionAPIURL(f.APIURL())).AuthTestContext(ctx)
	if err != nil || resp.UserID != slackfake.BotUserID || resp.BotID != slackfake.BotID || resp.TeamID != slackfake.TeamID {
		t.Fatalf("auth.test = %+v, %v", resp, err)
	}
	_, err = slack.New("xoxb-wrong", slack.OptionAPIURL(f.APIURL())).AuthTestContext(ctx)
	if code := slackErr(t, err); code != "invalid_auth" {
		t.Fatalf("wrong token: %s", code)
	}
	_, err = slack.New("", slack.OptionAPIURL(f.APIURL())).AuthTestContext(ctx)
	if code := slackErr(t, err); code != "not_authed" {
		t.Fatalf("no token: %s", code)
	}
}

func TestViews(t *testing.T) {
	ctx := context.Background()
	f := slackfake.New(t)
	api := client(f)
	modal := slack.ModalViewRequest{
		Type: slack.VTModal, Title: slack.NewTextBlockObject(slack.PlainTextType, "Declare", false, false),
		CallbackID: "declare", Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "What is wrong?", false, false), nil, nil),
		}},
	}
	opened, err := api.OpenViewContext(ctx, "123.456.abc", modal)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(opened.View.ID, "V") || opened.View.CallbackID != "declare" || opened.View.Hash == "" {
		t.Fatalf("opened view = %+v", opened.View)
	}
	c := f.Calls("views.open")[0]
	if !c.JSONBody || c.Param("trigger_id") != "123.456.abc" {
		t.Fatalf("views.open call = %+v", c)
	}
	v, err := c.View()
	if err != nil || v.Type != slack.VTModal || v.Title.Text != "Declare" || len(v.Blocks.BlockSet) != 1 {
		t.Fatalf("View() = %+v, %v", v, err)
	}
	if !strings.Contains(c.AllText(), "What is wrong?") {
		t.Fatalf("AllText() = %q", c.AllText())
	}

	modal.Title.Text = "Declared"
	updated, err := api.UpdateViewContext(ctx, modal, "", opened.View.Hash, opened.View.ID)
	if err != nil || updated.View.ID != opened.View.ID || updated.View.Title.Text != "Declared" {
		t.Fatalf("views.update = %+v, %v", updated, err)
	}
	_, err = api.UpdateViewContext(ctx, modal, "", opened.View.Hash, opened.View.ID) // stale hash
	if code := slackErr(t, err); code != "hash_conflict" {
		t.Fatalf("stale hash: %s", code)
	}

	home := slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: modal.Blocks}
	p1, err := api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: "U1", View: home})
	if err != nil {
		t.Fatal(err)
	}
	p2, err := api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: "U1", View: home})
	if err != nil || p1.View.ID == "" || p2.View.ID != p1.View.ID || p1.View.Type != slack.VTHomeTab {
		t.Fatalf("views.publish: %+v %+v %v", p1.View, p2.View, err)
	}
}

func TestChannelsPinsUsers(t *testing.T) {
	ctx := context.Background()
	f := slackfake.New(t)
	api := client(f)

	ch, err := api.CreateConversationContext(ctx, slack.CreateConversationParams{ChannelName: "inc-1-fire"})
	if err != nil || ch.Name != "inc-1-fire" || !strings.HasPrefix(ch.ID, "C") {
		t.Fatalf("create = %+v, %v", ch, err)
	}
	_, err = api.CreateConversationContext(ctx, slack.CreateConversationParams{ChannelName: "inc-1-fire"})
	if code := slackErr(t, err); code != "name_taken" {
		t.Fatalf("duplicate name: %s", code)
	}
	_, err = api.CreateConversationContext(ctx, slack.CreateConversationParams{ChannelName: "Has Spaces"})
	if code := slackErr(t, err); code != "invalid_name_specials" {
		t.Fatalf("bad name: %s", code)
	}
	info, err := api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: ch.ID})
	if err != nil || info.Name != "inc-1-fire" {
		t.Fatalf("info = %+v, %v", info, err)
	}
	for i := range 3 {
		f.AddChannel(fmt.Sprintf("extra-%d", i), false)
	}
	f.AddChannel("secret", true)
	var names []string
	cursor := ""
	for {
		page, next, err := api.GetConversationsContext(ctx, &slack.GetConversationsParameters{Limit: 2, Cursor: cursor, ExcludeArchived: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range page {
			names = append(names, c.Name)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if strings.Join(names, ",") != "inc-1-fire,extra-0,extra-1,extra-2" {
		t.Fatalf("listed %v", names)
	}

	_, warning, _, err := api.JoinConversationContext(ctx, f.ChannelID("extra-0"))
	if err != nil || warning != "already_in_channel" {
		t.Fatalf("join: %q %v", warning, err)
	}
	if err := api.ArchiveConversationContext(ctx, ch.ID); err != nil {
		t.Fatal(err)
	}
	if code := slackErr(t, api.ArchiveConversationContext(ctx, ch.ID)); code != "already_archived" {
		t.Fatalf("archive twice: %s", code)
	}
	_, _, err = api.PostMessageContext(ctx, ch.ID, slack.MsgOptionText("hi", false))
	if code := slackErr(t, err); code != "is_archived" {
		t.Fatalf("post to archived: %s", code)
	}

	ref := slack.NewRefToMessage("C0FIXTURE1", "1515449522.000016")
	if err := api.AddPinContext(ctx, ref.Channel, ref); err != nil {
		t.Fatal(err)
	}
	if code := slackErr(t, api.AddPinContext(ctx, ref.Channel, ref)); code != "already_pinned" {
		t.Fatalf("pin twice: %s", code)
	}
	if !f.Pinned("C0FIXTURE1", "1515449522.000016") {
		t.Fatal("not pinned")
	}
	if err := api.RemovePinContext(ctx, ref.Channel, ref); err != nil {
		t.Fatal(err)
	}
	if code := slackErr(t, api.RemovePinContext(ctx, ref.Channel, ref)); code != "no_pin" {
		t.Fatalf("unpin twice: %s", code)
	}

	link, err := api.GetPermalinkContext(ctx, &slack.PermalinkParameters{Channel: "C0FIXTURE1", Ts: "1515449522.000016"})
	if err != nil || link != "https://herald-test.slack.com/archives/C0FIXTURE1/p1515449522000016" {
		t.Fatalf("permalink = %q, %v", link, err)
	}
	if c := f.Calls("chat.getPermalink")[0]; c.HTTPMethod != http.MethodGet || c.Param("message_ts") != "1515449522.000016" {
		t.Fatalf("permalink call = %+v", c)
	}

	f.AddUser(slackfake.User{ID: "U0ALICE", Name: "alice", RealName: "Alice Liddell", Email: "alice@example.com", TZ: "Europe/London"})
	u, err := api.GetUserByEmailContext(ctx, "Alice@Example.com")
	if err != nil || u.ID != "U0ALICE" || u.TZ != "Europe/London" || u.Profile.Email != "alice@example.com" {
		t.Fatalf("lookupByEmail = %+v, %v", u, err)
	}
	_, err = api.GetUserByEmailContext(ctx, "nobody@example.com")
	if code := slackErr(t, err); code != "users_not_found" {
		t.Fatalf("unknown email: %s", code)
	}
	u, err = api.GetUserInfoContext(ctx, "U0ALICE")
	if err != nil || u.RealName != "Alice Liddell" {
		t.Fatalf("users.info = %+v, %v", u, err)
	}
}

func TestForwardedToSlacktestAndCustom(t *testing.T) {
	ctx := context.Background()
	f := slackfake.New(t)
	api := client(f)

	// reactions.add is answered by slacktest; setTopic is built in (members.go).
	if err := api.AddReactionContext(ctx, "question", slack.NewRefToMessage("C123ABC456", "1515449522.000016")); err != nil {
		t.Fatal(err)
	}
	if _, err := api.SetTopicOfConversationContext(ctx, "C123ABC456", "on fire"); err != nil {
		t.Fatal(err)
	}
	r := f.Calls("reactions.add")
	if len(r) != 1 || r[0].Param("name") != "question" || r[0].Param("channel") != "C123ABC456" || r[0].Param("timestamp") != "1515449522.000016" || !r[0].OK() {
		t.Fatalf("reactions.add = %+v", r)
	}
	f.FailNext("reactions.add", "already_reacted")
	err := api.AddReactionContext(ctx, "question", slack.NewRefToMessage("C123ABC456", "1515449522.000016"))
	if code := slackErr(t, err); code != "already_reacted" {
		t.Fatalf("injected failure on a forwarded method: %s", code)
	}

	f.Handle("users.info", func(c slackfake.Call) any {
		return map[string]any{"ok": false, "error": "user_not_found"}
	})
	_, err = api.GetUserInfoContext(ctx, "U404")
	if code := slackErr(t, err); code != "user_not_found" {
		t.Fatalf("custom handler: %s", code)
	}

	_, err = api.GetBillableInfoContext(ctx, slack.GetBillableInfoParams{User: "U1"})
	if code := slackErr(t, err); code != "unknown_method" {
		t.Fatalf("unsupported method: %s", code)
	}
	if n := len(f.CallsExcept("reactions.add", "conversations.setTopic", "users.info", "team.billableInfo")); n != 0 {
		t.Fatalf("CallsExcept left %d calls", n)
	}
	f.Reset()
	if n := len(f.Calls("")); n != 0 {
		t.Fatalf("Reset left %d calls", n)
	}
}

func TestConcurrentCalls(t *testing.T) {
	ctx := context.Background()
	f := slackfake.New(t)
	api := client(f)
	const n = 40
	var wg sync.WaitGroup
	tss := make([]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, tss[i], errs[i] = api.PostMessageContext(ctx, "#incidents", slack.MsgOptionText(fmt.Sprint(i), false))
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if seen[tss[i]] {
			t.Fatalf("duplicate ts %s", tss[i])
		}
		seen[tss[i]] = true
	}
	if got := len(f.Calls("chat.postMessage")); got != n {
		t.Fatalf("recorded %d calls, want %d", got, n)
	}
	if got := len(f.Messages("incidents")); got != n {
		t.Fatalf("stored %d messages, want %d", got, n)
	}
}
