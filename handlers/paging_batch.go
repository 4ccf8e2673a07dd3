package handlers

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/heraldhq/herald/bot"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
)

// claimBatchButton handles "Claim all" on a batched Slack DM page (plan
// aggregation in an alert storm): it acknowledges every incident the
// batch's claim code was sent for.
func claimBatchButton(d Deps) bot.Action {
	return bot.Action{
		ID: notifications.ActionClaimBatch,
		Run: func(ctx context.Context, req bot.ActionRequest) error {
			actor, err := d.actor(ctx, req.Callback.User.ID)
			if err != nil {
				return err
			}
			reply, err := d.claimAll(ctx, req.Action.Value, actor)
			if err != nil {
				return err
			}
			return d.tellClicker(ctx, req, reply)
		},
	}
}

// claimAll acknowledges every incident a claim code was sent for and says
// which it claimed and which were already handled.
func (d Deps) claimAll(ctx context.Context, code string, actor *models.ExternalUser) (string, error) {
	ids, err := d.Store.IncidentsByClaimCode(ctx, code)
	if models.IsNotFound(err) {
		return fmt.Sprintf("No page has the code %q.", code), nil
	}
	if err != nil {
		return "", err
	}
	var claimed, handled []string
	for _, id := range ids {
		inc, err := d.acknowledge(ctx, id, actor)
		switch {
		case errors.Is(err, models.ErrNoChange):
			if inc, err := d.Store.IncidentByID(ctx, id); err == nil {
				handled = append(handled, fmt.Sprintf("#%d", inc.Number))
			}
		case err != nil:
			return "", fmt.Errorf("claiming incident %d of batch %s: %w", id, code, err)
		default:
			claimed = append(claimed, fmt.Sprintf("#%d", inc.Number))
		}
	}
	claimed, handled = listed(claimed), listed(handled)
	text := "Nothing to claim."
	if len(claimed) > 0 {
		text = fmt.Sprintf("You claimed %s. Escalation stopped for them.", strings.Join(claimed, ", "))
	}
	if len(handled) > 0 {
		text += fmt.Sprintf(" Already acknowledged or closed: %s.", strings.Join(handled, ", "))
	}
	return text, nil
}

// listed keeps a reply short: the first 20 incidents and how many more.
func listed(numbers []string) []string {
	const most = 20
	if len(numbers) <= most {
		return numbers
	}
	return append(numbers[:most:most], fmt.Sprintf("%d more", len(numbers)-most))
}
