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

// WebIncidents runs the web UI's incident actions (web/ui/incidents*.go)
// through the same operations as the `@incident` commands and headline
// buttons: one transaction with the timeline and audit entries, a notice in
// the comms channel, a headline refresh, and the escalation engine told.
type WebIncidents struct{ d Deps }

// NewWebIncidents builds them on the same dependencies as the handlers.
func NewWebIncidents(d Deps) WebIncidents { return WebIncidents{d: d} }

// WebActor is a web user acting on an incident: as their Slack user when
// they have one (signed in with Slack, or linked to a person who has a
// Slack id), else named in the timeline by Name.
type WebActor struct {
	SlackUserID string
	Name        string
}

func (w WebIncidents) actor(ctx context.Context, a WebActor) (*models.ExternalUser, error) {
	if a.SlackUserID != "" {
		u, err := w.d.actor(ctx, a.SlackUserID)
		if err == nil && u.DisplayName == "" {
			u.DisplayName = a.Name // for the engine's "paged by" (not stored)
		}
		return u, err
	}
	// No row: idOf gives nil (nobody in external_users), mention the name.
	return &models.ExternalUser{DisplayName: a.Name}, nil
}

// ExplainWeb turns an action's refusal into words for the web page, or
// returns false when the error is not the user's to fix.
func ExplainWeb(err error) (string, bool) {
	msg, ok := explain(err)
	return strings.NewReplacer("`", "", "*", "").Replace(msg), ok
}

// Acknowledge acknowledges (claims) an incident: paging stops.
func (w WebIncidents) Acknowledge(ctx context.Context, incidentID int64, by WebActor) error {
	actor, err := w.actor(ctx, by)
	if err != nil {
		return err
	}
	_, err = w.d.acknowledge(ctx, incidentID, actor)
	return err
}

// Resolve closes an incident and its escalation.
func (w WebIncidents) Resolve(ctx context.Context, incidentID int64, by WebActor) error {
	actor, err := w.actor(ctx, by)
	if err != nil {
		return err
	}
	_, err = w.d.closeIncident(ctx, incidentID, actor)
	return err
}

// Reopen re-opens a closed incident.
func (w WebIncidents) Reopen(ctx context.Context, incidentID int64, by WebActor) error {
	actor, err := w.actor(ctx, by)
	if err != nil {
		return err
	}
	_, err = w.d.reopen(ctx, incidentID, actor)
	return err
}

// SetText changes the summary or the impact (field "summary" or "impact").
func (w WebIncidents) SetText(ctx context.Context, incidentID int64, by WebActor, field, text string) error {
	if field != "summary" && field != "impact" {
		return fmt.Errorf("%w: %q is not summary or impact", models.ErrInvalid, field)
	}
	actor, err := w.actor(ctx, by)
	if err != nil {
		return err
	}
	_, err = w.d.setText(ctx, incidentID, actor, field, text)
	return err
}

// Roles are the incident roles besides the lead (HERALD_INCIDENT_ROLES).
func (w WebIncidents) Roles() []string { return w.d.Settings.Roles }

// SetRole gives a role ("lead" or "commander": the lead; else one of
// Roles) to a Slack user.
func (w WebIncidents) SetRole(ctx context.Context, incidentID int64, by WebActor, role, holderSlackID string) error {
	role = strings.ToLower(strings.TrimSpace(role))
	lead := containsFold(leadRoles, role)
	if !lead && !containsFold(w.d.Settings.Roles, role) {
		return bot.Usagef("%q is not a role: use lead or one of %s.", role, strings.Join(w.d.Settings.Roles, ", "))
	}
	actor, err := w.actor(ctx, by)
	if err != nil {
		return err
	}
	holder, err := w.d.actor(ctx, holderSlackID)
	if err != nil {
		return err
	}
	if lead {
		_, err = w.d.setLead(ctx, incidentID, actor, holder)
		return err
	}
	_, err = w.d.assignRole(ctx, incidentID, actor, role, holder)
	return err
}

// WebPage is whom the web's "page more people" form pages: a person (by
// their Herald name) or a team, at a priority ("" for a team: through its
// escalation plan).
type WebPage struct {
	Person   *models.Person
	Team     string
	Priority string
	Message  string
}

