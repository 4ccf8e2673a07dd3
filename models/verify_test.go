package models_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/models"
)

func verifyFixture(t *testing.T, db *testdb.DB) (*models.Person, *models.ContactMethod) {
	t.Helper()
	now := t0
	slack := "U0OWNER"
	p := &models.Person{ID: uuid.NewString(), Name: "olga", SlackUserID: &slack, Active: true, CreatedAt: now, UpdatedAt: now}
	cm := &models.ContactMethod{ID: uuid.Must(uuid.NewV7()).String(), PersonID: p.ID, Mode: "sms", Destination: models.Secret("+15550100001"), CreatedAt: now}
	for _, v := range []any{p, cm} {
		if err := db.Gorm.Create(v).Error; err != nil {
			t.Fatal(err)
		}
	}
	return p, cm
}

func TestVerifyContact(t *testing.T) {
	clock := newClock()
	testdb.ForEachDialect(t, clock, func(t *testing.T, db *testdb.DB) {
		ctx, s := context.Background(), db.Store
		_, cm := verifyFixture(t, db)
		verified := func() bool {
			t.Helper()
			got, err := s.ContactMethodByID(ctx, cm.ID)
			if err != nil {
				t.Fatal(err)
			}
			return got.VerifiedAt != nil
		}
		if err := s.VerifyContact(ctx, cm.ID, "123456"); !errors.Is(err, models.ErrVerificationNotPending) {
			t.Fatalf("no code sent: %v, want ErrVerificationNotPending", err)
		}
		if err := s.VerifyContact(ctx, "nope", "123456"); !models.IsNotFound(err) {
			t.Fatalf("unknown contact: %v, want not found", err)
		}
		if err := s.SetVerificationCode(ctx, "nope", "123456"); !models.IsNotFound(err) {
			t.Fatalf("code for an unknown contact: %v, want not found", err)
		}

		if err := s.SetVerificationCode(ctx, cm.ID, "012345"); err != nil {
			t.Fatal(err)
		}

		// Wrong codes count; the fifth try is the last.
		for i := 0; i < models.MaxVerificationAttempts; i++ {
			if err := s.VerifyContact(ctx, cm.ID, "999999"); !errors.Is(err, models.ErrVerificationWrongCode) {
				t.Fatalf("wrong code %d: %v", i+1, err)
			}
		}
		if err := s.VerifyContact(ctx, cm.ID, "012345"); !errors.Is(err, models.ErrVerificationTooManyTries) {
			t.Fatalf("right code after %d wrong ones: %v, want ErrVerificationTooManyTries", models.MaxVerificationAttempts, err)
		}
		if verified() {
			t.Fatal("verified after too many tries")
		}

		// A new code starts over; it expires after 15 minutes.
		if err := s.SetVerificationCode(ctx, cm.ID, "222222"); err != nil {
			t.Fatal(err)
		}
		clock.Advance(models.VerificationCodeTTL)
		if err := s.VerifyContact(ctx, cm.ID, "222222"); !errors.Is(err, models.ErrVerificationExpired) {
			t.Fatalf("expired code: %v, want ErrVerificationExpired", err)
		}

		if err := s.SetVerificationCode(ctx, cm.ID, "333333"); err != nil {
			t.Fatal(err)
		}
		clock.Advance(models.VerificationCodeTTL - time.Second)
		if err := s.VerifyContact(ctx, cm.ID, "222222"); !errors.Is(err, models.ErrVerificationWrongCode) {
			t.Fatalf("the replaced code: %v, want ErrVerificationWrongCode", err)
		}
		if err := s.VerifyContact(ctx, cm.ID, "333333"); err != nil {
			t.Fatalf("right code: %v", err)
		}
		if !verified() {
			t.Fatal("not verified after the right code")
		}
		if err := s.VerifyContact(ctx, cm.ID, "333333"); !errors.Is(err, models.ErrVerificationNotPending) {
			t.Fatalf("code used twice: %v, want ErrVerificationNotPending", err)
		}
	})
}

