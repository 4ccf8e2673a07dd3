package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/fakeclock"
	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/migrations"
)

// TestSchemaGate: during a rolling upgrade, once a newer binary has
// migrated the database, this binary's engine stands by and /readyz says
// why; on a current schema both are green. The answer is cached a few
// seconds (it is asked on every engine pass).
func TestSchemaGate(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			clock := fakeclock.New(time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC))
			db := testdb.New(t, d, clock)
			sqlDB, err := db.Gorm.DB()
			if err != nil {
				t.Fatal(err)
			}
			gate := newSchemaGate(sqlDB, migrations.Dialect(d), clock)
			ready := readiness{db: db.Gorm}
			if ok, why, err := gate.MayWork(ctx); !ok || err != nil {
				t.Fatalf("current schema: MayWork = %v %q %v", ok, why, err)
			}
			if err := ready.Ready(ctx); err != nil {
				t.Fatalf("current schema: not ready: %v", err)
			}
			_, known, err := migrations.Version(ctx, sqlDB, migrations.Dialect(d))
			if err != nil {
				t.Fatal(err)
			}
			// A newer binary applied one more migration.
			if err := db.Gorm.Exec(`INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, ?)`, known+1, true).Error; err != nil {
				t.Fatal(err)
			}
			if ok, _, _ := gate.MayWork(ctx); !ok {
				t.Fatal("the gate re-read the schema before its cache expired")
			}
			clock.Advance(5 * time.Second)
			ok, why, err := gate.MayWork(ctx)
			if ok || err != nil || !strings.Contains(why, "newer than this binary") {
				t.Fatalf("newer schema: MayWork = %v %q %v, want standing by", ok, why, err)
			}
			if err := ready.Ready(ctx); err == nil || !strings.Contains(err.Error(), "newer than this binary") {
				t.Fatalf("newer schema: Ready = %v, want not ready", err)
			}
		})
	}
}
