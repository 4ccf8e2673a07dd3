package bot

import (
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/heraldhq/herald/models"
)

// Action ids of the headline post's buttons.
const (
	ActionCreateComms = "incident.comms"
	ActionEdit        = "incident.edit"
	ActionPage        = "incident.page"
	ActionClose       = "incident.close"
	ActionReopen      = "incident.reopen"
	ActionDoc         = "incident.doc" // a link button: Slack opens the URL
)

// Headline is everything the headline post shows, gathered by the caller
// so that rendering is a pure function (and golden-file tested).
type Headline struct {
	Incident *models.Incident
	Comms    *models.CommsChannel // nil until created
	DocURL   string
	Now      time.Time
	Paging   models.PagingSummary // who was paged; zero when nobody
}

// HeadlineBlocks renders an incident's headline post.
func HeadlineBlocks(h Headline) []slack.Block {
	inc := h.Incident
	header := slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType,
		truncateRunes(fmt.Sprintf("%s Incident #%d: %s", statusEmoji(inc), inc.Number, inc.Title), 150), true, false))
	fields := []*slack.TextBlockObject{
		mrkdwn("*Status*\n" + statusLabel(inc.Status)),
		mrkdwn("*Severity*\n" + inc.Severity.String()),
		mrkdwn("*Reporter*\n" + userRef(inc.Reporter)),
		mrkdwn("*Lead*\n" + userRef(inc.Lead)),
		mrkdwn("*Started*\n" + SlackDate(inc.ReportedAt)),
	}
	if inc.AcknowledgedAt != nil {
		fields = append(fields, mrkdwn("*Acknowledged*\n"+SlackDate(*inc.AcknowledgedAt)))
	}
	if inc.ResolvedAt != nil {
		fields = append(fields, mrkdwn("*Duration*\n"+HumanDuration(inc.Duration(h.Now))))
	}
	if h.Comms != nil && !h.Comms.Pending() {
		fields = append(fields, mrkdwn("*Channel*\n<#"+h.Comms.ChannelID+">"))
	}
	if len(h.Paging.Paged) > 0 {
		paged := strings.Join(h.Paging.Paged, ", ")
		switch h.Paging.State {
		case models.EscalationActive:
			paged += " · _escalating_"
		case models.EscalationClaimed:
			paged += " · claimed by " + EscapeMrkdwn(h.Paging.ClaimedBy)
		case models.EscalationExhausted:
			paged += " · ⚠️ _plan exhausted, nobody claimed_"
		}
		fields = append(fields, mrkdwn("*Paged*\n"+truncateRunes(paged, 500)))
	}
	if inc.AffectedServices != "" {
		fields = append(fields, mrkdwn("*Affected*\n"+EscapeMrkdwn(truncateRunes(inc.AffectedServices, 200))))
	}
	blocks := []slack.Block{header}
	if s := strings.TrimSpace(inc.Summary); s != "" {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(truncateRunes(EscapeMrkdwn(s), 3000)), nil, nil))
	}
	blocks = append(blocks, slack.NewSectionBlock(nil, fields, nil))
	if inc.IsReport {
		blocks = append(blocks, slack.NewContextBlock("", mrkdwn("📝 Report of a past incident")))
	}
	if buttons := headlineButtons(h); len(buttons) > 0 {
		blocks = append(blocks, slack.NewActionBlock("incident_actions", buttons...))
	}
	return blocks
}

func headlineButtons(h Headline) []slack.BlockElement {
	inc := h.Incident
	id := fmt.Sprint(inc.ID)
	var out []slack.BlockElement
	if h.DocURL != "" {
		doc := slack.NewButtonBlockElement(ActionDoc, id, plain("📄 Incident doc"))
		doc.URL = h.DocURL
		out = append(out, doc)
	}
	if !inc.IsOpen() {
		return append(out, slack.NewButtonBlockElement(ActionReopen, id, plain("Re-open")))
	}
	if h.Comms == nil {
		out = append(out, slack.NewButtonBlockElement(ActionCreateComms, id, plain("💬 Create comms channel")))
	}
	out = append(out, slack.NewButtonBlockElement(ActionEdit, id, plain("✏️ Edit")))
	page := slack.NewButtonBlockElement(ActionPage, id, plain("📟 Page on-call"))
	page.Confirm = slack.NewConfirmationBlockObject(plain("Page on-call?"),
		plain("You may wake someone up. Page only when this needs a person now."), plain("Page"), plain("Cancel"))
	out = append(out, page)
	closeBtn := slack.NewButtonBlockElement(ActionClose, id, plain("✅ Close"))
	closeBtn.Style = slack.StyleDanger
	closeBtn.Confirm = slack.NewConfirmationBlockObject(plain("Close this incident?"),
		plain(fmt.Sprintf("Incident #%d will be marked resolved. It can be re-opened.", inc.Number)), plain("Close"), plain("Cancel"))
	return append(out, closeBtn)
}

// HeadlineText is the notification fallback for the headline post.
func HeadlineText(inc *models.Incident) string {
	return fmt.Sprintf("Incident #%d: %s (%s, %s)", inc.Number, EscapeMrkdwn(inc.Title), inc.Severity, statusLabel(inc.Status))
}

func mrkdwn(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
}

func statusEmoji(inc *models.Incident) string {
	switch inc.Status {
	case models.StatusResolved:
		return "✅"
	case models.StatusMonitoring:
		return "👀"
	case models.StatusIdentified:
		return "🔎"
	default:
		return "🔥"
	}
}

func statusLabel(s models.Status) string {
	if s == "" {
		return "unknown"
	}
	return strings.ToUpper(string(s[:1])) + string(s[1:])
}

func userRef(u *models.ExternalUser) string {
	switch {
	case u == nil:
		return "_unassigned_"
	case u.SlackUserID != "":
		return "<@" + u.SlackUserID + ">"
	default:
		return EscapeMrkdwn(u.DisplayName)
	}
}

// SlackDate renders t so each viewer sees it in their own time zone, with
// the date; the fallback (for clients that cannot) is UTC with the year.
func SlackDate(t time.Time) string {
	return fmt.Sprintf("<!date^%d^{date_short_pretty} at {time}|%s>", t.Unix(), t.UTC().Format("2 Jan 2006 15:04 UTC"))
}

// HumanDuration renders a duration as "2h 5m", "45s".
func HumanDuration(d time.Duration) string {
	d = d.Round(time.Second)
	if d < time.Minute {
		return fmt.Sprintf("%ds", int(d.Seconds()))
	}
	days := int(d / (24 * time.Hour))
	d -= time.Duration(days) * 24 * time.Hour
	h := int(d / time.Hour)
	m := int((d % time.Hour) / time.Minute)
	switch {
	case days > 0:
		return fmt.Sprintf("%dd %dh %dm", days, h, m)
	case h > 0:
		return fmt.Sprintf("%dh %dm", h, m)
	default:
		return fmt.Sprintf("%dm", m)
	}
}

// EscapeMrkdwn neutralises Slack's control characters in user text, so a
// title cannot ping @channel or forge a link.
func EscapeMrkdwn(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
