package models_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/models"
)

func TestWebAuthStore(t *testing.T) {
	clock := newClock()
	testdb.ForEachDialect(t, clock, func(t *testing.T, db *testdb.DB) {
		ctx, s := context.Background(), db.Store
		clock.Set(t0)
		u, err := s.UpsertWebUser(ctx, models.WebUser{Subject: "slack:U1", Name: "ada", Email: models.Secret("ada@example.com"), Role: models.WebRoleMember})
		if err != nil {
			t.Fatal(err)
		}
		// The e-mail is sealed at rest.
		raw := rawColumn(t, db, "web_users", "email", u.ID)
		if len(raw) == 0 || bytes.Contains(raw, []byte("ada@example.com")) {
			t.Fatalf("web_users.email not sealed: %q", raw)
		}
		// Signing in again refreshes the name, never the role.
		again, err := s.UpsertWebUser(ctx, models.WebUser{Subject: "slack:U1", Name: "Ada L", Role: models.WebRoleAdmin})
		if err != nil || again.ID != u.ID || again.Role != models.WebRoleMember || again.Name != "Ada L" || again.Email.Reveal() != "ada@example.com" {
			t.Fatalf("upsert again: %+v %v", again, err)
		}
		if _, err := s.UpsertWebUser(ctx, models.WebUser{Subject: "x", Name: "x", Role: "root"}); err == nil {
			t.Fatal("invalid role accepted")
		}

		// A login token works once, before it expires.
		tok, err := s.IssueLoginToken(ctx, u.ID, 15*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := s.RedeemLoginToken(ctx, tok); err != nil || got.ID != u.ID {
			t.Fatalf("redeem: %+v %v", got, err)
		}
		if _, err := s.RedeemLoginToken(ctx, tok); !errors.Is(err, models.ErrLoginRefused) {
			t.Fatalf("second redeem: %v", err)
		}
		late, _ := s.IssueLoginToken(ctx, u.ID, 15*time.Minute)
		clock.Set(t0.Add(16 * time.Minute))
		if _, err := s.RedeemLoginToken(ctx, late); !errors.Is(err, models.ErrLoginRefused) {
			t.Fatalf("expired redeem: %v", err)
		}
		if _, err := s.RedeemLoginToken(ctx, "hses_not-a-login-token"); !errors.Is(err, models.ErrLoginRefused) {
			t.Fatalf("wrong kind: %v", err)
		}

		// Sessions: found while live, refused after expiry, deleted on
		// sign-out, pruned.
		token, sess, err := s.CreateWebSession(ctx, u.ID, time.Hour)
		if err != nil || sess.CSRFToken == "" {
			t.Fatal(err)
		}
		if got, _ := rawText(t, db, "web_sessions", "token_hash"); got == token {
			t.Fatal("session token stored in clear")
		}
		if _, who, err := s.WebSessionByToken(ctx, token); err != nil || who.ID != u.ID {
			t.Fatalf("session: %+v %v", who, err)
		}
		clock.Advance(2 * time.Hour)
		if _, _, err := s.WebSessionByToken(ctx, token); !errors.Is(err, models.ErrLoginRefused) {
			t.Fatalf("expired session: %v", err)
		}
		token2, _, _ := s.CreateWebSession(ctx, u.ID, time.Hour)
		if err := s.DeleteWebSession(ctx, token2); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.WebSessionByToken(ctx, token2); !errors.Is(err, models.ErrLoginRefused) {
			t.Fatalf("deleted session: %v", err)
		}
		clock.Advance(48 * time.Hour)
		if n, err := s.PruneWebSessions(ctx); err != nil || n < 1 {
			t.Fatalf("prune: %d %v", n, err)
		}

		// Role changes are audited; configured admins too.
		if err := s.SetWebUserRole(ctx, models.Actor{Name: "web:boss"}, u.ID, models.WebRoleViewer, nil); err != nil {
			t.Fatal(err)
		}
		if err := s.MakeWebAdmin(ctx, u.ID, "HERALD_WEB_ADMINS"); err != nil {
			t.Fatal(err)
		}
		entries, total, err := s.ListAudit(ctx, models.AuditFilter{SubjectPrefix: "web_user:"})
		if err != nil || total != 2 || entries[0].Actor != "HERALD_WEB_ADMINS" || entries[1].Actor != "web:boss" {
			t.Fatalf("audit: %+v %d %v", entries, total, err)
		}
		// A disabled user's sessions stop working.
		token3, _, _ := s.CreateWebSession(ctx, u.ID, time.Hour)
		if err := db.Gorm.Exec("UPDATE web_users SET disabled_at = ? WHERE id = ?", clock.Now(), u.ID).Error; err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.WebSessionByToken(ctx, token3); !errors.Is(err, models.ErrLoginRefused) {
			t.Fatalf("disabled user's session: %v", err)
		}
	})
}

func rawText(t *testing.T, db *testdb.DB, table, column string) (string, error) {
	t.Helper()
	var v string
	err := db.Gorm.Raw("SELECT " + column + " FROM " + table + " LIMIT 1").Row().Scan(&v)
	return v, err
}
