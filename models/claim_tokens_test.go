package models_test

import (
	"context"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/testdb"
)

func TestPruneClaimTokens(t *testing.T) {
	const retention = 7 * 24 * time.Hour
	clock := newClock()
	testdb.ForEachDialect(t, clock, func(t *testing.T, db *testdb.DB) {
		ctx, s := context.Background(), db.Store
		clock.Set(t0)
		now := t0.Add(10 * 24 * time.Hour)
		cutoff := now.Add(-retention)
		tokens := []struct {
			hash   string
			usedAt time.Time
			kept   bool
		}{
			{"ancient", t0, false},
			{"just-before", cutoff.Add(-time.Second), false},
			{"at-cutoff", cutoff, true},
			{"recent", now.Add(-time.Hour), true},
		}
		for _, tk := range tokens {
			clock.Set(tk.usedAt)
			if first, err := s.UseClaimToken(ctx, tk.hash); err != nil || !first {
				t.Fatalf("using %s: %v, %v", tk.hash, first, err)
			}
		}
		clock.Set(now)
		n, err := s.PruneClaimTokens(ctx, clock.Now().Add(-retention))
		if err != nil || n != 2 {
			t.Fatalf("pruned %d, %v; want 2", n, err)
		}
		for _, tk := range tokens {
			if used, err := s.ClaimTokenUsed(ctx, tk.hash); err != nil || used != tk.kept {
				t.Errorf("%s used at %s: still recorded = %v, %v; want %v", tk.hash, tk.usedAt, used, err, tk.kept)
			}
		}
		if n, err := s.PruneClaimTokens(ctx, clock.Now().Add(-retention)); err != nil || n != 0 {
			t.Errorf("pruning again: %d, %v; want 0", n, err)
		}
	})
}
