package models

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// VerificationCodeTTL is how long a contact verification code works.
const VerificationCodeTTL = 15 * time.Minute

// MaxVerificationAttempts is how many codes may be tried against one sent
// code; after that a new code must be sent.
const MaxVerificationAttempts = 5

// Verification errors, each a different answer to the person verifying.
var (
	ErrVerificationWrongCode    = errors.New("wrong verification code")
	ErrVerificationExpired      = errors.New("verification code expired")
	ErrVerificationNotPending   = errors.New("no verification code was sent, or it was already used")
	ErrVerificationTooManyTries = errors.New("too many wrong verification codes")
)

// contactVerification is the verification state of a contact method: a
// model of its own on contact_methods, not part of ContactMethod, so that
// nothing but this file ever loads the code and writes of contact methods
// (herald apply) cannot touch a pending one.
//
// The code is sealed like every encrypted column (Tink AES-256-GCM under
// ENCRYPTED_FIELD_KEY, bound to this table, column and row), not hashed:
// six digits are 10^6 guesses, so any unkeyed hash in a database dump gives
// the code away within its 15 minutes. Sealing needs the server's key to
// read or forge a code, reuses the keyset's rotation and adds no second
// secret; an HMAC would need raw key bytes, which Tink keeps to itself.
type contactVerification struct {
	ID              string
	VerifyCode      EncryptedString
	VerifyExpiresAt *time.Time
	VerifyAttempts  int
}

// TableName implements gorm's tabler: the columns live on contact_methods,
// and the associated data of the sealed code names that table.
func (contactVerification) TableName() string { return "contact_methods" }

// ContactMethodByID loads one contact method.
func (s *Store) ContactMethodByID(ctx context.Context, id string) (*ContactMethod, error) {
	var cm ContactMethod
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&cm).Error; err != nil {
		return nil, fmt.Errorf("loading contact method: %w", err)
	}
	return &cm, nil
}

// SetVerificationCode seals a newly sent code for a contact method,
// expiring VerificationCodeTTL from now, and resets its tries. A code sent
// before stops working. An unknown id is an error satisfying IsNotFound.
func (s *Store) SetVerificationCode(ctx context.Context, contactMethodID, code string) error {
	if code == "" {
		return errors.New("storing verification code: empty code")
	}
	if contactMethodID == "" {
		return fmt.Errorf("storing verification code: %w", gorm.ErrRecordNotFound)
	}
	expires := s.clock.Now().UTC().Add(VerificationCodeTTL)
	// The model carries the id: the seal callback binds the code to it.
	res := s.db.WithContext(ctx).Model(&contactVerification{ID: contactMethodID}).Where("id = ?", contactMethodID).Updates(map[string]any{
		"verify_code": Secret(code), "verify_expires_at": expires, "verify_attempts": 0,
	})
	if res.Error != nil {
		return fmt.Errorf("storing verification code: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("storing verification code: %w", gorm.ErrRecordNotFound)
	}
	return nil
}

// VerifyContact checks a code against the one last sent to a contact
// method. The right code marks the contact verified (it may be paged from
// then on) and uses the code up. A wrong one counts as a try: after
// MaxVerificationAttempts the code no longer works, even the right one.
// An unknown id is an error satisfying IsNotFound; a stored code that does
// not decrypt (its key was dropped from the keyset, or it was copied from
// another row) is ErrVerificationNotPending wrapping ErrDecrypt.
func (s *Store) VerifyContact(ctx context.Context, contactMethodID, code string) error {
	var v contactVerification
	err := s.db.WithContext(ctx).Select("id", "verify_code", "verify_expires_at", "verify_attempts").
		Where("id = ?", contactMethodID).Take(&v).Error
	if errors.Is(err, ErrDecrypt) {
		return fmt.Errorf("%w: %w", ErrVerificationNotPending, err)
	}
	if err != nil {
		return fmt.Errorf("loading contact verification: %w", err)
	}
	switch {
	case v.VerifyCode.IsZero() || v.VerifyExpiresAt == nil:
		return ErrVerificationNotPending
	case v.VerifyAttempts >= MaxVerificationAttempts:
		return ErrVerificationTooManyTries
	case !s.clock.Now().Before(*v.VerifyExpiresAt):
		return ErrVerificationExpired
	}
	// The ciphertext identifies the code sent (a new seal of even the same
	// digits differs), so the updates below compare it, as written.
	sealed := v.VerifyCode.sealed
	// Take a try first, atomically: concurrent guesses cannot get past
	// the limit, and a guess is counted whatever happens next.
	res := s.db.WithContext(ctx).Model(&contactVerification{}).
		Where("id = ? AND verify_code = ? AND verify_attempts < ?", contactMethodID, sealed, MaxVerificationAttempts).
		Update("verify_attempts", gorm.Expr("verify_attempts + 1"))
	if res.Error != nil {
		return fmt.Errorf("counting verification try: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		// Tries ran out, the code was used or replaced meanwhile.
		return ErrVerificationTooManyTries
	}
	if subtle.ConstantTimeCompare([]byte(v.VerifyCode.Reveal()), []byte(code)) != 1 {
		return ErrVerificationWrongCode
	}
	now := s.clock.Now().UTC()
	res = s.db.WithContext(ctx).Model(&ContactMethod{}).Where("id = ? AND verify_code = ?", contactMethodID, sealed).
		Updates(map[string]any{"verified_at": now, "verify_code": nil, "verify_expires_at": nil, "verify_attempts": 0})
	if res.Error != nil {
		return fmt.Errorf("marking contact verified: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrVerificationNotPending // a concurrent right guess used it
	}
	return nil
}

// PlanOwnerSlackID is the Slack user id of the owner of the plan an
// incident escalates with: "" when it has no escalation, the plan no
// owner, or the owner no Slack account.
func (s *Store) PlanOwnerSlackID(ctx context.Context, incidentID int64) (string, error) {
	var ids []*string
	err := s.db.WithContext(ctx).Table("escalations").
		Joins("JOIN plan_versions ON plan_versions.id = escalations.plan_version_id").
		Joins("JOIN plans ON plans.id = plan_versions.plan_id").
		Joins("JOIN people ON people.id = plans.owner_id").
		Where("escalations.incident_id = ? AND people.active", incidentID).
		Limit(1).Pluck("people.slack_user_id", &ids).Error
	if err != nil {
		return "", fmt.Errorf("finding plan owner of incident: %w", err)
	}
	if len(ids) == 0 || ids[0] == nil {
		return "", nil
	}
	return *ids[0], nil
}
