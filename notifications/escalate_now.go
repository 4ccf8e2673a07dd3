package notifications

import (
	"context"
	"errors"

	"github.com/heraldhq/herald/models"
)

// escalateNowStore is the storage EscalateNow needs; *models.Store has it.
type escalateNowStore interface {
	EscalateNow(ctx context.Context, incidentID int64) (*models.Escalation, error)
}

// EscalateNow moves an incident's escalation to its next step at once
// (someone paged pressed 2: "not me, next"), and wakes the engines to page
// it. It returns models.ErrNoChange when the incident is not escalating
// (claimed, resolved, exhausted or never started).
func (e *Engine) EscalateNow(ctx context.Context, incidentID int64) error {
	s, ok := e.store.(escalateNowStore)
	if !ok {
		return errors.New("escalate now: the engine's store cannot move escalations")
	}
	if _, err := s.EscalateNow(ctx, incidentID); err != nil {
		return err
	}
	e.announce(ctx)
	return nil
}
