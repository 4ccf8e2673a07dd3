package models

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"
)

// Replicas compare their own clocks with times other replicas stored
// (next_check_at, step_started_at, lease_until, not_before). A replica
// whose clock runs two minutes fast would page two minutes early, and
// would take over the sends of a replica running slow as if it had died.
// SyncedClock puts every replica on one clock, the database's: it is the
// local clock plus the offset to the reference measured at each Sync.

// SyncedClock is a Clock corrected to a reference clock (the database's).
type SyncedClock struct {
	local  Clock
	ref    func(ctx context.Context) (time.Time, error)
	offset atomic.Int64 // nanoseconds to add to the local clock
}

// NewSyncedClock returns local corrected to ref, measured once now.
func NewSyncedClock(ctx context.Context, local Clock, ref func(ctx context.Context) (time.Time, error)) (*SyncedClock, error) {
	c := &SyncedClock{local: local, ref: ref}
	if err := c.Sync(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// Now is the local time corrected by the last measured offset.
func (c *SyncedClock) Now() time.Time {
	return c.local.Now().Add(time.Duration(c.offset.Load()))
}

// Offset is how far the reference is ahead of the local clock.
func (c *SyncedClock) Offset() time.Duration { return time.Duration(c.offset.Load()) }

// Sync measures the offset again: the reference read against the middle
// of the local interval around the read, so the round trip cancels out.
func (c *SyncedClock) Sync(ctx context.Context) error {
	before := c.local.Now()
	ref, err := c.ref(ctx)
	if err != nil {
		return fmt.Errorf("reading the reference clock: %w", err)
	}
	after := c.local.Now()
	mid := before.Add(after.Sub(before) / 2)
	c.offset.Store(int64(ref.Sub(mid)))
	return nil
}

// Run syncs every interval until ctx ends; a failed read keeps the last
// offset (clocks drift slowly).
func (c *SyncedClock) Run(ctx context.Context, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := c.Sync(ctx); err != nil && ctx.Err() == nil {
				log.WarnContext(ctx, "syncing with the database clock; keeping the last offset", "err", err, "offset", c.Offset())
			}
		}
	}
}

// DatabaseNow reads the database server's clock (PostgreSQL's
// clock_timestamp(), the real time rather than the transaction's start).
// SQLite has no server: it is this process's clock.
func (s *Store) DatabaseNow(ctx context.Context) (time.Time, error) {
	if s.Dialect() != DialectPostgres {
		return time.Now().UTC(), nil
	}
	var t time.Time
	if err := s.db.WithContext(ctx).Raw(`SELECT clock_timestamp()`).Row().Scan(&t); err != nil {
		return time.Time{}, fmt.Errorf("reading the database clock: %w", err)
	}
	return t.UTC(), nil
}
