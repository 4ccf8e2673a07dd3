package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/slack-go/slack"

	"github.com/heraldhq/herald/bot"
	"github.com/heraldhq/herald/models"
)

// JobHeadline posts or refreshes an incident's headline post.
const JobHeadline = "headline.refresh"

// headlineLease bounds how long one worker may hold a headline while it
// talks to Slack.
const headlineLease = 30 * time.Second

// errHeadlineBusy retries a refresh while another worker holds the post.
var errHeadlineBusy = errors.New("headline post is being updated by another worker")

type headlinePayload struct {
	IncidentID int64 `json:"incident_id"`
	Version    int64 `json:"version"`
}

// headlineJob asks for the headline to show at least version. Jobs of one
// version share a key; older ones find the post already newer and stop, so
// a burst of changes costs one Slack call.
func headlineJob(incidentID, version int64) models.NewJob {
	return jsonJob(JobHeadline, fmt.Sprintf("headline:%d:v%d", incidentID, version), headlinePayload{IncidentID: incidentID, Version: version})
}

// refreshHeadline renders the incident as it is now and posts it (first
// time) or updates it in place. A short lease per headline keeps two
// workers from posting it twice.
func refreshHeadline(d Deps) bot.JobFunc {
	return func(ctx context.Context, payload []byte) error {
		var p headlinePayload
		if err := json.Unmarshal(payload, &p); err != nil {
			return fmt.Errorf("%w: %v", bot.ErrPermanent, err)
		}
		hp, claimed, err := d.Store.ClaimHeadline(ctx, p.IncidentID, headlineLease)
		if err != nil {
			return err
		}
		if !claimed {
			return errHeadlineBusy
		}
		if hp.Posted() && hp.RenderedVersion >= p.Version {
			return d.Store.ReleaseHeadline(ctx, p.IncidentID, "", "", hp.RenderedVersion)
		}
		channel, ts, version, err := d.renderHeadline(ctx, p.IncidentID, hp)
		if err != nil {
			if rerr := d.Store.ReleaseHeadline(ctx, p.IncidentID, "", "", 0); rerr != nil {
				d.Log.WarnContext(ctx, "releasing headline lease", "err", rerr)
			}
			return err
		}
		return d.Store.ReleaseHeadline(ctx, p.IncidentID, channel, ts, version)
	}
}

func (d Deps) renderHeadline(ctx context.Context, incidentID int64, hp *models.HeadlinePost) (channel, ts string, version int64, err error) {
	inc, err := d.Store.IncidentByID(ctx, incidentID)
	if err != nil {
		if models.IsNotFound(err) {
			return "", "", 0, fmt.Errorf("%w: %v", bot.ErrPermanent, err)
		}
		return "", "", 0, err
	}
	h := bot.Headline{Incident: inc, DocURL: d.Settings.docURL(inc), Now: d.Clock.Now()}
	if d.Directory != nil {
		if h.Paging, err = d.Directory.PagingSummaryOf(ctx, inc.ID); err != nil {
			return "", "", 0, err
		}
	}
	if cc, err := d.Store.CommsChannelFor(ctx, inc.ID); err == nil {
		h.Comms = cc
	} else if !models.IsNotFound(err) {
		return "", "", 0, err
	}
	opts := []slack.MsgOption{slack.MsgOptionText(bot.HeadlineText(inc), false), slack.MsgOptionBlocks(bot.HeadlineBlocks(h)...)}
	if hp.Posted() {
		if _, _, _, err := d.Slack.UpdateMessageContext(ctx, hp.ChannelID, hp.MessageTS, opts...); err != nil {
			return "", "", 0, slackError("updating headline post", err)
		}
		return "", "", inc.Version, nil
	}
	channel, ts, err = d.Slack.PostMessageContext(ctx, d.Settings.incidentsChannel(inc.IsReport), opts...)
	if err != nil {
		return "", "", 0, slackError("posting headline post", err)
	}
	return channel, ts, inc.Version, nil
}
