// Package notifications is Herald's paging side: the vendors that deliver a
// message to a person (console, Slack DM, SMS, voice, e-mail, webhook) and,
// built on them, the escalation engine.
package notifications

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
)

// Mode is how a message reaches a person.
type Mode string

const (
	ModeSlack Mode = "slack"
	ModeEmail Mode = "email"
	ModeSMS   Mode = "sms"
	ModeCall  Mode = "call"
)

// Message is one notification to one destination.
type Message struct {
	// ID is the stored message's id: the same for every attempt, so a
	// receiver can drop a resend (after a replica died mid-send).
	ID          int64
	Mode        Mode
	Destination string // Slack user id, e-mail address, phone number: never logged
	Subject     string
	Body        string
	// IncidentID is 0 for out-of-band messages.
	IncidentID int64
	ClaimCode  string
	// OutOfBand messages (close-the-loop notes, ad-hoc notices) carry no
	// claim buttons.
	OutOfBand bool
	// Sensitive messages carry a secret in Subject or Body (a verification
	// code): vendors deliver them but never log or keep their text.
	Sensitive bool
	// Batch is how many incidents a batched page (plan aggregation in an
	// alert storm) stands for; its ClaimCode claims them all. 0 for an
	// ordinary page.
	Batch int
}

// Vendor delivers messages in the modes it supports.
type Vendor interface {
	Name() string
	Modes() []Mode
	// Send delivers m and returns the vendor's id for it.
	Send(ctx context.Context, m Message) (vendorID string, err error)
}

// ErrNoVendor means no registered vendor handles a mode.
var ErrNoVendor = errors.New("no vendor for mode")

// Console "delivers" by logging, like Iris's dummy vendor: the embedded
// default, so a trial shows who would be paged without any account.
type Console struct{ Log *slog.Logger }

// Name implements Vendor.
func (Console) Name() string { return "console" }

// Modes implements Vendor.
func (Console) Modes() []Mode { return []Mode{ModeSlack, ModeEmail, ModeSMS, ModeCall} }

// Send implements Vendor. The destination is redacted: logs never hold
// phone numbers or addresses. A sensitive message's text is replaced by a
// note of where it would have gone, so a verification code never reaches
// the log.
func (c Console) Send(ctx context.Context, m Message) (string, error) {
	subject, body := m.Subject, m.Body
	if m.Sensitive {
		subject = "[redacted]"
		body = fmt.Sprintf("[redacted: a secret such as a verification code; it would go only to the %s destination %s]", m.Mode, redact(m.Destination))
	}
	c.Log.InfoContext(ctx, "CONSOLE VENDOR: would page", "mode", m.Mode, "destination", redact(m.Destination),
		"incident_id", m.IncidentID, "subject", subject, "body", body, "sensitive", m.Sensitive)
	return fmt.Sprintf("console-%d-%s", m.IncidentID, m.ClaimCode), nil
}

// redact keeps the last two characters of a destination, enough to tell
// two apart in a log without revealing either.
func redact(dest string) string {
	r := []rune(dest)
	if len(r) <= 4 {
		return "****"
	}
	return "****" + string(r[len(r)-2:])
}
