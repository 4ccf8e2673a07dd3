package main

import (
	"github.com/heraldhq/herald/handlers"
)

// wireNoise sets up noise control: maintenance windows become the
// intake's AlertSuppressor (and the admin API's /api/v1/maintenance),
// heartbeat monitors raise their incidents through the intake, and Serve
// runs their periodic checks (leased: one replica at a time).
func (a *App) wireNoise(deps handlers.Deps, intake *handlers.Intake, owner string) *handlers.NoiseControl {
	m := handlers.NewMaintenance(deps, a.Store)
	intake.Suppressor = m
	a.noise = &handlers.NoiseControl{Maintenance: m, Heartbeats: handlers.NewHeartbeats(deps, a.Store, intake), Leases: a.Store, Owner: owner, Log: a.log}
	return a.noise
}
