package notifications

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/slack-go/slack"
)

// Action ids of the buttons on a Slack DM page. Their value is the
// incident id (decimal); the handlers package registers what they do.
const (
	ActionClaimPage = "page.claim"
	// ActionClaimBatch claims every incident of a batched page; its value
	// is the batch's claim code.
	ActionClaimBatch  = "page.claim_batch"
	ActionResolvePage = "page.resolve"
)

// BlockIDPageActions is the block id of a page's button row, so a handler
// can find (and replace) it when updating the DM after a click.
const BlockIDPageActions = "page_actions"

// maxSectionText is Slack's limit on a section's text.
const maxSectionText = 3000

// DMPoster is the part of *slack.Client that SlackDM needs.
type DMPoster interface {
	PostMessageContext(ctx context.Context, channelID string, options ...slack.MsgOption) (channel, ts string, err error)
}

var _ DMPoster = (*slack.Client)(nil)

// SlackDM pages in Slack: a direct message from the bot to the person
// (Message.Destination is their Slack user id; chat.postMessage with a
// user id as the channel opens the app's DM with them).
type SlackDM struct{ Client DMPoster }

// Name implements Vendor.
func (SlackDM) Name() string { return "slack" }

// Modes implements Vendor.
func (SlackDM) Modes() []Mode { return []Mode{ModeSlack} }

// Send implements Vendor: it posts the DM and returns its ts. Every error
// is returned, wrapped (errors.As finds *slack.RateLimitedError,
// slack.StatusCodeError, slack.SlackErrorResponse): the engine retries
// the message later or fails over to the next vendor. Errors never hold
// the destination.
func (s SlackDM) Send(ctx context.Context, m Message) (string, error) {
	if s.Client == nil {
		return "", errors.New("slack dm: no Slack client")
	}
	if strings.TrimSpace(m.Destination) == "" {
		return "", fmt.Errorf("slack dm: %w: empty Slack user id", ErrNoDestination)
	}
	_, ts, err := s.Client.PostMessageContext(ctx, m.Destination,
		slack.MsgOptionText(escapeSlack(m.Subject, maxSectionText), false),
		slack.MsgOptionBlocks(DMBlocks(m)...),
	)
	if err != nil {
		var rl *slack.RateLimitedError
		if errors.As(err, &rl) {
			return "", fmt.Errorf("slack dm: chat.postMessage rate limited: %w", err)
		}
		return "", fmt.Errorf("slack dm: chat.postMessage: %w", err)
	}
	if ts == "" {
		return "", errors.New("slack dm: chat.postMessage answered no ts")
	}
	return ts, nil
}

// DMBlocks renders a page as Slack blocks: the body, the claim code, and
// Claim and Resolve buttons.
//
// Only a page gets the context line and the buttons, that is a message
// with an incident and a claim code. Out-of-band messages get neither:
// those with no incident (IncidentID 0), and the "incident #N was claimed
// by X" notes the engine sends when paging stops, which carry the incident
// id but no claim code (notifications.Message has no out-of-band flag).
func DMBlocks(m Message) []slack.Block {
	text := m.Body
	if strings.TrimSpace(text) == "" {
		text = m.Subject
	}
	if strings.TrimSpace(text) == "" {
		text = "(no details)"
	}
	blocks := []slack.Block{
		slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, escapeSlack(text, maxSectionText), false, false), nil, nil),
	}
	if m.IncidentID == 0 || m.ClaimCode == "" || m.OutOfBand {
		return blocks
	}
	blocks = append(blocks, slack.NewContextBlock("",
		slack.NewTextBlockObject(slack.MarkdownType, "Claim code: *"+escapeSlack(m.ClaimCode, 100)+"*", false, false)))

	if m.Batch > 1 {
		all := slack.NewButtonBlockElement(ActionClaimBatch, m.ClaimCode, slack.NewTextBlockObject(slack.PlainTextType, fmt.Sprintf("Claim all %d", m.Batch), false, false))
		all.Style = slack.StylePrimary
		return append(blocks, slack.NewActionBlock(BlockIDPageActions, all))
	}
	id := strconv.FormatInt(m.IncidentID, 10)
	claim := slack.NewButtonBlockElement(ActionClaimPage, id, slack.NewTextBlockObject(slack.PlainTextType, "Claim", false, false))
	claim.Style = slack.StylePrimary
	resolve := slack.NewButtonBlockElement(ActionResolvePage, id, slack.NewTextBlockObject(slack.PlainTextType, "Resolve", false, false))
	resolve.Confirm = slack.NewConfirmationBlockObject(
		slack.NewTextBlockObject(slack.PlainTextType, "Resolve this incident?", false, false),
		slack.NewTextBlockObject(slack.PlainTextType, "Paging stops for everyone and the incident is marked resolved.", false, false),
		slack.NewTextBlockObject(slack.PlainTextType, "Resolve", false, false),
		slack.NewTextBlockObject(slack.PlainTextType, "Cancel", false, false))
	return append(blocks, slack.NewActionBlock(BlockIDPageActions, claim, resolve))
}

// slackEscaper neutralises Slack's control characters.
var slackEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// escapeSlack escapes &, < and > so user text cannot ping @channel or forge
// a link, and keeps the result within max runes, cutting between entities
// (never inside one) and marking the cut with an ellipsis.
func escapeSlack(s string, max int) string {
	esc := slackEscaper.Replace(s)
	if utf8.RuneCountInString(esc) <= max {
		return esc
	}
	var b strings.Builder
	n := 0
	for _, r := range s {
		piece := slackEscaper.Replace(string(r))
		w := utf8.RuneCountInString(piece)
		if n+w > max-1 {
			break
		}
		b.WriteString(piece)
		n += w
	}
	b.WriteString("…")
	return b.String()
}
