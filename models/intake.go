package models

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// Service is something that breaks: owned by a team, escalating with a
// plan. Incidents raised for it over HTTP start its plan.
type Service struct {
	ID               string
	Name             string
	Description      string
	TeamID           *string
	PlanID           *string
	DefaultSeverity  Severity
	WorkingHoursOnly bool
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// Integration is a monitoring source (Iris's "application") that raises
// incidents over HTTP with its key, for the services it is scoped to.
type Integration struct {
	ID               string // UUIDv7, set before insert (the sealed keys bind to it)
	Name             string
	KeyHash          *string
	Key              EncryptedString `gorm:"column:key_sealed"`
	SecondaryKeyHash *string
	SecondaryKey     EncryptedString `gorm:"column:secondary_key_sealed"`
	QuotaPerMinute   int
	GenericConfig    string
	RevokedAt        *time.Time
	LastUsedAt       *time.Time
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// IntegrationService scopes an integration to a service.
type IntegrationService struct {
	IntegrationID string `gorm:"primaryKey"`
	ServiceID     string `gorm:"primaryKey"`
}

// Integration key errors.
var (
	// ErrBadKey means a key is malformed, unknown, revoked or wrong; the
	// caller is told only that it is not accepted.
	ErrBadKey = errors.New("integration key not accepted")
	// ErrRevoked means the integration's keys were revoked.
	ErrRevoked = errors.New("integration revoked")
)

// integrationKeyPrefix starts every key, so a leaked one is recognisable
// (secret scanners) and keys of other systems are told apart at once.
const integrationKeyPrefix = "hrld_"

// ServiceByName finds a service.
func (s *Store) ServiceByName(ctx context.Context, name string) (*Service, error) {
	var svc Service
	if err := s.db.WithContext(ctx).Where("name = ?", name).Take(&svc).Error; err != nil {
		return nil, fmt.Errorf("finding service %q: %w", name, err)
	}
	return &svc, nil
}

// ServicesByID loads services by id.
func (s *Store) ServicesByID(ctx context.Context, ids []string) (map[string]*Service, error) {
	out := map[string]*Service{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []Service
	if err := s.db.WithContext(ctx).Where("id IN ?", ids).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("loading services: %w", err)
	}
	for i := range rows {
		out[rows[i].ID] = &rows[i]
	}
	return out, nil
}

// IntegrationByName finds an integration (revoked ones too).
func (s *Store) IntegrationByName(ctx context.Context, name string) (*Integration, error) {
	var in Integration
	if err := s.db.WithContext(ctx).Where("name = ?", name).Take(&in).Error; err != nil {
		return nil, fmt.Errorf("finding integration %q: %w", name, err)
	}
	return &in, nil
}

// IntegrationServiceIDs lists the services an integration may raise
// incidents for.
func (s *Store) IntegrationServiceIDs(ctx context.Context, integrationID string) ([]string, error) {
	var ids []string
	if err := s.db.WithContext(ctx).Model(&IntegrationService{}).Where("integration_id = ?", integrationID).Pluck("service_id", &ids).Error; err != nil {
		return nil, fmt.Errorf("loading the services of an integration: %w", err)
	}
	return ids, nil
}

// MintIntegrationKey gives an integration a new primary key and returns
// it: the only time it is ever shown. With keepOld the previous primary
// becomes the secondary (zero-downtime rotation: both work until
// DropSecondaryKey); without, the old keys stop working at once. Minting
// also lifts a revocation.
func (s *Store) MintIntegrationKey(ctx context.Context, integrationID string, keepOld bool) (string, error) {
	secret := make([]byte, 24)
	if _, err := rand.Read(secret); err != nil {
		return "", fmt.Errorf("generating a key: %w", err)
	}
	compactID := strings.ReplaceAll(integrationID, "-", "")
	key := integrationKeyPrefix + compactID + "_" + base64.RawURLEncoding.EncodeToString(secret)
	hash := keyHash(key)
	err := s.InTx(ctx, func(tx *Store) error {
		var in Integration
		if err := tx.db.WithContext(ctx).Where("id = ?", integrationID).Take(&in).Error; err != nil {
			return fmt.Errorf("loading integration: %w", err)
		}
		in.SecondaryKeyHash, in.SecondaryKey = nil, EncryptedString{}
		if keepOld && in.KeyHash != nil {
			in.SecondaryKeyHash, in.SecondaryKey = in.KeyHash, Secret(in.Key.Reveal())
		}
		in.KeyHash, in.Key = &hash, Secret(key)
		in.RevokedAt, in.UpdatedAt = nil, tx.clock.Now().UTC()
		if err := tx.db.WithContext(ctx).Select("key_hash", "key_sealed", "secondary_key_hash", "secondary_key_sealed", "revoked_at", "updated_at").Save(&in).Error; err != nil {
			return fmt.Errorf("storing the new key: %w", err)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return key, nil
}

// DropSecondaryKey ends a rotation: only the newest key works.
func (s *Store) DropSecondaryKey(ctx context.Context, integrationID string) error {
	res := s.db.WithContext(ctx).Model(&Integration{}).Where("id = ?", integrationID).
		Updates(map[string]any{"secondary_key_hash": nil, "secondary_key_sealed": nil, "updated_at": s.clock.Now().UTC()})
	if res.Error != nil {
		return fmt.Errorf("dropping the secondary key: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("integration %s: %w", integrationID, gorm.ErrRecordNotFound)
	}
	return nil
}

// RevokeIntegration stops every key of an integration at once.
func (s *Store) RevokeIntegration(ctx context.Context, integrationID string) error {
	now := s.clock.Now().UTC()
	res := s.db.WithContext(ctx).Model(&Integration{}).Where("id = ?", integrationID).
		Updates(map[string]any{"revoked_at": now, "key_hash": nil, "key_sealed": nil, "secondary_key_hash": nil, "secondary_key_sealed": nil, "updated_at": now})
	if res.Error != nil {
		return fmt.Errorf("revoking integration: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("integration %s: %w", integrationID, gorm.ErrRecordNotFound)
	}
	return nil
}

// AuthenticateKey finds the integration a bearer key belongs to, checking
// it against the primary and secondary keys in constant time. Every
// failure is ErrBadKey (wrapped with why, for logs; never the key).
func (s *Store) AuthenticateKey(ctx context.Context, key string) (*Integration, error) {
	rest, ok := strings.CutPrefix(key, integrationKeyPrefix)
	if !ok || len(rest) < 33 || rest[32] != '_' {
		return nil, fmt.Errorf("%w: not a Herald integration key", ErrBadKey)
	}
	compact := rest[:32]
	if _, err := hex.DecodeString(compact); err != nil {
		return nil, fmt.Errorf("%w: malformed key id", ErrBadKey)
	}
	id := compact[0:8] + "-" + compact[8:12] + "-" + compact[12:16] + "-" + compact[16:20] + "-" + compact[20:32]
	var in Integration
	err := s.db.WithContext(ctx).Select("id", "name", "key_hash", "secondary_key_hash", "quota_per_minute", "generic_config", "revoked_at", "created_at", "updated_at").
		Where("id = ?", id).Take(&in).Error
	if IsNotFound(err) {
		return nil, fmt.Errorf("%w: unknown integration", ErrBadKey)
	}
	if err != nil {
		return nil, fmt.Errorf("loading integration: %w", err)
	}
	if in.RevokedAt != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadKey, ErrRevoked)
	}
	got := keyHash(key)
	primary := in.KeyHash != nil && subtle.ConstantTimeCompare([]byte(got), []byte(*in.KeyHash)) == 1
	secondary := in.SecondaryKeyHash != nil && subtle.ConstantTimeCompare([]byte(got), []byte(*in.SecondaryKeyHash)) == 1
	if !primary && !secondary {
		return nil, fmt.Errorf("%w: wrong key for integration %s", ErrBadKey, in.Name)
	}
	return &in, nil
}

// IntegrationKeys returns an integration's raw keys (primary, then the
// secondary during a rotation) for protocols that sign with them (Iris
// HMAC).
func (s *Store) IntegrationKeys(ctx context.Context, name string) (*Integration, []string, error) {
	in, err := s.IntegrationByName(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	if in.RevokedAt != nil {
		return in, nil, fmt.Errorf("%w: %w", ErrBadKey, ErrRevoked)
	}
	var keys []string
	for _, k := range []EncryptedString{in.Key, in.SecondaryKey} {
		if v := k.Reveal(); v != "" {
			keys = append(keys, v)
		}
	}
	return in, keys, nil
}

func keyHash(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// NewIntegrationID is the id of a new integration (UUIDv7: the sealed keys
// are bound to it).
func NewIntegrationID() string { return uuid.Must(uuid.NewV7()).String() }

// PlanName is the name of a plan by id.
func (s *Store) PlanName(ctx context.Context, planID string) (string, error) {
	var names []string
	if err := s.db.WithContext(ctx).Model(&Plan{}).Where("id = ?", planID).Pluck("name", &names).Error; err != nil {
		return "", fmt.Errorf("finding plan %s: %w", planID, err)
	}
	if len(names) == 0 {
		return "", fmt.Errorf("plan %s: %w", planID, gorm.ErrRecordNotFound)
	}
	return names[0], nil
}

// TakeQuota spends one request of an integration's per-minute quota (all
// replicas together) and reports whether it was within quota and, if not,
// how long until the next minute starts.
func (s *Store) TakeQuota(ctx context.Context, integrationID string, perMinute int) (bool, time.Duration, error) {
	if perMinute <= 0 {
		return true, 0, nil
	}
	now := s.clock.Now().UTC()
	window := now.Truncate(time.Minute)
	got, err := s.TakeSendTokens(ctx, "quota:"+integrationID, window, 1, perMinute)
	if err != nil {
		return false, 0, err
	}
	return got == 1, window.Add(time.Minute).Sub(now), nil
}

// ServiceLookup is a service as the intake needs it: the service, the
// name of its plan ("" without one) and whether an integration may raise
// incidents for it.
type ServiceLookup struct {
	Service  *Service
	PlanName string
	Allowed  bool
}

// LookupService reads a service, its plan's name and whether integration
// integrationID is scoped to it, in one query: it is on the path of every
// alert.
func (s *Store) LookupService(ctx context.Context, name, integrationID string) (*ServiceLookup, error) {
	var row struct {
		Service
		PlanName *string
		Allowed  bool
	}
	err := s.db.WithContext(ctx).Raw(`SELECT services.*, plans.name AS plan_name,
			EXISTS (SELECT 1 FROM integration_services WHERE integration_id = ? AND service_id = services.id) AS allowed
		FROM services LEFT JOIN plans ON plans.id = services.plan_id WHERE services.name = ?`, integrationID, name).Scan(&row).Error
	if err != nil {
		return nil, fmt.Errorf("finding service %q: %w", name, err)
	}
	if row.ID == "" {
		return nil, fmt.Errorf("finding service %q: %w", name, gorm.ErrRecordNotFound)
	}
	svc := row.Service
	out := &ServiceLookup{Service: &svc, Allowed: row.Allowed}
	if row.PlanName != nil {
		out.PlanName = *row.PlanName
	}
	return out, nil
}

// TeamTimeZone is the time zone a team works in: its manager's ("" when
// the team has no manager or the manager none).
func (s *Store) TeamTimeZone(ctx context.Context, teamID string) (string, error) {
	var zones []string
	err := s.db.WithContext(ctx).Raw(`SELECT people.time_zone FROM teams JOIN people ON people.id = teams.manager_id WHERE teams.id = ?`, teamID).Scan(&zones).Error
	if err != nil {
		return "", fmt.Errorf("reading the time zone of team %s: %w", teamID, err)
	}
	if len(zones) == 0 {
		return "", nil
	}
	return zones[0], nil
}
