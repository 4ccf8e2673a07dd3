// Package observability is Herald's Prometheus instrumentation: the
// engine's, the dead-man switch's and the outside APIs' series, and the
// gauges read from the database when Prometheus scrapes. The packages it
// measures see only small interfaces (notifications.Metrics,
// apimetrics.Observer, bot.APIObserver…); cmd/herald builds this
// implementation on the registry it owns. Labels are bounded: modes,
// vendor and API method names, fixed outcome words.
package observability

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics records the engine's, the dead-man switch's and the outside
// APIs' measurements. A nil *Metrics records nothing.
type Metrics struct {
	pages        *prometheus.CounterVec
	firstPage    prometheus.Histogram
	ack          prometheus.Histogram
	takeovers    prometheus.Counter
	held         *prometheus.CounterVec
	api          *prometheus.HistogramVec
	deadManPings *prometheus.CounterVec
	deadManRuns  *prometheus.CounterVec
}

// New registers Herald's series on reg.
func New(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		pages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_pages_total",
			Help: "Page attempts by mode, vendor and outcome (accepted, failed; vendor none: no_destination, no_vendor).",
		}, []string{"mode", "vendor", "outcome"}),
		firstPage: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "herald_page_first_accepted_seconds",
			Help:    "Time from an escalation's start (the incident's creation, for an alert) to the first of its pages a vendor accepted.",
			Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300},
		}),
		ack: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "herald_incident_ack_seconds",
			Help:    "Time from an escalation's start to its claim (acknowledgement).",
			Buckets: []float64{15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400},
		}),
		takeovers: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "herald_send_takeovers_total",
			Help: "Messages re-queued because their sender's lease ran out mid-send (possible duplicates).",
		}),
		held: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_pages_held_total",
			Help: "Pages held back, by mode and reason (rate_limit: waiting for the next window; throttled: dropped by HERALD_THROTTLE).",
		}, []string{"mode", "reason"}),
		api: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "herald_api_request_seconds",
			Help:    "Calls to outside APIs (slack, twilio) by method and outcome.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"api", "method", "outcome"}),
		deadManPings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_deadman_pings_total",
			Help: "Dead-man heartbeat pings by outcome (ok, failed, skipped_unhealthy).",
		}, []string{"outcome"}),
		deadManRuns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_deadman_runs_total",
			Help: "Dead-man test pages by outcome (succeeded, failed).",
		}, []string{"outcome"}),
	}
	for _, c := range []prometheus.Collector{m.pages, m.firstPage, m.ack, m.takeovers, m.held, m.api, m.deadManPings, m.deadManRuns} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// PageAttempt implements notifications.Metrics.
func (m *Metrics) PageAttempt(mode, vendor, outcome string) {
	if m != nil {
		m.pages.WithLabelValues(mode, vendor, outcome).Inc()
	}
}

// FirstPageAccepted implements notifications.Metrics.
func (m *Metrics) FirstPageAccepted(took time.Duration) {
	if m != nil {
		m.firstPage.Observe(took.Seconds())
	}
}

// Acknowledged implements notifications.Metrics.
func (m *Metrics) Acknowledged(took time.Duration) {
	if m != nil {
		m.ack.Observe(took.Seconds())
	}
}

// SendsTakenOver implements notifications.Metrics.
func (m *Metrics) SendsTakenOver(n int) {
	if m != nil {
		m.takeovers.Add(float64(n))
	}
}

// PagesHeld implements notifications.Metrics.
func (m *Metrics) PagesHeld(mode, reason string, n int) {
	if m != nil {
		m.held.WithLabelValues(mode, reason).Add(float64(n))
	}
}

// ObserveAPICall implements apimetrics.Observer (bot.APIObserver).
func (m *Metrics) ObserveAPICall(api, method, outcome string, took time.Duration) {
	if m != nil {
		m.api.WithLabelValues(api, method, outcome).Observe(took.Seconds())
	}
}

// DeadManPing implements notifications.DeadManMetrics.
func (m *Metrics) DeadManPing(outcome string) {
	if m != nil {
		m.deadManPings.WithLabelValues(outcome).Inc()
	}
}

// DeadManRun implements notifications.DeadManMetrics.
func (m *Metrics) DeadManRun(outcome string) {
	if m != nil {
		m.deadManRuns.WithLabelValues(outcome).Inc()
	}
}
