package models

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Calendar token kinds: what an iCalendar feed URL shows.
const (
	CalendarTokenSchedule = "schedule" // one schedule's shifts; subject a schedule id
	CalendarTokenPerson   = "person"   // one person's shifts; subject a person id
)

// calendarTokenPrefix starts every calendar token, so a leaked one is
// recognisable (secret scanners).
const calendarTokenPrefix = "hcal_"

// CalendarToken is the secret of a calendar feed URL, kept as its SHA-256:
// the token itself is shown once, when it is issued. A subject has at most
// one token in force.
type CalendarToken struct {
	ID        string // UUIDv7; its hex digits are part of the token
	Kind      string // CalendarTokenSchedule, CalendarTokenPerson
	SubjectID string
	TokenHash string
	CreatedAt time.Time
	RevokedAt *time.Time
}

// errUnknownCalendarToken is what every refused token gets: a not-found
// error, whatever the reason (malformed, unknown, revoked, wrong secret).
var errUnknownCalendarToken = fmt.Errorf("calendar token not accepted: %w", gorm.ErrRecordNotFound)

// IssueCalendarToken makes a new token for a subject (a schedule or person
// id, which must exist: else a not-found error) and revokes the one it
// had. It returns the token, which is stored only hashed, and whether an
// older token was revoked.
func (s *Store) IssueCalendarToken(ctx context.Context, kind, subjectID string) (token string, rotated bool, err error) {
	if err := s.requireCalendarSubject(ctx, kind, subjectID); err != nil {
		return "", false, err
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return "", false, fmt.Errorf("generating a calendar token: %w", err)
	}
	id := newID()
	token = calendarTokenPrefix + strings.ReplaceAll(id, "-", "") + "_" + base64.RawURLEncoding.EncodeToString(secret)
	// Two concurrent rotations of one subject: the unique index of tokens
	// in force refuses the second insert; it then revokes the winner's.
	for attempt := 0; ; attempt++ {
		err = s.InTx(ctx, func(tx *Store) error {
			now := tx.clock.Now().UTC()
			res := tx.db.WithContext(ctx).Model(&CalendarToken{}).
				Where("kind = ? AND subject_id = ? AND revoked_at IS NULL", kind, subjectID).Update("revoked_at", now)
			if res.Error != nil {
				return fmt.Errorf("revoking the old calendar token: %w", res.Error)
			}
			rotated = res.RowsAffected > 0
			row := &CalendarToken{ID: id, Kind: kind, SubjectID: subjectID, TokenHash: keyHash(token), CreatedAt: now}
			if err := tx.db.WithContext(ctx).Create(row).Error; err != nil {
				return fmt.Errorf("storing the calendar token: %w", err)
			}
			return nil
		})
		if err == nil || !errors.Is(err, gorm.ErrDuplicatedKey) || attempt == 2 {
			break
		}
	}
	if err != nil {
		return "", false, err
	}
	return token, rotated, nil
}

// RevokeCalendarToken revokes a subject's token in force; a not-found
// error when it has none.
func (s *Store) RevokeCalendarToken(ctx context.Context, kind, subjectID string) error {
	res := s.db.WithContext(ctx).Model(&CalendarToken{}).
		Where("kind = ? AND subject_id = ? AND revoked_at IS NULL", kind, subjectID).Update("revoked_at", s.clock.Now().UTC())
	if res.Error != nil {
		return fmt.Errorf("revoking the calendar token: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("no calendar token in force for %s %s: %w", kind, subjectID, gorm.ErrRecordNotFound)
	}
	return nil
}

// CalendarTokenSubject is the subject id a token of kind shows. Every
// refusal (malformed, unknown, revoked, of another kind, wrong secret) is
// the same not-found error; the secret's hash is compared in constant
// time.
func (s *Store) CalendarTokenSubject(ctx context.Context, kind, token string) (string, error) {
	rest, ok := strings.CutPrefix(token, calendarTokenPrefix)
	if !ok || len(rest) < 34 || rest[32] != '_' || !isLowerHex(rest[:32]) {
		return "", errUnknownCalendarToken
	}
	c := rest[:32]
	id := c[0:8] + "-" + c[8:12] + "-" + c[12:16] + "-" + c[16:20] + "-" + c[20:32]
	var row CalendarToken
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&row).Error
	if IsNotFound(err) {
		return "", errUnknownCalendarToken
	}
	if err != nil {
		return "", fmt.Errorf("loading calendar token: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(keyHash(token)), []byte(row.TokenHash)) != 1 || row.RevokedAt != nil || row.Kind != kind {
		return "", errUnknownCalendarToken
	}
	return row.SubjectID, nil
}

func (s *Store) requireCalendarSubject(ctx context.Context, kind, subjectID string) error {
	var err error
	switch kind {
	case CalendarTokenSchedule:
		_, err = s.ScheduleByID(ctx, subjectID)
	case CalendarTokenPerson:
		var p Person
		err = s.db.WithContext(ctx).Where("id = ?", subjectID).Take(&p).Error
		if err != nil {
			err = fmt.Errorf("finding person %s: %w", subjectID, err)
		}
	default:
		return fmt.Errorf("%w: calendar token kind %q is not schedule or person", ErrInvalid, kind)
	}
	return err
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
