// Package handlers holds Herald's built-in Slack handlers: slash commands,
// `@incident` commands, buttons, modals, event handlers, reminders and the
// jobs behind them. Each handler gets what it needs as small interfaces;
// builtin.go registers them all.
package handlers

import (
	"context"
	"log/slog"
	"text/template"
	"time"

	"github.com/slack-go/slack"

	"github.com/heraldhq/herald/bot"
	"github.com/heraldhq/herald/models"
)

// Poster sends and edits messages; *slack.Client implements it.
type Poster interface {
	PostMessageContext(ctx context.Context, channelID string, options ...slack.MsgOption) (string, string, error)
	UpdateMessageContext(ctx context.Context, channelID, timestamp string, options ...slack.MsgOption) (string, string, string, error)
	PostEphemeralContext(ctx context.Context, channelID, userID string, options ...slack.MsgOption) (string, error)
	AddReactionContext(ctx context.Context, name string, item slack.ItemRef) error
}

// ModalOpener opens modals; *slack.Client implements it.
type ModalOpener interface {
	OpenViewContext(ctx context.Context, triggerID string, view slack.ModalViewRequest) (*slack.ViewResponse, error)
}

// ChannelManager creates and looks after comms channels; *slack.Client
// implements it.
type ChannelManager interface {
	CreateConversationContext(ctx context.Context, params slack.CreateConversationParams) (*slack.Channel, error)
	InviteUsersToConversationContext(ctx context.Context, channelID string, users ...string) (*slack.Channel, error)
	SetTopicOfConversationContext(ctx context.Context, channelID, topic string) (*slack.Channel, error)
	RenameConversationContext(ctx context.Context, channelID, channelName string) (*slack.Channel, error)
	ArchiveConversationContext(ctx context.Context, channelID string) error
	AddPinContext(ctx context.Context, channel string, item slack.ItemRef) error
}

// MessageReader reads channel history (a reacted-to message's text);
// *slack.Client implements it.
type MessageReader interface {
	GetConversationHistoryContext(ctx context.Context, params *slack.GetConversationHistoryParameters) (*slack.GetConversationHistoryResponse, error)
	GetConversationRepliesContext(ctx context.Context, params *slack.GetConversationRepliesParameters) ([]slack.Message, bool, string, error)
}

// SlackAPI is everything the built-in handlers use of Slack.
type SlackAPI interface {
	Poster
	ModalOpener
	ChannelManager
	MessageReader
}

// Store is the part of models.Store the handlers use.
type Store interface {
	UpsertSlackUser(ctx context.Context, u models.SlackUser) (*models.ExternalUser, error)
	UserBySlackID(ctx context.Context, slackUserID string) (*models.ExternalUser, error)
	CreateIncident(ctx context.Context, n models.NewIncident) (*models.Incident, bool, error)
	ChangeIncident(ctx context.Context, id int64, actorID *string, apply func(inc *models.Incident) (models.Change, error)) (*models.Incident, error)
	IncidentByID(ctx context.Context, id int64) (*models.Incident, error)
	IncidentByCommsChannel(ctx context.Context, channelID string) (*models.Incident, error)
	AddTimelineEvent(ctx context.Context, e *models.TimelineEvent) error
	Timeline(ctx context.Context, incidentID int64) ([]models.TimelineEvent, error)
	RemoveTimelineSource(ctx context.Context, incidentID int64, kind models.TimelineKind, sourceRef string) (bool, error)
	EnqueueJobs(ctx context.Context, jobs ...models.NewJob) (int, error)

	SaveHeadlinePost(ctx context.Context, incidentID int64, channelID, ts string) error
	HeadlinePostFor(ctx context.Context, incidentID int64) (*models.HeadlinePost, error)
	ClaimHeadline(ctx context.Context, incidentID int64, lease time.Duration) (*models.HeadlinePost, bool, error)
	ReleaseHeadline(ctx context.Context, incidentID int64, channelID, ts string, version int64) error

	ClaimCommsChannel(ctx context.Context, incidentID int64, name string, private bool, staleAfter time.Duration) (*models.CommsChannel, error)
	CompleteCommsChannel(ctx context.Context, incidentID int64, channelID, name string) error
	AbandonCommsChannel(ctx context.Context, incidentID int64) error
	CommsChannelFor(ctx context.Context, incidentID int64) (*models.CommsChannel, error)
	RenameCommsChannel(ctx context.Context, channelID, name string) error
	SaveCommsSummary(ctx context.Context, channelID, ts string) error
	MarkCommsChannelArchived(ctx context.Context, channelID string) error

	SetRole(ctx context.Context, incidentID int64, role, userID string, by *string) error
	Roles(ctx context.Context, incidentID int64) ([]models.IncidentRole, error)
	AddActionItem(ctx context.Context, a *models.ActionItem) error
	ActionItems(ctx context.Context, incidentID int64) ([]models.ActionItem, error)
	TouchParticipant(ctx context.Context, incidentID int64, userID string, at time.Time, spoke bool) error
	TakeKeywordSlot(ctx context.Context, channelID, keyword string, cooldown time.Duration) (bool, error)
	RestartReminders(ctx context.Context, incidentID int64, rs ...models.NewReminder) error

	ChangeIncidentRole(ctx context.Context, incidentID int64, role, userID string, actorID *string, apply func(inc *models.Incident, holder *models.IncidentRole) (models.Change, error)) (*models.Incident, error)
	ChangeCommsChannelName(ctx context.Context, incidentID int64, channelID, name string, actorID *string, apply func(inc *models.Incident, cc *models.CommsChannel) (models.Change, error)) (*models.Incident, error)
	AddActionItemOnce(ctx context.Context, a *models.ActionItem, entry models.TimelineEvent) (bool, error)
	IncidentsByClaimCode(ctx context.Context, code string) ([]int64, error)
}

