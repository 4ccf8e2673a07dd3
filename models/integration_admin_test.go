package models_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/models"
)

// TestCreateIntegration: the key works at once and is scoped to the
// services; a bad name, quota or service list, an unknown service or a
// taken name stores nothing; the listing shows rotation and revocation
// and never a key.
func TestCreateIntegration(t *testing.T) {
	t.Parallel()
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			db := testdb.New(t, d, newClock())
			pay, web := addService(t, db, "payments"), addService(t, db, "web")
			in, key, err := db.Store.CreateIntegration(ctx, models.NewIntegration{Name: "nagios", Services: []string{"payments", "web", "payments"}, QuotaPerMinute: 60})
			if err != nil {
				t.Fatal(err)
			}
			got, err := db.Store.AuthenticateKey(ctx, key)
			if err != nil || got.ID != in.ID || got.QuotaPerMinute != 60 {
				t.Fatalf("authenticate the new key: %+v %v", got, err)
			}
			ids, err := db.Store.IntegrationServiceIDs(ctx, in.ID)
			if err != nil || len(ids) != 2 || !(ids[0] == pay.ID || ids[1] == pay.ID) || !(ids[0] == web.ID || ids[1] == web.ID) {
				t.Fatalf("scope %v %v", ids, err)
			}

			bad := []struct {
				n    models.NewIntegration
				want func(error) bool
			}{
				{models.NewIntegration{Name: "nagios", Services: []string{"web"}}, func(err error) bool { return errors.Is(err, models.ErrIntegrationExists) }},
				{models.NewIntegration{Name: "has space", Services: []string{"web"}}, func(err error) bool { return errors.Is(err, models.ErrInvalid) }},
				{models.NewIntegration{Name: "a:b", Services: []string{"web"}}, func(err error) bool { return errors.Is(err, models.ErrInvalid) }},
				{models.NewIntegration{Name: "grafana"}, func(err error) bool { return errors.Is(err, models.ErrInvalid) }},
				{models.NewIntegration{Name: "grafana", Services: []string{"web"}, QuotaPerMinute: -1}, func(err error) bool { return errors.Is(err, models.ErrInvalid) }},
				{models.NewIntegration{Name: "grafana", Services: []string{"web", "nope"}}, models.IsNotFound},
			}
			for _, b := range bad {
				if _, _, err := db.Store.CreateIntegration(ctx, b.n); !b.want(err) {
					t.Errorf("create %+v: unexpected %v", b.n, err)
				}
			}
			var n int64
			check(t, db.Gorm.Model(&models.Integration{}).Count(&n).Error)
			var scopes int64
			check(t, db.Gorm.Model(&models.IntegrationService{}).Count(&scopes).Error)
			if n != 1 || scopes != 2 {
				t.Fatalf("failed creates left %d integrations, %d scopes; want 1, 2", n, scopes)
			}

			if _, err := db.Store.MintIntegrationKey(ctx, in.ID, true); err != nil {
				t.Fatal(err)
			}
			other, _, err := db.Store.CreateIntegration(ctx, models.NewIntegration{Name: "grafana", Services: []string{"web"}})
			if err != nil {
				t.Fatal(err)
			}
			check(t, db.Store.RevokeIntegration(ctx, other.ID))
			list, err := db.Store.IntegrationSummaries(ctx)
			if err != nil || len(list) != 2 {
				t.Fatalf("summaries %+v %v", list, err)
			}
			g, ng := list[0], list[1]
			if g.Name != "grafana" || !g.Revoked || g.RevokedAt == nil || g.HasSecondary || len(g.Services) != 1 || g.Services[0] != "web" {
				t.Errorf("grafana summary %+v", g)
			}
			if ng.Name != "nagios" || ng.Revoked || !ng.HasSecondary || ng.QuotaPerMinute != 60 || len(ng.Services) != 2 || ng.Services[0] != "payments" || !ng.CreatedAt.Equal(t0) {
				t.Errorf("nagios summary %+v", ng)
			}
		})
	}
}

// TestAPIAnswers: the first answer of a key is kept (a second save
// returns it), keys are per integration, and answers a day old are gone.
func TestAPIAnswers(t *testing.T) {
	t.Parallel()
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			clock := newClock()
			db := testdb.New(t, d, clock)
			a, b := newIntegration(t, db, "a"), newIntegration(t, db, "b")
			if _, err := db.Store.APIAnswerFor(ctx, a.ID, "k1"); !models.IsNotFound(err) {
				t.Fatalf("before any answer: %v", err)
			}
			first, err := db.Store.SaveAPIAnswer(ctx, models.APIAnswer{IntegrationID: a.ID, IdempotencyKey: "k1", Status: 201, Body: `{"number":1}`})
			if err != nil || first.Status != 201 || first.Body != `{"number":1}` {
				t.Fatalf("first save: %+v %v", first, err)
			}
			again, err := db.Store.SaveAPIAnswer(ctx, models.APIAnswer{IntegrationID: a.ID, IdempotencyKey: "k1", Status: 200, Body: `{"number":2}`})
			if err != nil || again.Status != 201 || again.Body != `{"number":1}` {
				t.Fatalf("second save of the key: %+v %v, want the first answer", again, err)
			}
			if _, err := db.Store.APIAnswerFor(ctx, b.ID, "k1"); !models.IsNotFound(err) {
				t.Fatalf("another integration's key: %v", err)
			}
			clock.Advance(models.APIAnswerTTL + time.Second)
			if _, err := db.Store.APIAnswerFor(ctx, a.ID, "k1"); !models.IsNotFound(err) {
				t.Fatalf("a day later: %v", err)
			}
			if _, err := db.Store.SaveAPIAnswer(ctx, models.APIAnswer{IntegrationID: b.ID, IdempotencyKey: "k2", Status: 201, Body: `{}`}); err != nil {
				t.Fatal(err)
			}
			var n int64
			check(t, db.Gorm.Model(&models.APIAnswer{}).Count(&n).Error)
			if n != 1 {
				t.Fatalf("%d answers stored, want the old one pruned", n)
			}
		})
	}
}
