package models

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"
)

// ErrIntegrationExists means an integration of that name exists already.
var ErrIntegrationExists = errors.New("an integration with that name exists")

// MaxIntegrationQuota bounds quota_per_minute (0 means unlimited).
const MaxIntegrationQuota = 1_000_000

// integrationName is what an integration may be called: it appears in Iris
// "hmac <name>:<digest>" headers, so no spaces or colons.
var integrationName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// ValidIntegrationName reports why a name cannot name an integration.
func ValidIntegrationName(name string) error {
	if !integrationName.MatchString(name) {
		return fmt.Errorf("%w: integration name %q: 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit", ErrInvalid, name)
	}
	return nil
}

// NewIntegration is an integration to create.
type NewIntegration struct {
	Name           string
	Services       []string // names; at least one, each must exist
	QuotaPerMinute int      // 0: unlimited
}

// CreateIntegration stores an integration scoped to its services and
// mints its key, in one transaction, and returns the key: the only time it
// is shown. A name in use is ErrIntegrationExists, an unknown service an
// error satisfying IsNotFound, anything malformed ErrInvalid.
func (s *Store) CreateIntegration(ctx context.Context, n NewIntegration) (*Integration, string, error) {
	if err := ValidIntegrationName(n.Name); err != nil {
		return nil, "", err
	}
	if n.QuotaPerMinute < 0 || n.QuotaPerMinute > MaxIntegrationQuota {
		return nil, "", fmt.Errorf("%w: quota_per_minute %d is not 0-%d", ErrInvalid, n.QuotaPerMinute, MaxIntegrationQuota)
	}
	if len(n.Services) == 0 {
		return nil, "", fmt.Errorf("%w: an integration needs at least one service", ErrInvalid)
	}
	var in *Integration
	var key string
	err := s.InTx(ctx, func(tx *Store) error {
		var exists int64
		if err := tx.db.WithContext(ctx).Model(&Integration{}).Where("name = ?", n.Name).Count(&exists).Error; err != nil {
			return fmt.Errorf("checking integration name: %w", err)
		}
		if exists > 0 {
			return fmt.Errorf("%w: %q", ErrIntegrationExists, n.Name)
		}
		ids := map[string]bool{}
		for _, name := range n.Services {
			svc, err := tx.ServiceByName(ctx, strings.TrimSpace(name))
			if err != nil {
				return err
			}
			ids[svc.ID] = true
		}
		now := tx.clock.Now().UTC()
		in = &Integration{ID: NewIntegrationID(), Name: n.Name, QuotaPerMinute: n.QuotaPerMinute, CreatedAt: now, UpdatedAt: now}
		if err := tx.db.WithContext(ctx).Create(in).Error; err != nil {
			if errors.Is(err, gorm.ErrDuplicatedKey) {
				return fmt.Errorf("%w: %q", ErrIntegrationExists, n.Name)
			}
			return fmt.Errorf("storing integration: %w", err)
		}
		for id := range ids {
			if err := tx.db.WithContext(ctx).Create(&IntegrationService{IntegrationID: in.ID, ServiceID: id}).Error; err != nil {
				return fmt.Errorf("scoping integration to a service: %w", err)
			}
		}
		var err error
		key, err = tx.MintIntegrationKey(ctx, in.ID, false)
		return err
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		// A concurrent create of the same name won.
		return nil, "", fmt.Errorf("%w: %q", ErrIntegrationExists, n.Name)
	}
	if err != nil {
		return nil, "", err
	}
	return in, key, nil
}

// IntegrationSummary is what administrators see of an integration: never
// its keys.
type IntegrationSummary struct {
	Name           string     `json:"name"`
	Services       []string   `json:"services"`
	QuotaPerMinute int        `json:"quota_per_minute"`
	Revoked        bool       `json:"revoked"`
	RevokedAt      *time.Time `json:"revoked_at,omitempty"`
	HasSecondary   bool       `json:"has_secondary_key"`
	CreatedAt      time.Time  `json:"created_at"`
	LastUsedAt     *time.Time `json:"last_used_at,omitempty"`
}

// IntegrationSummaries lists every integration by name, with the names of
// its services.
func (s *Store) IntegrationSummaries(ctx context.Context) ([]IntegrationSummary, error) {
	var ins []Integration
	// The sealed keys are not selected: a listing has no use for them.
	err := s.db.WithContext(ctx).Select("id", "name", "secondary_key_hash", "quota_per_minute", "revoked_at", "last_used_at", "created_at").
		Order("name").Find(&ins).Error
	if err != nil {
		return nil, fmt.Errorf("listing integrations: %w", err)
	}
	var scopes []struct {
		IntegrationID string
		Name          string
	}
	err = s.db.WithContext(ctx).Table("integration_services").Select("integration_services.integration_id, services.name").
		Joins("JOIN services ON services.id = integration_services.service_id").Scan(&scopes).Error
	if err != nil {
		return nil, fmt.Errorf("listing integration services: %w", err)
	}
	services := map[string][]string{}
	for _, sc := range scopes {
		services[sc.IntegrationID] = append(services[sc.IntegrationID], sc.Name)
	}
	out := make([]IntegrationSummary, 0, len(ins))
	for _, in := range ins {
		names := services[in.ID]
		sort.Strings(names)
		if names == nil {
			names = []string{}
		}
		out = append(out, IntegrationSummary{
			Name: in.Name, Services: names, QuotaPerMinute: in.QuotaPerMinute, Revoked: in.RevokedAt != nil,
			RevokedAt: in.RevokedAt, HasSecondary: in.SecondaryKeyHash != nil, CreatedAt: in.CreatedAt, LastUsedAt: in.LastUsedAt,
		})
	}
	return out, nil
}
