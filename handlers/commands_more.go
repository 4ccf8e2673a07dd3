package handlers

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/slack-go/slack"

	"github.com/heraldhq/herald/bot"
	"github.com/heraldhq/herald/models"
)

// The `@incident` commands around the incident: its channel, notes, the
// timeline, action items, paging and roles.

// --- the comms channel -----------------------------------------------------

// channelMention is how Slack sends a channel the person picked from the
// autocomplete: <#C123|name>.
var channelMention = regexp.MustCompile(`^<#[CG][A-Z0-9]+(?:\|([^>]*))?>$`)

// parseChannelName turns what was typed after `rename` into a channel name.
func parseChannelName(args string) (string, error) {
	raw := strings.TrimSpace(args)
	if m := channelMention.FindStringSubmatch(raw); m != nil {
		raw = m[1]
	}
	name := Slugify(raw)
	switch {
	case name == "":
		return "", bot.Usagef("Give the channel a new name: letters, digits, hyphens or underscores.")
	case len(name) > maxChannelName:
		return "", bot.Usagef("`%s` is %d characters; Slack allows %d.", name, len(name), maxChannelName)
	}
	return name, nil
}

func renameCommand(d Deps) bot.Command {
	return d.incidentCommand(bot.Command{
		Name: "rename", Usage: "<new-channel-name>", Help: "rename this channel",
	}, func(ctx context.Context, req bot.CommandRequest, inc *models.Incident, actor *models.ExternalUser) error {
		name, err := parseChannelName(req.Args)
		if err != nil {
			return err
		}
		cc, err := d.Store.CommsChannelFor(ctx, inc.ID)
		if err != nil {
			return err
		}
		if cc.Pending() || cc.ChannelID != req.ChannelID {
			return bot.Usagef("Only the comms channel of incident #%d can be renamed, from inside it.", inc.Number)
		}
		if cc.ChannelName == name {
			return bot.Usagef("This channel is already called #%s.", name)
		}
		// The name recorded is ours, already in Slack's alphabet; Slack's
		// channel_rename event records whatever Slack made of it.
		_, err = d.Slack.RenameConversationContext(ctx, cc.ChannelID, name)
		switch code := slackErrorCode(err); {
		case err == nil:
		case code == "name_taken":
			return bot.Usagef("#%s is taken; pick another.", name)
		case strings.HasPrefix(code, "invalid_name"):
			return bot.Usagef("Slack does not accept #%s as a channel name (%s).", name, code)
		case code == "not_authorized" || code == "restricted_action":
			return bot.Usagef("Slack does not let me rename this channel (%s).", code)
		default:
			return slackError("renaming the comms channel", err)
		}
		_, err = d.renameComms(ctx, inc.ID, actor, cc.ChannelID, cc.ChannelName, name)
		if err := refuse(err, fmt.Sprintf("This channel is already called #%s.", name)); err != nil {
			return err
		}
		return d.confirm(ctx, req, fmt.Sprintf("Renamed this channel to #%s.", name))
	})
}

// --- notes and the timeline -----------------------------------------------

func noteCommand(d Deps) bot.Command {
	return d.incidentCommand(bot.Command{
		Name: "note", Usage: "<text>", Help: "add a note to the timeline",
	}, func(ctx context.Context, req bot.CommandRequest, inc *models.Incident, actor *models.ExternalUser) error {
		text := slackUnescape(strings.TrimSpace(req.Args))
		if text == "" {
			return bot.Usagef("What should the note say?")
		}
		e := &models.TimelineEvent{
			IncidentID: inc.ID, Kind: models.TimelineNote, Text: text, AuthorID: idOf(actor),
			OccurredAt: slackTime(req.MessageTS, d.Clock.Now()),
		}
		if req.MessageTS != "" {
			ref := "note:" + req.MessageTS // the same message twice is one note
			e.SourceRef = &ref
		}
		if err := d.Store.AddTimelineEvent(ctx, e); err != nil {
			return err
		}
		if req.MessageTS != "" {
			err := d.Slack.AddReactionContext(ctx, "white_check_mark", slack.NewRefToMessage(req.ChannelID, req.MessageTS))
			if err != nil && !isAlreadyReacted(err) {
				d.Log.WarnContext(ctx, "could not mark a note as added", "err", err)
			}
		}
		return d.confirm(ctx, req, fmt.Sprintf("Added to the timeline of incident #%d.", inc.Number))
	})
}

