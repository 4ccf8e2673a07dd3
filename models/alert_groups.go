package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm/clause"
)

// IncidentAlert is one alert of a monitoring system's alert group
// (Alertmanager, Grafana, the generic webhook), tracked by fingerprint
// inside the incident the group raised.
type IncidentAlert struct {
	ID          int64
	IncidentID  int64
	Fingerprint string
	Status      string // AlertFiring or AlertResolved
	Labels      string // JSON object
	Annotations string // JSON object
	StartsAt    *time.Time
	EndsAt      *time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Alert statuses, as Alertmanager names them.
const (
	AlertFiring   = "firing"
	AlertResolved = "resolved"
)

// AlertTransition is an alert that is new to its incident or changed
// status.
type AlertTransition struct {
	Alert IncidentAlert // as stored now
	From  string        // the status before; "" for an alert new to the incident
}

// AlertNotes turns the transitions of one notification into timeline
// entries and jobs, written in the same transaction as the alerts. It sees
// the incident as locked.
type AlertNotes func(inc *Incident, transitions []AlertTransition) ([]TimelineEvent, []NewJob)

// IncidentForDedupKey finds the incident of a service's alert group: the
// open one, else the most recently raised. None is an error satisfying
// IsNotFound.
func (s *Store) IncidentForDedupKey(ctx context.Context, serviceID, dedupKey string) (*Incident, error) {
	var inc Incident
	err := s.db.WithContext(ctx).Where("service_id = ? AND dedup_key = ?", serviceID, dedupKey).
		Order("CASE WHEN resolved_at IS NULL THEN 0 ELSE 1 END, id DESC").Take(&inc).Error
	if err != nil {
		return nil, fmt.Errorf("finding the incident of an alert group: %w", err)
	}
	return &inc, nil
}

// IncidentAlerts lists an incident's alerts by fingerprint.
func (s *Store) IncidentAlerts(ctx context.Context, incidentID int64) ([]IncidentAlert, error) {
	var out []IncidentAlert
	if err := s.db.WithContext(ctx).Where("incident_id = ?", incidentID).Order("fingerprint").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("loading the alerts of incident %d: %w", incidentID, err)
	}
	return out, nil
}

// RecordIncidentAlerts stores the alerts of one notification of an
// incident's alert group and returns the transitions: alerts new to the
// incident, and alerts whose status changed. Under the incident's row
// lock (one notification at a time per incident), in one transaction, it
// inserts or refreshes the alerts, touches the incident's last_seen_at,
// and writes what notes makes of the transitions, so a replayed or
// concurrent duplicate notification finds nothing new and writes nothing
// to the timeline. A "firing" that repeats an episode already resolved
// (same start) is stale and ignored.
func (s *Store) RecordIncidentAlerts(ctx context.Context, incidentID int64, alerts []IncidentAlert, notes AlertNotes) ([]AlertTransition, error) {
	var transitions []AlertTransition
	err := s.InTx(ctx, func(tx *Store) error {
		transitions = nil
		q := tx.db.WithContext(ctx)
		if tx.Dialect() == DialectPostgres {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		var inc Incident
		if err := q.Take(&inc, incidentID).Error; err != nil {
			return fmt.Errorf("loading incident %d: %w", incidentID, err)
		}
		var stored []IncidentAlert
		if err := tx.db.WithContext(ctx).Where("incident_id = ?", incidentID).Find(&stored).Error; err != nil {
			return fmt.Errorf("loading the alerts of incident %d: %w", incidentID, err)
		}
		byFP := make(map[string]*IncidentAlert, len(stored))
		for i := range stored {
			byFP[stored[i].Fingerprint] = &stored[i]
		}
		now := tx.clock.Now().UTC()
		for _, a := range alerts {
			a = normalAlert(a, incidentID, now)
			old, seen := byFP[a.Fingerprint]
			if !seen {
				if err := tx.db.WithContext(ctx).Create(&a).Error; err != nil {
					return fmt.Errorf("storing alert %s: %w", a.Fingerprint, err)
				}
				stored = append(stored, a)
				byFP[a.Fingerprint] = &a
				transitions = append(transitions, AlertTransition{Alert: a})
				continue
			}
			if staleFiring(old, &a) || sameAlert(old, &a) {
				continue
			}
			from := old.Status
			a.ID, a.CreatedAt = old.ID, old.CreatedAt
			err := tx.db.WithContext(ctx).Model(&IncidentAlert{}).Where("id = ?", a.ID).Updates(map[string]any{
				"status": a.Status, "labels": a.Labels, "annotations": a.Annotations,
				"starts_at": a.StartsAt, "ends_at": a.EndsAt, "updated_at": a.UpdatedAt,
			}).Error
			if err != nil {
				return fmt.Errorf("updating alert %s: %w", a.Fingerprint, err)
			}
			*old = a
			if from != a.Status {
				transitions = append(transitions, AlertTransition{Alert: a, From: from})
			}
		}
		if len(alerts) > 0 && inc.IsOpen() {
			if err := tx.db.WithContext(ctx).Model(&Incident{}).Where("id = ?", incidentID).Update("last_seen_at", now).Error; err != nil {
				return fmt.Errorf("touching incident %d: %w", incidentID, err)
			}
		}
		if notes == nil || len(transitions) == 0 {
			return nil
		}
		entries, jobs := notes(&inc, transitions)
		for i := range entries {
			e := entries[i]
			e.IncidentID = incidentID
			if e.OccurredAt.IsZero() {
				e.OccurredAt = now
			}
			if err := tx.AddTimelineEvent(ctx, &e); err != nil {
				return err
			}
		}
		if len(jobs) > 0 {
			if _, err := tx.EnqueueJobs(ctx, jobs...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return transitions, nil
}

// normalAlert fills what the store needs: times in UTC to the microsecond
// (what Postgres keeps, so a stored start compares equal to a re-sent
// one), empty JSON as {}.
func normalAlert(a IncidentAlert, incidentID int64, now time.Time) IncidentAlert {
	a.ID, a.IncidentID, a.CreatedAt, a.UpdatedAt = 0, incidentID, now, now
	if a.Status != AlertResolved {
		a.Status = AlertFiring
	}
	if a.Labels == "" {
		a.Labels = "{}"
	}
	if a.Annotations == "" {
		a.Annotations = "{}"
	}
	a.StartsAt, a.EndsAt = microUTC(a.StartsAt), microUTC(a.EndsAt)
	return a
}

func microUTC(t *time.Time) *time.Time {
	if t == nil || t.IsZero() {
		return nil
	}
	u := t.UTC().Truncate(time.Microsecond)
	return &u
}

// staleFiring is a "firing" for an episode the incident already saw end:
// the same alert with the same start, resolved. A re-fire has a new start.
func staleFiring(old, a *IncidentAlert) bool {
	return a.Status == AlertFiring && old.Status == AlertResolved &&
		a.StartsAt != nil && old.StartsAt != nil && !a.StartsAt.After(*old.StartsAt)
}

// sameAlert reports whether a re-sent alert changes nothing stored.
func sameAlert(old, a *IncidentAlert) bool {
	return old.Status == a.Status && old.Labels == a.Labels && old.Annotations == a.Annotations &&
		sameTime(old.StartsAt, a.StartsAt) && sameTime(old.EndsAt, a.EndsAt)
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}
