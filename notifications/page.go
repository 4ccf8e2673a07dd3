package notifications

import (
	"context"
	"fmt"

	"github.com/heraldhq/herald/models"
)

// PagePeople sends one page, outside any plan, to whoever role and target
// resolve to now (a person, a team's members, its on-call), each in the
// modes their preferences give for priority. It reports how many messages
// were queued; zero means the target resolved to nobody.
func (e *Engine) PagePeople(ctx context.Context, incidentID int64, role, target, priority, note, by string) (int, error) {
	if !ValidPriority(priority) {
		return 0, fmt.Errorf("%w: priority %q", ErrInvalidPage, priority)
	}
	inc, err := e.store.IncidentByID(ctx, incidentID)
	if err != nil {
		return 0, err
	}
	res, err := resolveWithSource(ctx, e.roles, role, target)
	if err != nil {
		return 0, err
	}
	now := e.clock.Now().UTC()
	n := models.PlanNotification{Role: role, Target: target, Priority: priority}
	var msgs []models.Message
	for _, rc := range res.Recipients {
		p := rc.PersonID
		modes, err := e.modesFor(ctx, p, priority, inc.Application)
		if err != nil {
			return 0, err
		}
		for _, mode := range modes {
			code := claimCode()
			subject, body := Render(inc, n, mode, code)
			if note != "" && mode != ModeCall {
				body = fmt.Sprintf("%s\n%s asks: %s", body, by, note)
			}
			id, person := inc.ID, p
			msgs = append(msgs, models.Message{
				IncidentID: &id, PersonID: &person, Role: role, Target: target, Mode: string(mode), Priority: priority, RecipientSource: rc.Source,
				Subject: subject, Body: body, ClaimCode: code, Application: inc.FairnessKey(), Status: models.MessageQueued, NotBefore: now, CreatedAt: now,
			})
		}
	}
	if err := e.store.QueueMessages(ctx, msgs); err != nil {
		return 0, err
	}
	e.announce(ctx)
	return len(msgs), nil
}

// ErrInvalidPage means a page request is malformed.
var ErrInvalidPage = fmt.Errorf("invalid page")
