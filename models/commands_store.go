package models

import (
	"context"
	"fmt"
	"strings"

	"gorm.io/gorm/clause"
)

// Store methods behind the `@incident` commands that write more than the
// incident row: each commits, or rolls back, with the change it records.

// changeWith is ChangeIncident with further writes in the same
// transaction: apply gets the transaction's store, after the incident is
// locked.
func (s *Store) changeWith(ctx context.Context, id int64, actorID *string, apply func(tx *Store, inc *Incident) (Change, error)) (*Incident, error) {
	var out *Incident
	err := s.InTx(ctx, func(tx *Store) error {
		inc, err := tx.ChangeIncident(ctx, id, actorID, func(inc *Incident) (Change, error) { return apply(tx, inc) })
		out = inc
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ChangeIncidentRole gives role to userID, as SetRole does, and records it
// as ChangeIncident does, in one transaction. apply sees the locked
// incident and the role's current holder (nil when nobody holds it, with
// User loaded otherwise); returning ErrNoChange writes nothing.
func (s *Store) ChangeIncidentRole(ctx context.Context, incidentID int64, role, userID string, actorID *string, apply func(inc *Incident, holder *IncidentRole) (Change, error)) (*Incident, error) {
	role = strings.ToLower(role)
	return s.changeWith(ctx, incidentID, actorID, func(tx *Store, inc *Incident) (Change, error) {
		var holder *IncidentRole
		var r IncidentRole
		err := tx.db.WithContext(ctx).Preload("User").Where("incident_id = ? AND role = ?", incidentID, role).Take(&r).Error
		switch {
		case err == nil:
			holder = &r
		case !IsNotFound(err):
			return Change{}, fmt.Errorf("loading role %s: %w", role, err)
		}
		ch, err := apply(inc, holder)
		if err != nil {
			return ch, err
		}
		return ch, tx.SetRole(ctx, incidentID, role, userID, actorID)
	})
}

// ChangeCommsChannelName records the new name of an incident's comms
// channel (already renamed in Slack), as RenameCommsChannel does, and the
// change, as ChangeIncident does, in one transaction. apply sees the locked
// incident and the channel as it was.
func (s *Store) ChangeCommsChannelName(ctx context.Context, incidentID int64, channelID, name string, actorID *string, apply func(inc *Incident, cc *CommsChannel) (Change, error)) (*Incident, error) {
	return s.changeWith(ctx, incidentID, actorID, func(tx *Store, inc *Incident) (Change, error) {
		var cc CommsChannel
		if err := tx.db.WithContext(ctx).Where("incident_id = ? AND channel_id = ?", incidentID, channelID).Take(&cc).Error; err != nil {
			return Change{}, fmt.Errorf("loading comms channel %s of incident %d: %w", channelID, incidentID, err)
		}
		ch, err := apply(inc, &cc)
		if err != nil {
			return ch, err
		}
		return ch, tx.RenameCommsChannel(ctx, channelID, name)
	})
}

// AddActionItemOnce adds an action item and its timeline entry together.
// The entry's SourceRef (e.g. the ts of the message that asked) makes it
// idempotent: when an entry of that kind and ref exists, nothing is written
// and added is false.
func (s *Store) AddActionItemOnce(ctx context.Context, a *ActionItem, entry TimelineEvent) (added bool, err error) {
	err = s.InTx(ctx, func(tx *Store) error {
		entry.IncidentID = a.IncidentID
		if entry.SourceRef != nil {
			var n int64
			err := tx.db.WithContext(ctx).Model(&TimelineEvent{}).
				Where("incident_id = ? AND kind = ? AND source_ref = ?", entry.IncidentID, entry.Kind, *entry.SourceRef).Count(&n).Error
			if err != nil {
				return fmt.Errorf("checking action item entry: %w", err)
			}
			if n > 0 {
				return nil
			}
		}
		if err := tx.AddActionItem(ctx, a); err != nil {
			return err
		}
		if entry.CreatedAt.IsZero() {
			entry.CreatedAt = tx.clock.Now()
		}
		if entry.OccurredAt.IsZero() {
			entry.OccurredAt = entry.CreatedAt
		}
		// No ON CONFLICT: a concurrent twin fails here and rolls its item back.
		if err := tx.db.WithContext(ctx).Omit(clause.Associations).Create(&entry).Error; err != nil {
			return fmt.Errorf("adding action item entry: %w", err)
		}
		added = true
		return nil
	})
	if err != nil {
		return false, err
	}
	return added, nil
}
