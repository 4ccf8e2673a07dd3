package models_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/models"
)

func newIntegration(t *testing.T, db *testdb.DB, name string) *models.Integration {
	t.Helper()
	now := t0
	in := &models.Integration{ID: models.NewIntegrationID(), Name: name, CreatedAt: now, UpdatedAt: now}
	if err := db.Gorm.Create(in).Error; err != nil {
		t.Fatal(err)
	}
	return in
}

// TestIntegrationKeys: a minted key authenticates, is stored only hashed
// and sealed (the raw row holds neither it nor its secret), rotation keeps
// the old key working until the secondary is dropped, and revocation stops
// every key; every refusal is ErrBadKey.
func TestIntegrationKeys(t *testing.T) {
	t.Parallel()
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			db := testdb.New(t, d, newClock())
			in := newIntegration(t, db, "prometheus")
			k1, err := db.Store.MintIntegrationKey(ctx, in.ID, false)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := db.Store.AuthenticateKey(ctx, k1); err != nil || got.Name != "prometheus" {
				t.Fatalf("authenticate: %+v %v", got, err)
			}
			var raw struct {
				KeyHash   string
				KeySealed []byte
			}
			if err := db.Gorm.Raw(`SELECT key_hash, key_sealed FROM integrations WHERE id = ?`, in.ID).Scan(&raw).Error; err != nil {
				t.Fatal(err)
			}
			secret := k1[strings.LastIndex(k1, "_")+1:]
			if strings.Contains(raw.KeyHash, secret) || strings.Contains(string(raw.KeySealed), secret) || len(raw.KeySealed) == 0 {
				t.Errorf("the raw row holds the key: %+v", raw)
			}
			_, keys, err := db.Store.IntegrationKeys(ctx, "prometheus")
			if err != nil || len(keys) != 1 || keys[0] != k1 {
				t.Fatalf("raw keys %v %v", keys, err)
			}

			k2, err := db.Store.MintIntegrationKey(ctx, in.ID, true)
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{k1, k2} {
				if _, err := db.Store.AuthenticateKey(ctx, k); err != nil {
					t.Errorf("during rotation: %v", err)
				}
			}
			if err := db.Store.DropSecondaryKey(ctx, in.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Store.AuthenticateKey(ctx, k1); !errors.Is(err, models.ErrBadKey) {
				t.Errorf("old key after the rotation: %v", err)
			}
			if err := db.Store.RevokeIntegration(ctx, in.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Store.AuthenticateKey(ctx, k2); !errors.Is(err, models.ErrRevoked) || !errors.Is(err, models.ErrBadKey) {
				t.Errorf("revoked key: %v", err)
			}
			tampered := k2[:len(k2)-2] + "xx"
			for _, k := range []string{"", "Bearer x", "hrld_zz", tampered, "hrld_" + strings.Repeat("0", 32) + "_abc", strings.Replace(k2, "hrld_", "hrlx_", 1)} {
				if _, err := db.Store.AuthenticateKey(ctx, k); !errors.Is(err, models.ErrBadKey) {
					t.Errorf("AuthenticateKey(%q) = %v, want ErrBadKey", k, err)
				}
			}
		})
	}
}

// TestDedupUnderConcurrency: 20 identical alerts at once open one
// incident with 20 occurrences; after it is resolved the key opens a new
// one.
func TestDedupUnderConcurrency(t *testing.T) {
	t.Parallel()
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			clock := newClock()
			db := testdb.New(t, d, clock)
			svc := &models.Service{ID: uuid.NewString(), Name: "checkout", DefaultSeverity: models.SEV2, CreatedAt: t0, UpdatedAt: t0}
			if err := db.Gorm.Create(svc).Error; err != nil {
				t.Fatal(err)
			}
			var (
				wg      sync.WaitGroup
				mu      sync.Mutex
				created int
				ids     = map[int64]bool{}
			)
			for range 20 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					inc, c, err := db.Store.CreateIncident(ctx, models.NewIncident{Title: "disk full", ServiceID: &svc.ID, DedupKey: "disk/db-1"})
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					defer mu.Unlock()
					ids[inc.ID] = true
					if c {
						created++
					}
				}()
			}
			wg.Wait()
			if created != 1 || len(ids) != 1 {
				t.Fatalf("created %d incidents (%d ids), want 1", created, len(ids))
			}
			var id int64
			for k := range ids {
				id = k
			}
			inc, err := db.Store.IncidentByID(ctx, id)
			if err != nil || inc.Occurrences != 20 || inc.DedupKey == nil || *inc.DedupKey != "disk/db-1" {
				t.Fatalf("incident %+v %v, want 20 occurrences", inc, err)
			}
			clock.Advance(time.Minute)
			now := clock.Now()
			if err := db.Gorm.Model(&models.Incident{}).Where("id = ?", id).Updates(map[string]any{"status": models.StatusResolved, "resolved_at": now}).Error; err != nil {
				t.Fatal(err)
			}
			again, c, err := db.Store.CreateIncident(ctx, models.NewIncident{Title: "disk full", ServiceID: &svc.ID, DedupKey: "disk/db-1"})
			if err != nil || !c || again.ID == id {
				t.Fatalf("after resolving: %+v created=%v %v", again, c, err)
			}
		})
	}
}
