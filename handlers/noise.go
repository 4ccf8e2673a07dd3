package handlers

import (
	"context"
	"log/slog"
	"time"
)

// LeaseTaker hands cluster-wide periodic work to one replica at a time;
// *models.Store implements it.
type LeaseTaker interface {
	TakePeriodicLease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error)
}

// NoiseCheckInterval is how often the noise checks run: when maintenance
// windows start (cancel_pending) and which heartbeats are late.
const NoiseCheckInterval = 30 * time.Second

// noiseLease names the lease of the noise checks.
const noiseLease = "noise-control"

// NoiseControl runs the periodic noise checks on the one replica holding
// their lease. The lease outlives two intervals, so a replica that dies
// hands the work over within a minute, and the holder renews it each
// tick. The checks are idempotent anyway (a window occurrence is swept
// once, a missed heartbeat's incident has a dedup key): the lease saves
// work, it does not guard correctness.
type NoiseControl struct {
	Maintenance *Maintenance
	Heartbeats  *Heartbeats
	Leases      LeaseTaker
	Owner       string
	Log         *slog.Logger
}

// Tick runs the checks once if this replica holds (or takes) the lease.
// It reports whether it ran them.
func (n *NoiseControl) Tick(ctx context.Context) (bool, error) {
	ok, err := n.Leases.TakePeriodicLease(ctx, noiseLease, n.Owner, 2*NoiseCheckInterval)
	if err != nil || !ok {
		return false, err
	}
	if n.Maintenance != nil {
		if stopped, err := n.Maintenance.CancelPending(ctx); err != nil {
			n.Log.ErrorContext(ctx, "maintenance windows: stopping escalations", "err", err)
		} else if stopped > 0 {
			n.Log.InfoContext(ctx, "maintenance windows stopped escalations", "count", stopped)
		}
	}
	if n.Heartbeats != nil {
		if opened, err := n.Heartbeats.CheckDue(ctx); err != nil {
			n.Log.ErrorContext(ctx, "heartbeat monitors", "err", err)
		} else if opened > 0 {
			n.Log.InfoContext(ctx, "missed heartbeats opened incidents", "count", opened)
		}
	}
	return true, nil
}

// Run ticks every NoiseCheckInterval until ctx ends.
func (n *NoiseControl) Run(ctx context.Context) {
	t := time.NewTicker(NoiseCheckInterval)
	defer t.Stop()
	for {
		if _, err := n.Tick(ctx); err != nil && ctx.Err() == nil {
			n.Log.WarnContext(ctx, "noise checks: taking the lease", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
