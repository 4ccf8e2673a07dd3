package config

import (
	"fmt"
	"time"

	"github.com/robfig/cron/v3"
)

// minOncallSummaryGap is the shortest time between two on-call summary
// posts HERALD_ONCALL_ANNOUNCE_CRON may ask for: a summary is a weekly
// (or daily) digest, not a ticker.
const minOncallSummaryGap = time.Hour

// oncallAnnounceCron reads HERALD_ONCALL_ANNOUNCE_CRON: when to post who
// is on call this week in each team's channel (empty: never).
func (p *parser) oncallAnnounceCron() string {
	spec := p.str("HERALD_ONCALL_ANNOUNCE_CRON", "")
	if spec == "" {
		return ""
	}
	if err := checkOncallSummaryCron(spec, time.Now()); err != nil {
		p.failValue("HERALD_ONCALL_ANNOUNCE_CRON", spec, err.Error())
	}
	return spec
}

// checkOncallSummaryCron accepts a robfig/cron spec at fixed times (a
// firing is stored once for every replica, so @every, which drifts with
// each start, cannot be) that fires, at most once an hour.
func checkOncallSummaryCron(spec string, now time.Time) error {
	sched, err := cron.ParseStandard(spec)
	if err != nil {
		return fmt.Errorf("a cron schedule such as 0 9 * * MON or CRON_TZ=Europe/London 0 9 * * 1-5 (%v)", err)
	}
	if _, every := sched.(cron.ConstantDelaySchedule); every {
		return fmt.Errorf("fixed times such as 0 9 * * MON, not @every")
	}
	t := sched.Next(now)
	if t.IsZero() {
		return fmt.Errorf("a schedule that fires (this one never does)")
	}
	for range 50 {
		next := sched.Next(t)
		if next.IsZero() {
			break
		}
		if next.Sub(t) < minOncallSummaryGap {
			return fmt.Errorf("a schedule firing at most once an hour (it posts a summary in every team channel)")
		}
		t = next
	}
	return nil
}
