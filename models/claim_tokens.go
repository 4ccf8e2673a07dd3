package models

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm/clause"
)

// ClaimToken records one use of a single-use claim link, keyed on a hash
// of the link's signature (notifications.ClaimLink.UseKey).
type ClaimToken struct {
	TokenHash string `gorm:"primaryKey"`
	UsedAt    time.Time
}

// UseClaimToken records a claim link's use. first is false when it had
// been used already; of two concurrent uses exactly one is first.
func (s *Store) UseClaimToken(ctx context.Context, tokenHash string) (first bool, err error) {
	res := s.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).
		Create(&ClaimToken{TokenHash: tokenHash, UsedAt: s.clock.Now().UTC()})
	if res.Error != nil {
		return false, fmt.Errorf("recording claim link use: %w", res.Error)
	}
	return res.RowsAffected == 1, nil
}

// ClaimTokenUsed reports whether a claim link was used.
func (s *Store) ClaimTokenUsed(ctx context.Context, tokenHash string) (bool, error) {
	var n int64
	if err := s.db.WithContext(ctx).Model(&ClaimToken{}).Where("token_hash = ?", tokenHash).Count(&n).Error; err != nil {
		return false, fmt.Errorf("checking claim link use: %w", err)
	}
	return n > 0, nil
}

// ForgetClaimToken un-records a use, so a link whose claim failed for a
// passing reason works again.
func (s *Store) ForgetClaimToken(ctx context.Context, tokenHash string) error {
	if err := s.db.WithContext(ctx).Where("token_hash = ?", tokenHash).Delete(&ClaimToken{}).Error; err != nil {
		return fmt.Errorf("forgetting claim link use: %w", err)
	}
	return nil
}

// PruneClaimTokens forgets the uses recorded before the cut-off and says
// how many. Only used links have rows (an expired, unused link has none),
// and a link expires a fixed time after it was sent, so before it was
// used: once that time has passed the link is refused as expired and its
// row guards nothing. Callers keep rows longer than the links' lifetime.
func (s *Store) PruneClaimTokens(ctx context.Context, before time.Time) (int64, error) {
	res := s.db.WithContext(ctx).Where("used_at < ?", before.UTC()).Delete(&ClaimToken{})
	if res.Error != nil {
		return 0, fmt.Errorf("pruning claim link uses: %w", res.Error)
	}
	return res.RowsAffected, nil
}

// ClaimantName names the person a claim code was sent to for an
// incident: full name, else handle. An unknown code or a message to
// nobody is an error satisfying IsNotFound.
func (s *Store) ClaimantName(ctx context.Context, incidentID int64, claimCode string) (string, error) {
	var p Person
	err := s.db.WithContext(ctx).
		Joins("JOIN messages ON messages.person_id = people.id").
		Where("messages.incident_id = ? AND messages.claim_code = ?", incidentID, claimCode).
		Order("messages.id DESC").Take(&p).Error
	if err != nil {
		return "", fmt.Errorf("finding who claim code was sent to: %w", err)
	}
	if name := strings.TrimSpace(p.FullName); name != "" {
		return name, nil
	}
	return p.Name, nil
}
