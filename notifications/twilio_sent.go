package notifications

import (
	"context"
	"fmt"
	"strings"
	"time"

	twapi "github.com/twilio/twilio-go/rest/api/v2010"
)

// twilioSentLookup bounds how many of the destination's recent messages
// FindSent reads: a page taken over is minutes old, so it is among the
// last few sent to that number.
const twilioSentLookup = 50

// FindSent implements SentChecker for SMS: it lists the latest messages
// to m's destination created since since and looks for the one that carries m's
// claim code (every built-in SMS text includes it, and claim codes are
// drawn per message) or, failing that, exactly m's text. A message Twilio
// reports failed, undelivered or canceled does not count: the page is
// sent again.
//
// Calls are deliberately not looked up (found is always false, with no
// API call): Twilio keeps no text for a call, and calls to one number
// within minutes cannot be told apart, so a taken-over call is placed
// again.
func (t *Twilio) FindSent(ctx context.Context, m Message, since time.Time) (string, bool, error) {
	if t.mode != ModeSMS {
		return "", false, nil
	}
	if strings.TrimSpace(m.Destination) == "" {
		return "", false, fmt.Errorf("%s: %w: empty phone number", t.name, ErrNoDestination)
	}
	svc, tr := t.service(ctx)
	p := &twapi.ListMessageParams{}
	// By number only, newest first: a text Twilio accepted but has not sent
	// yet has no date_sent, so a DateSent filter would miss exactly the
	// pages a dead replica handed over last. Age is checked on date_created.
	p.SetTo(m.Destination).SetPageSize(twilioSentLookup).SetLimit(twilioSentLookup)
	sent, err := svc.ListMessage(p)
	if err != nil {
		return "", false, t.explain(ctx, tr, err)
	}
	text := truncate(smsText(m), maxSMSBody)
	for _, s := range sent {
		body, sid := deref(s.Body), deref(s.Sid)
		if sid == "" || twilioUndelivered(deref(s.Status)) {
			continue
		}
		if created, err := time.Parse(time.RFC1123Z, deref(s.DateCreated)); err == nil && created.Before(since) {
			continue // older than the page: another page's text
		}
		if body == text || (m.ClaimCode != "" && strings.Contains(body, m.ClaimCode)) {
			return sid, true, nil
		}
	}
	return "", false, nil
}

// twilioUndelivered reports a message status that means the person never
// got the text.
func twilioUndelivered(status string) bool {
	return status == "failed" || status == "undelivered" || status == "canceled"
}
