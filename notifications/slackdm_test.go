package notifications

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/heraldhq/herald/internal/slackfake"
)

const pagedUser = "U0PAGED42"

// newDMFake starts a fake Slack (which, like Slack, takes a user id as a
// chat.postMessage channel and posts to the app's DM with them) and a
// SlackDM on it.
func newDMFake(t *testing.T) (*slackfake.Fake, SlackDM) {
	t.Helper()
	fake := slackfake.New(t)
	return fake, SlackDM{Client: slack.New("xoxb-test", slack.OptionAPIURL(fake.APIURL()))}
}

func page() Message {
	return Message{
		Mode: ModeSlack, Destination: pagedUser,
		Subject:    "[HIGH] Incident #7: <!channel> checkout & payments down",
		Body:       "Incident #7: <!channel> checkout & payments down\nSeverity: major\n<https://evil.example|click me>\nClaim code: 123456",
		IncidentID: 42, ClaimCode: "123456",
	}
}

func onlyCall(t *testing.T, fake *slackfake.Fake) slackfake.Call {
	t.Helper()
	calls := fake.Calls("chat.postMessage")
	if len(calls) != 1 {
		t.Fatalf("chat.postMessage calls = %d, want 1", len(calls))
	}
	return calls[0]
}

func TestSlackDMPage(t *testing.T) {
	fake, dm := newDMFake(t)
	ts, err := dm.Send(context.Background(), page())
	if err != nil {
		t.Fatal(err)
	}
	c := onlyCall(t, fake)
	if ts == "" || ts != c.ResponseField("ts") {
		t.Errorf("vendor id = %q, want the message ts %q", ts, c.ResponseField("ts"))
	}
	if got := c.Param("channel"); got != pagedUser {
		t.Errorf("channel = %q, want the user id %q", got, pagedUser)
	}
	if dm := fake.Messages(slackfake.DMChannelID(pagedUser)); len(dm) != 1 || dm[0].TS != ts {
		t.Errorf("DM with %s = %+v, want the one page (ts %s)", pagedUser, dm, ts)
	}
	if got, want := c.Param("text"), "[HIGH] Incident #7: &lt;!channel&gt; checkout &amp; payments down"; got != want {
		t.Errorf("text = %q, want %q", got, want)
	}
	if all := c.AllText(); strings.Contains(all, "<!channel>") || strings.Contains(all, "<https://") {
		t.Errorf("user text reached Slack unescaped:\n%s", all)
	}

	blocks, err := c.Blocks()
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks) != 3 {
		t.Fatalf("blocks = %d (%v), want section, context, actions", len(blocks), blockTypes(blocks))
	}
	section, ok := blocks[0].(*slack.SectionBlock)
	if !ok || section.Text == nil || section.Text.Type != slack.MarkdownType {
		t.Fatalf("block 0 = %#v, want a mrkdwn section", blocks[0])
	}
	if want := "Incident #7: &lt;!channel&gt; checkout &amp; payments down\nSeverity: major\n&lt;https://evil.example|click me&gt;"; !strings.HasPrefix(section.Text.Text, want) {
		t.Errorf("section = %q, want it to start %q", section.Text.Text, want)
	}
	ctxBlock, ok := blocks[1].(*slack.ContextBlock)
	if !ok || len(ctxBlock.ContextElements.Elements) != 1 {
		t.Fatalf("block 1 = %#v, want a context line", blocks[1])
	}
	if txt, ok := ctxBlock.ContextElements.Elements[0].(*slack.TextBlockObject); !ok || !strings.Contains(txt.Text, "123456") {
		t.Errorf("context = %#v, want the claim code", ctxBlock.ContextElements.Elements[0])
	}
	actions, ok := blocks[2].(*slack.ActionBlock)
	if !ok {
		t.Fatalf("block 2 = %#v, want actions", blocks[2])
	}
	if actions.BlockID != BlockIDPageActions {
		t.Errorf("actions block id = %q, want %q", actions.BlockID, BlockIDPageActions)
	}
	btns := buttons(t, actions)
	if len(btns) != 2 {
		t.Fatalf("buttons = %d, want Claim and Resolve", len(btns))
	}
	claim, resolve := btns[0], btns[1]
	if claim.ActionID != ActionClaimPage || claim.Value != "42" || claim.Text.Text != "Claim" || claim.Style != slack.StylePrimary {
		t.Errorf("claim button = %+v (text %q)", claim, claim.Text.Text)
	}
	if claim.Confirm != nil {
		t.Error("claim asks for confirmation; it should be one tap")
	}
	if resolve.ActionID != ActionResolvePage || resolve.Value != "42" || resolve.Text.Text != "Resolve" {
		t.Errorf("resolve button = %+v (text %q)", resolve, resolve.Text.Text)
	}
	if resolve.Confirm == nil || resolve.Confirm.Confirm == nil || resolve.Confirm.Deny == nil {
		t.Errorf("resolve button has no complete confirm dialog: %+v", resolve.Confirm)
	}
	if ActionClaimPage != "page.claim" || ActionResolvePage != "page.resolve" {
		t.Error("the action ids changed; the handlers register these exact ids")
	}
}