// Page pages a person or a team for an incident and says what it did.
func (w WebIncidents) Page(ctx context.Context, inc *models.Incident, by WebActor, p WebPage) (string, error) {
	if p.Priority != "" && !containsFold(pagePriorities, p.Priority) {
		return "", bot.Usagef("%q is not a priority: use low, medium, high or urgent.", p.Priority)
	}
	actor, err := w.actor(ctx, by)
	if err != nil {
		return "", err
	}
	if p.Person == nil {
		reply, err := w.d.page(ctx, inc, actor, pageRequest{Team: p.Team, Priority: p.Priority, Message: p.Message})
		return strings.NewReplacer("`", "", "*", "").Replace(reply), err
	}
	if p.Person.SlackUserID != nil && *p.Person.SlackUserID != "" {
		reply, err := w.d.page(ctx, inc, actor, pageRequest{UserID: *p.Person.SlackUserID, Priority: p.Priority, Message: p.Message})
		return strings.NewReplacer("`", "", "*", "").Replace(reply), err
	}
	// Someone without Slack: paged by their Herald name.
	if w.d.Pager == nil {
		return pagingNotConfigured, nil
	}
	priority := p.Priority
	if priority == "" {
		priority = defaultPagePriority
	}
	sent, err := w.d.Pager.PagePeople(ctx, inc.ID, notifications.RoleUser, p.Person.Name, priority, p.Message, by.Name)
	if err != nil {
		return "", err
	}
	what := fmt.Sprintf("%s (%s priority)", personName(p.Person), priority)
	if sent == 0 {
		return "", bot.Usagef("Nobody to page: %s has no way to be reached.", what)
	}
	entry := fmt.Sprintf("%s paged %s", mention(actor), what)
	if p.Message != "" {
		entry += ": " + p.Message
	}
	_, err = w.d.change(ctx, inc.ID, actor, func(*models.Incident) (models.Change, error) {
		return models.Change{Action: "incident.page", After: what,
			Timeline: []models.TimelineEvent{{Kind: models.TimelinePageRequest, Text: entry}}}, nil
	})
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("Paged %s: %d message(s) on their way.", what, sent), nil
}

// WebDeclaration is an incident declared from the web.
type WebDeclaration struct {
	Title, Summary, Impact string
	Severity               models.Severity
	ServiceID              *string
	Services               string // affected services, free text
	// IdempotencyKey is the form's: a double submit declares once.
	IdempotencyKey string
}

// Declare creates an incident as Slack's /incident form does: with its
// headline post, reminders, comms channel (by severity) and, for someone
// with Slack, the confirmation DM, all queued in the same transaction.
func (w WebIncidents) Declare(ctx context.Context, by WebActor, f WebDeclaration) (*models.Incident, bool, error) {
	n := models.NewIncident{
		Title: f.Title, Summary: f.Summary, Impact: f.Impact, Severity: f.Severity, Source: "web",
		ServiceID: f.ServiceID, Services: f.Services, Reminders: w.d.reminderPlan(w.d.Clock.Now()),
	}
	if f.IdempotencyKey != "" {
		n.IdempotencyKey = "web-declare:" + f.IdempotencyKey
	}
	if by.SlackUserID != "" {
		reporter, err := w.d.actor(ctx, by.SlackUserID)
		if err != nil {
			return nil, false, err
		}
		n.ReporterID = &reporter.ID
	}
	n.Jobs = func(inc *models.Incident) []models.NewJob {
		jobs := []models.NewJob{headlineJob(inc.ID, inc.Version)}
		if by.SlackUserID != "" {
			jobs = append(jobs, jsonJob(JobDeclareConfirm, "", incidentText{IncidentID: inc.ID, UserID: by.SlackUserID}))
		}
		if w.d.wantsCommsChannel(inc) {
			jobs = append(jobs, commsCreateJob(inc, nil))
		}
		return jobs
	}
	inc, created, err := w.d.Store.CreateIncident(ctx, n)
	if err != nil {
		return nil, false, err
	}
	if created {
		w.d.Log.InfoContext(ctx, "incident declared", "incident", inc.Number, "severity", int(inc.Severity), "source", "web")
	}
	return inc, created, nil
}

// IsRefusal reports whether err is an action refused for a reason the
// user can act on (not allowed, nothing to change, bad input).
func IsRefusal(err error) bool {
	var ue *bot.UsageError
	return errors.As(err, &ue) || errors.Is(err, ErrNotAllowed) || errors.Is(err, models.ErrNoChange)
}
