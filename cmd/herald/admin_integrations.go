package main

import (
	"context"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/web"
)

// The admin API serves /api/v1/integrations only if it implements this.
var _ web.IntegrationAdmin = adminAPI{}

// integrations manages integration keys for the admin API
// (/api/v1/integrations) and `herald integration`: the same code for both.
type integrations struct{ store *models.Store }

// create stores an integration scoped to its services and returns its key.
func (s integrations) create(ctx context.Context, n models.NewIntegration) (string, error) {
	_, key, err := s.store.CreateIntegration(ctx, n)
	return key, err
}

// rotate mints a new primary key; the old one, if any (none for a new or
// revoked integration), stays valid as the secondary.
func (s integrations) rotate(ctx context.Context, name string) (key string, oldKept bool, err error) {
	in, err := s.store.IntegrationByName(ctx, name)
	if err != nil {
		return "", false, err
	}
	key, err = s.store.MintIntegrationKey(ctx, in.ID, true)
	return key, in.KeyHash != nil && in.RevokedAt == nil, err
}

// finishRotation drops the secondary key; false when there was none.
func (s integrations) finishRotation(ctx context.Context, name string) (bool, error) {
	in, err := s.store.IntegrationByName(ctx, name)
	if err != nil {
		return false, err
	}
	return in.SecondaryKeyHash != nil, s.store.DropSecondaryKey(ctx, in.ID)
}

// revoke stops every key of an integration.
func (s integrations) revoke(ctx context.Context, name string) error {
	in, err := s.store.IntegrationByName(ctx, name)
	if err != nil {
		return err
	}
	return s.store.RevokeIntegration(ctx, in.ID)
}

// The admin API's web.IntegrationAdmin.

func (a adminAPI) CreateIntegration(ctx context.Context, n models.NewIntegration) (string, error) {
	return integrations{a.store}.create(ctx, n)
}

func (a adminAPI) RotateIntegration(ctx context.Context, name string) (string, error) {
	defer a.changed()
	key, _, err := integrations{a.store}.rotate(ctx, name)
	return key, err
}

func (a adminAPI) FinishIntegrationRotation(ctx context.Context, name string) (bool, error) {
	defer a.changed()
	return integrations{a.store}.finishRotation(ctx, name)
}

func (a adminAPI) RevokeIntegration(ctx context.Context, name string) error {
	defer a.changed()
	return integrations{a.store}.revoke(ctx, name)
}

func (a adminAPI) Integrations(ctx context.Context) ([]models.IntegrationSummary, error) {
	return a.store.IntegrationSummaries(ctx)
}
