// Package handlers holds Herald's built-in Slack handlers: slash commands,
// `@incident` commands, event handlers and the jobs behind them. Each
// handler gets what it needs as small interfaces; builtin.go registers them.
package handlers

import (
	"context"
	"log/slog"

	"github.com/slack-go/slack"

	"github.com/heraldhq/herald/models"
)

// Poster is the part of the Slack Web API the handlers use; *slack.Client
// implements it.
type Poster interface {
	PostMessageContext(ctx context.Context, channelID string, options ...slack.MsgOption) (string, string, error)
	UpdateMessageContext(ctx context.Context, channelID, timestamp string, options ...slack.MsgOption) (string, string, string, error)
	PostEphemeralContext(ctx context.Context, channelID, userID string, options ...slack.MsgOption) (string, error)
	AddReactionContext(ctx context.Context, name string, item slack.ItemRef) error
}

// Store is the part of models.Store the handlers use.
type Store interface {
	UpsertSlackUser(ctx context.Context, u models.SlackUser) (*models.ExternalUser, error)
	CreateIncident(ctx context.Context, n models.NewIncident) (*models.Incident, bool, error)
	IncidentByID(ctx context.Context, id int64) (*models.Incident, error)
	IncidentByCommsChannel(ctx context.Context, channelID string) (*models.Incident, error)
	SaveHeadlinePost(ctx context.Context, incidentID int64, channelID, ts string) error
	HeadlinePostFor(ctx context.Context, incidentID int64) (*models.HeadlinePost, error)
}

// Settings are the configuration values handlers read.
type Settings struct {
	BaseURL             string
	IncidentChannelName string
	IncidentChannelID   string // optional; the name is used when empty
	BotName             string // what users type after @
	BotUserID           string // the bot's Slack user id, from auth.test
}

// incidentsChannel is where headline posts go: the configured id, or the
// channel name (Slack accepts "#name" for public channels).
func (s Settings) incidentsChannel() string {
	if s.IncidentChannelID != "" {
		return s.IncidentChannelID
	}
	return "#" + s.IncidentChannelName
}

// Deps is everything the built-in handlers are built from.
type Deps struct {
	Store    Store
	Slack    Poster
	Settings Settings
	Clock    models.Clock
	Log      *slog.Logger
}
