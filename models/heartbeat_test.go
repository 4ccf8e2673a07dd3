package models_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/fakeclock"
	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/models"
)

// TestHeartbeatStore: a monitor is late an interval after it was set up or
// last checked in; marking it missed is once per outage and refused after
// a check-in; a check-in clears it and returns the monitor as it was.
func TestHeartbeatStore(t *testing.T) {
	ctx := context.Background()
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			clock := fakeclock.New(t0)
			db := testdb.New(t, d, clock)
			svc := noiseService(t, db, "checkout")
			in := newIntegration(t, db, "prometheus")
			hb := &models.Heartbeat{IntegrationID: in.ID, ServiceID: svc.ID, IntervalSeconds: 300, Severity: models.SEV2, CreatedAt: t0, UpdatedAt: t0}
			if err := db.Gorm.Create(hb).Error; err != nil {
				t.Fatal(err)
			}
			missed := func() int {
				t.Helper()
				m, err := db.Store.MissedHeartbeats(ctx, clock.Now())
				if err != nil {
					t.Fatal(err)
				}
				if len(m) == 1 && (m[0].IntegrationName != "prometheus" || m[0].ServiceName != "checkout") {
					t.Errorf("missed = %+v", m[0])
				}
				return len(m)
			}
			mark := func() bool {
				t.Helper()
				late, err := db.Store.MarkHeartbeatMissed(ctx, in.ID, svc.ID, clock.Now())
				if err != nil {
					t.Fatal(err)
				}
				return late
			}
			clock.Advance(5*time.Minute - time.Second)
			if n := missed(); n != 0 || mark() {
				t.Fatalf("late a second early: %d", n)
			}
			clock.Advance(time.Second)
			if n := missed(); n != 1 || !mark() {
				t.Fatalf("not late after the interval: %d", n)
			}
			// Marked: no longer listed, and marking again still says late.
			clock.Advance(time.Minute)
			if n := missed(); n != 0 || !mark() {
				t.Fatalf("after marking: %d", n)
			}

			before, err := db.Store.CheckInHeartbeats(ctx, in.ID, "")
			if err != nil || len(before) != 1 || before[0].MissedAt == nil {
				t.Fatalf("CheckInHeartbeats = %+v, %v", before, err)
			}
			if n := missed(); n != 0 || mark() {
				t.Fatalf("late right after a check-in: %d", n)
			}
			clock.Advance(5 * time.Minute)
			if n := missed(); n != 1 {
				t.Fatalf("not late an interval after the check-in: %d", n)
			}
			if _, err := db.Store.CheckInHeartbeats(ctx, in.ID, svc.ID); err != nil {
				t.Fatal(err)
			}
			other := newIntegration(t, db, "nagios")
			if _, err := db.Store.CheckInHeartbeats(ctx, other.ID, ""); !errors.Is(err, models.ErrNoHeartbeat) {
				t.Errorf("check-in without a monitor: %v", err)
			}
		})
	}
}

// TestPeriodicLease: one owner at a time; the holder renews; another takes
// over once the lease has run out.
func TestPeriodicLease(t *testing.T) {
	ctx := context.Background()
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			clock := fakeclock.New(t0)
			db := testdb.New(t, d, clock)
			take := func(owner string) bool {
				t.Helper()
				ok, err := db.Store.TakePeriodicLease(ctx, "noise", owner, time.Minute)
				if err != nil {
					t.Fatal(err)
				}
				return ok
			}
			if !take("a") || take("b") || !take("a") {
				t.Fatal("a did not get and keep the lease alone")
			}
			clock.Advance(59 * time.Second)
			if take("b") {
				t.Fatal("b took a live lease")
			}
			if !take("a") {
				t.Fatal("a could not renew")
			}
			clock.Advance(61 * time.Second)
			if !take("b") || take("a") {
				t.Fatal("b did not take over the expired lease")
			}
		})
	}
}
