package models

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Delivery reports: after a vendor accepted a page (status sent), it may
// say later whether the page reached its person. A failure sends the page
// again through the next vendor of its mode; the vendors that failed a
// message are kept in messages.failed_vendors so it never goes back to one
// of them.

// DeliveryReport is a vendor's final word on one send.
type DeliveryReport struct {
	// MessageID is the stored message, which Herald puts in the callback
	// URL it gives the vendor; 0 finds the message by Vendor and VendorID
	// instead (sends made before the URL carried the id).
	MessageID int64
	Vendor    string // the vendor reporting, e.g. twilio-sms
	VendorID  string // the vendor's id of the send it reports on
	Failed    bool   // false: delivered
	Detail    string // what the vendor said, for the change log
}

// DeliveryResult is what recording a delivery report did.
type DeliveryResult string

const (
	// DeliveryUnknown: no such message.
	DeliveryUnknown DeliveryResult = "unknown"
	// DeliveryEarly: the report arrived before the send was recorded
	// (the message is still sending); nothing changed, try again shortly.
	DeliveryEarly DeliveryResult = "early"
	// DeliveryIgnored: a repeated report, or one about an earlier send of
	// the message; nothing changed.
	DeliveryIgnored DeliveryResult = "ignored"
	// DeliveryDelivered: the message is delivered.
	DeliveryDelivered DeliveryResult = "delivered"
	// DeliveryRequeued: the message failed and is queued again for the
	// next vendor of its mode.
	DeliveryRequeued DeliveryResult = "requeued"
	// DeliveryFailed: the message failed and no vendor of its mode is
	// left to try.
	DeliveryFailed DeliveryResult = "failed"
	// DeliveryStopped: the message failed, and its escalation was claimed
	// or resolved meanwhile, so it is not sent again.
	DeliveryStopped DeliveryResult = "stopped"
)

// DeliveryChange is what a delivery report did to one message.
type DeliveryChange struct {
	Message Message // as it was before the report
	Result  DeliveryResult
}

// RecordDelivery applies a delivery report, in one transaction, to the
// send it is about: the message it names and any page batched with it
// (sent together, so under the same vendor id). A message changes only
// while it is "sent" by the reporting vendor under the reported id:
// reports repeat and arrive out of order, and the first final one wins.
//
// vendors lists the vendors of each mode in failover order. On a failure
// the vendor joins the message's failed vendors, and the message is queued
// again (with a fresh retry budget) for the next vendor that has not
// failed it, or, when none is left, or the same vendor failed it before,
// fails for good. A message whose escalation was claimed or resolved is
// failed without being sent again. Every change is logged in the
// message's change log.
//
// It returns what happened to the named message, and the messages that
// changed.
func (s *Store) RecordDelivery(ctx context.Context, r DeliveryReport, vendors map[string][]string) (DeliveryResult, []DeliveryChange, error) {
	if r.Vendor == "" || r.VendorID == "" {
		return DeliveryUnknown, nil, fmt.Errorf("a delivery report needs a vendor and the vendor's id (got %q, %q)", r.Vendor, r.VendorID)
	}
	var (
		res     DeliveryResult
		changes []DeliveryChange
	)
	err := s.InTx(ctx, func(tx *Store) error {
		res, changes = DeliveryUnknown, nil
		var found []Message
		q := tx.db.WithContext(ctx)
		if r.MessageID != 0 {
			q = q.Where("id = ?", r.MessageID)
		} else {
			q = q.Where("vendor = ? AND vendor_id = ?", r.Vendor, r.VendorID).Order("id DESC")
		}
		if err := q.Limit(1).Find(&found).Error; err != nil {
			return fmt.Errorf("finding the message of a delivery report: %w", err)
		}
		if len(found) == 0 {
			return nil
		}
		m := found[0]
		switch {
		case m.Status == MessageSending && m.VendorID != r.VendorID:
			res = DeliveryEarly
			return nil
		case m.Status == MessageSent && m.Vendor == r.Vendor && m.VendorID == r.VendorID:
		default:
			res = DeliveryIgnored
			if m.VendorID != r.VendorID {
				// Worth keeping: an earlier send of a page that was sent
				// again may have reached its person after all.
				return tx.logChange(ctx, m.ID, m.Status, m.Status, fmt.Sprintf("%s (about an earlier send, %s %s; nothing changed)", r.Detail, r.Vendor, r.VendorID))
			}
			return nil
		}
		var sends []Message
		if err := tx.db.WithContext(ctx).Where("vendor = ? AND vendor_id = ? AND status = ?", r.Vendor, r.VendorID, MessageSent).
			Order("id").Find(&sends).Error; err != nil {
			return fmt.Errorf("finding the pages of a delivery report: %w", err)
		}
		res = DeliveryIgnored
		for i := range sends {
			x := &sends[i]
			var (
				got DeliveryResult
				err error
			)
			if r.Failed {
				got, err = tx.failDelivery(ctx, x, r, vendors)
			} else {
				got, err = tx.markDelivered(ctx, x, r)
			}
			if err != nil {
				return err
			}
			if x.ID == m.ID {
				res = got
			}
			if got != DeliveryIgnored {
				changes = append(changes, DeliveryChange{Message: *x, Result: got})
			}
		}
		return nil
	})
	if err != nil {
		return DeliveryUnknown, nil, err
	}
	return res, changes, nil
}

