package notifications

import (
	"context"
	"fmt"
	"strconv"

	"github.com/heraldhq/herald/models"
)

// timelineWriter is the store's timeline, when it has one (*models.Store
// does); the engine notes vendor failures there.
type timelineWriter interface {
	AddTimelineEvent(ctx context.Context, e *models.TimelineEvent) error
}

// noteVendorFailure writes a line on the incident's timeline for a page
// attempt every vendor of its mode refused. The source ref names the
// message and the minute, so the timeline gets at most one such line per
// page per minute however many replicas retry it (a vendor outage in a
// storm must not flood the timeline).
func (e *Engine) noteVendorFailure(ctx context.Context, m *models.Message, o models.MessageOutcome) {
	tw, ok := e.store.(timelineWriter)
	if !ok || m.IncidentID == nil || m.OutOfBand {
		return
	}
	now := e.clock.Now().UTC()
	ref := "vendor-failure:" + strconv.FormatInt(m.ID, 10) + ":" + strconv.FormatInt(now.Unix()/60, 10)
	what := "failed for good"
	if o.RetryAt != nil {
		what = "will be retried at " + o.RetryAt.UTC().Format("15:04:05") + " UTC"
	}
	text := fmt.Sprintf("⚠️ A %s page (attempt %d) could not be delivered: %s. It %s.", m.Mode, m.Attempts, truncate(o.Error, 300), what)
	if err := tw.AddTimelineEvent(ctx, &models.TimelineEvent{IncidentID: *m.IncidentID, Kind: models.TimelineNote, Text: text, SourceRef: &ref, OccurredAt: now}); err != nil {
		e.log.WarnContext(ctx, "noting a vendor failure on the timeline", "err", err, "message", m.ID)
	}
}
