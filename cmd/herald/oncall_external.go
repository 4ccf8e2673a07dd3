package main

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/heraldhq/herald/config"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
)

// onCallAfterSchedules is what answers a role Herald's schedules do not:
// the external Oncall for the teams that keep their schedule there
// (HERALD_ONCALL_*), then the static assignments, managers and members.
func onCallAfterSchedules(cfg config.Config, store *models.Store, clock models.Clock, log *slog.Logger) (notifications.RoleResolver, error) {
	static := notifications.DirectoryRoles{Dir: store}
	if !cfg.Oncall.Enabled() {
		return static, nil
	}
	ext, err := notifications.NewExternalOncallRoles(store, static, notifications.ExternalOncallOptions{
		BaseURL: cfg.Oncall.APIURL, Teams: cfg.Oncall.Teams, Clock: clock, Log: log})
	if err != nil {
		return nil, fmt.Errorf("HERALD_ONCALL_API_URL: %w", err)
	}
	log.Info("on-call of these teams comes from the external Oncall when they have no Herald rotation of the role", "teams", strings.Join(cfg.Oncall.Teams, ","))
	return ext, nil
}
