package main

import (
	"fmt"

	"github.com/heraldhq/herald/handlers"
)

// wireOncallAnnouncer sets up the on-call announcements Serve runs
// (leased: one replica at a time): handoffs posted in team channels and
// DMed, and the HERALD_ONCALL_ANNOUNCE_CRON summary when set.
func (a *App) wireOncallAnnouncer(owner string) error {
	an := &handlers.OncallAnnouncer{Store: a.Store, Clock: a.Store.Clock(), Log: a.log, Owner: owner, Waker: a.Worker}
	if spec := a.cfg.OncallAnnounceCron; spec != "" {
		s, err := handlers.ParseSummarySchedule(spec)
		if err != nil {
			return fmt.Errorf("HERALD_ONCALL_ANNOUNCE_CRON: %w", err)
		}
		an.Summary = s
	}
	a.oncall = an
	return nil
}
