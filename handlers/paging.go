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

// Pager is the part of the escalation engine the handlers use;
// *notifications.Engine implements it. A nil Pager means paging is not
// configured, and the handlers say so instead of pretending.
type Pager interface {
	Escalate(ctx context.Context, incidentID int64, planName string) error
	PagePeople(ctx context.Context, incidentID int64, role, target, priority, note, by string) (int, error)
	Claim(ctx context.Context, incidentID int64, by string) error
	Unclaim(ctx context.Context, incidentID int64) error
	Resolve(ctx context.Context, incidentID int64, by string) error
}

// PagingDirectory is what the handlers read to turn "@alice" or "payments"
// into someone to page; *models.Store implements it.
type PagingDirectory interface {
	PersonBySlackID(ctx context.Context, slackUserID string) (*models.Person, error)
	TeamByName(ctx context.Context, name string) (*models.Team, error)
	TeamPlanName(ctx context.Context, teamID string) (string, error)
	ListTeams(ctx context.Context) ([]models.Team, error)
	PagingSummaryOf(ctx context.Context, incidentID int64) (models.PagingSummary, error)
}

// JobPagingAlert posts an engine alert (plan exhausted, nobody to page)
// where the responders are.
const JobPagingAlert = "paging.alert"

// defaultPagePriority is used when a page names none.
const defaultPagePriority = "high"

// page pages a person or a team for an incident and says what it did.
func (d Deps) page(ctx context.Context, inc *models.Incident, actor *models.ExternalUser, p pageRequest) (string, error) {
	if d.Pager == nil || d.Directory == nil {
		target := p.target()
		var detail []string
		if p.Priority != "" {
			detail = append(detail, p.Priority+" priority")
		}
		if p.Message != "" {
			detail = append(detail, "“"+truncate(oneLine(p.Message), 200)+"”")
		}
		if len(detail) > 0 {
			target += " (" + strings.Join(detail, ", ") + ")"
		}
		if err := d.recordPageRequest(ctx, inc, actor, target); err != nil {
			return "", err
		}
		return pagingNotConfigured, nil
	}
	by := actor.DisplayName
	if by == "" {
		by = "<@" + actor.SlackUserID + ">"
	}
	priority := p.Priority
	if priority == "" {
		priority = defaultPagePriority
	}
	var (
		what string
		sent int
	)
	switch {
	case p.UserID != "":
		person, err := d.Directory.PersonBySlackID(ctx, p.UserID)
		if models.IsNotFound(err) {
			return "", bot.Usagef("<@%s> has no Herald profile, so I have no way to page them. Add them to the configuration (`herald apply`).", p.UserID)
		}
		if err != nil {
			return "", err
		}
		if sent, err = d.Pager.PagePeople(ctx, inc.ID, notifications.RoleUser, person.Name, priority, p.Message, by); err != nil {
			return "", err
		}
		what = fmt.Sprintf("<@%s> (%s priority)", p.UserID, priority)
	default:
		team, err := d.Directory.TeamByName(ctx, p.Team)
		if models.IsNotFound(err) {
			return "", bot.Usagef("There is no team called `%s`. %s", p.Team, d.teamList(ctx))
		}
		if err != nil {
			return "", err
		}
		plan, err := d.Directory.TeamPlanName(ctx, team.ID)
		if err != nil {
			return "", err
		}
		if plan != "" && p.Priority == "" {
			err := d.Pager.Escalate(ctx, inc.ID, plan)
			if errors.Is(err, models.ErrEscalationExists) {
				return "", bot.Usagef("Incident #%d is already escalating; `@%s ack` stops it, or page a person directly.", inc.Number, d.Settings.BotName)
			}
			if err != nil {
				return "", err
			}
			what = fmt.Sprintf("team *%s* through its escalation plan *%s*", team.Name, plan)
			sent = -1
			break
		}
		// No plan (or a priority was asked): the on-call, else everyone.
		if sent, err = d.Pager.PagePeople(ctx, inc.ID, notifications.RoleOncallPrimary, team.Name, priority, p.Message, by); err != nil {
			return "", err
		}
		if sent == 0 {
			if sent, err = d.Pager.PagePeople(ctx, inc.ID, notifications.RoleTeam, team.Name, priority, p.Message, by); err != nil {
				return "", err
			}
		}
		what = fmt.Sprintf("team *%s* (%s priority)", team.Name, priority)
	}
	if sent == 0 {
		return "", bot.Usagef("Nobody to page: %s resolves to no one with a way to be reached.", what)
	}
	entry := fmt.Sprintf("%s paged %s", mention(actor), what)
	if p.Message != "" {
		entry += ": " + p.Message
	}
	// Through a change, so the headline refreshes and shows who was paged.
	_, err := d.change(ctx, inc.ID, actor, func(*models.Incident) (models.Change, error) {
		return models.Change{Action: "incident.page", After: what,
			Timeline: []models.TimelineEvent{{Kind: models.TimelinePageRequest, Text: entry}}}, nil
	})
	if err != nil {
		return "", err
	}
	if sent < 0 {
		return fmt.Sprintf("📟 Escalating to %s. It stops when someone claims: `@%s ack`, or the Claim button on the page.", what, d.Settings.BotName), nil
	}
	return fmt.Sprintf("📟 Paged %s: %d message(s) on their way. `@%s ack` once someone has it.", what, sent, d.Settings.BotName), nil
}