// timelineShown is how many entries `timeline` shows.
const timelineShown = 15

// keptMention is a user or channel mention, kept as a link when the rest
// of a timeline entry is escaped.
var keptMention = regexp.MustCompile(`<(?:@[UW]|#[CG])[A-Z0-9]+(?:\|[^<>]*)?>`)

// escapeKeepingMentions escapes text for mrkdwn except the mentions in it
// (timeline entries mix ours, like "<@U1> is now leading", with people's).
func escapeKeepingMentions(s string) string {
	var b strings.Builder
	last := 0
	for _, m := range keptMention.FindAllStringIndex(s, -1) {
		b.WriteString(bot.EscapeMrkdwn(s[last:m[0]]))
		b.WriteString(s[m[0]:m[1]])
		last = m[1]
	}
	b.WriteString(bot.EscapeMrkdwn(s[last:]))
	return b.String()
}

// oneLine folds an entry's lines and runs of spaces into single spaces.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func timelineCommand(d Deps) bot.Command {
	return d.incidentCommand(bot.Command{
		Name: "timeline", Help: "show the latest timeline entries",
	}, func(ctx context.Context, req bot.CommandRequest, inc *models.Incident, _ *models.ExternalUser) error {
		if err := noArgs(req); err != nil {
			return err
		}
		all, err := d.Store.Timeline(ctx, inc.ID)
		if err != nil {
			return err
		}
		entries := slices.DeleteFunc(all, func(e models.TimelineEvent) bool { return e.RemovedAt != nil })
		var b strings.Builder
		fmt.Fprintf(&b, "*Timeline of incident #%d*", inc.Number)
		if n := len(entries); n > timelineShown {
			fmt.Fprintf(&b, " (the last %d of %d entries; all of them: %s)", timelineShown, n, d.Settings.docURL(inc))
			entries = entries[n-timelineShown:]
		}
		b.WriteString("\n")
		for _, e := range entries {
			who := "Herald"
			if e.Author != nil {
				who = mention(e.Author)
			}
			fmt.Fprintf(&b, "• %s · %s · %s\n", bot.SlackDate(e.OccurredAt), who, escapeKeepingMentions(truncate(oneLine(e.Text), 200)))
		}
		return d.reply(ctx, req, b.String())
	})
}

// --- action items ----------------------------------------------------------

func actionCommand(d Deps) bot.Command {
	return d.incidentCommand(bot.Command{
		Name: "action", Usage: "<text> [@owner]", Help: "add a follow-up action item",
	}, func(ctx context.Context, req bot.CommandRequest, inc *models.Incident, actor *models.ExternalUser) error {
		text, ownerID := splitTrailingMention(strings.TrimSpace(req.Args))
		text = slackUnescape(text)
		if strings.TrimSpace(text) == "" {
			return bot.Usagef("What needs doing? Write the action, then optionally its owner.")
		}
		var owner *models.ExternalUser
		if ownerID != "" {
			var err error
			if owner, err = d.actor(ctx, ownerID); err != nil {
				return err
			}
		}
		added, err := d.addActionItem(ctx, inc, actor, owner, text, req.MessageTS)
		if err := refuse(err, ""); err != nil {
			return err
		}
		if !added {
			return d.confirm(ctx, req, "That action item is already recorded.")
		}
		reply := fmt.Sprintf("Added an action item to incident #%d", inc.Number)
		if owner != nil {
			reply += ", owned by " + mention(owner)
		}
		return d.confirm(ctx, req, reply+". `@"+d.Settings.BotName+" actions` lists them.")
	})
}

