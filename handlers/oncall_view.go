package handlers

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/heraldhq/herald/bot"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications/schedule"
)

// oncallHorizon is how far ahead /oncall and the announcements look for
// the end of a shift and the next person: past a fortnightly rotation's
// next handoff.
const oncallHorizon = 35 * 24 * time.Hour

// oncallLookback is how far back shifts are loaded, so a run that began
// earlier is whole enough to name its source.
const oncallLookback = 24 * time.Hour

// roleOnCall is who is on call for one role of a team, now and next.
type roleOnCall struct {
	Role string
	// Scheduled: the team's schedules decide the role now (a started
	// rotation, or an override now). Otherwise the static assignment does.
	Scheduled bool
	// Now is the person on call now for as long as they stay on call
	// (consecutive shifts merged); nil when nobody is (a gap).
	Now *schedule.Shift
	// Open: Now lasts past the horizon, so its End is unknown.
	Open bool
	// Next is the next run of the schedules after Now (or after now).
	Next *schedule.Shift
	// StaticPersonID is the static assignment when not Scheduled.
	StaticPersonID string
}

// teamOnCall is a team's on-call at an instant, with the people named.
type teamOnCall struct {
	Team   models.Team
	At     time.Time
	Roles  []roleOnCall
	People map[string]models.Person
}

// mergeRuns joins consecutive shifts of the same person (a rotation of
// one, a shift continued by an override of the same person): each run
// keeps its first shift's source and ends where the last one does.
func mergeRuns(shifts []schedule.Shift) []schedule.Shift {
	var out []schedule.Shift
	for _, s := range shifts {
		if n := len(out) - 1; n >= 0 && out[n].PersonID == s.PersonID && out[n].End.Equal(s.Start) {
			out[n].End = s.End
			continue
		}
		out = append(out, s)
	}
	return out
}

// roleAt works out role's on-call at now from a calendar loaded for at
// least [now-oncallLookback, now+oncallHorizon).
func roleAt(cal *schedule.Calendar, now time.Time, role string) roleOnCall {
	out := roleOnCall{Role: role, Scheduled: cal.Scheduled(now, role)}
	end := now.Add(oncallHorizon)
	runs := mergeRuns(cal.RoleShifts(now.Add(-oncallLookback), end, role))
	i := 0
	for i < len(runs) && !runs[i].End.After(now) {
		i++
	}
	if i < len(runs) && runs[i].Contains(now) {
		cur := runs[i]
		out.Now, out.Open = &cur, !cur.End.Before(end)
		i++
	}
	if i < len(runs) {
		next := runs[i]
		out.Next = &next
	}
	return out
}

// teamOnCallAt loads a team's schedules and static assignments and
// works out each role: primary and secondary always, shadow when the
// schedules have it.
func (d Deps) teamOnCallAt(ctx context.Context, team models.Team, now time.Time) (teamOnCall, error) {
	view := teamOnCall{Team: team, At: now}
	set, err := d.OnCall.TeamScheduleSet(ctx, team.Name, now.Add(-oncallLookback), now.Add(oncallHorizon))
	if err != nil {
		return view, err
	}
	cal, err := schedule.New(*set)
	if err != nil {
		return view, fmt.Errorf("team %s: %w", team.Name, err)
	}
	roles := []string{models.RotationPrimary, models.RotationSecondary}
	for _, r := range cal.Roles() {
		if r == models.RotationShadow {
			roles = append(roles, r)
		}
	}
	var ids []string
	for _, role := range roles {
		r := roleAt(cal, now, role)
		if !r.Scheduled && role != models.RotationShadow {
			id, err := d.OnCall.OncallPersonID(ctx, team.ID, role)
			if err != nil && !models.IsNotFound(err) {
				return view, err
			}
			r.StaticPersonID = id
		}
		for _, s := range []*schedule.Shift{r.Now, r.Next} {
			if s != nil {
				ids = append(ids, s.PersonID)
			}
		}
		if r.StaticPersonID != "" {
			ids = append(ids, r.StaticPersonID)
		}
		view.Roles = append(view.Roles, r)
	}
	if view.People, err = d.peopleByID(ctx, ids); err != nil {
		return view, err
	}
	return view, nil
}

