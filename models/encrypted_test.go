package models_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/models"
)

const secretEmail = "ada.lovelace@example.com"

func TestEncryptedRoundTripAndAtRest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	testdb.ForEachDialect(t, newClock(), func(t *testing.T, db *testdb.DB) {
		u, err := db.Store.UpsertSlackUser(ctx, models.SlackUser{ID: "U1", DisplayName: "Ada", Email: secretEmail})
		if err != nil {
			t.Fatal(err)
		}
		var got models.ExternalUser
		if err := db.Gorm.Take(&got, "id = ?", u.ID).Error; err != nil {
			t.Fatal(err)
		}
		if got.Email.Reveal() != secretEmail {
			t.Errorf("email = %q, want %q", got.Email.Reveal(), secretEmail)
		}

		raw := rawColumn(t, db, "external_users", "email", u.ID)
		if len(raw) == 0 {
			t.Fatal("email column is empty")
		}
		if bytes.Contains(raw, []byte(secretEmail)) || bytes.Contains(raw, []byte("lovelace")) {
			t.Errorf("plaintext stored in external_users.email: %q", raw)
		}
		if !db.Cipher.SealedWithPrimary(raw) {
			t.Error("email not sealed with the primary key")
		}

		// An empty value is stored as NULL and reads back empty.
		empty, err := db.Store.UpsertSlackUser(ctx, models.SlackUser{ID: "U2"})
		if err != nil {
			t.Fatal(err)
		}
		if raw := rawColumn(t, db, "external_users", "email", empty.ID); raw != nil {
			t.Errorf("empty email stored as %q, want NULL", raw)
		}
		var gotEmpty models.ExternalUser
		if err := db.Gorm.Take(&gotEmpty, "id = ?", empty.ID).Error; err != nil || gotEmpty.Email.Reveal() != "" {
			t.Errorf("empty email read back as %q, %v", gotEmpty.Email.Reveal(), err)
		}
	})
}

func TestEncryptedCiphertextIsBoundToItsPlace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name string
		sql  string // copies a ciphertext over victim's email; args: source id, victim id
	}{
		{"other row", `UPDATE external_users SET email = (SELECT email FROM external_users WHERE id = ?) WHERE id = ?`},
		{"other table", `UPDATE external_users SET email = (SELECT payload FROM jobs WHERE id = ?) WHERE id = ?`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			testdb.ForEachDialect(t, newClock(), func(t *testing.T, db *testdb.DB) {
				source, err := db.Store.UpsertSlackUser(ctx, models.SlackUser{ID: "U1", Email: secretEmail})
				if err != nil {
					t.Fatal(err)
				}
				victim, err := db.Store.UpsertSlackUser(ctx, models.SlackUser{ID: "U2", Email: "victim@example.com"})
				if err != nil {
					t.Fatal(err)
				}
				sourceID := source.ID
				if strings.Contains(tt.sql, "FROM jobs") {
					if _, err := db.Store.EnqueueJobs(ctx, models.NewJob{Kind: "k", Payload: []byte(secretEmail)}); err != nil {
						t.Fatal(err)
					}
					if err := db.Gorm.Raw("SELECT id FROM jobs").Row().Scan(&sourceID); err != nil {
						t.Fatal(err)
					}
				}
				if err := db.Gorm.Exec(tt.sql, sourceID, victim.ID).Error; err != nil {
					t.Fatal(err)
				}

				var got models.ExternalUser
				err = db.Gorm.Take(&got, "id = ?", victim.ID).Error
				if !errors.Is(err, models.ErrDecrypt) {
					t.Fatalf("reading moved ciphertext: err = %v, want ErrDecrypt", err)
				}
				if got.Email.Reveal() == secretEmail {
					t.Error("moved ciphertext decrypted")
				}
				// The store's reads fail the same way.
				if _, err := db.Store.UpsertSlackUser(ctx, models.SlackUser{ID: "U2"}); !errors.Is(err, models.ErrDecrypt) {
					t.Errorf("UpsertSlackUser over moved ciphertext: err = %v, want ErrDecrypt", err)
				}
			})
		})
	}
}

