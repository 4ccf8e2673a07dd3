package handlers

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/heraldhq/herald/bot"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications/schedule"
)

// coverOncall puts the caller (or the person named) on call for a role
// of a team from now: an override in the team's schedule, audited as the
// Slack user. The answer goes to the channel, so the team sees who
// covers.
func (d Deps) coverOncall(ctx context.Context, slackUserID string, req oncallRequest) (oncallAnswer, error) {
	caller, err := d.Store.UpsertSlackUser(ctx, models.SlackUser{ID: slackUserID})
	if err != nil {
		return oncallAnswer{}, err
	}
	callerPerson, err := d.OnCall.PersonBySlackID(ctx, slackUserID)
	if err != nil && !models.IsNotFound(err) {
		return oncallAnswer{}, err
	}
	coverer, err := d.coverer(ctx, req, callerPerson)
	if err != nil {
		return oncallAnswer{}, err
	}
	team, err := d.coverTeam(ctx, req, coverer)
	if err != nil {
		return oncallAnswer{}, err
	}
	scheds, err := d.oncallSchedules(ctx, team)
	if err != nil {
		return oncallAnswer{}, err
	}
	now := d.Clock.Now().UTC()
	set, err := d.OnCall.TeamScheduleSet(ctx, team.Name, now.Add(-oncallLookback), now.Add(maxCover+oncallLookback))
	if err != nil {
		return oncallAnswer{}, err
	}
	cal, err := schedule.New(*set)
	if err != nil {
		return oncallAnswer{}, fmt.Errorf("team %s: %w", team.Name, err)
	}
	current, onCall := cal.OnCall(now, req.Role)
	sched, err := coverSchedule(team, scheds, req.Role, current, onCall)
	if err != nil {
		return oncallAnswer{}, err
	}
	if onCall && current.PersonID == coverer.ID {
		return oncallAnswer{}, bot.Usagef("%s is already the %s on call for `%s` (%s).", personRef(map[string]models.Person{coverer.ID: *coverer}, coverer.ID),
			req.Role, bot.EscapeMrkdwn(team.Name), bot.EscapeMrkdwn(current.Describe()))
	}
	ends := now.Add(req.For)
	if req.Until != "" {
		// "until 18:00" is the caller's 18:00: their zone, else the
		// schedule's.
		zone := sched.TimeZone
		if callerPerson != nil && callerPerson.TimeZone != "" {
			zone = callerPerson.TimeZone
		}
		loc, err := time.LoadLocation(zone)
		if err != nil {
			loc = time.UTC
		}
		h, m, _ := parseClockTime(req.Until) // parseOncall checked it
		ends = nextClockTime(now, loc, h, m)
	}
	actor := models.Actor{Name: cmp.Or(caller.DisplayName, "slack:"+slackUserID), UserID: &caller.ID}
	if callerPerson != nil {
		actor.Name = callerPerson.Name
	}
	o := &models.ScheduleOverride{ScheduleID: sched.ID, Role: req.Role, PersonID: coverer.ID, StartsAt: now, EndsAt: ends,
		Reason: "covering from Slack (/oncall cover)"}
	var inputErr models.InputErrors
	if err := d.OnCall.CreateOverride(ctx, actor, o); errors.As(err, &inputErr) {
		return oncallAnswer{}, bot.Usagef("I could not store that override: %s.", inputErr.Error())
	} else if err != nil {
		return oncallAnswer{}, err
	}
	if d.OnCallCache != nil {
		d.OnCallCache.Invalidate()
	}
	ids := []string{coverer.ID}
	if onCall {
		ids = append(ids, current.PersonID)
	}
	people, err := d.peopleByID(ctx, ids)
	if err != nil {
		return oncallAnswer{}, err
	}
	text := fmt.Sprintf("%s is on call (%s) for *%s* from now until %s", personRef(people, coverer.ID), req.Role, bot.EscapeMrkdwn(team.Name), bot.SlackDate(o.EndsAt))
	if onCall {
		text += ", covering for " + personRef(people, current.PersonID)
	}
	text += "."
	if callerPerson == nil || callerPerson.ID != coverer.ID {
		text += fmt.Sprintf(" Set by <@%s>.", slackUserID)
	}
	return oncallAnswer{text: text, blocks: nil, inChannel: true}, nil
}

