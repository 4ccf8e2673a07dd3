package handlers

import (
	"context"
	"fmt"
	"time"

	"github.com/heraldhq/herald/models"
)

// TeamZones tells the time zone a team works in (its manager's);
// *models.Store implements it.
type TeamZones interface {
	TeamTimeZone(ctx context.Context, teamID string) (string, error)
}

// pagingStart is when a new incident of svc should start paging: now,
// unless the service pages low-urgency (SEV3, SEV4) alerts only in
// working hours (HERALD_WORKING_HOURS, Monday to Friday, in the zone of
// the service's team, UTC when unknown) and now is outside them.
func (in *Intake) pagingStart(ctx context.Context, sev models.Severity, svc *models.Service) (time.Time, string, error) {
	now := in.d.Clock.Now()
	if svc == nil || !svc.WorkingHoursOnly || !in.DeferLowUrgency || sev < models.SEV3 {
		return now, "", nil
	}
	zone := ""
	if svc.TeamID != nil && in.Zones != nil {
		z, err := in.Zones.TeamTimeZone(ctx, *svc.TeamID)
		if err != nil {
			return now, "", err
		}
		zone = z
	}
	loc, err := time.LoadLocation(zone)
	if zone == "" || err != nil {
		loc, zone = time.UTC, "UTC"
	}
	start := nextWorkingStart(now, loc, in.d.Settings.WorkingHours)
	if !start.After(now) {
		return now, "", nil
	}
	return start, fmt.Sprintf("low-urgency alert outside working hours: paging starts %s (%s)", start.In(loc).Format("Mon 2 Jan 15:04"), zone), nil
}

// nextWorkingStart is now if it falls in working hours (minutes since
// midnight, Monday to Friday, in loc), else when they next begin.
func nextWorkingStart(now time.Time, loc *time.Location, hours [2]int) time.Time {
	local := now.In(loc)
	for day := 0; day < 8; day++ {
		d := local.AddDate(0, 0, day)
		if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
			continue
		}
		open := time.Date(d.Year(), d.Month(), d.Day(), hours[0]/60, hours[0]%60, 0, 0, loc)
		closeAt := time.Date(d.Year(), d.Month(), d.Day(), hours[1]/60, hours[1]%60, 0, 0, loc)
		if day == 0 && !local.Before(open) && local.Before(closeAt) {
			return now
		}
		if open.After(local) {
			return open
		}
	}
	return now // no working hours configured that ever start: page now
}
