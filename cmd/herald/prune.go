package main

import (
	"context"
	"time"
)

// claimTokenRetention is how long the use of a claim link is remembered:
// well past the links' lifetime (notifications.DefaultClaimLinkTTL), after
// which a link is refused as expired anyway, so pruning never lets one be
// used twice; the margin keeps "already used" answers for late clicks.
const claimTokenRetention = 7 * 24 * time.Hour

// pruneClaimTokens forgets old claim link uses, at once and then hourly,
// like pruneReceipts. Every replica runs it; the delete is idempotent.
func (a *App) pruneClaimTokens(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		n, err := a.Store.PruneClaimTokens(ctx, a.Store.Clock().Now().Add(-claimTokenRetention))
		switch {
		case err != nil && ctx.Err() == nil:
			a.log.WarnContext(ctx, "pruning claim link uses", "err", err)
		case n > 0:
			a.log.DebugContext(ctx, "pruned claim link uses", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// pruneWebSessions deletes expired web sessions and old login links, at
// once and then hourly. Every replica runs it; the delete is idempotent.
func (a *App) pruneWebSessions(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		n, err := a.Store.PruneWebSessions(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			a.log.WarnContext(ctx, "pruning web sessions", "err", err)
		case n > 0:
			a.log.DebugContext(ctx, "pruned web sessions and login links", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
