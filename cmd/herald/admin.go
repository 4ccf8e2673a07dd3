package main

import (
	"context"
	"fmt"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
)

// adminAPI backs /api/v1 with the same code as `herald apply` and
// `herald export`.
type adminAPI struct {
	store  *models.Store
	engine *notifications.Engine
	// forget drops what this replica caches of integrations, services and
	// maintenance windows after the admin API changed them (nil: nothing
	// cached).
	forget func()
}

// changed forgets cached configuration after a change.
func (a adminAPI) changed() {
	if a.forget != nil {
		a.forget()
	}
}

func (a adminAPI) ApplyConfig(ctx context.Context, yaml []byte, prune, dryRun bool) (*notifications.Report, error) {
	c, err := notifications.ParseCatalog(yaml)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", notifications.ErrInvalidCatalog, err)
	}
	defer a.changed()
	return notifications.Apply(ctx, a.store, c, notifications.ApplyOptions{Prune: prune, DryRun: dryRun})
}

func (a adminAPI) ExportConfig(ctx context.Context, includeSecrets bool) ([]byte, error) {
	c, err := notifications.Export(ctx, a.store, notifications.ExportOptions{IncludeSecrets: includeSecrets})
	if err != nil {
		return nil, err
	}
	return notifications.MarshalCatalog(c)
}

func (a adminAPI) Notify(ctx context.Context, o notifications.OutOfBand) (int, error) {
	return a.engine.Notify(ctx, o)
}

func (a adminAPI) SendVerification(ctx context.Context, contactMethodID string) error {
	return a.engine.SendVerification(ctx, contactMethodID)
}

func (a adminAPI) VerifyContact(ctx context.Context, contactMethodID, code string) error {
	return a.store.VerifyContact(ctx, contactMethodID, code)
}
