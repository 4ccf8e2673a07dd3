package handlers

import (
	"context"
	"fmt"
	"time"

	"github.com/slack-go/slack"

	"github.com/heraldhq/herald/bot"
	"github.com/heraldhq/herald/models"
)

// The built-in reminders. Each is registered once and scheduled for every
// new incident; their wording tells people what to type, and the last one
// of a series says it is the last, so no reminder burns out silently.

// remind posts in the comms channel, or in the headline post's thread when
// there is no channel yet. Nowhere to post means nobody to remind.
func (d Deps) remind(ctx context.Context, inc *models.Incident, text string) error {
	if cc, err := d.Store.CommsChannelFor(ctx, inc.ID); err == nil && !cc.Pending() && cc.ArchivedAt == nil {
		_, _, err := d.Slack.PostMessageContext(ctx, cc.ChannelID, slack.MsgOptionText(text, false))
		return slackError("posting reminder", err)
	} else if err != nil && !models.IsNotFound(err) {
		return err
	}
	hp, err := d.Store.HeadlinePostFor(ctx, inc.ID)
	if models.IsNotFound(err) || (err == nil && !hp.Posted()) {
		return nil
	}
	if err != nil {
		return err
	}
	_, _, err = d.Slack.PostMessageContext(ctx, hp.ChannelID, slack.MsgOptionText(text, false), slack.MsgOptionTS(hp.MessageTS))
	if err != nil {
		return slackError("posting reminder", err)
	}
	return nil
}

func lastOf(n, max int) string {
	if n >= max {
		return " _(last reminder)_"
	}
	return ""
}

func noLeadReminder(d Deps) bot.Notification {
	const max = 5
	return bot.Notification{
		Name: "no-lead", Spec: "@every 2m", MaxCount: max,
		Done: func(_ context.Context, inc *models.Incident) (bool, error) { return inc.LeadID != nil, nil },
		Send: func(ctx context.Context, inc *models.Incident, n int) error {
			return d.remind(ctx, inc, fmt.Sprintf("🙋 Incident #%d has no lead. Take it with `@%s lead`, or assign someone: `@%s lead @name`.%s",
				inc.Number, d.Settings.BotName, d.Settings.BotName, lastOf(n, max)))
		},
	}
}

func noSeverityReminder(d Deps) bot.Notification {
	const max = 5
	return bot.Notification{
		Name: "no-severity", Spec: "@every 5m", MaxCount: max,
		Done: func(_ context.Context, inc *models.Incident) (bool, error) { return inc.Severity.Valid(), nil },
		Send: func(ctx context.Context, inc *models.Incident, n int) error {
			return d.remind(ctx, inc, fmt.Sprintf("🚦 Incident #%d has no severity yet. Set it with `@%s severity 1-4` (1 critical … 4 trivial).%s",
				inc.Number, d.Settings.BotName, lastOf(n, max)))
		},
	}
}

// statusInterval is how often an incident of this severity should post an
// update (0: never asked).
func (d Deps) statusInterval(inc *models.Incident) time.Duration {
	i := int(inc.Severity) - 1
	if !inc.Severity.Valid() || i >= len(d.Settings.StatusIntervals) {
		return 0
	}
	return d.Settings.StatusIntervals[i]
}

// lastUpdate is when the incident last had news: a timeline entry by a
// person (a note, a status change, a pin...).
func (d Deps) lastUpdate(ctx context.Context, inc *models.Incident) (time.Time, error) {
	entries, err := d.Store.Timeline(ctx, inc.ID)
	if err != nil {
		return time.Time{}, err
	}
	last := inc.ReportedAt
	for _, e := range entries {
		if e.AuthorID != nil && e.OccurredAt.After(last) {
			last = e.OccurredAt
		}
	}
	return last, nil
}

