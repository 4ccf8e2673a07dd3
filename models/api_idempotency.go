package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm/clause"
)

// APIAnswerTTL is how long the first answer to a request with an
// Idempotency-Key is replayed.
const APIAnswerTTL = 24 * time.Hour

// APIAnswer is the first answer an integration got to a create sent with
// an Idempotency-Key: retries get it back as it was.
type APIAnswer struct {
	IntegrationID  string `gorm:"primaryKey"`
	IdempotencyKey string `gorm:"primaryKey"`
	Status         int
	Body           string
	CreatedAt      time.Time
}

// TableName is the table of the answers.
func (APIAnswer) TableName() string { return "api_idempotency_keys" }

// APIAnswerFor finds the stored answer of an integration's idempotency key
// (younger than APIAnswerTTL); none is an error satisfying IsNotFound.
func (s *Store) APIAnswerFor(ctx context.Context, integrationID, key string) (*APIAnswer, error) {
	var a APIAnswer
	err := s.db.WithContext(ctx).Where("integration_id = ? AND idempotency_key = ? AND created_at > ?",
		integrationID, key, s.clock.Now().UTC().Add(-APIAnswerTTL)).Take(&a).Error
	if err != nil {
		return nil, fmt.Errorf("finding the answer of an idempotency key: %w", err)
	}
	return &a, nil
}

// SaveAPIAnswer records the first answer of an idempotency key and returns
// the answer stored: a concurrent twin's, when it was saved first. Answers
// older than APIAnswerTTL are forgotten on the way.
func (s *Store) SaveAPIAnswer(ctx context.Context, a APIAnswer) (*APIAnswer, error) {
	now := s.clock.Now().UTC()
	a.CreatedAt = now
	err := s.db.WithContext(ctx).Where("created_at <= ?", now.Add(-APIAnswerTTL)).Delete(&APIAnswer{}).Error
	if err != nil {
		return nil, fmt.Errorf("forgetting old idempotency keys: %w", err)
	}
	if err := s.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&a).Error; err != nil {
		return nil, fmt.Errorf("saving the answer of an idempotency key: %w", err)
	}
	return s.APIAnswerFor(ctx, a.IntegrationID, a.IdempotencyKey)
}