// sentBy is the compare-and-set condition of a report's change: the
// message is still the send the report is about.
func (s *Store) sentBy(ctx context.Context, m *Message, r DeliveryReport) *gorm.DB {
	return s.db.WithContext(ctx).Model(&Message{}).
		Where("id = ? AND status = ? AND vendor = ? AND vendor_id = ?", m.ID, MessageSent, r.Vendor, r.VendorID)
}

func (s *Store) markDelivered(ctx context.Context, m *Message, r DeliveryReport) (DeliveryResult, error) {
	res := s.sentBy(ctx, m, r).Updates(map[string]any{"status": MessageDelivered, "delivered_at": s.clock.Now().UTC()})
	if res.Error != nil {
		return DeliveryUnknown, fmt.Errorf("recording delivery of message %d: %w", m.ID, res.Error)
	}
	if res.RowsAffected == 0 {
		return DeliveryIgnored, nil
	}
	return DeliveryDelivered, s.logChange(ctx, m.ID, MessageSent, MessageDelivered, r.Detail)
}

func (s *Store) failDelivery(ctx context.Context, m *Message, r DeliveryReport, vendors map[string][]string) (DeliveryResult, error) {
	state := ""
	if m.EscalationID != nil {
		// Locked against a concurrent StopEscalation, as FinishMessage
		// does: either it sees this page queued again (and suppresses
		// it), or this sees its new state.
		q := s.db.WithContext(ctx).Model(&Escalation{}).Where("id = ?", *m.EscalationID)
		if s.Dialect() == DialectPostgres {
			q = q.Clauses(clause.Locking{Strength: "SHARE"})
		}
		var states []string
		if err := q.Pluck("state", &states).Error; err != nil {
			return DeliveryUnknown, fmt.Errorf("reading escalation of message %d: %w", m.ID, err)
		}
		if len(states) == 1 {
			state = states[0]
		}
	}
	stored, before, err := s.failedVendors(ctx, m.ID)
	if err != nil {
		return DeliveryUnknown, err
	}
	failed := before
	again := slices.Contains(before, r.Vendor)
	if !again {
		failed = append(slices.Clone(before), r.Vendor)
	}
	next := ""
	if !again {
		for _, v := range vendors[m.Mode] {
			if !slices.Contains(failed, v) {
				next = v
				break
			}
		}
	}
	encoded, err := encodeVendors(failed)
	if err != nil {
		return DeliveryUnknown, err
	}
	detail := r.Vendor + ": " + r.Detail
	updates := map[string]any{"failed_vendors": encoded, "error": truncate(detail, 2000)}
	var (
		result DeliveryResult
		to     = MessageFailed
	)
	switch {
	case state == EscalationClaimed || state == EscalationResolved:
		result, detail = DeliveryStopped, detail+"; escalation "+state+", not sent again"
	case next != "":
		// A fresh retry budget: the next vendor gets the retries a new
		// page gets. Requeues are bounded by the mode's vendors.
		result, to, detail = DeliveryRequeued, MessageQueued, detail+"; trying "+next
		updates["not_before"], updates["attempts"] = s.clock.Now().UTC(), 0
	case again:
		result, detail = DeliveryFailed, detail+"; it had failed this page before, so it is not tried again"
	default:
		result, detail = DeliveryFailed, fmt.Sprintf("%s; no other %s vendor to try", detail, m.Mode)
	}
	updates["status"] = to
	res := s.sentBy(ctx, m, r).Where("failed_vendors = ?", stored).Updates(updates)
	if res.Error != nil {
		return DeliveryUnknown, fmt.Errorf("recording delivery failure of message %d: %w", m.ID, res.Error)
	}
	if res.RowsAffected == 0 {
		return DeliveryIgnored, nil
	}
	return result, s.logChange(ctx, m.ID, MessageSent, to, detail)
}

