package main

import (
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/heraldhq/herald/bot"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
	"github.com/heraldhq/herald/observability"
)

// registerMetrics registers the series Herald records as things happen:
// the bot's (Slack requests, jobs) and observability's (paging, outside
// APIs, the dead-man switch). registerStats adds the ones read at scrape
// time once the store and engine exist.
func registerMetrics(reg prometheus.Registerer) (*bot.Metrics, *observability.Metrics, error) {
	botMetrics, err := bot.NewMetrics(reg)
	if err != nil {
		return nil, nil, fmt.Errorf("registering metrics: %w", err)
	}
	obs, err := observability.New(reg)
	if err != nil {
		return nil, nil, fmt.Errorf("registering metrics: %w", err)
	}
	return botMetrics, obs, nil
}

// registerStats registers the gauges read from the database at scrape time
// (cached, so scrapes cannot hammer it) and this replica's engine loops.
func registerStats(reg prometheus.Registerer, stats observability.Stats, engine observability.EnginePasses, deadMan bool, clock models.Clock, log *slog.Logger) error {
	err := observability.RegisterStats(reg, observability.StatsOptions{Stats: stats, Engine: engine, DeadMan: deadMan, Clock: clock, Log: log})
	if err != nil {
		return fmt.Errorf("registering metrics: %w", err)
	}
	return nil
}

// wireObservability builds the dead-man switch (HERALD_DEADMAN_*; off, it
// only answers GET /api/v1/deadman with enabled false) and registers the
// scrape-time gauges.
func (a *App) wireObservability(reg prometheus.Registerer, clock models.Clock, owner string) error {
	dm := a.cfg.DeadMan
	d, err := notifications.NewDeadMan(a.Engine, a.Store, clock, notifications.DeadManConfig{
		Role: dm.Role, Target: dm.Target, Mode: notifications.Mode(dm.Mode), Schedule: dm.Schedule,
		PingURL: dm.PingURL, PingInterval: dm.PingInterval, MaxLag: dm.MaxLag,
		Owner: owner, Log: a.log, Metrics: a.obs,
	})
	if err != nil {
		return fmt.Errorf("HERALD_DEADMAN_TARGET: %w", err)
	}
	a.deadman = d
	return registerStats(reg, a.Store, a.Engine, dm.Target != "", clock, a.log)
}
