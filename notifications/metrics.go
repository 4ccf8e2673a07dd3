package notifications

import (
	"time"
)

// Metrics receives the engine's measurements. cmd/herald passes a
// Prometheus-backed implementation; EngineOptions.Metrics nil records
// nothing. Labels are bounded: modes, vendor names and fixed outcome
// words, never an incident or a person.
type Metrics interface {
	// PageAttempt is one try of a page: a vendor's answer (outcome
	// PageAccepted or PageFailed), or a page no vendor was tried for
	// (vendor "none", outcome PageNoDestination or PageNoVendor).
	PageAttempt(mode, vendor, outcome string)
	// FirstPageAccepted is the time from an escalation's start to the
	// first of its pages a vendor accepted, once per escalation.
	FirstPageAccepted(took time.Duration)
	// Acknowledged is the time from an escalation's start to its claim.
	Acknowledged(took time.Duration)
	// SendsTakenOver counts messages re-queued because their sender's
	// lease ran out mid-send (possible duplicates).
	SendsTakenOver(n int)
	// PagesHeld counts pages held back: reason HeldRateLimit (waiting for
	// the mode's next window) or HeldThrottled (dropped by the per-person
	// throttle).
	PagesHeld(mode, reason string, n int)
}

// Outcomes and reasons the engine reports to Metrics.
const (
	PageAccepted      = "accepted"
	PageFailed        = "failed"
	PageNoDestination = "no_destination"
	PageNoVendor      = "no_vendor"
	HeldRateLimit     = "rate_limit"
	HeldThrottled     = "throttled"
)

// noMetrics records nothing.
type noMetrics struct{}

func (noMetrics) PageAttempt(string, string, string) {}
func (noMetrics) FirstPageAccepted(time.Duration)    {}
func (noMetrics) Acknowledged(time.Duration)         {}
func (noMetrics) SendsTakenOver(int)                 {}
func (noMetrics) PagesHeld(string, string, int)      {}
