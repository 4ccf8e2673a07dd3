package handlers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/heraldhq/herald/bot"
	"github.com/heraldhq/herald/models"
)

// OnCallStore is what `/oncall` reads and writes: people, teams, static
// assignments and schedules; *models.Store implements it.
type OnCallStore interface {
	PersonBySlackID(ctx context.Context, slackUserID string) (*models.Person, error)
	PersonByName(ctx context.Context, name string) (*models.Person, error)
	PeopleByID(ctx context.Context, ids []string) ([]models.Person, error)
	TeamByName(ctx context.Context, name string) (*models.Team, error)
	ListTeams(ctx context.Context) ([]models.Team, error)
	TeamsOfPerson(ctx context.Context, personID string) ([]models.Team, error)
	OncallPersonID(ctx context.Context, teamID, role string) (string, error)
	Schedules(ctx context.Context, teamID string) ([]models.Schedule, error)
	TeamScheduleSet(ctx context.Context, teamName string, from, to time.Time) (*models.ScheduleSet, error)
	CreateOverride(ctx context.Context, by models.Actor, o *models.ScheduleOverride) error
}

// OnCallCache is this replica's cache of on-call lookups, dropped after
// `/oncall cover` changes a schedule (other replicas notice the
// schedules version); *schedule.Resolver implements it.
type OnCallCache interface{ Invalidate() }

// oncallAnswer is what `/oncall` says: ephemeral unless inChannel.
type oncallAnswer struct {
	text      string
	blocks    []slack.Block
	inChannel bool
}

// oncallSlash handles `/oncall [team]` and `/oncall cover …`.
func oncallSlash(d Deps) bot.SlashCommand {
	return bot.SlashCommand{
		Command: "/oncall",
		Run: func(ctx context.Context, cmd slack.SlashCommand) (bot.SlashResponse, error) {
			ans, err := d.oncall(ctx, cmd.UserID, cmd.Text, "/oncall")
			var ue *bot.UsageError
			if errors.As(err, &ue) {
				return bot.SlashResponse{}, bot.Usagef("%s\n%s", ue.Message, oncallUsage("/oncall"))
			}
			if err != nil {
				return bot.SlashResponse{}, err
			}
			return bot.SlashResponse{Text: ans.text, Blocks: ans.blocks, InChannel: ans.inChannel}, nil
		},
	}
}

// oncallCommand is `@incident oncall …`, the same in any channel.
func oncallCommand(d Deps) bot.Command {
	return bot.Command{
		Name: "oncall", Usage: "[team] | cover [@person] <30m|2h|1d|until 18:00> [team] [role]",
		Help:       "who is on call for a team now and next; `cover 2h` puts you on call from now",
		AnyChannel: true,
		Run: func(ctx context.Context, req bot.CommandRequest) error {
			ans, err := d.oncall(ctx, req.UserID, req.Args, "@"+d.Settings.BotName+" oncall")
			if err != nil {
				return err
			}
			opts := []slack.MsgOption{slack.MsgOptionText(ans.text, false)}
			if len(ans.blocks) > 0 {
				opts = append(opts, slack.MsgOptionBlocks(ans.blocks...))
			}
			if req.ThreadTS != "" {
				opts = append(opts, slack.MsgOptionTS(req.ThreadTS))
			}
			if ans.inChannel {
				_, _, err = d.Slack.PostMessageContext(ctx, req.ChannelID, opts...)
			} else {
				_, err = d.Slack.PostEphemeralContext(ctx, req.ChannelID, req.UserID, opts...)
			}
			return slackError("answering oncall", err)
		},
	}
}

// oncall answers the command text of a Slack user; its mistakes are
// *bot.UsageErrors.
func (d Deps) oncall(ctx context.Context, slackUserID, text, prefix string) (oncallAnswer, error) {
	if d.OnCall == nil {
		return oncallAnswer{text: "On-call lookups are not wired in this Herald process."}, nil
	}
	req, err := parseOncall(text)
	if err != nil {
		return oncallAnswer{}, &bot.UsageError{Message: upperFirst(err.Error()) + "."}
	}
	switch {
	case req.Help:
		return oncallAnswer{text: oncallUsage(prefix)}, nil
	case req.Cover:
		return d.coverOncall(ctx, slackUserID, req)
	}
	now := d.Clock.Now().UTC()
	var teams []models.Team
	if req.Team != "" {
		t, err := d.oncallTeam(ctx, req.Team)
		if err != nil {
			return oncallAnswer{}, err
		}
		teams = []models.Team{*t}
	} else {
		if teams, err = d.callerTeams(ctx, slackUserID); err != nil {
			return oncallAnswer{}, err
		}
		if len(teams) == 0 {
			return oncallAnswer{text: "Which team? You are in no Herald team. " + d.oncallTeamList(ctx) + "\n" + oncallUsage(prefix)}, nil
		}
	}
	more := max(len(teams)-maxOncallTeams, 0)
	teams = teams[:len(teams)-more]
	views := make([]teamOnCall, 0, len(teams))
	for _, t := range teams {
		v, err := d.teamOnCallAt(ctx, t, now)
		if err != nil {
			return oncallAnswer{}, err
		}
		views = append(views, v)
	}
	return oncallAnswerOf(views, more, prefix), nil
}

// oncallTeam finds a team by name; an unknown one is the caller's
// mistake, answered with the teams there are.
func (d Deps) oncallTeam(ctx context.Context, name string) (*models.Team, error) {
	t, err := d.OnCall.TeamByName(ctx, name)
	if models.IsNotFound(err) {
		return nil, bot.Usagef("There is no team called `%s`. %s", bot.EscapeMrkdwn(name), d.oncallTeamList(ctx))
	}
	return t, err
}

// callerTeams are the teams of the Herald person linked to a Slack user
// (none when the user is no Herald person).
func (d Deps) callerTeams(ctx context.Context, slackUserID string) ([]models.Team, error) {
	p, err := d.OnCall.PersonBySlackID(ctx, slackUserID)
	if models.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return d.OnCall.TeamsOfPerson(ctx, p.ID)
}

func (d Deps) oncallTeamList(ctx context.Context) string {
	teams, err := d.OnCall.ListTeams(ctx)
	if err != nil || len(teams) == 0 {
		return "No teams are configured yet (`herald apply` adds them)."
	}
	names := make([]string, len(teams))
	for i, t := range teams {
		names[i] = "`" + bot.EscapeMrkdwn(t.Name) + "`"
	}
	return "Teams: " + strings.Join(names, ", ") + "."
}

func upperFirst(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// oncallSchedules are the team's schedules, refusing a team with none.
func (d Deps) oncallSchedules(ctx context.Context, team *models.Team) ([]models.Schedule, error) {
	scheds, err := d.OnCall.Schedules(ctx, team.ID)
	if err != nil {
		return nil, err
	}
	if len(scheds) == 0 {
		return nil, bot.Usagef("Team `%s` has no on-call schedule, so there is no shift to cover; its static on-call comes from the configuration (`herald apply`).", bot.EscapeMrkdwn(team.Name))
	}
	return scheds, nil
}

// formatIn renders t for one reader in zone: "Tue 9 Dec 09:00
// (Europe/London)".
func formatIn(t time.Time, zone string) string {
	loc, err := time.LoadLocation(zone)
	if zone == "" || err != nil {
		loc, zone = time.UTC, "UTC"
	}
	return fmt.Sprintf("%s (%s)", t.In(loc).Format("Mon 2 Jan 15:04"), zone)
}
