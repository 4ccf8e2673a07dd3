package models_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"testing"
	"time"

	"github.com/tink-crypto/tink-go/v2/insecurecleartextkeyset"
	"github.com/tink-crypto/tink-go/v2/keyset"

	"github.com/heraldhq/herald/internal/fakeclock"
	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/models"
)

// t0 is when every fake clock starts.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newClock() *fakeclock.Clock { return fakeclock.New(t0) }

// reopen opens a second connection pool on db's database with another keyset,
// as a replica or a restarted Herald with a changed ENCRYPTED_FIELD_KEY would.
func reopen(t *testing.T, db *testdb.DB, keys string, clock models.Clock) *models.Store {
	t.Helper()
	cipher, err := models.NewFieldCipher(keys)
	if err != nil {
		t.Fatal(err)
	}
	opts := models.OpenOptions{Cipher: cipher}
	if db.Dialect == models.DialectPostgres {
		opts.PostgresURL = db.URL
	} else {
		opts.SQLitePath = db.URL
	}
	g, err := models.Open(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = models.Close(g) })
	return models.NewStore(g, clock)
}

// onlyPrimary returns the keyset with every key but the primary deleted: what
// ENCRYPTED_FIELD_KEY becomes once a rotation is finished.
func onlyPrimary(t *testing.T, keys string) string {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(keys)
	if err != nil {
		t.Fatal(err)
	}
	h, err := insecurecleartextkeyset.Read(keyset.NewJSONReader(bytes.NewReader(raw)))
	if err != nil {
		t.Fatal(err)
	}
	m := keyset.NewManagerFromHandle(h)
	info := h.KeysetInfo()
	for _, k := range info.GetKeyInfo() {
		if k.GetKeyId() != info.GetPrimaryKeyId() {
			if err := m.Delete(k.GetKeyId()); err != nil {
				t.Fatal(err)
			}
		}
	}
	h, err = m.Handle()
	if err != nil {
		t.Fatal(err)
	}
	if n := len(h.KeysetInfo().GetKeyInfo()); n != 1 {
		t.Fatalf("keyset has %d keys, want 1", n)
	}
	var buf bytes.Buffer
	if err := insecurecleartextkeyset.Write(h, keyset.NewJSONWriter(&buf)); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

// rawColumn reads a column with plain SQL, bypassing the open callback.
func rawColumn(t *testing.T, db *testdb.DB, table, column, id string) []byte {
	t.Helper()
	var raw []byte
	err := db.Gorm.Raw("SELECT "+column+" FROM "+table+" WHERE id = ?", id).Row().Scan(&raw)
	if err != nil {
		t.Fatalf("reading %s.%s: %v", table, column, err)
	}
	return raw
}

func count(t *testing.T, db *testdb.DB, table string) int64 {
	t.Helper()
	var n int64
	if err := db.Gorm.Table(table).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func ptr[T any](v T) *T { return &v }