func TestEncryptedWrongKeysetFailsLoudly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	testdb.ForEachDialect(t, newClock(), func(t *testing.T, db *testdb.DB) {
		u, err := db.Store.UpsertSlackUser(ctx, models.SlackUser{ID: "U1", Email: secretEmail})
		if err != nil {
			t.Fatal(err)
		}
		inc, _, err := db.Store.CreateIncident(ctx, models.NewIncident{Title: "db down", ReporterID: &u.ID})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Store.EnqueueJobs(ctx, models.NewJob{Kind: "k", Payload: []byte("payload")}); err != nil {
			t.Fatal(err)
		}

		other, err := models.GenerateKeyset()
		if err != nil {
			t.Fatal(err)
		}
		wrong := reopen(t, db, other, db.Store.Clock())
		reads := []struct {
			name string
			read func() error
		}{
			{"find", func() error {
				var users []models.ExternalUser
				return wrong.DB().Find(&users).Error
			}},
			{"upsert", func() error {
				_, err := wrong.UpsertSlackUser(ctx, models.SlackUser{ID: "U1"})
				return err
			}},
			{"preload", func() error {
				_, err := wrong.IncidentByID(ctx, inc.ID)
				return err
			}},
			{"lease", func() error {
				_, err := wrong.LeaseJobs(ctx, "w", 10, time.Minute)
				return err
			}},
			{"rekey", func() error {
				_, err := wrong.Rekey(ctx, 0)
				return err
			}},
		}
		for _, r := range reads {
			if err := r.read(); !errors.Is(err, models.ErrDecrypt) {
				t.Errorf("%s with another keyset: err = %v, want ErrDecrypt", r.name, err)
			}
		}
	})
}

func TestEncryptedRotationAndRekey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	testdb.ForEachDialect(t, newClock(), func(t *testing.T, db *testdb.DB) {
		// Before rotation: five users with an email, one without, three jobs.
		var oldUsers []string
		for i := range 5 {
			u, err := db.Store.UpsertSlackUser(ctx, models.SlackUser{ID: fmt.Sprintf("U%d", i), Email: fmt.Sprintf("user%d@example.com", i)})
			if err != nil {
				t.Fatal(err)
			}
			oldUsers = append(oldUsers, u.ID)
		}
		if _, err := db.Store.UpsertSlackUser(ctx, models.SlackUser{ID: "Unoemail"}); err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			if _, err := db.Store.EnqueueJobs(ctx, models.NewJob{Kind: "k", Payload: fmt.Appendf(nil, "job %d", i)}); err != nil {
				t.Fatal(err)
			}
		}

		rotatedKeys, err := models.RotateKeyset(db.Keyset)
		if err != nil {
			t.Fatal(err)
		}
		rotated := reopen(t, db, rotatedKeys, db.Store.Clock())
		newCipher := rotated.Cipher()
		if newCipher == nil {
			t.Fatal("Store.Cipher() is nil on a store opened with a cipher")
		}

		// Old rows still open; new writes use the new primary.
		for i, id := range oldUsers {
			var u models.ExternalUser
			if err := rotated.DB().Take(&u, "id = ?", id).Error; err != nil {
				t.Fatalf("reading old row with rotated keyset: %v", err)
			}
			if want := fmt.Sprintf("user%d@example.com", i); u.Email.Reveal() != want {
				t.Errorf("email = %q, want %q", u.Email.Reveal(), want)
			}
			if newCipher.SealedWithPrimary(rawColumn(t, db, "external_users", "email", id)) {
				t.Error("old row reported as sealed with the new primary")
			}
		}
		fresh, err := rotated.UpsertSlackUser(ctx, models.SlackUser{ID: "Unew", Email: "new@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		raw := rawColumn(t, db, "external_users", "email", fresh.ID)
		if !newCipher.SealedWithPrimary(raw) || db.Cipher.SealedWithPrimary(raw) {
			t.Error("new write not sealed with the new primary key")
		}

		// A keyset holding only the new key cannot read the old rows yet.
		newOnlyKeys := onlyPrimary(t, rotatedKeys)
		newOnly := reopen(t, db, newOnlyKeys, db.Store.Clock())
		var users []models.ExternalUser
		if err := newOnly.DB().Find(&users).Error; !errors.Is(err, models.ErrDecrypt) {
			t.Fatalf("reading old rows without the old key: err = %v, want ErrDecrypt", err)
		}

		rep, err := rotated.Rekey(ctx, 2) // small batches: several pages
		if err != nil {
			t.Fatal(err)
		}
		want := []models.RekeyTable{
			{Table: "external_users", Examined: 7, Rewritten: 5},
			{Table: "jobs", Examined: 3, Rewritten: 3},
			{Table: "contact_methods", Examined: 0, Rewritten: 0},
		}
		if fmt.Sprint(rep.Tables) != fmt.Sprint(want) {
			t.Errorf("rekey report = %+v, want %+v", rep.Tables, want)
		}
		if rep.Rewritten() != 8 {
			t.Errorf("Rewritten() = %d, want 8", rep.Rewritten())
		}

		// Now the new key alone reads everything, and every row is current.
		users = nil
		if err := newOnly.DB().Order("slack_user_id").Find(&users).Error; err != nil {
			t.Fatalf("reading rekeyed rows with only the new key: %v", err)
		}
		for _, u := range users {
			if raw := rawColumn(t, db, "external_users", "email", u.ID); raw != nil && !newCipher.SealedWithPrimary(raw) {
				t.Errorf("user %s not re-sealed", u.SlackUserID)
			}
		}
		if got := users[0].Email.Reveal(); got != "user0@example.com" {
			t.Errorf("rekeyed email = %q", got)
		}
		jobs, err := newOnly.LeaseJobs(ctx, "w", 10, time.Minute)
		if err != nil {
			t.Fatalf("leasing rekeyed jobs with only the new key: %v", err)
		}
		if len(jobs) != 3 || !strings.HasPrefix(jobs[0].Payload.Reveal(), "job ") {
			t.Errorf("leased %d rekeyed jobs (first payload %q), want 3", len(jobs), jobs[0].Payload.Reveal())
		}

		// Rekey did not touch updated_at, and a second run has nothing to do.
		var u0 models.ExternalUser
		if err := newOnly.DB().Take(&u0, "id = ?", oldUsers[0]).Error; err != nil {
			t.Fatal(err)
		}
		if !u0.UpdatedAt.Equal(t0) {
			t.Errorf("updated_at = %v after rekey, want %v", u0.UpdatedAt, t0)
		}
		rep, err = rotated.Rekey(ctx, 0)
		if err != nil || rep.Rewritten() != 0 {
			t.Errorf("second rekey: rewrote %d, err %v; want 0, nil", rep.Rewritten(), err)
		}
	})
}