func (d Deps) peopleByID(ctx context.Context, ids []string) (map[string]models.Person, error) {
	people, err := d.OnCall.PeopleByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[string]models.Person, len(people))
	for _, p := range people {
		out[p.ID] = p
	}
	return out, nil
}

// personRef is a person as Slack shows them: a mention when they have a
// Slack id, else their name.
func personRef(people map[string]models.Person, id string) string {
	p, ok := people[id]
	switch {
	case !ok:
		return "_someone no longer in Herald_"
	case p.SlackUserID != nil && *p.SlackUserID != "":
		return "<@" + *p.SlackUserID + ">"
	default:
		return bot.EscapeMrkdwn(cmp.Or(p.FullName, p.Name))
	}
}

func roleTitle(role string) string { return strings.ToUpper(role[:1]) + role[1:] }

// roleLine renders one role of a team for /oncall.
func (v teamOnCall) roleLine(r roleOnCall) string {
	var b strings.Builder
	fmt.Fprintf(&b, "*%s*: ", roleTitle(r.Role))
	switch {
	case r.Now != nil:
		b.WriteString(personRef(v.People, r.Now.PersonID))
		if r.Open {
			fmt.Fprintf(&b, " for at least %d days", int(oncallHorizon/(24*time.Hour)))
		} else {
			b.WriteString(" until " + bot.SlackDate(r.Now.End))
		}
		b.WriteString("\n_" + bot.EscapeMrkdwn(r.Now.Describe()) + "_")
	case r.Scheduled:
		b.WriteString("⚠️ nobody (schedule gap: pages go to the team's manager)")
	case r.StaticPersonID != "":
		b.WriteString(personRef(v.People, r.StaticPersonID) + "\n_static assignment: no schedule for this role_")
	default:
		b.WriteString("nobody (no schedule and no static assignment)")
	}
	if r.Next != nil {
		fmt.Fprintf(&b, "\nNext: %s from %s", personRef(v.People, r.Next.PersonID), bot.SlackDate(r.Next.Start))
	}
	return b.String()
}

// blocks renders the team for /oncall.
func (v teamOnCall) blocks() []slack.Block {
	out := []slack.Block{slack.NewSectionBlock(mrkdwnText("*On call for "+bot.EscapeMrkdwn(v.Team.Name)+"*"), nil, nil)}
	for _, r := range v.Roles {
		out = append(out, slack.NewSectionBlock(mrkdwnText(v.roleLine(r)), nil, nil))
	}
	return out
}

// text is the plain summary Slack shows in notifications.
func (v teamOnCall) text() string {
	parts := make([]string, 0, len(v.Roles))
	for _, r := range v.Roles {
		who := "nobody"
		switch {
		case r.Now != nil:
			who = personRef(v.People, r.Now.PersonID)
		case !r.Scheduled && r.StaticPersonID != "":
			who = personRef(v.People, r.StaticPersonID)
		}
		parts = append(parts, r.Role+" "+who)
	}
	return "On call for " + bot.EscapeMrkdwn(v.Team.Name) + ": " + strings.Join(parts, ", ")
}

// maxOncallTeams bounds the teams one answer shows (Slack takes 50
// blocks; each team takes up to five).
const maxOncallTeams = 8

// oncallAnswerOf renders the on-call of teams as one answer.
func oncallAnswerOf(views []teamOnCall, more int, prefix string) oncallAnswer {
	var (
		blocks []slack.Block
		texts  []string
	)
	for i, v := range views {
		if i > 0 {
			blocks = append(blocks, slack.NewDividerBlock())
		}
		blocks = append(blocks, v.blocks()...)
		texts = append(texts, v.text())
	}
	foot := fmt.Sprintf("`%s cover 2h` puts you on call for two hours.", prefix)
	if more > 0 {
		foot = fmt.Sprintf("…and %d more teams: `%s <team>` shows one. ", more, prefix) + foot
	}
	blocks = append(blocks, slack.NewContextBlock("", mrkdwnText(foot)))
	return oncallAnswer{text: strings.Join(texts, "\n"), blocks: blocks}
}
