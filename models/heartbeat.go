package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm/clause"
)

// Heartbeat is a monitor: the integration must check in for the service
// at least every IntervalSeconds, or an incident opens.
type Heartbeat struct {
	IntegrationID   string `gorm:"primaryKey"`
	ServiceID       string `gorm:"primaryKey"`
	IntervalSeconds int
	Severity        Severity
	LastSeenAt      *time.Time
	// MissedAt is set while the outage's incident is open: one incident
	// per outage. A check-in clears it.
	MissedAt  *time.Time
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ErrNoHeartbeat means an integration has no heartbeat monitor (for that
// service).
var ErrNoHeartbeat = errors.New("no heartbeat monitor")

// Interval is how often the integration must check in.
func (h *Heartbeat) Interval() time.Duration { return time.Duration(h.IntervalSeconds) * time.Second }

// Since is the last check-in, or when the monitor was set up.
func (h *Heartbeat) Since() time.Time {
	if h.LastSeenAt != nil {
		return h.LastSeenAt.UTC()
	}
	return h.CreatedAt.UTC()
}

// DueAt is when the next check-in is late.
func (h *Heartbeat) DueAt() time.Time { return h.Since().Add(h.Interval()) }

// HeartbeatStatus is a monitor with the names of its integration and
// service.
type HeartbeatStatus struct {
	Heartbeat
	IntegrationName string
	ServiceName     string
}

// HeartbeatDedupKey is the dedup key of a monitor's incidents: repeats
// while it is open add occurrences, and a check-in finds it by it.
func HeartbeatDedupKey(integrationID string) string { return "heartbeat:" + integrationID }

// Heartbeats lists every monitor, by integration and service name.
func (s *Store) Heartbeats(ctx context.Context) ([]HeartbeatStatus, error) {
	var out []HeartbeatStatus
	err := s.db.WithContext(ctx).Table("heartbeats").
		Select("heartbeats.*, integrations.name AS integration_name, services.name AS service_name").
		Joins("JOIN integrations ON integrations.id = heartbeats.integration_id").
		Joins("JOIN services ON services.id = heartbeats.service_id").
		Order("integrations.name, services.name").Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("loading heartbeat monitors: %w", err)
	}
	return out, nil
}

// MissedHeartbeats lists the monitors late at now whose outage has no
// incident yet.
func (s *Store) MissedHeartbeats(ctx context.Context, now time.Time) ([]HeartbeatStatus, error) {
	all, err := s.Heartbeats(ctx)
	if err != nil {
		return nil, err
	}
	var out []HeartbeatStatus
	for _, h := range all {
		if h.MissedAt == nil && !now.Before(h.DueAt()) {
			out = append(out, h)
		}
	}
	return out, nil
}

// MarkHeartbeatMissed records that a monitor missed its check-in at now.
// It reports whether the monitor is late (marked now or before); false
// means a check-in arrived meanwhile (or the monitor is gone).
func (s *Store) MarkHeartbeatMissed(ctx context.Context, integrationID, serviceID string, now time.Time) (bool, error) {
	late := false
	err := s.InTx(ctx, func(tx *Store) error {
		h, err := tx.lockHeartbeats(ctx, integrationID, serviceID)
		if err != nil || len(h) == 0 {
			return err
		}
		if h[0].MissedAt != nil {
			late = true
			return nil
		}
		if now.Before(h[0].DueAt()) {
			return nil
		}
		late = true
		return tx.db.WithContext(ctx).Model(&Heartbeat{}).Where("integration_id = ? AND service_id = ?", integrationID, serviceID).
			Updates(map[string]any{"missed_at": now.UTC(), "updated_at": now.UTC()}).Error
	})
	if err != nil {
		return false, fmt.Errorf("marking a missed heartbeat: %w", err)
	}
	return late, nil
}

// CheckInHeartbeats records a check-in of an integration for one service
// ("": every service it has a monitor for) and returns the monitors as
// they were before, so the caller can resolve the outages that end. None
// is ErrNoHeartbeat.
func (s *Store) CheckInHeartbeats(ctx context.Context, integrationID, serviceID string) ([]Heartbeat, error) {
	var before []Heartbeat
	err := s.InTx(ctx, func(tx *Store) error {
		var err error
		if before, err = tx.lockHeartbeats(ctx, integrationID, serviceID); err != nil {
			return err
		}
		if len(before) == 0 {
			return ErrNoHeartbeat
		}
		now := tx.clock.Now().UTC()
		q := tx.db.WithContext(ctx).Model(&Heartbeat{}).Where("integration_id = ?", integrationID)
		if serviceID != "" {
			q = q.Where("service_id = ?", serviceID)
		}
		return q.Updates(map[string]any{"last_seen_at": now, "missed_at": nil, "updated_at": now}).Error
	})
	if err != nil {
		return nil, fmt.Errorf("recording a heartbeat: %w", err)
	}
	return before, nil
}

func (s *Store) lockHeartbeats(ctx context.Context, integrationID, serviceID string) ([]Heartbeat, error) {
	q := s.db.WithContext(ctx).Where("integration_id = ?", integrationID)
	if serviceID != "" {
		q = q.Where("service_id = ?", serviceID)
	}
	if s.Dialect() == DialectPostgres {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	var out []Heartbeat
	if err := q.Order("service_id").Find(&out).Error; err != nil {
		return nil, err
	}
	return out, nil
}

// OpenIncidentByDedupKey finds the open incident of a service with a
// dedup key.
func (s *Store) OpenIncidentByDedupKey(ctx context.Context, serviceID, key string) (*Incident, error) {
	var inc Incident
	err := s.db.WithContext(ctx).Where("service_id = ? AND dedup_key = ? AND resolved_at IS NULL", serviceID, key).Take(&inc).Error
	if err != nil {
		return nil, fmt.Errorf("finding the open incident %q: %w", key, err)
	}
	return &inc, nil
}

// TakePeriodicLease makes owner the one replica that runs the periodic
// work called name until now+ttl: it reports whether owner holds it
// (newly, or renewed). Another owner's lease must have run out first.
func (s *Store) TakePeriodicLease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error) {
	now := s.clock.Now().UTC()
	res := s.db.WithContext(ctx).Exec(`INSERT INTO periodic_leases (name, owner, lease_until) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until
		WHERE periodic_leases.owner = excluded.owner OR periodic_leases.lease_until < ?`, name, owner, now.Add(ttl), now)
	if res.Error != nil {
		return false, fmt.Errorf("taking the %s lease: %w", name, res.Error)
	}
	return res.RowsAffected == 1, nil
}

// HeartbeatCheckIn is what a check-in did for one monitor.
type HeartbeatCheckIn struct {
	Service   string    `json:"service"`
	Interval  string    `json:"interval"`
	NextDueAt time.Time `json:"next_due_at"`
	// ResolvedIncident is the number of the outage's incident the
	// check-in resolved.
	ResolvedIncident *int64 `json:"resolved_incident,omitempty"`
}
