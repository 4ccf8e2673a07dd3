package handlers

import (
	"context"

	"github.com/slack-go/slack"

	"github.com/heraldhq/herald/bot"
	"github.com/heraldhq/herald/models"
)

// JobPagingAlertOwner DMs an engine alert to the owner of the incident's
// escalation plan. It is a job of its own, next to JobPagingAlert, so a
// failed DM is retried without posting the channel alert twice.
const JobPagingAlertOwner = "paging.alert.owner"

// PlanOwnerLookup finds the owner of the plan an incident escalates with;
// *models.Store implements it.
type PlanOwnerLookup interface {
	// PlanOwnerSlackID is "" when there is nobody to tell.
	PlanOwnerSlackID(ctx context.Context, incidentID int64) (string, error)
}

// pagingAlertOwner DMs the alert to the plan owner: the plan ran out or
// paged nobody, and its owner is the one who can fix it. Nothing is sent
// without an escalation, an owner or a Slack account for them.
func pagingAlertOwner(d Deps) bot.JobFunc {
	return incidentJob(d, func(ctx context.Context, inc *models.Incident, p incidentText) error {
		if d.PlanOwners == nil {
			return nil
		}
		owner, err := d.PlanOwners.PlanOwnerSlackID(ctx, inc.ID)
		if err != nil || owner == "" {
			return err
		}
		text := p.Text + "\nYou get this as the owner of the escalation plan of incident #" + itoa(inc.Number) +
			" (" + bot.EscapeMrkdwn(inc.Title) + "): " + d.Settings.docURL(inc)
		if _, _, err := d.Slack.PostMessageContext(ctx, owner, slack.MsgOptionText(text, false)); err != nil {
			return slackError("sending paging alert to the plan owner", err)
		}
		return nil
	})
}