func TestSlackDMOutOfBandHasNoButtons(t *testing.T) {
	for name, m := range map[string]Message{
		"no incident": {Mode: ModeSlack, Destination: pagedUser, Subject: "Your number was verified", Body: "Your number was verified <!here>"},
		// The "incident #N was claimed by X" note the engine sends when
		// paging stops carries the incident but no claim code.
		"stop note": {Mode: ModeSlack, Destination: pagedUser, Subject: "Incident #7 claimed", Body: "Incident #7 (db) was claimed by ann. No action needed.", IncidentID: 42},
	} {
		t.Run(name, func(t *testing.T) {
			fake, dm := newDMFake(t)
			if _, err := dm.Send(context.Background(), m); err != nil {
				t.Fatal(err)
			}
			c := onlyCall(t, fake)
			blocks, err := c.Blocks()
			if err != nil {
				t.Fatal(err)
			}
			if len(blocks) != 1 || blocks[0].BlockType() != slack.MBTSection {
				t.Errorf("blocks = %v, want the body section alone", blockTypes(blocks))
			}
			if strings.Contains(c.Params.Get("blocks"), "page.") {
				t.Errorf("out-of-band DM carries page buttons: %s", c.Params.Get("blocks"))
			}
			if strings.Contains(c.AllText(), "<!here>") {
				t.Errorf("unescaped mention: %s", c.AllText())
			}
		})
	}
}

func TestSlackDMEmptyBodyFallsBackToSubject(t *testing.T) {
	fake, dm := newDMFake(t)
	if _, err := dm.Send(context.Background(), Message{Mode: ModeSlack, Destination: pagedUser, Subject: "Heads up"}); err != nil {
		t.Fatal(err)
	}
	blocks, err := onlyCall(t, fake).Blocks()
	if err != nil {
		t.Fatal(err)
	}
	if s := blocks[0].(*slack.SectionBlock); s.Text.Text != "Heads up" {
		t.Errorf("section = %q, want the subject", s.Text.Text)
	}
}

func TestSlackDMFailures(t *testing.T) {
	fake, dm := newDMFake(t)
	ctx := context.Background()

	fake.FailNext("chat.postMessage", "user_not_found")
	_, err := dm.Send(ctx, page())
	var apiErr slack.SlackErrorResponse
	if !errors.As(err, &apiErr) || apiErr.Err != "user_not_found" {
		t.Errorf("API error: err = %v, want a SlackErrorResponse user_not_found", err)
	}

	fake.RateLimitNext("chat.postMessage", 2*time.Second)
	_, err = dm.Send(ctx, page())
	var rl *slack.RateLimitedError
	if !errors.As(err, &rl) || rl.RetryAfter != 2*time.Second {
		t.Errorf("rate limit: err = %v, want *slack.RateLimitedError retry after 2s", err)
	}

	fake.HTTPErrorNext("chat.postMessage", 503)
	_, err = dm.Send(ctx, page())
	var sc slack.StatusCodeError
	if !errors.As(err, &sc) || sc.Code != 503 {
		t.Errorf("server error: err = %v, want StatusCodeError 503", err)
	}

	// The faults were used up: the next page goes through.
	if ts, err := dm.Send(ctx, page()); err != nil || ts == "" {
		t.Errorf("after the faults: ts %q, err %v", ts, err)
	}
	if n := len(fake.Calls("chat.postMessage")); n != 4 {
		t.Errorf("calls = %d, want 4 (no hidden retries)", n)
	}

	// Transport error: Slack is unreachable.
	fake.Close()
	_, err = dm.Send(ctx, page())
	if err == nil {
		t.Fatal("send to a closed server succeeded")
	}
	if strings.Contains(err.Error(), pagedUser) {
		t.Errorf("error holds the destination: %v", err)
	}
}