func actionsCommand(d Deps) bot.Command {
	return d.incidentCommand(bot.Command{
		Name: "actions", Aliases: []string{"todo"}, Help: "list the action items",
	}, func(ctx context.Context, req bot.CommandRequest, inc *models.Incident, _ *models.ExternalUser) error {
		if err := noArgs(req); err != nil {
			return err
		}
		items, err := d.Store.ActionItems(ctx, inc.ID)
		if err != nil {
			return err
		}
		if len(items) == 0 {
			return d.reply(ctx, req, fmt.Sprintf("Incident #%d has no action items yet. Add one with `@%s action <text> [@owner]`.", inc.Number, d.Settings.BotName))
		}
		var b strings.Builder
		fmt.Fprintf(&b, "*Action items of incident #%d*\n", inc.Number)
		for i, a := range items {
			box := "☐"
			if a.DoneAt != nil {
				box = "☑"
			}
			fmt.Fprintf(&b, "%s %d. %s", box, i+1, escapeKeepingMentions(truncate(oneLine(a.Text), 300)))
			if a.Owner != nil {
				b.WriteString(" — " + mention(a.Owner))
			}
			b.WriteString("\n")
		}
		return d.reply(ctx, req, b.String())
	})
}

// --- paging ------------------------------------------------------------------

// pagePriorities are the priorities a page may have.
var pagePriorities = []string{"low", "medium", "high", "urgent"}

// notPriority matches words people use as a priority that Herald's are
// not, so `page @bob critical` is refused rather than sent as a message.
var notPriority = regexp.MustCompile(`^(?i:p[0-9]|critical|crit|normal|emergency|highest|lowest|sev[0-9]|blocker|asap)$`)

// pageTeam is a team name: a word, with an optional @.
var pageTeam = regexp.MustCompile(`^@?[A-Za-z0-9][A-Za-z0-9._-]{0,79}$`)

// userGroup is a Slack user group mention: <!subteam^S123|@team>.
var userGroup = regexp.MustCompile(`^<!subteam\^([A-Z0-9]+)(?:\|([^>]*))?>$`)

// pageRequest is a parsed `page` command.
type pageRequest struct {
	UserID   string // a person, or
	Team     string // a team
	Priority string // "" when not given
	Message  string
}

// target renders who is to be paged.
func (p pageRequest) target() string {
	if p.UserID != "" {
		return "<@" + p.UserID + ">"
	}
	return "team " + p.Team
}

// parsePageArgs reads `<@user|team> [priority] [message]`.
func parsePageArgs(args string) (pageRequest, error) {
	var p pageRequest
	first, rest := cutWord(args)
	switch {
	case first == "":
		return p, bot.Usagef("Who should be paged? Name a person or a team.")
	case strings.HasPrefix(first, "<@"):
		id, after, ok := parseUserMention(first)
		if !ok || after != "" {
			return p, bot.Usagef("`%s` is not a person I can page.", first)
		}
		p.UserID = id
	case userGroup.MatchString(first):
		m := userGroup.FindStringSubmatch(first)
		p.Team = strings.TrimPrefix(m[2], "@")
		if p.Team == "" {
			p.Team = m[1]
		}
	case pageTeam.MatchString(first):
		p.Team = strings.TrimPrefix(first, "@")
	default:
		return p, bot.Usagef("`%s` is not a person or a team.", first)
	}
	word, after := cutWord(rest)
	w := strings.ToLower(strings.TrimRight(word, ":,"))
	value, explicit := strings.CutPrefix(w, "priority=")
	if !explicit {
		value, explicit = strings.CutPrefix(w, "priority:")
	}
	switch {
	case explicit || slices.Contains(pagePriorities, w):
		if !explicit {
			value = w
		}
		if !slices.Contains(pagePriorities, value) {
			return p, bot.Usagef("`%s` is not a priority: use low, medium, high or urgent.", value)
		}
		p.Priority, rest = value, after
	case notPriority.MatchString(w):
		return p, bot.Usagef("`%s` is not a priority: use low, medium, high or urgent.", word)
	}
	p.Message = slackUnescape(strings.TrimSpace(rest))
	return p, nil
}

