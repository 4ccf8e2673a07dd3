package observability

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/heraldhq/herald/models"
)

// Stats are the database reads behind the scrape-time gauges;
// *models.Store implements it.
type Stats interface {
	IncidentCountsByStatus(ctx context.Context) (map[models.Status]int64, error)
	QueueStats(ctx context.Context) (models.QueueStats, error)
	LastDeadManSuccess(ctx context.Context) (*time.Time, error)
}

// EnginePasses reports when this replica's engine loops last finished a
// pass; *notifications.Engine implements it.
type EnginePasses interface {
	LastPasses() (escalated, sent time.Time)
}

// Defaults of StatsOptions.
const (
	DefaultStatsTTL     = 5 * time.Second
	DefaultStatsTimeout = 2 * time.Second
)

// StatsOptions configures the scrape-time gauges.
type StatsOptions struct {
	Stats  Stats
	Engine EnginePasses // nil: no loop gauges
	// DeadMan reports the dead-man switch's last success (only when its
	// test pages are on: a switch that is off has no last success).
	DeadMan bool
	Clock   models.Clock
	// TTL is how long one set of reads answers scrapes (default 5 s), so
	// however many scrapers there are, the database sees one set per TTL.
	TTL time.Duration
	// Timeout bounds one set of reads (default 2 s).
	Timeout time.Duration
	Log     *slog.Logger
}

// RegisterStats registers the gauges read at scrape time: incidents by
// status, the engine's queue depth and lag, its loops' last passes and the
// dead-man switch's last success.
func RegisterStats(reg prometheus.Registerer, o StatsOptions) error {
	if o.TTL <= 0 {
		o.TTL = DefaultStatsTTL
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultStatsTimeout
	}
	if o.Clock == nil {
		o.Clock = models.SystemClock{}
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	c := &statsCollector{o: o,
		incidents: prometheus.NewDesc("herald_incidents", "Incidents by status (all replicas; read from the database, cached a few seconds).", []string{"status"}, nil),
		depth:     prometheus.NewDesc("herald_engine_queue_depth", "Messages due and not sent (all replicas).", nil, nil),
		lag:       prometheus.NewDesc("herald_engine_queue_lag_seconds", "Age of the oldest message due and not sent (0 when none).", nil, nil),
		passes:    prometheus.NewDesc("herald_engine_last_pass_timestamp_seconds", "When this replica's engine loop (escalate, send) last finished a pass.", []string{"loop"}, nil),
		deadMan:   prometheus.NewDesc("herald_deadman_last_success_timestamp_seconds", "When a vendor last accepted a dead-man test page (0: never).", nil, nil),
		errors:    prometheus.NewDesc("herald_stats_refresh_errors_total", "Failed database reads behind the scrape-time gauges (their gauges are left out of that scrape).", nil, nil),
	}
	return reg.Register(c)
}

type statsCollector struct {
	o StatsOptions

	incidents, depth, lag, passes, deadMan, errors *prometheus.Desc

	mu     sync.Mutex // held across a refresh: concurrent scrapes wait for one set of reads
	at     time.Time
	snap   statsSnapshot
	failed float64 // reads failed so far (a counter this collector reports itself, so a scrape shows its own failure)
}

// statsSnapshot is one set of reads; a failed read leaves its ok false.
type statsSnapshot struct {
	incidents   map[models.Status]int64
	incidentsOK bool
	queue       models.QueueStats
	lag         time.Duration
	queueOK     bool
	lastSuccess *time.Time
	deadManOK   bool
}

func (c *statsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.incidents
	ch <- c.depth
	ch <- c.lag
	ch <- c.passes
	ch <- c.deadMan
	ch <- c.errors
}

func (c *statsCollector) Collect(ch chan<- prometheus.Metric) {
	s, failed := c.snapshot()
	ch <- prometheus.MustNewConstMetric(c.errors, prometheus.CounterValue, failed)
	if s.incidentsOK {
		for _, st := range models.Statuses {
			ch <- prometheus.MustNewConstMetric(c.incidents, prometheus.GaugeValue, float64(s.incidents[st]), string(st))
		}
	}
	if s.queueOK {
		ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, float64(s.queue.Due))
		ch <- prometheus.MustNewConstMetric(c.lag, prometheus.GaugeValue, s.lag.Seconds())
	}
	if c.o.Engine != nil {
		escalated, sent := c.o.Engine.LastPasses()
		ch <- prometheus.MustNewConstMetric(c.passes, prometheus.GaugeValue, unixSeconds(escalated), "escalate")
		ch <- prometheus.MustNewConstMetric(c.passes, prometheus.GaugeValue, unixSeconds(sent), "send")
	}
	if c.o.DeadMan && s.deadManOK {
		var at float64
		if s.lastSuccess != nil {
			at = unixSeconds(*s.lastSuccess)
		}
		ch <- prometheus.MustNewConstMetric(c.deadMan, prometheus.GaugeValue, at)
	}
}

func unixSeconds(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixNano()) / 1e9
}

// snapshot returns the cached reads, refreshing them once TTL has passed,
// and the failed reads so far. A failed read is cached too, so a sick
// database is not hammered.
func (c *statsCollector) snapshot() (statsSnapshot, float64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.o.Clock.Now()
	if !c.at.IsZero() && now.Sub(c.at) < c.o.TTL {
		return c.snap, c.failed
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.o.Timeout)
	defer cancel()
	var s statsSnapshot
	var err error
	if s.incidents, err = c.o.Stats.IncidentCountsByStatus(ctx); err == nil {
		s.incidentsOK = true
	} else {
		c.readFailed(ctx, "incidents by status", err)
	}
	if s.queue, err = c.o.Stats.QueueStats(ctx); err == nil {
		s.queueOK, s.lag = true, s.queue.Lag(now)
	} else {
		c.readFailed(ctx, "engine queue", err)
	}
	if c.o.DeadMan {
		if s.lastSuccess, err = c.o.Stats.LastDeadManSuccess(ctx); err == nil {
			s.deadManOK = true
		} else {
			c.readFailed(ctx, "dead-man last success", err)
		}
	}
	c.at, c.snap = now, s
	return s, c.failed
}

// readFailed logs and counts a failed read (c.mu held).
func (c *statsCollector) readFailed(ctx context.Context, what string, err error) {
	c.o.Log.WarnContext(ctx, "metrics: reading "+what+" failed; left out of this scrape", "err", err)
	c.failed++
}
