package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"text/template"
	"time"
	"unicode"

	"github.com/slack-go/slack"
	"golang.org/x/text/unicode/norm"

	"github.com/heraldhq/herald/bot"
	"github.com/heraldhq/herald/models"
)

// Job kinds of comms channels.
const (
	JobCommsCreate  = "comms.create"
	JobCommsArchive = "comms.archive"
)

// maxChannelName is Slack's limit on channel names.
const maxChannelName = 80

// commsClaimStale is how long a channel creation may take before another
// worker assumes its creator died and takes over.
const commsClaimStale = 2 * time.Minute

type commsCreatePayload struct {
	IncidentID int64    `json:"incident_id"`
	Invite     []string `json:"invite,omitempty"` // Slack user ids besides reporter and lead
}

func commsCreateJob(inc *models.Incident, invite []string) models.NewJob {
	return jsonJob(JobCommsCreate, "", commsCreatePayload{IncidentID: inc.ID, Invite: invite})
}

// ChannelNameData is what the comms channel name template sees.
type ChannelNameData struct {
	Number int64
	Slug   string // the title in lower case, words joined by hyphens
	Title  string
}

// NewChannelNameTemplate parses HERALD_COMMS_CHANNEL_TEMPLATE and checks it
// renders a usable name, so a bad template stops start-up, not a declaration.
func NewChannelNameTemplate(text string) (*template.Template, error) {
	t, err := template.New("comms").Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, fmt.Errorf("HERALD_COMMS_CHANNEL_TEMPLATE: %w", err)
	}
	name, err := channelName(t, &models.Incident{Number: 1, Title: "Example title"})
	if err != nil || name == "" {
		return nil, fmt.Errorf("HERALD_COMMS_CHANNEL_TEMPLATE %q does not render a channel name: %v", text, err)
	}
	return t, nil
}

var (
	nonChannelChars = regexp.MustCompile(`[^a-z0-9_-]+`)
	repeatedHyphens = regexp.MustCompile(`-{2,}`)
)

// Slugify turns text into Slack's channel alphabet: lower-case letters,
// digits, hyphens and underscores, accents dropped.
func Slugify(s string) string {
	var b strings.Builder
	for _, r := range norm.NFKD.String(strings.ToLower(s)) {
		if unicode.Is(unicode.Mn, r) {
			continue // combining accent
		}
		b.WriteRune(r)
	}
	slug := nonChannelChars.ReplaceAllString(b.String(), "-")
	slug = repeatedHyphens.ReplaceAllString(slug, "-")
	return strings.Trim(slug, "-_")
}

func channelName(t *template.Template, inc *models.Incident) (string, error) {
	var b strings.Builder
	if err := t.Execute(&b, ChannelNameData{Number: inc.Number, Slug: Slugify(inc.Title), Title: inc.Title}); err != nil {
		return "", err
	}
	name := Slugify(b.String())
	if len(name) > maxChannelName {
		name = strings.TrimRight(name[:maxChannelName], "-_")
	}
	return name, nil
}

// withSuffix makes the nth alternative of a taken name, within 80 chars.
func withSuffix(name string, n int) string {
	suffix := fmt.Sprintf("-%d", n)
	if len(name)+len(suffix) > maxChannelName {
		name = strings.TrimRight(name[:maxChannelName-len(suffix)], "-_")
	}
	return name + suffix
}