func TestEncryptedWritePaths(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	testdb.ForEachDialect(t, newClock(), func(t *testing.T, db *testdb.DB) {
		u, err := db.Store.UpsertSlackUser(ctx, models.SlackUser{ID: "U1", Email: secretEmail})
		if err != nil {
			t.Fatal(err)
		}
		before := rawColumn(t, db, "external_users", "email", u.ID)

		// Paths the callbacks cannot seal must refuse, never write plaintext.
		refused := []struct {
			name  string
			write func() error
			want  error
		}{
			{"exec with secret parameter", func() error {
				return db.Gorm.Exec("UPDATE external_users SET email = ? WHERE id = ?", models.Secret("leak@example.com"), u.ID).Error
			}, models.ErrNotSealed},
			{"raw insert", func() error {
				return db.Gorm.Exec(`INSERT INTO jobs (id, kind, payload, run_at, max_attempts, created_at) VALUES ('j1', 'k', ?, ?, 1, ?)`,
					models.Secret("leak@example.com"), t0, t0).Error
			}, models.ErrNotSealed},
			{"update without row key", func() error {
				return db.Gorm.Model(&models.ExternalUser{}).Where("slack_user_id = ?", "U1").Update("email", models.Secret("leak@example.com")).Error
			}, models.ErrNoRowKey},
			{"create without row key", func() error {
				return db.Gorm.Create(&models.ExternalUser{SlackUserID: "U9", Email: models.Secret("leak@example.com"), CreatedAt: t0, UpdatedAt: t0}).Error
			}, models.ErrNoRowKey},
		}
		for _, r := range refused {
			err := r.write()
			if !errors.Is(err, r.want) {
				t.Errorf("%s: err = %v, want %v", r.name, err, r.want)
			}
			if err != nil && strings.Contains(err.Error(), "leak@") {
				t.Errorf("%s: error message reveals the plaintext: %v", r.name, err)
			}
		}
		if after := rawColumn(t, db, "external_users", "email", u.ID); !bytes.Equal(before, after) {
			t.Error("a refused write changed the stored email")
		}
		if n := count(t, db, "jobs"); n != 0 {
			t.Errorf("%d jobs stored by a refused insert", n)
		}

		// gorm paths that are sealed.
		sealed := []struct {
			name  string
			write func(email string) error
		}{
			{"save", func(email string) error {
				u.Email = models.Secret(email)
				return db.Gorm.Save(u).Error
			}},
			{"update column", func(email string) error {
				return db.Gorm.Model(u).Update("email", models.Secret(email)).Error
			}},
			{"updates map", func(email string) error {
				return db.Gorm.Model(u).Updates(map[string]any{"email": models.Secret(email)}).Error
			}},
			{"updates struct", func(email string) error {
				return db.Gorm.Model(u).Updates(models.ExternalUser{Email: models.Secret(email)}).Error
			}},
			{"updates struct pointer", func(email string) error {
				return db.Gorm.Model(u).Updates(&models.ExternalUser{Email: models.Secret(email)}).Error
			}},
		}
		for i, w := range sealed {
			email := fmt.Sprintf("path%d@example.com", i)
			if err := w.write(email); err != nil {
				t.Errorf("%s: %v", w.name, err)
				continue
			}
			raw := rawColumn(t, db, "external_users", "email", u.ID)
			if bytes.Contains(raw, []byte(email)) {
				t.Errorf("%s wrote plaintext", w.name)
			}
			var got models.ExternalUser
			if err := db.Gorm.Take(&got, "id = ?", u.ID).Error; err != nil || got.Email.Reveal() != email {
				t.Errorf("%s: read back %q, %v; want %q", w.name, got.Email.Reveal(), err, email)
			}
		}
	})
}

