package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/heraldhq/herald/config"
	"github.com/heraldhq/herald/handlers"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
	"github.com/heraldhq/herald/web"
)

// claimLinkSecretFile holds the generated claim-link secret in embedded mode.
const claimLinkSecretFile = "claim_link_secret"

// newClaimLinks builds the claim-link signer when e-mail is configured
// (SMTP_HOST), else returns nil.
//
// The secret is HERALD_CLAIM_LINK_SECRET. Embedded mode without it
// generates one into the data directory, as fieldKey does for the field
// key. It is deliberately not derived from ENCRYPTED_FIELD_KEY: that
// keyset is rotated (`herald keygen --rotate`), which would silently
// invalidate every link in flight, and keeping the two apart means a
// leaked link secret says nothing about the key protecting stored data.
// config.Load insists on the variable with DATABASE_URL, where replicas
// must share one.
func newClaimLinks(cfg config.Config, log *slog.Logger) (*notifications.ClaimLinks, error) {
	if cfg.SMTPHost == "" {
		return nil, nil
	}
	secret, err := claimLinkSecret(cfg, log)
	if err != nil {
		return nil, err
	}
	links, err := notifications.NewClaimLinks([]byte(secret), notifications.DefaultClaimLinkTTL)
	if err != nil {
		return nil, fmt.Errorf("HERALD_CLAIM_LINK_SECRET: %w", err)
	}
	return links, nil
}

func claimLinkSecret(cfg config.Config, log *slog.Logger) (string, error) {
	if cfg.ClaimLinkSecret != "" {
		return cfg.ClaimLinkSecret, nil
	}
	if !cfg.Embedded() {
		return "", errors.New("HERALD_CLAIM_LINK_SECRET is required with SMTP_HOST and DATABASE_URL")
	}
	path := filepath.Join(cfg.DataDir, claimLinkSecretFile)
	if b, err := os.ReadFile(path); err == nil {
		return strings.TrimSpace(string(b)), nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("reading %s: %w", path, err)
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	secret := hex.EncodeToString(b)
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return "", fmt.Errorf("creating data directory: %w", err)
	}
	// O_EXCL: two processes starting on one data directory agree on the
	// first secret written.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return claimLinkSecret(cfg, log)
	}
	if err != nil {
		return "", fmt.Errorf("writing %s: %w", path, err)
	}
	if _, err := f.WriteString(secret); err != nil {
		_ = f.Close()
		return "", fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("writing %s: %w", path, err)
	}
	log.Warn("no HERALD_CLAIM_LINK_SECRET set: generated one for the embedded store; set HERALD_CLAIM_LINK_SECRET for anything beyond a trial", "path", path)
	return secret, nil
}

// emailVendor is the SMTP vendor for SMTP_* with claim links, which
// expire by the app's clock (the one the claim pages check them with).
func emailVendor(cfg config.Config, links *notifications.ClaimLinks, clock models.Clock) (*notifications.Email, error) {
	v, err := notifications.NewEmail(notifications.EmailConfig{
		Host: cfg.SMTPHost, Port: cfg.SMTPPort, Username: cfg.SMTPUsername, Password: cfg.SMTPPassword,
		From: cfg.SMTPFrom, TLS: notifications.EmailTLS(cfg.SMTPTLS), BaseURL: cfg.BaseURL, ClaimLinks: links,
		Now: clock.Now,
	})
	if err != nil {
		return nil, fmt.Errorf("SMTP_*: %w", err)
	}
	return v, nil
}

// claimPages serves the claim links, or nil without them.
func (a *App) claimPages(links *notifications.ClaimLinks, deps handlers.Deps) *web.ClaimPages {
	if links == nil {
		return nil
	}
	return &web.ClaimPages{Links: links, Used: a.Store, Claimer: linkClaimer{store: a.Store, actions: handlers.NewPhoneActions(deps)}}
}

// linkClaimer claims like the Claim button of a Slack page: the incident
// is acknowledged in the name of the person the link was sent to (timeline,
// headline, comms channel), paging stops, and those already paged are told.
type linkClaimer struct {
	store   *models.Store
	actions handlers.PhoneActions
}

func (l linkClaimer) ClaimTarget(ctx context.Context, incidentID int64) (web.ClaimTarget, error) {
	inc, err := l.store.IncidentByID(ctx, incidentID)
	if err != nil {
		return web.ClaimTarget{}, err
	}
	return web.ClaimTarget{Number: inc.Number, Title: inc.Title}, nil
}

func (l linkClaimer) ClaimByLink(ctx context.Context, incidentID int64, claimCode string) (web.ClaimTarget, error) {
	t, err := l.ClaimTarget(ctx, incidentID)
	if err != nil {
		return t, err
	}
	// A batched page's code stands for every incident of its batch.
	incidents, err := l.store.IncidentsByClaimCode(ctx, claimCode)
	if err != nil || !slices.Contains(incidents, incidentID) {
		return t, fmt.Errorf("%w: the link's claim code was not sent for this incident", web.ErrNotPaging)
	}
	msg, err := l.store.MessageByClaimCode(ctx, claimCode)
	if err != nil || msg.PersonID == nil {
		return t, fmt.Errorf("%w: the link's claim code was not sent for this incident", web.ErrNotPaging)
	}
	people, err := l.store.PeopleByID(ctx, []string{*msg.PersonID})
	if err != nil {
		return t, err
	}
	if len(people) != 1 {
		return t, fmt.Errorf("%w: the person this link was sent to no longer exists", web.ErrNotPaging)
	}
	err = l.actions.ClaimVia(ctx, incidentID, &people[0], "by e-mail link")
	if errors.Is(err, models.ErrNoChange) && len(incidents) == 1 {
		return t, fmt.Errorf("%w: %w", web.ErrNotPaging, err)
	}
	if err != nil && !errors.Is(err, models.ErrNoChange) {
		return t, err
	}
	others := 0
	for _, id := range incidents {
		if id == incidentID {
			continue
		}
		switch err := l.actions.ClaimVia(ctx, id, &people[0], "by e-mail link (batched page)"); {
		case err == nil:
			others++
		case !errors.Is(err, models.ErrNoChange):
			return t, err
		}
	}
	if others > 0 {
		t.Title = fmt.Sprintf("%s (and %d more incidents of the same batched page)", t.Title, others)
	}
	t.By = people[0].FullName
	if t.By == "" {
		t.By = people[0].Name
	}
	return t, nil
}
