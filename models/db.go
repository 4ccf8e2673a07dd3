package models

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Dialect names of the two supported stores, as gorm reports them.
const (
	DialectPostgres = "postgres"
	DialectSQLite   = "sqlite"
)

// OpenOptions says which database to open.
type OpenOptions struct {
	// PostgresURL selects PostgreSQL; empty selects SQLite at SQLitePath.
	PostgresURL string
	SQLitePath  string
	Cipher      *FieldCipher
	Logger      *slog.Logger
	// MaxOpenConns caps Postgres connections (default 20).
	MaxOpenConns int
}

// Open connects to the database and installs the encrypted-field callbacks.
// It does not migrate: see package migrations.
func Open(ctx context.Context, o OpenOptions) (*gorm.DB, error) {
	if o.Cipher == nil {
		return nil, fmt.Errorf("opening database: no field cipher (ENCRYPTED_FIELD_KEY)")
	}
	cfg := &gorm.Config{
		Logger:                 newGormLogger(o.Logger),
		NowFunc:                func() time.Time { return time.Now().UTC() },
		SkipDefaultTransaction: true,
		TranslateError:         true,
	}
	var (
		db  *gorm.DB
		err error
	)
	if o.PostgresURL != "" {
		db, err = gorm.Open(postgres.Open(o.PostgresURL), cfg)
	} else {
		if err := os.MkdirAll(filepath.Dir(o.SQLitePath), 0o700); err != nil {
			return nil, fmt.Errorf("creating data directory: %w", err)
		}
		// WAL lets the web pages read while the workers write; the busy
		// timeout covers the moments two writers meet.
		dsn := "file:" + o.SQLitePath + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)"
		db, err = gorm.Open(sqlite.Open(dsn), cfg)
	}
	if err != nil {
		return nil, fmt.Errorf("opening database: %w", err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("opening database: %w", err)
	}
	if o.PostgresURL != "" {
		n := o.MaxOpenConns
		if n <= 0 {
			n = 20
		}
		sqlDB.SetMaxOpenConns(n)
		sqlDB.SetMaxIdleConns(n)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	} else {
		// SQLite has one writer; one connection turns lock contention
		// into a queue instead of SQLITE_BUSY errors.
		sqlDB.SetMaxOpenConns(1)
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("connecting to database: %w", err)
	}
	if err := o.Cipher.Register(db); err != nil {
		_ = sqlDB.Close()
		return nil, err
	}
	return db, nil
}

// Close closes the underlying connection pool.
func Close(db *gorm.DB) error {
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

func newGormLogger(l *slog.Logger) logger.Interface {
	if l == nil {
		return logger.Discard
	}
	// Only slow queries and errors: statements can carry user text.
	c := logger.Config{
		SlowThreshold:             500 * time.Millisecond,
		LogLevel:                  logger.Warn,
		IgnoreRecordNotFoundError: true,
		ParameterizedQueries:      true,
	}
	return quietTrace{Interface: logger.NewSlogLogger(l, c), level: c.LogLevel, slow: c.SlowThreshold, ignoreNotFound: c.IgnoreRecordNotFoundError}
}