// createComms creates the incident's comms channel once, however many
// clicks or replicas ask, then sets it up: invitations, topic, pinned
// summary. Every step is safe to repeat.
func createComms(d Deps) bot.JobFunc {
	return func(ctx context.Context, payload []byte) error {
		var p commsCreatePayload
		if err := json.Unmarshal(payload, &p); err != nil {
			return fmt.Errorf("%w: %v", bot.ErrPermanent, err)
		}
		inc, err := d.Store.IncidentByID(ctx, p.IncidentID)
		if err != nil {
			return err
		}
		cc, err := d.Store.CommsChannelFor(ctx, inc.ID)
		switch {
		case err == nil && !cc.Pending():
			// Exists: finish its set-up if an earlier run was cut short, and
			// let this click's people in.
			return d.setUpComms(ctx, inc, cc, p.Invite)
		case err != nil && !models.IsNotFound(err):
			return err
		}
		name, err := channelName(d.Settings.CommsTemplate, inc)
		if err != nil {
			return fmt.Errorf("%w: channel name: %v", bot.ErrPermanent, err)
		}
		if _, err := d.Store.ClaimCommsChannel(ctx, inc.ID, name, d.Settings.CommsPrivate, commsClaimStale); err != nil {
			if errors.Is(err, models.ErrChannelClaimed) {
				return fmt.Errorf("comms channel of incident #%d is being created elsewhere; checking again later", inc.Number)
			}
			return err
		}
		ch, err := d.createChannel(ctx, name)
		if err != nil {
			if errors.Is(err, bot.ErrPermanent) {
				if aerr := d.Store.AbandonCommsChannel(ctx, inc.ID); aerr != nil {
					d.Log.WarnContext(ctx, "abandoning comms channel claim", "err", aerr)
				}
			}
			return err
		}
		if err := d.Store.CompleteCommsChannel(ctx, inc.ID, ch.ID, ch.Name); err != nil {
			return err
		}
		_, err = d.change(ctx, inc.ID, nil, func(i *models.Incident) (models.Change, error) {
			ref := "comms:" + ch.ID
			return models.Change{
				Action:   "incident.comms_channel",
				After:    ch.Name,
				Timeline: []models.TimelineEvent{{Kind: models.TimelineNote, Text: "Comms channel #" + ch.Name + " created", SourceRef: &ref}},
			}, nil
		})
		if err != nil {
			return err
		}
		cc, err = d.Store.CommsChannelFor(ctx, inc.ID)
		if err != nil {
			return err
		}
		return d.setUpComms(ctx, inc, cc, p.Invite)
	}
}

// createChannel creates a channel named name, or name-2, name-3... when it
// is taken: never someone else's channel.
func (d Deps) createChannel(ctx context.Context, name string) (*slack.Channel, error) {
	candidate := name
	for n := 2; n <= 50; n++ {
		ch, err := d.Slack.CreateConversationContext(ctx, slack.CreateConversationParams{ChannelName: candidate, IsPrivate: d.Settings.CommsPrivate})
		if err == nil {
			return ch, nil
		}
		if slackErrorCode(err) != "name_taken" {
			return nil, slackError("creating comms channel", err)
		}
		candidate = withSuffix(name, n)
	}
	return nil, fmt.Errorf("%w: every variant of channel name %q is taken", bot.ErrPermanent, name)
}

// setUpComms invites the reporter, the lead and the extra people, sets the
// topic and posts and pins the summary. It is safe to run again after a
// failure at any point: invitations and pins tolerate repeats, and the
// summary is posted once (its ts is stored).
func (d Deps) setUpComms(ctx context.Context, inc *models.Incident, cc *models.CommsChannel, extra []string) error {
	users := append([]string{}, extra...)
	if inc.Reporter != nil {
		users = append(users, inc.Reporter.SlackUserID)
	}
	if inc.Lead != nil {
		users = append(users, inc.Lead.SlackUserID)
	}
	if err := d.invite(ctx, cc.ChannelID, users); err != nil {
		return err
	}
	summaryTS := cc.SummaryTS
	if summaryTS == "" {
		topic := truncate(fmt.Sprintf("Incident #%d: %s | %s", inc.Number, inc.Title, d.Settings.docURL(inc)), 250)
		if _, err := d.Slack.SetTopicOfConversationContext(ctx, cc.ChannelID, topic); err != nil {
			return slackError("setting comms channel topic", err)
		}
		text := fmt.Sprintf("*Incident #%d: %s*\n%s\n\nSeverity: %s · Lead: %s · Doc: %s\nMention me for commands: `@%s help`",
			inc.Number, bot.EscapeMrkdwn(inc.Title), bot.EscapeMrkdwn(orDash(inc.Summary)), inc.Severity, mention(inc.Lead), d.Settings.docURL(inc), d.Settings.BotName)
		_, ts, err := d.Slack.PostMessageContext(ctx, cc.ChannelID, slack.MsgOptionText(text, false))
		if err != nil {
			return slackError("posting comms channel summary", err)
		}
		if err := d.Store.SaveCommsSummary(ctx, cc.ChannelID, ts); err != nil {
			return err
		}
		summaryTS = ts
	}
	if err := d.Slack.AddPinContext(ctx, cc.ChannelID, slack.NewRefToMessage(cc.ChannelID, summaryTS)); err != nil && slackErrorCode(err) != "already_pinned" {
		return slackError("pinning comms channel summary", err)
	}
	return nil
}