func pageCommand(d Deps) bot.Command {
	return d.incidentCommand(bot.Command{
		Name: "page", Usage: "<@person|team> [low|medium|high|urgent] [message]",
		Help: "page a person or a team (a team with a plan escalates through it)",
	}, func(ctx context.Context, req bot.CommandRequest, inc *models.Incident, actor *models.ExternalUser) error {
		p, err := parsePageArgs(req.Args)
		if err != nil {
			return err
		}
		reply, err := d.page(ctx, inc, actor, p)
		if err != nil {
			return err
		}
		return d.confirm(ctx, req, reply)
	})
}

// --- roles -------------------------------------------------------------------

// leadRoles are the names of the lead's role.
var leadRoles = []string{"lead", "commander"}

func rolesCommand(d Deps) bot.Command {
	return d.incidentCommand(bot.Command{
		Name: "roles", Help: "who does what in this incident",
	}, func(ctx context.Context, req bot.CommandRequest, inc *models.Incident, _ *models.ExternalUser) error {
		if err := noArgs(req); err != nil {
			return err
		}
		held, err := d.Store.Roles(ctx, inc.ID)
		if err != nil {
			return err
		}
		var b strings.Builder
		fmt.Fprintf(&b, "*Roles in incident #%d*\n• *lead*: %s\n", inc.Number, holderOf(inc.Lead))
		names := slices.Clone(d.Settings.Roles)
		for _, r := range held {
			if !containsFold(names, r.Role) {
				names = append(names, r.Role) // no longer configured, still held
			}
		}
		for _, name := range names {
			var who *models.ExternalUser
			for _, r := range held {
				if strings.EqualFold(r.Role, name) && r.User != nil {
					who = r.User
				}
			}
			fmt.Fprintf(&b, "• *%s*: %s\n", strings.ToLower(name), holderOf(who))
		}
		fmt.Fprintf(&b, "Give one with `@%s role <name> @person`.", d.Settings.BotName)
		return d.reply(ctx, req, b.String())
	})
}

func holderOf(u *models.ExternalUser) string {
	if u == nil {
		return "_nobody yet_"
	}
	return mention(u)
}

func containsFold(list []string, s string) bool {
	return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, s) })
}

func roleCommand(d Deps) bot.Command {
	return d.incidentCommand(bot.Command{
		Name: "role", Usage: "<role> @person", Help: "give someone a role (lead, or one of the roles listed by `roles`)",
	}, func(ctx context.Context, req bot.CommandRequest, inc *models.Incident, actor *models.ExternalUser) error {
		name, rest := cutWord(req.Args)
		name = strings.ToLower(name)
		known := append(slices.Clone(leadRoles), d.Settings.Roles...)
		if name == "" || !containsFold(known, name) {
			return bot.Usagef("Which role? Choose one of: %s.", strings.ToLower(strings.Join(known, ", ")))
		}
		id, after, ok := parseUserMention(rest)
		if !ok || after != "" {
			return bot.Usagef("Who should be %s? Name one person with an @mention.", name)
		}
		if id == d.Settings.BotUserID {
			return bot.Usagef("I can keep notes, but roles are for people.")
		}
		holder, err := d.actor(ctx, id)
		if err != nil {
			return err
		}
		if slices.Contains(leadRoles, name) {
			_, err = d.setLead(ctx, inc.ID, actor, holder)
			if err := refuse(err, fmt.Sprintf("%s is already leading incident #%d.", mention(holder), inc.Number)); err != nil {
				return err
			}
			return d.confirm(ctx, req, fmt.Sprintf("%s is now leading incident #%d.", mention(holder), inc.Number))
		}
		_, err = d.assignRole(ctx, inc.ID, actor, name, holder)
		if err := refuse(err, fmt.Sprintf("%s is already %s in incident #%d.", mention(holder), name, inc.Number)); err != nil {
			return err
		}
		return d.confirm(ctx, req, fmt.Sprintf("%s is now %s in incident #%d.", mention(holder), name, inc.Number))
	})
}
