package handlers

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/slack-go/slack"

	"github.com/heraldhq/herald/bot"
)

// jobPurpose says, in words, what a job kind was doing.
var jobPurpose = map[string]string{
	JobHeadline:       "post the incident's headline post",
	JobCommsCreate:    "create the incident's comms channel",
	JobCommsNotice:    "post an update in the comms channel",
	JobCommsArchive:   "archive the comms channel",
	JobReportDM:       "send the report reminder",
	JobDeclareConfirm: "confirm the declaration",
	JobPagingAlert:    "post a paging alert",
}

// slackFixHints tell an admin how to fix a permanent Slack failure.
var slackFixHints = map[string]string{
	"channel_not_found": "Check INCIDENT_CHANNEL_NAME / INCIDENT_CHANNEL_ID and that the channel exists.",
	"not_in_channel":    "Invite the bot to the channel (/invite @incident).",
	"is_archived":       "The channel is archived; un-archive it or configure another.",
	"missing_scope":     "The Slack app lacks a scope; reinstall it from slack-app-manifest.yml.",
	"invalid_auth":      "SLACK_BOT_TOKEN is wrong or revoked.",
	"token_revoked":     "SLACK_BOT_TOKEN was revoked; reinstall the app.",
}

// reportFailure tells the incident's lead, or its reporter, that background
// work failed for good, what failed and how to fix it. The log has the
// rest.
func reportFailure(d Deps) bot.FailureFunc {
	return func(ctx context.Context, kind string, payload []byte, cause error) {
		purpose, ok := jobPurpose[kind]
		if !ok {
			return // not an incident job: the log is the right place
		}
		var p struct {
			IncidentID int64 `json:"incident_id"`
		}
		if json.Unmarshal(payload, &p) != nil || p.IncidentID == 0 {
			return
		}
		inc, err := d.Store.IncidentByID(ctx, p.IncidentID)
		if err != nil {
			d.Log.WarnContext(ctx, "reporting a failed job", "err", err)
			return
		}
		who := inc.Lead
		if who == nil {
			who = inc.Reporter
		}
		if who == nil {
			return
		}
		code := slackErrorCode(cause)
		text := fmt.Sprintf("⚠️ Herald could not %s for incident #%d", purpose, inc.Number)
		if code != "" {
			text += fmt.Sprintf(" (Slack said `%s`)", code)
		}
		text += "."
		if hint := slackFixHints[code]; hint != "" {
			text += " " + hint
		}
		if _, _, err := d.Slack.PostMessageContext(ctx, who.SlackUserID, slack.MsgOptionText(text, false)); err != nil {
			d.Log.WarnContext(ctx, "could not tell the lead about a failed job", "err", err, "kind", kind)
		}
	}
}