// FailedVendors lists the vendors whose delivery reports said they failed
// to deliver a message, oldest first.
// An unknown message has none.
func (s *Store) FailedVendors(ctx context.Context, messageID int64) ([]string, error) {
	_, vs, err := s.failedVendors(ctx, messageID)
	return vs, err
}

// failedVendors reads a message's failed vendors, and the column as stored.
func (s *Store) failedVendors(ctx context.Context, messageID int64) (string, []string, error) {
	var raw []string
	if err := s.db.WithContext(ctx).Model(&Message{}).Where("id = ?", messageID).Pluck("failed_vendors", &raw).Error; err != nil {
		return "", nil, fmt.Errorf("reading failed vendors of message %d: %w", messageID, err)
	}
	if len(raw) == 0 || raw[0] == "" {
		return "", nil, nil
	}
	var out []string
	if err := json.Unmarshal([]byte(raw[0]), &out); err != nil {
		return "", nil, fmt.Errorf("failed vendors of message %d: %w", messageID, err)
	}
	return raw[0], out, nil
}

// NoteDelivery adds a line to a message's change log without changing the
// message: a report that could not be applied is not lost without trace.
func (s *Store) NoteDelivery(ctx context.Context, messageID int64, detail string) error {
	var statuses []string
	if err := s.db.WithContext(ctx).Model(&Message{}).Where("id = ?", messageID).Pluck("status", &statuses).Error; err != nil {
		return fmt.Errorf("reading message %d: %w", messageID, err)
	}
	if len(statuses) == 0 {
		return fmt.Errorf("message %d: %w", messageID, gorm.ErrRecordNotFound)
	}
	return s.logChange(ctx, messageID, statuses[0], statuses[0], detail)
}

// FailedVendorList decodes a message's FailedVendors; an unreadable value
// is an empty list (a page twice beats a page never).
func (m *Message) FailedVendorList() []string {
	if m.FailedVendors == "" {
		return nil
	}
	var out []string
	if err := json.Unmarshal([]byte(m.FailedVendors), &out); err != nil {
		return nil
	}
	return out
}

// encodeVendors is the failed_vendors value of a list: a JSON array, since
// a vendor's name may hold any character.
func encodeVendors(vs []string) (string, error) {
	if len(vs) == 0 {
		return "", nil
	}
	b, err := json.Marshal(vs)
	if err != nil {
		return "", fmt.Errorf("encoding failed vendors: %w", err)
	}
	return string(b), nil
}
