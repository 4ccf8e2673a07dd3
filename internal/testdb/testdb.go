// Package testdb gives each test a fresh, migrated database: a new
// PostgreSQL database (created and dropped around the test) and an SQLite
// file, so the same store tests run on both dialects.
//
// Postgres comes from HERALD_TEST_POSTGRES_URL (default: the local server).
// When it cannot be reached the Postgres half is skipped loudly, unless
// HERALD_REQUIRE_POSTGRES=1 (set by CI), which makes that a failure.
package testdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/heraldhq/herald/migrations"
	"github.com/heraldhq/herald/models"
)

// DefaultPostgresURL is the machine's local server.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// AdminURL is the server Postgres test databases are created on.
func AdminURL() string {
	if u := os.Getenv("HERALD_TEST_POSTGRES_URL"); u != "" {
		return u
	}
	return DefaultPostgresURL
}

// Dialects are the stores every store test runs against.
var Dialects = []string{models.DialectPostgres, models.DialectSQLite}

// DB is one test database.
type DB struct {
	Store   *models.Store
	Gorm    *gorm.DB
	Cipher  *models.FieldCipher
	Keyset  string
	Dialect string
	// URL is the Postgres URL, or the SQLite path.
	URL string
}

// ForEachDialect runs fn as a subtest on a fresh database of each dialect.
func ForEachDialect(t *testing.T, clock models.Clock, fn func(t *testing.T, db *DB)) {
	t.Helper()
	for _, d := range Dialects {
		t.Run(d, func(t *testing.T) {
			fn(t, New(t, d, clock))
		})
	}
}

// New creates, migrates and opens a fresh database of dialect, removed when
// the test ends.
func New(t testing.TB, dialect string, clock models.Clock) *DB {
	t.Helper()
	keys, err := models.GenerateKeyset()
	if err != nil {
		t.Fatal(err)
	}
	return NewWithKeyset(t, dialect, clock, keys)
}

// NewWithKeyset is New with a given ENCRYPTED_FIELD_KEY.
func NewWithKeyset(t testing.TB, dialect string, clock models.Clock, keys string) *DB {
	t.Helper()
	ctx := context.Background()
	cipher, err := models.NewFieldCipher(keys)
	if err != nil {
		t.Fatal(err)
	}
	var opts models.OpenOptions
	switch dialect {
	case models.DialectPostgres:
		opts.PostgresURL = createPostgres(t)
		opts.MaxOpenConns = 10
	case models.DialectSQLite:
		opts.SQLitePath = filepath.Join(t.TempDir(), "herald.db")
	default:
		t.Fatalf("unknown dialect %q", dialect)
	}
	opts.Cipher = cipher
	db, err := models.Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = models.Close(db) })
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := migrations.Up(ctx, sqlDB, migrations.Dialect(dialect), nil); err != nil {
		t.Fatal(err)
	}
	u := opts.PostgresURL
	if u == "" {
		u = opts.SQLitePath
	}
	return &DB{Store: models.NewStore(db, clock), Gorm: db, Cipher: cipher, Keyset: keys, Dialect: dialect, URL: u}
}

// RequirePostgres reports whether an unreachable Postgres fails the test.
func RequirePostgres() bool { return os.Getenv("HERALD_REQUIRE_POSTGRES") == "1" }

// createPostgres makes an empty database and returns its URL; the database
// is dropped when the test ends.
func createPostgres(t testing.TB) string {
	t.Helper()
	admin, err := gorm.Open(postgres.Open(AdminURL()), &gorm.Config{Logger: logger.Discard})
	if err == nil {
		var sqlDB interface{ Close() error }
		sqlDB, err = admin.DB()
		if err == nil {
			defer sqlDB.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err = admin.WithContext(ctx).Exec("SELECT 1").Error
		}
	}
	if err != nil {
		msg := fmt.Sprintf("PostgreSQL at %s is not reachable: %v", redact(AdminURL()), err)
		if RequirePostgres() {
			t.Fatalf("%s (HERALD_REQUIRE_POSTGRES=1)", msg)
		}
		t.Skipf("SKIPPING POSTGRES TEST: %s", msg)
	}
	name := "herald_test_" + randomHex(8)
	if err := admin.Exec("CREATE DATABASE " + name).Error; err != nil {
		t.Fatalf("creating test database: %v", err)
	}
	t.Cleanup(func() {
		drop, err := gorm.Open(postgres.Open(AdminURL()), &gorm.Config{Logger: logger.Discard})
		if err != nil {
			t.Logf("dropping %s: %v", name, err)
			return
		}
		if err := drop.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)").Error; err != nil {
			t.Logf("dropping %s: %v", name, err)
		}
		if sqlDB, err := drop.DB(); err == nil {
			_ = sqlDB.Close()
		}
	})
	u, err := url.Parse(AdminURL())
	if err != nil {
		t.Fatalf("HERALD_TEST_POSTGRES_URL: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}