func (d Deps) teamList(ctx context.Context) string {
	teams, err := d.Directory.ListTeams(ctx)
	if err != nil || len(teams) == 0 {
		return "No teams are configured yet."
	}
	names := make([]string, len(teams))
	for i, t := range teams {
		names[i] = "`" + t.Name + "`"
	}
	return "Teams: " + strings.Join(names, ", ") + "."
}

// stopPaging claims or resolves an incident's escalation after the
// incident was acknowledged or closed. No escalation is fine.
func (d Deps) stopPaging(ctx context.Context, incidentID int64, resolve bool, actor *models.ExternalUser) error {
	if d.Pager == nil {
		return nil
	}
	by := "someone"
	if actor != nil {
		by = actor.DisplayName
		if by == "" {
			by = actor.SlackUserID
		}
	}
	stop := d.Pager.Claim
	if resolve {
		stop = d.Pager.Resolve
	}
	err := stop(ctx, incidentID, by)
	if err == nil || errors.Is(err, models.ErrNoChange) || models.IsNotFound(err) {
		return nil
	}
	return err
}

// pagingAlert posts an engine alert in the comms channel (or the headline
// thread): the people running the incident must see it.
func pagingAlert(d Deps) bot.JobFunc {
	return incidentJob(d, func(ctx context.Context, inc *models.Incident, p incidentText) error {
		return d.remind(ctx, inc, p.Text)
	})
}

// PagingAlerts is the engine's Alerter: it stores each alert as a job, so
// a Slack outage never slows the engine and no alert is lost.
type PagingAlerts struct {
	Queue interface {
		EnqueueJobs(ctx context.Context, jobs ...models.NewJob) (int, error)
	}
	Log interface {
		ErrorContext(ctx context.Context, msg string, args ...any)
	}
}

// Alert implements notifications.Alerter.
func (a PagingAlerts) Alert(ctx context.Context, incidentID int64, text string) {
	p := incidentText{IncidentID: incidentID, Text: text}
	if _, err := a.Queue.EnqueueJobs(ctx, jsonJob(JobPagingAlert, "", p), jsonJob(JobPagingAlertOwner, "", p)); err != nil {
		a.Log.ErrorContext(ctx, "could not store a paging alert", "incident_id", incidentID, "err", err)
	}
}

// claimPageButton and resolvePageButton handle the buttons on a Slack DM
// page: they acknowledge or close the incident like the commands do.
func claimPageButton(d Deps) bot.Action {
	return d.buttonOp(notifications.ActionClaimPage, func(ctx context.Context, inc *models.Incident, actor *models.ExternalUser) (string, error) {
		_, err := d.acknowledge(ctx, inc.ID, actor)
		if errors.Is(err, models.ErrNoChange) {
			return fmt.Sprintf("Incident #%d is already acknowledged or closed.", inc.Number), nil
		}
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("You claimed incident #%d. Escalation stopped. Doc: %s", inc.Number, d.Settings.docURL(inc)), nil
	})
}

func resolvePageButton(d Deps) bot.Action {
	return d.buttonOp(notifications.ActionResolvePage, func(ctx context.Context, inc *models.Incident, actor *models.ExternalUser) (string, error) {
		_, err := d.closeIncident(ctx, inc.ID, actor)
		if errors.Is(err, models.ErrNoChange) {
			return fmt.Sprintf("Incident #%d is already closed.", inc.Number), nil
		}
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("You resolved incident #%d.", inc.Number), nil
	})
}
