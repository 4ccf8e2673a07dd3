package bot

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the bot's Prometheus series, registered on a registry the
// caller owns (no global default registry). A nil *Metrics records nothing.
type Metrics struct {
	requests        *prometheus.CounterVec
	ackSeconds      *prometheus.HistogramVec
	duplicateEvents prometheus.Counter
	jobs            *prometheus.CounterVec
	jobSeconds      *prometheus.HistogramVec
	jobLag          prometheus.Histogram
}

// NewMetrics registers the bot's series on reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_slack_requests_total", Help: "Slack requests received, by endpoint and outcome.",
		}, []string{"endpoint", "outcome"}),
		ackSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "herald_slack_ack_seconds", Help: "Time from receiving a Slack request to answering it.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"endpoint"}),
		duplicateEvents: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "herald_slack_duplicate_events_total", Help: "Slack event deliveries ignored because the event was already received.",
		}),
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_jobs_total", Help: "Background jobs run, by kind and outcome (done, retry, failed).",
		}, []string{"kind", "outcome"}),
		jobSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "herald_job_seconds", Help: "Time spent running a background job.",
			Buckets: prometheus.DefBuckets,
		}, []string{"kind"}),
		jobLag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "herald_job_lag_seconds", Help: "Time from a job being due to it starting.",
			Buckets: []float64{.001, .005, .01, .05, .1, .5, 1, 5, 30},
		}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.ackSeconds, m.duplicateEvents, m.jobs, m.jobSeconds, m.jobLag} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Request records one Slack request and how long its answer took.
func (m *Metrics) Request(endpoint, outcome string, took time.Duration) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(endpoint, outcome).Inc()
	m.ackSeconds.WithLabelValues(endpoint).Observe(took.Seconds())
}

func (m *Metrics) duplicateEvent() {
	if m != nil {
		m.duplicateEvents.Inc()
	}
}

func (m *Metrics) job(kind, outcome string, took, lag time.Duration) {
	if m == nil {
		return
	}
	m.jobs.WithLabelValues(kind, outcome).Inc()
	m.jobSeconds.WithLabelValues(kind).Observe(took.Seconds())
	m.jobLag.Observe(lag.Seconds())
}