// Settings are the configuration values handlers read.
type Settings struct {
	BaseURL             string
	IncidentChannelName string
	IncidentChannelID   string // optional; the name is used when empty
	ReportsChannelName  string // optional; after-the-fact reports go here
	BotName             string // what users type after @
	BotUserID           string // the bot's Slack user id, from auth.test

	CommsTemplate     *template.Template // comms channel name; see NewChannelNameTemplate
	CommsPrivate      bool
	AutoCommsSeverity int           // SEV1..N get a channel at once; 0 never
	ArchiveAfter      time.Duration // 0: never archive
	RestrictClose     bool          // only the lead or commander may close
	PinEmoji          string        // reaction that adds a message to the timeline
	Roles             []string      // roles besides the lead
	KeywordCooldown   time.Duration
	WorkingHours      [2]int          // minutes since midnight, in the person's zone
	StatusIntervals   []time.Duration // per severity SEV1..SEV4; 0 none
}

// incidentsChannel is where headline posts go: the configured id, or the
// channel name (Slack accepts "#name" for public channels).
func (s Settings) incidentsChannel(isReport bool) string {
	if isReport && s.ReportsChannelName != "" {
		return "#" + s.ReportsChannelName
	}
	if s.IncidentChannelID != "" {
		return s.IncidentChannelID
	}
	return "#" + s.IncidentChannelName
}

// docURL is the incident's page.
func (s Settings) docURL(inc *models.Incident) string {
	return s.BaseURL + "/incidents/" + itoa(inc.Number)
}

// Deps is everything the built-in handlers are built from.
type Deps struct {
	Store    Store
	Slack    SlackAPI
	Settings Settings
	Clock    models.Clock
	Log      *slog.Logger
	Keywords []KeywordConfig // from HERALD_KEYWORDS_FILE; see LoadKeywords
	// Intake is the services and integrations store the alert intake
	// reads; nil when the intake is not wired.
	Intake IntakeStore

	// Pager and Directory are the paging engine and its people; nil when
	// paging is not configured (then nobody is paged, and people are told).
	Pager     Pager
	Directory PagingDirectory
	// PlanOwners finds who to DM a paging alert to besides the channel;
	// nil: the channel only.
	PlanOwners PlanOwnerLookup
	// OnCall is what `/oncall` reads and writes (schedules, teams,
	// people); OnCallCache the on-call lookups it drops after a change
	// (nil: none to drop).
	OnCall      OnCallStore
	OnCallCache OnCallCache

	// LoginLinks issues the web sign-in links `@incident login` DMs; nil:
	// the web pages are not offered.
	LoginLinks LoginLinker

	// Reminders are the recurring notifications new and re-opened
	// incidents get (declared in Slack or raised by the intake).
	// RegisterBuiltins fills it from the registries when nil; set it
	// before building anything else from these Deps (handlers.NewIntake).
	Reminders *bot.NotificationRegistry
}

// reminderPlan schedules every registered reminder from now.
func (d Deps) reminderPlan(now time.Time) []models.NewReminder {
	if d.Reminders == nil {
		return nil
	}
	var out []models.NewReminder
	for _, n := range d.Reminders.All() {
		out = append(out, models.NewReminder{Name: n.Name, FirstRunAt: n.Next(now)})
	}
	return out
}

// IntakeStore is what the alert intake reads about services and
// integrations; *models.Store implements it.
type IntakeStore interface {
	ServiceByName(ctx context.Context, name string) (*models.Service, error)
	IntegrationServiceIDs(ctx context.Context, integrationID string) ([]string, error)
	LookupService(ctx context.Context, name, integrationID string) (*models.ServiceLookup, error)
	// PlanByName and ServicesByID check plan-only alerts (intake_plan.go).
	PlanByName(ctx context.Context, name string) (*models.Plan, error)
	ServicesByID(ctx context.Context, ids []string) (map[string]*models.Service, error)
}
