package config

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// DeadMan is the dead-man switch (HERALD_DEADMAN_*): Herald pages itself on
// a schedule to prove paging works end to end, and pings an outside
// heartbeat URL while its engine is healthy. Either half may be off.
type DeadMan struct {
	// Role and Target are HERALD_DEADMAN_TARGET, "role:target" (user:alice,
	// team:sre, oncall-primary:sre, slack-channel:C0123…); empty: no test
	// pages.
	Role, Target string
	Mode         string        // HERALD_DEADMAN_MODE: slack, email, sms, call; empty: the people's low-priority modes
	Schedule     string        // HERALD_DEADMAN_SCHEDULE: robfig/cron spec, default "@every 1h"
	PingURL      string        // HERALD_DEADMAN_PING_URL: fetched while the engine is healthy; empty: no pings
	PingInterval time.Duration // HERALD_DEADMAN_PING_INTERVAL, default 1m
	MaxLag       time.Duration // HERALD_DEADMAN_MAX_LAG: healthy means loops ran and no due page waited longer, default 2m
}

// Defaults and bounds of the dead-man switch.
const (
	DefaultDeadManSchedule     = "@every 1h"
	DefaultDeadManPingInterval = time.Minute
	DefaultDeadManMaxLag       = 2 * time.Minute
	minDeadManPeriod           = time.Minute
	minDeadManInterval         = 10 * time.Second
)

// deadManRoles are the roles a test page may go to; the same as the
// notifications package's (config does not import it).
var deadManRoles = []string{"user", "team", "oncall-primary", "oncall-secondary", "manager", "slack-channel"}

// Enabled reports whether either half of the switch is on.
func (d DeadMan) Enabled() bool { return d.Target != "" || d.PingURL != "" }

// deadMan reads and checks the dead-man settings together. The ping URL
// is never echoed in an error: it is the heartbeat's secret.
func (p *parser) deadMan() DeadMan {
	d := DeadMan{
		Mode:         strings.ToLower(p.str("HERALD_DEADMAN_MODE", "")),
		Schedule:     p.str("HERALD_DEADMAN_SCHEDULE", DefaultDeadManSchedule),
		PingURL:      p.str("HERALD_DEADMAN_PING_URL", ""),
		PingInterval: p.duration("HERALD_DEADMAN_PING_INTERVAL", DefaultDeadManPingInterval),
		MaxLag:       p.duration("HERALD_DEADMAN_MAX_LAG", DefaultDeadManMaxLag),
	}
	if raw := p.str("HERALD_DEADMAN_TARGET", ""); raw != "" {
		role, target, ok := strings.Cut(raw, ":")
		d.Role, d.Target = strings.ToLower(strings.TrimSpace(role)), strings.TrimSpace(target)
		if !ok || !slices.Contains(deadManRoles, d.Role) || d.Target == "" {
			p.failValue("HERALD_DEADMAN_TARGET", raw, "role:target with role one of "+strings.Join(deadManRoles, ", ")+", e.g. user:alice or slack-channel:C0123ABCD")
			d.Role, d.Target = "", ""
		}
	}
	if d.Mode != "" && !slices.Contains(pagingModes, d.Mode) {
		p.failValue("HERALD_DEADMAN_MODE", d.Mode, "one of "+strings.Join(pagingModes, ", ")+" (empty: the people's low-priority modes)")
	}
	if d.Role == "slack-channel" && d.Mode != "" && d.Mode != "slack" {
		p.failValue("HERALD_DEADMAN_MODE", d.Mode, "slack (or nothing): a slack-channel target is posted in Slack")
	}
	if err := checkDeadManSchedule(d.Schedule); err != nil {
		p.failValue("HERALD_DEADMAN_SCHEDULE", d.Schedule, err.Error())
	}
	_, modeSet := p.raw("HERALD_DEADMAN_MODE")
	_, scheduleSet := p.raw("HERALD_DEADMAN_SCHEDULE")
	if d.Target == "" && (modeSet || scheduleSet) {
		p.fail("HERALD_DEADMAN_TARGET", "the route test pages go to, e.g. user:alice (HERALD_DEADMAN_MODE and HERALD_DEADMAN_SCHEDULE mean nothing without it)")
	}
	if d.PingURL != "" {
		if u, err := url.Parse(d.PingURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			p.fail("HERALD_DEADMAN_PING_URL", "an absolute http(s) URL, e.g. https://hc-ping.com/<uuid>")
		}
	} else if _, set := p.raw("HERALD_DEADMAN_PING_INTERVAL"); set {
		p.fail("HERALD_DEADMAN_PING_URL", "the heartbeat URL to ping (HERALD_DEADMAN_PING_INTERVAL means nothing without it)")
	}
	if _, set := p.raw("HERALD_DEADMAN_MAX_LAG"); set && !d.Enabled() {
		p.fail("HERALD_DEADMAN_MAX_LAG", "HERALD_DEADMAN_TARGET or HERALD_DEADMAN_PING_URL set too (it tunes the dead-man switch)")
	}
	for _, v := range []struct {
		key string
		d   time.Duration
	}{{"HERALD_DEADMAN_PING_INTERVAL", d.PingInterval}, {"HERALD_DEADMAN_MAX_LAG", d.MaxLag}} {
		if v.d < minDeadManInterval {
			p.failValue(v.key, v.d.String(), fmt.Sprintf("at least %s", minDeadManInterval))
		}
	}
	return d
}

// checkDeadManSchedule accepts a robfig/cron spec that fires at most once a
// minute and at all.
func checkDeadManSchedule(spec string) error {
	sched, err := cron.ParseStandard(spec)
	if err != nil {
		return fmt.Errorf("a cron schedule such as @every 1h, @daily or 0 9 * * 1-5 (%v)", err)
	}
	if every, ok := sched.(cron.ConstantDelaySchedule); ok && every.Delay < minDeadManPeriod {
		return fmt.Errorf("a schedule of at most one test page a minute")
	}
	if sched.Next(time.Now()).IsZero() {
		return fmt.Errorf("a schedule that fires (this one never does)")
	}
	return nil
}
