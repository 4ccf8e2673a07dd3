package models

import (
	"context"
	"fmt"

	"gorm.io/gorm"
)

// EscalateNow moves an incident's active escalation to its next step at
// once ("press 2 to escalate now"): the current step counts as finished
// and the next one starts now, its first sends planned by the check that
// is made due at once. Moving the step rather than backdating the step's
// start keeps the current step's remaining repeats from all going out in
// one burst. A check in progress loses its lease, so its (older) result is
// thrown away. Past the last step the check marks the plan exhausted and
// alerts, as when the plan runs out by itself. It returns ErrNoChange
// when the incident has no active escalation.
func (s *Store) EscalateNow(ctx context.Context, incidentID int64) (*Escalation, error) {
	var after Escalation
	err := s.InTx(ctx, func(tx *Store) error {
		now := tx.clock.Now().UTC()
		res := tx.db.WithContext(ctx).Model(&Escalation{}).Where("incident_id = ? AND state = ?", incidentID, EscalationActive).
			Updates(map[string]any{"step": gorm.Expr("step + 1"), "step_started_at": now, "next_check_at": now,
				"lease_owner": nil, "lease_until": nil, "updated_at": now})
		if res.Error != nil {
			return fmt.Errorf("escalating incident %d now: %w", incidentID, res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrNoChange
		}
		if err := tx.db.WithContext(ctx).Where("incident_id = ?", incidentID).Take(&after).Error; err != nil {
			return fmt.Errorf("loading escalation of incident %d: %w", incidentID, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &after, nil
}
