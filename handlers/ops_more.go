package handlers

import (
	"context"
	"fmt"

	"github.com/heraldhq/herald/models"
)

// More incident operations, for the `@incident` commands: the ones whose
// change writes more than the incident row (a role, a channel name, an
// action item), through store methods that do it in one transaction.

// withHeadline schedules the headline refresh with a change, as change
// (ops.go) does, for operations that go through other store methods.
func withHeadline(inc *models.Incident, ch models.Change) models.Change {
	ch.Jobs = append(ch.Jobs, headlineJob(inc.ID, inc.Version+1))
	return ch
}

// assignRole gives a named role (not the lead: see setLead) to holder.
func (d Deps) assignRole(ctx context.Context, incidentID int64, actor *models.ExternalUser, role string, holder *models.ExternalUser) (*models.Incident, error) {
	return d.Store.ChangeIncidentRole(ctx, incidentID, role, holder.ID, idOf(actor), func(inc *models.Incident, cur *models.IncidentRole) (models.Change, error) {
		before := ""
		if cur != nil {
			if cur.UserID == holder.ID {
				return models.Change{}, models.ErrNoChange
			}
			before = cur.UserID
		}
		text := fmt.Sprintf("%s is now %s (set by %s)", mention(holder), role, mention(actor))
		return withHeadline(inc, models.Change{
			Action: "incident.role", Before: role + ":" + before, After: role + ":" + holder.ID,
			Timeline: []models.TimelineEvent{{Kind: models.TimelineRoleChange, Text: text}},
			Jobs:     []models.NewJob{noticeJob(inc, "🎭 "+text)},
		}), nil
	})
}

// renameComms records that the comms channel channelID was renamed in
// Slack from before to name. The channel_rename event Slack sends may have
// stored the new name already; the change is recorded all the same.
func (d Deps) renameComms(ctx context.Context, incidentID int64, actor *models.ExternalUser, channelID, before, name string) (*models.Incident, error) {
	return d.Store.ChangeCommsChannelName(ctx, incidentID, channelID, name, idOf(actor), func(inc *models.Incident, _ *models.CommsChannel) (models.Change, error) {
		if before == name {
			return models.Change{}, models.ErrNoChange
		}
		text := fmt.Sprintf("Channel renamed from #%s to #%s by %s", before, name, mention(actor))
		return withHeadline(inc, models.Change{
			Action: "incident.rename", Before: before, After: name,
			Timeline: []models.TimelineEvent{{Kind: models.TimelineRename, Text: text}},
		}), nil
	})
}

// addActionItem records a follow-up, once per asking message (sourceRef).
func (d Deps) addActionItem(ctx context.Context, inc *models.Incident, actor, owner *models.ExternalUser, text, sourceRef string) (bool, error) {
	entry := fmt.Sprintf("Action item added by %s: %s", mention(actor), text)
	if owner != nil {
		entry += " (owner: " + mention(owner) + ")"
	}
	e := models.TimelineEvent{Kind: models.TimelineAction, Text: entry, AuthorID: idOf(actor)}
	if sourceRef != "" {
		e.SourceRef = &sourceRef
	}
	return d.Store.AddActionItemOnce(ctx, &models.ActionItem{IncidentID: inc.ID, Text: text, OwnerID: idOf(owner), CreatedByID: idOf(actor)}, e)
}
