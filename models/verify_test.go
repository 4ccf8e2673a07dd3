package models_test

import (
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

		// Only the hash is stored.
		if err := s.SetVerificationCode(ctx, cm.ID, "012345"); err != nil {
			t.Fatal(err)
		}
		var stored string
		if err := db.Gorm.Table("contact_methods").Select("verify_code_hash").Where("id = ?", cm.ID).Scan(&stored).Error; err != nil || stored == "" || stored == "012345" {
			t.Fatalf("stored %q, %v; want a hash", stored, err)
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
