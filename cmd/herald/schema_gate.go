package main

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"

	"github.com/heraldhq/herald/migrations"
	"github.com/heraldhq/herald/models"
)

// schemaGate stands this replica's paging engine by while the database's
// schema is newer than the binary: during a rolling upgrade the new
// binary migrates first, and from then on only new binaries page (an old
// one might plan the same pages differently and send them twice). The
// answer is cached for a few seconds: it is asked on every engine pass.
type schemaGate struct {
	db      *sql.DB
	dialect migrations.Dialect
	clock   models.Clock
	ttl     time.Duration

	mu      sync.Mutex
	checked time.Time
	ok      bool
	why     string
}

func newSchemaGate(db *sql.DB, d migrations.Dialect, clock models.Clock) *schemaGate {
	return &schemaGate{db: db, dialect: d, clock: clock, ttl: 5 * time.Second}
}

// MayWork implements notifications.WorkGate.
func (g *schemaGate) MayWork(ctx context.Context) (bool, string, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.clock.Now()
	if !g.checked.IsZero() && !now.Before(g.checked) && now.Sub(g.checked) < g.ttl {
		return g.ok, g.why, nil
	}
	current, known, err := migrations.Version(ctx, g.db, g.dialect)
	if err != nil {
		return true, "", err
	}
	g.checked, g.ok, g.why = now, current <= known, ""
	if !g.ok {
		g.why = schemaNewerText(current, known)
	}
	return g.ok, g.why, nil
}

func schemaNewerText(current, known int64) string {
	return fmt.Sprintf("the database schema (version %d) is newer than this binary knows (%d): a newer Herald is running; upgrade this replica", current, known)
}