func TestSlackDMErrorsNeverHoldDestination(t *testing.T) {
	fake, dm := newDMFake(t)
	for _, inject := range []func(){
		func() { fake.FailNext("chat.postMessage", "channel_not_found") },
		func() { fake.RateLimitNext("chat.postMessage", time.Second) },
		func() { fake.HTTPErrorNext("chat.postMessage", 500) },
	} {
		inject()
		_, err := dm.Send(context.Background(), page())
		if err == nil || strings.Contains(err.Error(), pagedUser) {
			t.Errorf("err = %v, want an error without the destination", err)
		}
	}
}

func TestSlackDMNoDestination(t *testing.T) {
	fake, dm := newDMFake(t)
	m := page()
	m.Destination = " "
	if _, err := dm.Send(context.Background(), m); !errors.Is(err, ErrNoDestination) {
		t.Errorf("err = %v, want ErrNoDestination", err)
	}
	if n := len(fake.Calls("")); n != 0 {
		t.Errorf("%d Slack calls for a message with no destination", n)
	}
	if _, err := (SlackDM{}).Send(context.Background(), page()); err == nil {
		t.Error("a SlackDM without a client sent")
	}
}

func TestSlackDMHonoursContext(t *testing.T) {
	_, dm := newDMFake(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := dm.Send(ctx, page()); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestSlackDMRegisters(t *testing.T) {
	v := NewVendors()
	if err := v.Register(SlackDM{}); err != nil {
		t.Fatal(err)
	}
	if got := v.For(ModeSlack); len(got) != 1 || got[0].Name() != "slack" {
		t.Errorf("slack vendors = %v", got)
	}
	for _, m := range []Mode{ModeEmail, ModeSMS, ModeCall} {
		if len(v.For(m)) != 0 {
			t.Errorf("SlackDM registered for %s", m)
		}
	}
}

func TestEscapeSlackTruncates(t *testing.T) {
	long := strings.Repeat("a<b&", 2000)
	got := escapeSlack(long, maxSectionText)
	if n := utf8.RuneCountInString(got); n > maxSectionText {
		t.Errorf("escaped length %d runes, want at most %d", n, maxSectionText)
	}
	if !strings.HasSuffix(got, "…") {
		t.Error("a cut text does not end with an ellipsis")
	}
	body := strings.TrimSuffix(got, "…")
	if strings.ContainsAny(body, "<>") || strings.Count(body, "&") != strings.Count(body, "&amp;")+strings.Count(body, "&lt;") {
		t.Errorf("a cut broke an entity: …%q", body[len(body)-20:])
	}
	if got := escapeSlack("a < b", 10); got != "a &lt; b" {
		t.Errorf("short text = %q", got)
	}
}

func buttons(t *testing.T, a *slack.ActionBlock) []*slack.ButtonBlockElement {
	t.Helper()
	var out []*slack.ButtonBlockElement
	for _, e := range a.Elements.ElementSet {
		b, ok := e.(*slack.ButtonBlockElement)
		if !ok {
			t.Fatalf("action element %#v is not a button", e)
		}
		out = append(out, b)
	}
	return out
}

func blockTypes(bs []slack.Block) []slack.MessageBlockType {
	var out []slack.MessageBlockType
	for _, b := range bs {
		out = append(out, b.BlockType())
	}
	return out
}
