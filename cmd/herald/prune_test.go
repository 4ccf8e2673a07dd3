package main

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/fakeclock"
	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/notifications"
)

// TestPruneClaimTokens: the pruner forgets claim link uses older than the
// retention at once, keeps newer ones, and stops with its context.
func TestPruneClaimTokens(t *testing.T) {
	if claimTokenRetention <= notifications.DefaultClaimLinkTTL {
		t.Fatalf("claimTokenRetention %s is not longer than a claim link lives (%s): a pruned link could be used twice",
			claimTokenRetention, notifications.DefaultClaimLinkTTL)
	}
	clock := fakeclock.New(testStart)
	testdb.ForEachDialect(t, clock, func(t *testing.T, db *testdb.DB) {
		ctx, s := context.Background(), db.Store
		// "old" is just over a retention old when the pruner runs, "fresh"
		// an hour old.
		for _, use := range []struct {
			hash string
			at   time.Time
		}{{"old", testStart}, {"fresh", testStart.Add(claimTokenRetention)}} {
			clock.Set(use.at)
			if _, err := s.UseClaimToken(ctx, use.hash); err != nil {
				t.Fatal(err)
			}
		}
		clock.Set(testStart.Add(claimTokenRetention + time.Hour))

		runCtx, stop := context.WithCancel(ctx)
		defer stop()
		done := make(chan struct{})
		a := &App{Store: s, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
		go func() { defer close(done); a.pruneClaimTokens(runCtx) }()
		deadline := time.Now().Add(10 * time.Second)
		for {
			used, err := s.ClaimTokenUsed(ctx, "old")
			if err != nil {
				t.Fatal(err)
			}
			if !used {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the old claim link use was not pruned")
			}
			time.Sleep(10 * time.Millisecond)
		}
		stop()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("the pruner did not stop with its context")
		}
		if used, err := s.ClaimTokenUsed(ctx, "fresh"); err != nil || !used {
			t.Errorf("fresh: recorded = %v, %v; want it kept", used, err)
		}
	})
}