func statusUpdateReminder(d Deps) bot.Notification {
	return bot.Notification{
		Name: "status-update", Spec: "@every 5m", MaxCount: 200,
		Condition: func(ctx context.Context, inc *models.Incident) (bool, error) {
			every := d.statusInterval(inc)
			if every == 0 {
				return false, nil
			}
			last, err := d.lastUpdate(ctx, inc)
			if err != nil {
				return false, err
			}
			return d.Clock.Now().Sub(last) >= every, nil
		},
		Gap: func(inc *models.Incident) time.Duration { return d.statusInterval(inc) },
		Send: func(ctx context.Context, inc *models.Incident, n int) error {
			return d.remind(ctx, inc, fmt.Sprintf("📝 No update on incident #%d for %s (%s: every %s). Post one: `@%s status <investigating|identified|monitoring>` or `@%s note <what changed>`.",
				inc.Number, bot.HumanDuration(d.statusInterval(inc)), inc.Severity, bot.HumanDuration(d.statusInterval(inc)), d.Settings.BotName, d.Settings.BotName))
		},
	}
}

func takeABreakReminder(d Deps) bot.Notification {
	const max = 3
	return bot.Notification{
		Name: "take-a-break", Spec: "@every 1h", MaxCount: max,
		Condition: func(_ context.Context, inc *models.Incident) (bool, error) { return inc.Lead != nil, nil },
		Send: func(ctx context.Context, inc *models.Incident, n int) error {
			text := fmt.Sprintf("☕ You have been leading incident #%d for %s. Take a break: hand over with `@%s lead @someone` in <#%s>, drink some water, step away for ten minutes.",
				inc.Number, bot.HumanDuration(inc.Duration(d.Clock.Now())), d.Settings.BotName, d.commsChannelID(ctx, inc))
			_, _, err := d.Slack.PostMessageContext(ctx, inc.Lead.SlackUserID, slack.MsgOptionText(text, false))
			return slackError("sending take-a-break reminder", err)
		},
	}
}

func (d Deps) commsChannelID(ctx context.Context, inc *models.Incident) string {
	if cc, err := d.Store.CommsChannelFor(ctx, inc.ID); err == nil && !cc.Pending() {
		return cc.ChannelID
	}
	return d.Settings.IncidentChannelName
}

// closeMeAfter is how long an incident runs before its owner is asked
// whether it is over.
const closeMeAfter = 24 * time.Hour

func closeMeReminder(d Deps) bot.Notification {
	const max = 7
	owner := func(inc *models.Incident) *models.ExternalUser {
		if inc.Lead != nil {
			return inc.Lead
		}
		return inc.Reporter
	}
	return bot.Notification{
		Name: "close-me", Spec: "@every 30m", MaxCount: max,
		Condition: func(ctx context.Context, inc *models.Incident) (bool, error) {
			who := owner(inc)
			now := d.Clock.Now()
			if who == nil || inc.Duration(now) < closeMeAfter {
				return false, nil
			}
			return d.inWorkingHours(now, who.TimeZone), nil
		},
		Gap: func(*models.Incident) time.Duration { return closeMeAfter },
		Send: func(ctx context.Context, inc *models.Incident, n int) error {
			text := fmt.Sprintf("⏰ Incident #%d (%s) has been open for %s. If it is over, close it: `@%s close` in its channel or the Close button on %s.%s",
				inc.Number, bot.EscapeMrkdwn(inc.Title), bot.HumanDuration(inc.Duration(d.Clock.Now())), d.Settings.BotName, d.Settings.docURL(inc), lastOf(n, max))
			_, _, err := d.Slack.PostMessageContext(ctx, owner(inc).SlackUserID, slack.MsgOptionText(text, false))
			return slackError("sending close-me reminder", err)
		},
	}
}

// inWorkingHours reports whether now falls in the configured working hours,
// Monday to Friday, in the person's time zone (UTC when unknown).
func (d Deps) inWorkingHours(now time.Time, zone string) bool {
	loc, err := time.LoadLocation(zone)
	if zone == "" || err != nil {
		loc = time.UTC
	}
	local := now.In(loc)
	if wd := local.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return false
	}
	minute := local.Hour()*60 + local.Minute()
	return minute >= d.Settings.WorkingHours[0] && minute < d.Settings.WorkingHours[1]
}
