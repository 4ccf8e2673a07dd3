package notifications

import (
	"context"
	"time"

	"github.com/heraldhq/herald/models"
)

// SentChecker is implemented by vendors that can say whether they already
// accepted a message. The sender asks before re-sending a message taken
// over from a sender that stopped mid-send (models.Message.TakenOver):
// that sender may have handed it to the vendor before it died, and a
// person paged twice for one page learns to ignore pages.
type SentChecker interface {
	// FindSent looks for m among what the vendor accepted since since and
	// returns the vendor's id for it. found is false when the vendor has
	// no such message; an error means the vendor could not be asked.
	FindSent(ctx context.Context, m Message, since time.Time) (vendorID string, found bool, err error)
}

// takeoverLookback widens the window searched before the message was
// created, for clock skew between Herald and the vendor.
const takeoverLookback = time.Minute

// alreadySent asks v, if it can tell, whether it already accepted out,
// the taken-over message m. Only a positive answer stops a send: when the
// vendor cannot be asked, the page goes out again (at least once beats at
// most once for a page).
func (e *Engine) alreadySent(ctx context.Context, v Vendor, m *models.Message, out Message) (vendorID string, found bool) {
	checker, ok := v.(SentChecker)
	if !ok || !m.TakenOver {
		return "", false
	}
	id, found, err := checker.FindSent(ctx, out, m.CreatedAt.Add(-takeoverLookback))
	log := e.log.With("message", m.ID, "mode", m.Mode, "vendor", v.Name())
	switch {
	case err != nil:
		// err names no destination: vendors keep phone numbers and
		// addresses out of their errors.
		log.WarnContext(ctx, "could not ask the vendor whether a taken-over page was already sent; sending it again", "err", err)
		return "", false
	case found:
		log.InfoContext(ctx, "taken-over page was already accepted by the vendor; not sent again", "vendor_id", id)
		return id, true
	}
	return "", false
}

// alreadySentOutcome records a taken-over page the vendor already had as
// sent by it.
func alreadySentOutcome(vendor, vendorID string) models.MessageOutcome {
	return models.MessageOutcome{Status: models.MessageSent, Vendor: vendor, VendorID: vendorID,
		Detail: "already accepted by " + vendor + " before the takeover; not sent again"}
}
