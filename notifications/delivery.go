package notifications

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/heraldhq/herald/models"
)

// Delivery reports: a vendor that accepted a page (Twilio) may say later
// that it never reached its person. The page is then sent again through
// the next vendor of its mode, or, when there is none, fails for good and
// raises the same alert as a page every vendor refused.

// deliveryStore is the storage delivery reports need; *models.Store has it.
type deliveryStore interface {
	RecordDelivery(ctx context.Context, r models.DeliveryReport, vendors map[string][]string) (models.DeliveryResult, []models.DeliveryChange, error)
	NoteDelivery(ctx context.Context, messageID int64, detail string) error
}

// DeliveryReportWait bounds how long a report that arrived before its
// send was recorded waits for it. The sender records a send moments after
// the vendor accepts it; a report still early after this is noted in the
// message's change log and dropped.
const DeliveryReportWait = 10 * time.Second

// ReportDelivery applies a vendor's delivery report to the send it is
// about (a page, and any page batched with it): a delivered page is
// marked delivered; a failed one is queued again for the next vendor of
// its mode (the engines are woken to send it), or fails for good with an
// alert when it was required and no vendor is left. A page whose
// escalation was claimed or resolved meanwhile is not sent again. A
// report that arrives before its send was recorded waits for it, up to
// DeliveryReportWait or ctx's end. It returns what happened to the page
// the report names.
func (e *Engine) ReportDelivery(ctx context.Context, r models.DeliveryReport) (models.DeliveryResult, error) {
	s, ok := e.store.(deliveryStore)
	if !ok {
		return models.DeliveryUnknown, errors.New("delivery report: the engine's store cannot record delivery reports")
	}
	log := e.log.With("vendor", r.Vendor, "vendor_id", r.VendorID, "message", r.MessageID)
	vendors := e.vendorNames()
	deadline := time.Now().Add(DeliveryReportWait)
	pause := 10 * time.Millisecond
	for {
		res, changes, err := s.RecordDelivery(ctx, r, vendors)
		if err != nil && ctx.Err() != nil {
			// The caller gave up (Twilio's request ended) mid-record: the
			// transaction rolled back, so the report was not applied.
			res, err = models.DeliveryEarly, nil
			deadline = time.Time{}
		}
		if err != nil {
			return res, err
		}
		if res != models.DeliveryEarly {
			e.afterDelivery(ctx, log, r, changes)
			log.DebugContext(ctx, "delivery report", "result", string(res), "changed", len(changes))
			return res, nil
		}
		if time.Now().Add(pause).After(deadline) || !sleepUntil(ctx, pause) {
			log.WarnContext(ctx, "delivery report arrived before its send was recorded, and the send was still unrecorded after waiting: not applied")
			note := fmt.Sprintf("%s: %s (arrived before the send was recorded; not applied)", r.Vendor, r.Detail)
			return res, s.NoteDelivery(context.WithoutCancel(ctx), r.MessageID, note)
		}
		pause = min(2*pause, 500*time.Millisecond)
	}
}

// afterDelivery does what a recorded report calls for besides the record:
// wake the senders for pages queued again, alert once per incident for
// required pages that failed for good.
func (e *Engine) afterDelivery(ctx context.Context, log *slog.Logger, r models.DeliveryReport, changes []models.DeliveryChange) {
	requeued := false
	alerted := map[int64]bool{}
	for _, c := range changes {
		m := c.Message
		mlog := log.With("page", m.ID, "mode", m.Mode)
		switch c.Result {
		case models.DeliveryRequeued:
			mlog.InfoContext(ctx, "page not delivered; sending it through the next vendor", "detail", r.Detail)
			requeued = true
		case models.DeliveryStopped:
			mlog.InfoContext(ctx, "page not delivered; its escalation was claimed or resolved, so it is not sent again", "detail", r.Detail)
		case models.DeliveryFailed:
			mlog.WarnContext(ctx, "page not delivered, and no vendor is left to try", "detail", r.Detail)
			if m.Optional || m.IncidentID == nil || alerted[*m.IncidentID] {
				continue
			}
			alerted[*m.IncidentID] = true
			inc, err := e.store.IncidentByID(ctx, *m.IncidentID)
			if err != nil {
				mlog.ErrorContext(ctx, "loading the incident of an undelivered page", "err", err)
				continue
			}
			reason := fmt.Sprintf("every %s vendor failed: %s reported %s", m.Mode, r.Vendor, r.Detail)
			e.alert(ctx, inc, fmt.Sprintf("🚨 Incident #%d: a %s page could not be delivered (%s). Reach them another way.", inc.Number, m.Mode, reason))
		}
	}
	if requeued {
		e.announce(ctx)
	}
}

// vendorNames lists each mode's vendors by name, in failover order.
func (e *Engine) vendorNames() map[string][]string {
	out := map[string][]string{}
	if e.vendors == nil {
		return out
	}
	for _, mode := range []Mode{ModeSlack, ModeEmail, ModeSMS, ModeCall} {
		for _, v := range e.vendors.For(mode) {
			out[string(mode)] = append(out[string(mode)], v.Name())
		}
	}
	return out
}

// sleepUntil waits d, or less when ctx ends first (then false).
func sleepUntil(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
