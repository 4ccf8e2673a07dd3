package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/heraldhq/herald/models"
)

// HeartbeatStore is what heartbeat monitors read and write; *models.Store
// implements it.
type HeartbeatStore interface {
	ServiceByName(ctx context.Context, name string) (*models.Service, error)
	ServicesByID(ctx context.Context, ids []string) (map[string]*models.Service, error)
	MissedHeartbeats(ctx context.Context, now time.Time) ([]models.HeartbeatStatus, error)
	MarkHeartbeatMissed(ctx context.Context, integrationID, serviceID string, now time.Time) (bool, error)
	CheckInHeartbeats(ctx context.Context, integrationID, serviceID string) ([]models.Heartbeat, error)
	OpenIncidentByDedupKey(ctx context.Context, serviceID, key string) (*models.Incident, error)
}

// Heartbeats watches heartbeat monitors: an integration that does not
// check in for its service in time opens an incident (one per outage, by
// its dedup key), and its next check-in resolves that incident, saying so
// in the timeline.
type Heartbeats struct {
	d      Deps
	store  HeartbeatStore
	intake *Intake
}

// NewHeartbeats builds the monitors on the handlers' dependencies and the
// intake the incidents are raised through (its maintenance windows apply).
func NewHeartbeats(d Deps, store HeartbeatStore, intake *Intake) *Heartbeats {
	return &Heartbeats{d: d, store: store, intake: intake}
}

// CheckDue opens an incident for each monitor that has missed its
// check-in and has none open yet; it returns how many it raised.
func (h *Heartbeats) CheckDue(ctx context.Context) (int, error) {
	now := h.d.Clock.Now().UTC()
	missed, err := h.store.MissedHeartbeats(ctx, now)
	if err != nil {
		return 0, err
	}
	opened := 0
	var errs []error
	for i := range missed {
		created, err := h.raise(ctx, &missed[i], now)
		if err != nil {
			// One monitor's trouble (its service gone, say) must not
			// silence the others.
			errs = append(errs, fmt.Errorf("heartbeat of %s for %s: %w", missed[i].IntegrationName, missed[i].ServiceName, err))
			continue
		}
		if created {
			opened++
		}
	}
	return opened, errors.Join(errs...)
}

// raise opens the outage's incident, then marks the monitor missed. The
// incident comes first so a failure leaves the monitor unmarked, to be
// tried again at the next check; the dedup key keeps it to one incident.
func (h *Heartbeats) raise(ctx context.Context, hb *models.HeartbeatStatus, now time.Time) (bool, error) {
	minutes := int(now.Sub(hb.Since()) / time.Minute)
	detail, _ := json.Marshal(map[string]any{"heartbeat": map[string]any{
		"integration": hb.IntegrationName, "service": hb.ServiceName, "interval": models.FormatDuration(hb.Interval()),
		"last_check_in": hb.LastSeenAt,
	}})
	last := "never (since the monitor was set up at " + hb.Since().Format(time.RFC3339) + ")"
	if hb.LastSeenAt != nil {
		last = hb.LastSeenAt.UTC().Format(time.RFC3339)
	}
	alert := NewAlert{
		Integration: &models.Integration{ID: hb.IntegrationID, Name: hb.IntegrationName},
		Service:     hb.ServiceName, Severity: hb.Severity, Source: "heartbeat",
		Title:    fmt.Sprintf("Heartbeat missed: %s has not checked in for %d minutes", hb.IntegrationName, minutes),
		Message:  fmt.Sprintf("%s must check in for %s every %s (POST /api/v1/heartbeat with its key). Last check-in: %s.", hb.IntegrationName, hb.ServiceName, models.FormatDuration(hb.Interval()), last),
		DedupKey: models.HeartbeatDedupKey(hb.IntegrationID), Context: string(detail),
	}
	res, err := h.intake.Open(ctx, alert)
	if errors.Is(err, ErrServiceNotAllowed) {
		// The integration lost the service's scope since the monitor was
		// declared: the monitor still stands, so raise it as Herald.
		alert.Integration = nil
		res, err = h.intake.Open(ctx, alert)
	}
	if err != nil {
		return false, err
	}
	late, err := h.store.MarkHeartbeatMissed(ctx, hb.IntegrationID, hb.ServiceID, now)
	if err != nil {
		return false, err
	}
	if !late {
		// It checked in while the incident was being opened.
		return false, h.resolve(ctx, res.Incident, hb.IntegrationName, "checked in again while the incident was being opened")
	}
	h.d.Log.WarnContext(ctx, "heartbeat missed", "integration", hb.IntegrationName, "service", hb.ServiceName, "incident", res.Incident.Number, "minutes", minutes)
	return res.Created, nil
}

// CheckIn records a check-in of an integration for a service ("": every
// monitor it has) and resolves the incidents of the outages it ends. An
// integration without a monitor (for that service) is
// models.ErrNoHeartbeat.
func (h *Heartbeats) CheckIn(ctx context.Context, integ *models.Integration, service string) ([]models.HeartbeatCheckIn, error) {
	serviceID := ""
	if service != "" {
		svc, err := h.store.ServiceByName(ctx, service)
		if models.IsNotFound(err) {
			return nil, fmt.Errorf("%w for service %q", models.ErrNoHeartbeat, service)
		}
		if err != nil {
			return nil, err
		}
		serviceID = svc.ID
	}
	before, err := h.store.CheckInHeartbeats(ctx, integ.ID, serviceID)
	if errors.Is(err, models.ErrNoHeartbeat) && service != "" {
		return nil, fmt.Errorf("%w for service %q", models.ErrNoHeartbeat, service)
	}
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(before))
	for i, b := range before {
		ids[i] = b.ServiceID
	}
	svcs, err := h.store.ServicesByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	now := h.d.Clock.Now().UTC()
	out := make([]models.HeartbeatCheckIn, len(before))
	for i, b := range before {
		out[i] = models.HeartbeatCheckIn{Interval: models.FormatDuration(b.Interval()), NextDueAt: now.Add(b.Interval())}
		if s := svcs[b.ServiceID]; s != nil {
			out[i].Service = s.Name
		}
		if b.MissedAt == nil {
			continue
		}
		inc, err := h.store.OpenIncidentByDedupKey(ctx, b.ServiceID, models.HeartbeatDedupKey(integ.ID))
		if models.IsNotFound(err) {
			continue // resolved by someone already
		}
		if err != nil {
			return nil, err
		}
		why := fmt.Sprintf("checked in again after %d minutes", int(now.Sub(b.Since())/time.Minute))
		if err := h.resolve(ctx, inc, integ.Name, why); err != nil {
			return nil, err
		}
		number := inc.Number
		out[i].ResolvedIncident = &number
		h.d.Log.InfoContext(ctx, "heartbeat back", "integration", integ.Name, "service", out[i].Service, "incident", inc.Number)
	}
	return out, nil
}

// resolve ends an outage's incident, the timeline saying why.
func (h *Heartbeats) resolve(ctx context.Context, inc *models.Incident, integration, why string) error {
	text := fmt.Sprintf("%s %s: the heartbeat is back, so Herald resolves this incident automatically.", integration, why)
	if err := h.d.Store.AddTimelineEvent(ctx, &models.TimelineEvent{IncidentID: inc.ID, Kind: models.TimelineNote, Text: text, OccurredAt: h.d.Clock.Now()}); err != nil {
		return err
	}
	_, err := h.intake.SetState(ctx, inc.ID, StateResolved, "a heartbeat check-in of "+integration)
	if errors.Is(err, models.ErrNoChange) {
		return nil
	}
	return err
}
