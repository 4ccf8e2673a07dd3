package notifications

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// WakeChannel is the Postgres LISTEN/NOTIFY channel replicas use to tell
// each other's engines that there is new work.
const WakeChannel = "herald_engine"

// ListenForWork wakes the engine whenever any replica notifies
// WakeChannel, so new work is picked up at once cluster-wide instead of at
// the next sweep. It reconnects with backoff until ctx ends.
func (e *Engine) ListenForWork(ctx context.Context, databaseURL string) {
	backoff := time.Second
	for ctx.Err() == nil {
		err := e.listenOnce(ctx, databaseURL)
		if ctx.Err() != nil {
			return
		}
		e.log.WarnContext(ctx, "engine LISTEN connection lost; the 1 s sweep covers until it is back", "err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 30*time.Second)
	}
}

func (e *Engine) listenOnce(ctx context.Context, databaseURL string) error {
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+WakeChannel); err != nil {
		return err
	}
	e.log.DebugContext(ctx, "engine listening for work", slog.String("channel", WakeChannel))
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		e.Wake()
	}
}

// announce wakes this engine and, through Postgres, every other replica's.
func (e *Engine) announce(ctx context.Context) {
	e.Wake()
	if err := e.store.NotifyEngines(ctx, WakeChannel); err != nil {
		e.log.WarnContext(ctx, "could not wake other replicas; their sweep will find the work", "err", err)
	}
}