// rawVerifyCode reads a contact's stored code as a database dump shows it.
func rawVerifyCode(t *testing.T, db *testdb.DB, id string) []byte {
	t.Helper()
	var raw []byte
	if err := db.Gorm.Raw("SELECT verify_code FROM contact_methods WHERE id = ?", id).Row().Scan(&raw); err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestVerificationCodeIsSealed: a dump of the row does not give the code
// away (an unkeyed hash of six digits would), only the server's keyset
// opens it, and only in its own row.
func TestVerificationCodeIsSealed(t *testing.T) {
	clock := newClock()
	testdb.ForEachDialect(t, clock, func(t *testing.T, db *testdb.DB) {
		ctx, s := context.Background(), db.Store
		p, cm := verifyFixture(t, db)
		other := &models.ContactMethod{ID: uuid.Must(uuid.NewV7()).String(), PersonID: p.ID, Mode: "call", Destination: models.Secret("+15550100001"), CreatedAt: t0}
		if err := db.Gorm.Create(other).Error; err != nil {
			t.Fatal(err)
		}
		const code = "042137"
		if err := s.SetVerificationCode(ctx, cm.ID, code); err != nil {
			t.Fatal(err)
		}
		raw := rawVerifyCode(t, db, cm.ID)
		if len(raw) == 0 || bytes.Contains(raw, []byte(code)) {
			t.Fatalf("stored code %x; want a ciphertext without the digits", raw)
		}
		ad := []byte("herald/v1/contact_methods/verify_code/" + cm.ID)
		if got, err := db.Cipher.Open(raw, ad); err != nil || string(got) != code {
			t.Fatalf("opening with the server's keyset: %q, %v; want the code", got, err)
		}
		// Without the key there is nothing to brute-force against.
		keys, err := models.GenerateKeyset()
		if err != nil {
			t.Fatal(err)
		}
		stranger, err := models.NewFieldCipher(keys)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := stranger.Open(raw, ad); !errors.Is(err, models.ErrDecrypt) {
			t.Fatalf("opening with another keyset: %q, %v; want ErrDecrypt", got, err)
		}
		// Sealing the same code again gives another ciphertext: equal
		// codes cannot be spotted across rows either.
		if err := s.SetVerificationCode(ctx, other.ID, code); err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(rawVerifyCode(t, db, other.ID), raw) {
			t.Fatal("the same code sealed twice gave the same bytes")
		}

		// Copied into another contact's row, the code does not work there.
		if err := db.Gorm.Exec("UPDATE contact_methods SET verify_code = ? WHERE id = ?", raw, other.ID).Error; err != nil {
			t.Fatal(err)
		}
		err = s.VerifyContact(ctx, other.ID, code)
		if !errors.Is(err, models.ErrVerificationNotPending) || !errors.Is(err, models.ErrDecrypt) {
			t.Fatalf("code copied to another row: %v; want ErrVerificationNotPending wrapping ErrDecrypt", err)
		}
		if got, err := s.ContactMethodByID(ctx, other.ID); err != nil || got.VerifiedAt != nil {
			t.Fatalf("the other contact: %+v, %v; want it unverified", got, err)
		}
		if err := s.VerifyContact(ctx, cm.ID, code); err != nil {
			t.Fatalf("the code in its own row: %v", err)
		}
		if raw := rawVerifyCode(t, db, cm.ID); raw != nil {
			t.Fatalf("after use the row still holds %x; want NULL", raw)
		}
	})
}

func TestPlanOwnerSlackID(t *testing.T) {
	clock := newClock()
	testdb.ForEachDialect(t, clock, func(t *testing.T, db *testdb.DB) {
		ctx, s := context.Background(), db.Store
		owner, _ := verifyFixture(t, db)
		plan := &models.Plan{ID: uuid.NewString(), Name: "payments", OwnerID: &owner.ID, ActiveVersion: 1, CreatedAt: t0, UpdatedAt: t0}
		orphan := &models.Plan{ID: uuid.NewString(), Name: "orphan", ActiveVersion: 1, CreatedAt: t0, UpdatedAt: t0}
		for _, v := range []any{plan, orphan} {
			if err := db.Gorm.Create(v).Error; err != nil {
				t.Fatal(err)
			}
		}
		var pvs []*models.PlanVersion
		for _, p := range []*models.Plan{plan, orphan} {
			pv := &models.PlanVersion{PlanID: p.ID, Version: 1, Definition: `{"steps":[]}`, CreatedBy: "test", CreatedAt: t0}
			if err := db.Gorm.Create(pv).Error; err != nil {
				t.Fatal(err)
			}
			pvs = append(pvs, pv)
		}
		incident := func(title string) int64 {
			inc, _, err := s.CreateIncident(ctx, models.NewIncident{Title: title, Severity: models.SEV2})
			if err != nil {
				t.Fatal(err)
			}
			return inc.ID
		}
		owned, unowned, none := incident("owned"), incident("unowned"), incident("none")
		for id, pv := range map[int64]*models.PlanVersion{owned: pvs[0], unowned: pvs[1]} {
			if _, err := s.StartEscalation(ctx, id, pv.ID); err != nil {
				t.Fatal(err)
			}
		}
		for id, want := range map[int64]string{owned: "U0OWNER", unowned: "", none: ""} {
			if got, err := s.PlanOwnerSlackID(ctx, id); err != nil || got != want {
				t.Errorf("PlanOwnerSlackID(%d) = %q, %v; want %q", id, got, err, want)
			}
		}
	})
}
