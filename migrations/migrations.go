// Package migrations holds Herald's versioned SQL schema, one directory per
// dialect, embedded in the binary and applied with goose. Herald never uses
// gorm's AutoMigrate: the SQL here is the schema.
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed postgres/*.sql sqlite/*.sql
var files embed.FS

// Dialect names a supported database.
type Dialect string

const (
	Postgres Dialect = "postgres"
	SQLite   Dialect = "sqlite"
)

// ErrUnknownDialect is returned for a dialect Herald has no migrations for.
var ErrUnknownDialect = errors.New("unknown database dialect")

// Files returns the migrations of one dialect.
func Files(d Dialect) (fs.FS, error) {
	switch d {
	case Postgres, SQLite:
		return fs.Sub(files, string(d))
	default:
		return nil, fmt.Errorf("%w: %q", ErrUnknownDialect, d)
	}
}

func provider(d Dialect, db *sql.DB, log *slog.Logger) (*goose.Provider, error) {
	fsys, err := Files(d)
	if err != nil {
		return nil, err
	}
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	if log != nil {
		opts = append(opts, goose.WithSlog(log))
	}
	gd := goose.DialectSQLite3
	if d == Postgres {
		gd = goose.DialectPostgres
		// Replicas that start together take turns: the first applies, the
		// others find nothing pending.
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, fmt.Errorf("migration lock: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(gd, db, fsys, opts...)
	if err != nil {
		return nil, fmt.Errorf("loading %s migrations: %w", d, err)
	}
	return p, nil
}

// Up applies every pending migration and reports how many ran.
func Up(ctx context.Context, db *sql.DB, d Dialect, log *slog.Logger) (int, error) {
	p, err := provider(d, db, log)
	if err != nil {
		return 0, err
	}
	res, err := p.Up(ctx)
	if err != nil {
		return len(res), fmt.Errorf("applying %s migrations: %w", d, err)
	}
	return len(res), nil
}

// Pending reports whether the database lacks migrations this binary has.
func Pending(ctx context.Context, db *sql.DB, d Dialect) (bool, error) {
	p, err := provider(d, db, nil)
	if err != nil {
		return false, err
	}
	pending, err := p.HasPending(ctx)
	if err != nil {
		return false, fmt.Errorf("checking %s migrations: %w", d, err)
	}
	return pending, nil
}

// Version returns the database's current schema version and the newest this
// binary knows.
func Version(ctx context.Context, db *sql.DB, d Dialect) (current, target int64, err error) {
	p, err := provider(d, db, nil)
	if err != nil {
		return 0, 0, err
	}
	current, target, err = p.GetVersions(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("reading %s schema version: %w", d, err)
	}
	return current, target, nil
}
