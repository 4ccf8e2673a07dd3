package handlers

import (
	"context"
	"errors"
	"fmt"

	"github.com/heraldhq/herald/bot"
	"github.com/heraldhq/herald/models"
)

// PhoneActions claims and resolves incidents for people who answered a
// page by SMS or phone (web.PhoneClaimer), like the Slack page buttons:
// the incident is acknowledged or closed (timeline, headline, notice) and
// paging stops. Someone with a Slack identity acts as that user; someone
// without one is named in the timeline.
type PhoneActions struct{ d Deps }

// NewPhoneActions builds them on the same dependencies as the handlers.
func NewPhoneActions(d Deps) PhoneActions { return PhoneActions{d: d} }

// Claim acknowledges the incident. It returns models.ErrNoChange when it
// was already acknowledged or closed.
func (p PhoneActions) Claim(ctx context.Context, incidentID int64, by *models.Person) error {
	return p.ClaimVia(ctx, incidentID, by, "by phone")
}

// ClaimVia is Claim for any channel outside Slack (by phone, by e-mail
// link): via is how the timeline says it was done.
func (p PhoneActions) ClaimVia(ctx context.Context, incidentID int64, by *models.Person, via string) error {
	actor, err := p.actor(ctx, by)
	if err != nil {
		return err
	}
	if actor != nil {
		_, err := p.d.acknowledge(ctx, incidentID, actor)
		return err
	}
	_, err = p.d.change(ctx, incidentID, nil, func(inc *models.Incident) (models.Change, error) {
		if inc.AcknowledgedAt != nil || !inc.IsOpen() {
			return models.Change{}, models.ErrNoChange
		}
		now := p.d.Clock.Now()
		inc.AcknowledgedAt = &now
		text := fmt.Sprintf("Acknowledged by %s (%s)", personName(by), via)
		return models.Change{
			Action: "incident.ack", After: now.Format("2006-01-02T15:04:05Z"),
			Timeline: []models.TimelineEvent{{Kind: models.TimelineAcknowledged, Text: text}},
			Jobs:     []models.NewJob{noticeJob(inc, "👍 "+text)},
		}, nil
	})
	if err != nil {
		return err
	}
	return p.stop(ctx, incidentID, false, by)
}

// Resolve closes the incident, as the Resolve button does, acting as the
// person's Slack user: someone with no Slack identity is told to close it
// in Slack (the timeline names who closed an incident by their Slack
// user), as is anyone but the lead when closing is restricted.
func (p PhoneActions) Resolve(ctx context.Context, incidentID int64, by *models.Person) error {
	actor, err := p.actor(ctx, by)
	if err != nil {
		return err
	}
	if actor == nil {
		return bot.Usagef("Resolving by phone needs your Herald profile linked to Slack; close the incident in Slack.")
	}
	_, err = p.d.closeIncident(ctx, incidentID, actor)
	if errors.Is(err, ErrNotAllowed) {
		return bot.Usagef("Only the incident's lead may close it.")
	}
	return err
}

// actor is the Slack user of a person, nil when they have none (or have
// never used Herald in Slack).
func (p PhoneActions) actor(ctx context.Context, by *models.Person) (*models.ExternalUser, error) {
	if by == nil || by.SlackUserID == nil || *by.SlackUserID == "" {
		return nil, nil
	}
	u, err := p.d.Store.UserBySlackID(ctx, *by.SlackUserID)
	if models.IsNotFound(err) {
		return p.d.Store.UpsertSlackUser(ctx, models.SlackUser{ID: *by.SlackUserID, DisplayName: personName(by)})
	}
	return u, err
}

func (p PhoneActions) stop(ctx context.Context, incidentID int64, resolve bool, by *models.Person) error {
	if p.d.Pager == nil {
		return nil
	}
	stop := p.d.Pager.Claim
	if resolve {
		stop = p.d.Pager.Resolve
	}
	err := stop(ctx, incidentID, personName(by))
	if err == nil || errors.Is(err, models.ErrNoChange) || models.IsNotFound(err) {
		return nil
	}
	return err
}

func personName(p *models.Person) string {
	if p == nil {
		return "someone"
	}
	if p.FullName != "" {
		return p.FullName
	}
	return p.Name
}
