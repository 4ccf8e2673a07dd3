package notifications

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// DeadManHealth is whether this replica's engine is paging: both of its
// loops finished a pass recently and no due message has waited too long.
type DeadManHealth struct {
	Healthy  bool     `json:"healthy"`
	Problems []string `json:"problems,omitempty"`
	// EscalatedAt and SentAt are when this replica's escalator and sender
	// last finished a pass (absent: never).
	EscalatedAt *time.Time `json:"escalated_at,omitempty"`
	SentAt      *time.Time `json:"sent_at,omitempty"`
	// QueueLagSeconds is how long the oldest due message has waited (all
	// replicas).
	QueueLagSeconds float64 `json:"queue_lag_seconds"`
}

// Health checks the engine against MaxLag.
func (d *DeadMan) Health(ctx context.Context) (DeadManHealth, error) {
	now := d.clock.Now().UTC()
	var h DeadManHealth
	escalated, sent := d.engine.LastPasses()
	for _, loop := range []struct {
		name string
		at   time.Time
		out  **time.Time
	}{{"escalation loop", escalated, &h.EscalatedAt}, {"send loop", sent, &h.SentAt}} {
		if loop.at.IsZero() {
			h.Problems = append(h.Problems, loop.name+": has not finished a pass yet")
			continue
		}
		at := loop.at
		*loop.out = &at
		if age := now.Sub(at); age > d.cfg.MaxLag {
			h.Problems = append(h.Problems, fmt.Sprintf("%s: last finished a pass %s ago (more than %s)", loop.name, age.Round(time.Second), d.cfg.MaxLag))
		}
	}
	q, err := d.store.QueueStats(ctx)
	if err != nil {
		return h, err
	}
	lag := q.Lag(now)
	h.QueueLagSeconds = lag.Seconds()
	if lag > d.cfg.MaxLag {
		h.Problems = append(h.Problems, fmt.Sprintf("queue: the oldest due message has waited %s (more than %s)", lag.Round(time.Second), d.cfg.MaxLag))
	}
	h.Healthy = len(h.Problems) == 0
	return h, nil
}

// Ping fetches the ping URL if this replica's engine is healthy, and
// reports whether it did. An answer other than 2xx is an error; the URL is
// never part of one (it may hold a token).
func (d *DeadMan) Ping(ctx context.Context) (bool, error) {
	if d.cfg.PingURL == "" {
		return false, nil
	}
	h, err := d.Health(ctx)
	if err != nil || !h.Healthy {
		d.recordPing(DeadManPingSkipped)
		if err != nil {
			return false, fmt.Errorf("checking the engine before pinging: %w", err)
		}
		d.cfg.Log.WarnContext(ctx, "dead-man switch: engine unhealthy, not pinging", "problems", h.Problems)
		return false, nil
	}
	if err := d.ping(ctx); err != nil {
		d.recordPing(DeadManPingFailed)
		return false, err
	}
	d.recordPing(DeadManPingOK)
	return true, nil
}

func (d *DeadMan) ping(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.cfg.PingURL, nil)
	if err != nil {
		return errors.New("the ping URL is not a valid URL")
	}
	resp, err := d.cfg.HTTPClient.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its message repeats the URL
		}
		return fmt.Errorf("pinging: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("pinging: the ping URL answered HTTP %d", resp.StatusCode)
	}
	return nil
}

func (d *DeadMan) recordPing(outcome string) {
	d.mu.Lock()
	d.lastPing = pingRecord{at: d.clock.Now().UTC(), outcome: outcome}
	d.mu.Unlock()
	if d.cfg.Metrics != nil {
		d.cfg.Metrics.DeadManPing(outcome)
	}
}

// DeadManStatus is GET /api/v1/deadman's answer.
type DeadManStatus struct {
	Enabled  bool                   `json:"enabled"`
	SelfTest *DeadManSelfTestStatus `json:"self_test,omitempty"`
	Ping     *DeadManPingStatus     `json:"ping,omitempty"`
	Engine   *DeadManHealth         `json:"engine,omitempty"`
}

// DeadManSelfTestStatus describes the test pages.
type DeadManSelfTestStatus struct {
	Route    string `json:"route"` // role:target
	Mode     string `json:"mode,omitempty"`
	Schedule string `json:"schedule"`
	// LastSuccessAt is when a vendor last accepted a test page (all
	// replicas); absent: never.
	LastSuccessAt *time.Time        `json:"last_success_at,omitempty"`
	LastRun       *DeadManRunStatus `json:"last_run,omitempty"`
	NextRunAt     time.Time         `json:"next_run_at"`
}

// DeadManRunStatus is one test page's record.
type DeadManRunStatus struct {
	PeriodStart time.Time  `json:"period_start"`
	Outcome     string     `json:"outcome"`
	Detail      string     `json:"detail,omitempty"`
	SucceededAt *time.Time `json:"succeeded_at,omitempty"`
}

// DeadManPingStatus describes this replica's pings (the URL is not shown).
type DeadManPingStatus struct {
	IntervalSeconds float64    `json:"interval_seconds"`
	LastAt          *time.Time `json:"last_at,omitempty"`
	LastOutcome     string     `json:"last_outcome,omitempty"`
}

// Status reports the switch's configuration and what it last did.
func (d *DeadMan) Status(ctx context.Context) (DeadManStatus, error) {
	st := DeadManStatus{Enabled: d.Enabled()}
	if !st.Enabled {
		return st, nil
	}
	h, err := d.Health(ctx)
	if err != nil {
		return st, err
	}
	st.Engine = &h
	if d.cfg.PingURL != "" {
		d.mu.Lock()
		p := d.lastPing
		d.mu.Unlock()
		st.Ping = &DeadManPingStatus{IntervalSeconds: d.cfg.PingInterval.Seconds(), LastOutcome: p.outcome}
		if !p.at.IsZero() {
			st.Ping.LastAt = &p.at
		}
	}
	if d.sched == nil {
		return st, nil
	}
	sum, err := d.store.DeadManSummary(ctx)
	if err != nil {
		return st, err
	}
	now := d.clock.Now().UTC()
	st.SelfTest = &DeadManSelfTestStatus{Route: d.cfg.Role + ":" + d.cfg.Target, Mode: string(d.cfg.Mode), Schedule: d.cfg.Schedule,
		LastSuccessAt: sum.LastSuccess, NextRunAt: nextPeriod(d.sched, now)}
	if r := sum.Last; r != nil {
		st.SelfTest.LastRun = &DeadManRunStatus{PeriodStart: r.PeriodStart.UTC(), Outcome: r.Outcome, Detail: r.Detail, SucceededAt: r.SucceededAt}
	}
	return st, nil
}