// invite adds people to a channel; those already there are fine.
func (d Deps) invite(ctx context.Context, channelID string, users []string) error {
	seen := map[string]bool{d.Settings.BotUserID: true, "": true}
	for _, u := range users {
		if seen[u] {
			continue
		}
		seen[u] = true
		_, err := d.Slack.InviteUsersToConversationContext(ctx, channelID, u)
		switch slackErrorCode(err) {
		case "", "already_in_channel", "cant_invite_self":
		case "user_not_found", "cant_invite", "user_is_restricted", "user_is_ultra_restricted":
			d.Log.WarnContext(ctx, "could not invite user to comms channel", "user", u, "reason", slackErrorCode(err))
		default:
			return slackError("inviting to comms channel", err)
		}
	}
	return nil
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "_No summary yet: `@incident summary <text>` sets it._"
	}
	return s
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// postNotice posts a message in the incident's comms channel, if it has a
// live one; otherwise there is nobody there to tell.
func postNotice(d Deps) bot.JobFunc {
	return func(ctx context.Context, payload []byte) error {
		var p incidentText
		if err := json.Unmarshal(payload, &p); err != nil {
			return fmt.Errorf("%w: %v", bot.ErrPermanent, err)
		}
		cc, err := d.Store.CommsChannelFor(ctx, p.IncidentID)
		if models.IsNotFound(err) || (err == nil && (cc.Pending() || cc.ArchivedAt != nil)) {
			return nil
		}
		if err != nil {
			return err
		}
		if _, _, err := d.Slack.PostMessageContext(ctx, cc.ChannelID, slack.MsgOptionText(p.Text, false)); err != nil {
			return slackError("posting in comms channel", err)
		}
		return nil
	}
}

// archiveComms archives a closed incident's channel after the delay; a
// re-opened incident keeps it.
func archiveComms(d Deps) bot.JobFunc {
	return incidentJob(d, func(ctx context.Context, inc *models.Incident, p incidentText) error {
		cc, err := d.Store.CommsChannelFor(ctx, p.IncidentID)
		if models.IsNotFound(err) || inc.IsOpen() || (err == nil && (cc.Pending() || cc.ArchivedAt != nil)) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := d.Slack.ArchiveConversationContext(ctx, cc.ChannelID); err != nil && slackErrorCode(err) != "already_archived" {
			return slackError("archiving comms channel", err)
		}
		return d.Store.MarkCommsChannelArchived(ctx, cc.ChannelID)
	})
}

// reportDM asks the lead (or the reporter) to write the incident up.
func reportDM(d Deps) bot.JobFunc {
	return incidentJob(d, func(ctx context.Context, inc *models.Incident, p incidentText) error {
		who := inc.Lead
		if who == nil {
			who = inc.Reporter
		}
		if who == nil || inc.IsOpen() {
			return nil
		}
		text := fmt.Sprintf("Incident #%d (%s) is closed after %s. While it is fresh, please write up what happened: %s",
			inc.Number, bot.EscapeMrkdwn(inc.Title), bot.HumanDuration(inc.Duration(d.Clock.Now())), d.Settings.docURL(inc))
		if _, _, err := d.Slack.PostMessageContext(ctx, who.SlackUserID, slack.MsgOptionText(text, false)); err != nil {
			return slackError("sending report reminder", err)
		}
		return nil
	})
}
