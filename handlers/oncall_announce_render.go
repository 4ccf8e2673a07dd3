package handlers

import (
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/heraldhq/herald/bot"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications/schedule"
)

// handoff is a new person on call for a role of a team, as announced.
type handoff struct {
	Team     models.Team
	Role     roleOnCall // Now is the incoming person's run
	Previous string     // the person announced before
	People   map[string]models.Person
}

// until says how long the incoming person is on call, in Slack's
// date format (each reader's zone).
func (h handoff) until() string {
	if h.Role.Open {
		return fmt.Sprintf("for at least %d days", int(oncallHorizon/(24*time.Hour)))
	}
	return "until " + bot.SlackDate(h.Role.Now.End)
}

// channelText is the channel post's notification text.
func (h handoff) channelText() string {
	return fmt.Sprintf("%s is now on call (%s) for %s %s.%s", personRef(h.People, h.Role.Now.PersonID), h.Role.Role,
		bot.EscapeMrkdwn(h.Team.Name), h.until(), h.previous())
}

// previous names who was on call before: " Previous: @bob.", or says
// the handoff ends a gap.
func (h handoff) previous() string {
	if h.Previous == "" {
		return " Nobody was on call before (a schedule gap)."
	}
	return " Previous: " + personRef(h.People, h.Previous) + "."
}

// channelBlocks is the post in the team's channel.
func (h handoff) channelBlocks() []slack.Block {
	main := fmt.Sprintf("🔁 %s is now on call (*%s*) for *%s* %s.%s", personRef(h.People, h.Role.Now.PersonID), h.Role.Role,
		bot.EscapeMrkdwn(h.Team.Name), h.until(), h.previous())
	detail := "_" + bot.EscapeMrkdwn(h.Role.Now.Describe()) + "_"
	if n := h.Role.Next; n != nil {
		detail += fmt.Sprintf(" · Next: %s from %s", personRef(h.People, n.PersonID), bot.SlackDate(n.Start))
	}
	return []slack.Block{
		slack.NewSectionBlock(mrkdwnText(main), nil, nil),
		slack.NewContextBlock("", mrkdwnText(detail)),
	}
}

// dmText is the DM to the incoming person, times in zone:
// "You are now on call (primary) for payments until Tue 9 Dec 09:00
// (Europe/London). Previous: @bob."
func (h handoff) dmText(zone string) string {
	until := fmt.Sprintf("for at least %d days", int(oncallHorizon/(24*time.Hour)))
	if !h.Role.Open {
		until = "until " + formatIn(h.Role.Now.End, zone)
	}
	return fmt.Sprintf("You are now on call (%s) for %s %s.%s", h.Role.Role, bot.EscapeMrkdwn(h.Team.Name), until, h.previous())
}

// roleRuns are the runs of one role over a summary's span.
type roleRuns struct {
	Role string
	Runs []schedule.Shift
}

// weekSummary is who is on call for a team over [From, To).
type weekSummary struct {
	Team     models.Team
	From, To time.Time
	Roles    []roleRuns
	People   map[string]models.Person
}

// maxSummaryRuns bounds the lines per role (an hourly rotation hands off
// 168 times a week).
const maxSummaryRuns = 14

func (s weekSummary) text() string {
	return "On call this week for " + bot.EscapeMrkdwn(s.Team.Name)
}

func (s weekSummary) blocks() []slack.Block {
	out := []slack.Block{slack.NewSectionBlock(mrkdwnText(fmt.Sprintf("📅 *On call this week for %s* (%s to %s)",
		bot.EscapeMrkdwn(s.Team.Name), bot.SlackDate(s.From), bot.SlackDate(s.To))), nil, nil)}
	for _, r := range s.Roles {
		var b strings.Builder
		fmt.Fprintf(&b, "*%s*", roleTitle(r.Role))
		if len(r.Runs) == 0 {
			b.WriteString("\nnobody scheduled")
		}
		for i, run := range r.Runs {
			if i == maxSummaryRuns {
				fmt.Fprintf(&b, "\n…and %d more shifts", len(r.Runs)-maxSummaryRuns)
				break
			}
			fmt.Fprintf(&b, "\n• %s from %s to %s", personRef(s.People, run.PersonID), bot.SlackDate(run.Start), bot.SlackDate(run.End))
		}
		out = append(out, slack.NewSectionBlock(mrkdwnText(b.String()), nil, nil))
	}
	return out
}