// coverer is who covers: the person mentioned or named, else the caller.
// An inactive person is refused: the schedules never put them on call.
func (d Deps) coverer(ctx context.Context, req oncallRequest, caller *models.Person) (*models.Person, error) {
	p, err := caller, error(nil)
	switch {
	case req.UserID != "":
		p, err = d.OnCall.PersonBySlackID(ctx, req.UserID)
		if models.IsNotFound(err) {
			return nil, bot.Usagef("<@%s> is not a Herald person, so they cannot be put on call. Add them to the configuration (`herald apply`).", req.UserID)
		}
	case req.Person != "":
		p, err = d.OnCall.PersonByName(ctx, req.Person)
		if models.IsNotFound(err) {
			return nil, bot.Usagef("I know nobody called `@%s`: mention them so Slack links the name, or use their Herald handle.", bot.EscapeMrkdwn(req.Person))
		}
	case caller == nil:
		return nil, bot.Usagef("You are not a Herald person, so you cannot be put on call. Ask for your Slack id to be added to the configuration (`herald apply`), or name who covers: `cover @person 2h`.")
	}
	if err != nil {
		return nil, err
	}
	if !p.Active {
		return nil, bot.Usagef("%s is inactive in Herald, so the schedules never put them on call.", personRef(map[string]models.Person{p.ID: *p}, p.ID))
	}
	return p, nil
}

// coverTeam is the team named, else the coverer's one team with a
// schedule.
func (d Deps) coverTeam(ctx context.Context, req oncallRequest, coverer *models.Person) (*models.Team, error) {
	if req.Team != "" {
		return d.oncallTeam(ctx, req.Team)
	}
	teams, err := d.OnCall.TeamsOfPerson(ctx, coverer.ID)
	if err != nil {
		return nil, err
	}
	var scheduled []models.Team
	for _, t := range teams {
		s, err := d.OnCall.Schedules(ctx, t.ID)
		if err != nil {
			return nil, err
		}
		if len(s) > 0 {
			scheduled = append(scheduled, t)
		}
	}
	switch len(scheduled) {
	case 1:
		return &scheduled[0], nil
	case 0:
		return nil, bot.Usagef("Which team? %s is in no team with an on-call schedule: name it, like `cover 2h payments`. %s",
			personRef(map[string]models.Person{coverer.ID: *coverer}, coverer.ID), d.oncallTeamList(ctx))
	}
	names := make([]string, len(scheduled))
	for i, t := range scheduled {
		names[i] = "`" + bot.EscapeMrkdwn(t.Name) + "`"
	}
	return nil, bot.Usagef("Which team? %s is in several teams with schedules (%s): name one.",
		personRef(map[string]models.Person{coverer.ID: *coverer}, coverer.ID), strings.Join(names, ", "))
}

// coverSchedule is the schedule an override goes in: the team's only
// one, else the one whose shift is on call for the role now.
func coverSchedule(team *models.Team, scheds []models.Schedule, role string, current schedule.Shift, onCall bool) (*models.Schedule, error) {
	if len(scheds) == 1 {
		return &scheds[0], nil
	}
	if onCall {
		for i := range scheds {
			if scheds[i].ID == current.ScheduleID {
				return &scheds[i], nil
			}
		}
	}
	names := make([]string, len(scheds))
	for i, s := range scheds {
		names[i] = "`" + bot.EscapeMrkdwn(s.Name) + "`"
	}
	return nil, bot.Usagef("Team `%s` has several schedules (%s) and nobody is on call for %s now, so I cannot tell which one to change: add the override in the schedule itself.",
		bot.EscapeMrkdwn(team.Name), strings.Join(names, ", "), role)
}