func TestEncryptedReadPaths(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	testdb.ForEachDialect(t, newClock(), func(t *testing.T, db *testdb.DB) {
		u, err := db.Store.UpsertSlackUser(ctx, models.SlackUser{ID: "U1", Email: secretEmail})
		if err != nil {
			t.Fatal(err)
		}
		inc, _, err := db.Store.CreateIncident(ctx, models.NewIncident{Title: "db down", ReporterID: &u.ID, LeadID: &u.ID})
		if err != nil {
			t.Fatal(err)
		}

		var joined models.Incident
		if err := db.Gorm.Joins("Reporter").Joins("Lead").Take(&joined, inc.ID).Error; err != nil {
			t.Fatal(err)
		}
		if joined.Reporter == nil || joined.Reporter.Email.Reveal() != secretEmail || joined.Lead.Email.Reveal() != secretEmail {
			t.Errorf("Joins left the email of a joined user sealed")
		}
		preloaded, err := db.Store.IncidentByID(ctx, inc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if preloaded.Reporter.Email.Reveal() != secretEmail {
			t.Errorf("preloaded reporter email = %q", preloaded.Reporter.Email.Reveal())
		}

		// Columns read without the primary key cannot be bound to a row.
		var partial models.ExternalUser
		err = db.Gorm.Select("email").Take(&partial, "id = ?", u.ID).Error
		if !errors.Is(err, models.ErrNoRowKey) {
			t.Errorf("reading email without id: err = %v, want ErrNoRowKey", err)
		}

		// Another struct than the model is refused, not guessed at (nor a panic).
		type userView struct {
			ID    string
			Email models.EncryptedString
		}
		var views []userView
		if err := db.Gorm.Model(&models.ExternalUser{}).Find(&views).Error; err == nil {
			t.Error("reading encrypted columns into another struct succeeded")
		}
		var emails []models.EncryptedString
		if err := db.Gorm.Model(&models.ExternalUser{}).Pluck("email", &emails).Error; err == nil {
			t.Error("plucking an encrypted column succeeded without decrypting")
		}
		type idOnly struct{ ID string }
		var ids []idOnly
		if err := db.Gorm.Model(&models.ExternalUser{}).Find(&ids).Error; err != nil || len(ids) != 1 || ids[0].ID != u.ID {
			t.Errorf("reading ids into another struct: %v, %v", ids, err)
		}
	})
}

func TestEncryptedStringNeverPrintsPlaintext(t *testing.T) {
	t.Parallel()
	e := models.Secret(secretEmail)
	u := models.ExternalUser{ID: "id", DisplayName: "Ada", Email: e}
	var printed []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10.3s"} {
		printed = append(printed, fmt.Sprintf(verb, e), fmt.Sprintf(verb, &e), fmt.Sprintf(verb, u), fmt.Sprintf(verb, &u))
	}
	printed = append(printed, e.String(), fmt.Sprint(e), fmt.Sprintln(u))

	for _, h := range []func(*bytes.Buffer) slog.Handler{
		func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
	} {
		var buf bytes.Buffer
		slog.New(h(&buf)).Info("user", "email", e, "user", u, "ptr", &u, slog.Any("any", e))
		printed = append(printed, buf.String())
	}
	for _, p := range printed {
		if strings.Contains(p, "lovelace") || strings.Contains(p, fmt.Sprintf("%x", secretEmail)) {
			t.Errorf("plaintext printed: %s", p)
		}
	}
	if got := fmt.Sprint(e); got != "[encrypted]" {
		t.Errorf("fmt.Sprint = %q, want [encrypted]", got)
	}
	if e.Reveal() != secretEmail {
		t.Error("Reveal does not return the plaintext")
	}
}

func TestStoreCipher(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.New(t, models.DialectSQLite, nil)
	if db.Store.Cipher() != db.Cipher {
		t.Error("Store.Cipher() is not the cipher the database was opened with")
	}
	_ = db.Store.InTx(ctx, func(tx *models.Store) error {
		if tx.Cipher() != db.Cipher {
			t.Error("a transaction's Store lost the cipher")
		}
		return nil
	})

	bare, err := gorm.Open(sqlite.Open(filepath.Join(t.TempDir(), "bare.db")), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = models.Close(bare) })
	if _, err := models.NewStore(bare, nil).Rekey(ctx, 0); err == nil {
		t.Error("Rekey without a registered cipher succeeded")
	}
}
