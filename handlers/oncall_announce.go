package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/slack-go/slack"

	"github.com/heraldhq/herald/bot"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications/schedule"
)

// JobOncallPost posts an on-call announcement (a handoff, a summary) in
// a team's channel, or as a DM when the channel is a user id.
const JobOncallPost = "oncall.post"

// OncallAnnounceInterval is how often the announcer looks for handoffs.
const OncallAnnounceInterval = time.Minute

// oncallAnnounceLease names the periodic lease of the announcer.
const oncallAnnounceLease = "oncall-announce"

// oncallSummaryGrace is how late a summary may still be posted: a
// firing missed by longer (Herald was down) is skipped, as a "this
// week" post hours late is noise.
const oncallSummaryGrace = time.Hour

// oncallSummarySpan is what a summary covers from its firing.
const oncallSummarySpan = 7 * 24 * time.Hour

// oncallPost is the payload of JobOncallPost.
type oncallPost struct {
	Channel string          `json:"channel"`
	Text    string          `json:"text"`
	Blocks  json.RawMessage `json:"blocks,omitempty"`
}

// postOncall sends an oncall.post job's message.
func postOncall(d Deps) bot.JobFunc {
	return func(ctx context.Context, payload []byte) error {
		var p oncallPost
		if err := json.Unmarshal(payload, &p); err != nil {
			return fmt.Errorf("%w: %v", bot.ErrPermanent, err)
		}
		opts := []slack.MsgOption{slack.MsgOptionText(p.Text, false)}
		if len(p.Blocks) > 0 {
			var blocks slack.Blocks
			if err := json.Unmarshal(p.Blocks, &blocks); err != nil {
				return fmt.Errorf("%w: on-call post blocks: %v", bot.ErrPermanent, err)
			}
			opts = append(opts, slack.MsgOptionBlocks(blocks.BlockSet...))
		}
		_, _, err := d.Slack.PostMessageContext(ctx, p.Channel, opts...)
		return slackError("posting an on-call announcement", err)
	}
}

func oncallPostJob(channel, text string, blocks []slack.Block) (models.NewJob, error) {
	p := oncallPost{Channel: channel, Text: text}
	if len(blocks) > 0 {
		b, err := json.Marshal(slack.Blocks{BlockSet: blocks})
		if err != nil {
			return models.NewJob{}, fmt.Errorf("encoding on-call post blocks: %w", err)
		}
		p.Blocks = b
	}
	return jsonJob(JobOncallPost, "", p), nil
}

// AnnounceStore is what the on-call announcer reads and writes;
// *models.Store implements it.
type AnnounceStore interface {
	LeaseTaker
	ListTeams(ctx context.Context) ([]models.Team, error)
	Schedules(ctx context.Context, teamID string) ([]models.Schedule, error)
	TeamScheduleSet(ctx context.Context, teamName string, from, to time.Time) (*models.ScheduleSet, error)
	PeopleByID(ctx context.Context, ids []string) ([]models.Person, error)
	OncallAnnouncements(ctx context.Context) ([]models.OncallAnnouncement, error)
	RecordOncallHandoff(ctx context.Context, prev *models.OncallAnnouncement, next models.OncallAnnouncement, jobs ...models.NewJob) (bool, error)
	ClaimOncallSummary(ctx context.Context, fireAt time.Time, owner string, jobs ...models.NewJob) (bool, error)
}

// OncallAnnouncer tells teams about handoffs: when a new person becomes
// on call for a role of a team, it posts in the team's channel and DMs
// them. It runs on the one replica holding its periodic lease; what was
// announced is stored per team and role (oncall_announcements), changed
// only where it still holds what was read, in the transaction that
// enqueues the posts: a restart or a second replica neither repeats nor
// skips a handoff. After downtime it announces who is on call now, not
// the shifts that ended meanwhile. A team and role seen for the first
// time are recorded without a post (nothing handed off); a gap is
// recorded as nobody, so the next person is announced.
type OncallAnnouncer struct {
	Store AnnounceStore
	Clock models.Clock
	Log   *slog.Logger
	Owner string
	// Interval is how often Run ticks (0: OncallAnnounceInterval).
	Interval time.Duration
	// Summary fires the "who is on call this week" posts
	// (HERALD_ONCALL_ANNOUNCE_CRON); nil posts none.
	Summary cron.Schedule
	// Waker runs the stored posts at once; nil leaves them to the
	// worker's sweep.
	Waker bot.Waker

	lastSummary time.Time // the firing last claimed by this process
}

// ParseSummarySchedule reads HERALD_ONCALL_ANNOUNCE_CRON (checked by
// config): a robfig/cron spec, CRON_TZ= prefix allowed.
func ParseSummarySchedule(spec string) (cron.Schedule, error) {
	s, err := cron.ParseStandard(spec)
	if err != nil {
		return nil, fmt.Errorf("on-call summary schedule %q: %w", spec, err)
	}
	if _, every := s.(cron.ConstantDelaySchedule); every {
		return nil, fmt.Errorf("on-call summary schedule %q: fixed times (like 0 9 * * MON), not @every", spec)
	}
	return s, nil
}

func (a *OncallAnnouncer) interval() time.Duration {
	if a.Interval > 0 {
		return a.Interval
	}
	return OncallAnnounceInterval
}

// Tick announces the handoffs since the last run, and the summary when
// one is due, if this replica holds (or takes) the lease. It reports how
// many handoffs it announced, and whether it ran.
func (a *OncallAnnouncer) Tick(ctx context.Context) (int, bool, error) {
	held, err := a.Store.TakePeriodicLease(ctx, oncallAnnounceLease, a.Owner, 2*a.interval())
	if err != nil || !held {
		return 0, false, err
	}
	now := a.Clock.Now().UTC()
	teams, err := a.scheduledTeams(ctx)
	if err != nil {
		return 0, true, err
	}
	rows, err := a.Store.OncallAnnouncements(ctx)
	if err != nil {
		return 0, true, err
	}
	announced := make(map[string]*models.OncallAnnouncement, len(rows))
	for i := range rows {
		announced[rows[i].TeamID+"/"+rows[i].Role] = &rows[i]
	}
	count := 0
	var errs []error
	for _, t := range teams {
		n, err := a.announceTeam(ctx, t, now, announced)
		count += n
		if err != nil {
			// One team's bad data must not silence the others.
			errs = append(errs, fmt.Errorf("on-call handoffs of team %s: %w", t.Name, err))
		}
	}
	if err := a.summarise(ctx, teams, now); err != nil {
		errs = append(errs, err)
	}
	if count > 0 && a.Waker != nil {
		a.Waker.Wake()
	}
	return count, true, errors.Join(errs...)
}

// Run ticks every Interval until ctx ends.
func (a *OncallAnnouncer) Run(ctx context.Context) {
	t := time.NewTicker(a.interval())
	defer t.Stop()
	for {
		if n, _, err := a.Tick(ctx); err != nil && ctx.Err() == nil {
			a.Log.WarnContext(ctx, "on-call announcements", "err", err)
		} else if n > 0 {
			a.Log.InfoContext(ctx, "announced on-call handoffs", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// scheduledTeams lists the teams that have schedules.
func (a *OncallAnnouncer) scheduledTeams(ctx context.Context) ([]models.Team, error) {
	scheds, err := a.Store.Schedules(ctx, "")
	if err != nil {
		return nil, err
	}
	has := map[string]bool{}
	for _, s := range scheds {
		has[s.TeamID] = true
	}
	all, err := a.Store.ListTeams(ctx)
	if err != nil {
		return nil, err
	}
	var out []models.Team
	for _, t := range all {
		if has[t.ID] {
			out = append(out, t)
		}
	}
	return out, nil
}

// teamCalendar loads a team's schedules over [from, to).
func (a *OncallAnnouncer) teamCalendar(ctx context.Context, t models.Team, from, to time.Time) (*schedule.Calendar, *models.ScheduleSet, error) {
	set, err := a.Store.TeamScheduleSet(ctx, t.Name, from, to)
	if err != nil {
		return nil, nil, err
	}
	cal, err := schedule.New(*set)
	if err != nil {
		return nil, nil, err
	}
	return cal, set, nil
}

// announceTeam records and announces each role of the team whose
// on-call person changed since the last announcement.
func (a *OncallAnnouncer) announceTeam(ctx context.Context, t models.Team, now time.Time, announced map[string]*models.OncallAnnouncement) (int, error) {
	cal, set, err := a.teamCalendar(ctx, t, now.Add(-oncallLookback), now.Add(oncallHorizon))
	if err != nil {
		return 0, err
	}
	count := 0
	for _, role := range cal.Roles() {
		r := roleAt(cal, now, role)
		// A gap is recorded as nobody (""), so whoever comes on call
		// after it is announced; it is not announced itself (pages go to
		// the manager, and /oncall shows it).
		next := models.OncallAnnouncement{TeamID: t.ID, Role: role, ShiftStart: now}
		if r.Now != nil {
			next.PersonID, next.ShiftStart = r.Now.PersonID, r.Now.Start
			if whole, ok := cal.OnCall(now, role); ok {
				next.ShiftStart = whole.Start
			}
		}
		prev := announced[t.ID+"/"+role]
		if prev != nil && prev.PersonID == next.PersonID {
			continue
		}
		announce := prev != nil && r.Now != nil
		var jobs []models.NewJob
		if announce {
			if jobs, err = a.handoffJobs(ctx, t, set, r, prev.PersonID); err != nil {
				return count, err
			}
		}
		won, err := a.Store.RecordOncallHandoff(ctx, prev, next, jobs...)
		if err != nil {
			return count, err
		}
		if won && announce {
			count++
			a.Log.InfoContext(ctx, "on-call handoff", "team", t.Name, "role", role, "person", next.PersonID, "previous", prev.PersonID, "posts", len(jobs))
		}
	}
	return count, nil
}

// handoffJobs are the posts of a handoff: in the team's channel (when
// it has one) and a DM to the incoming person (when they have a Slack id).
func (a *OncallAnnouncer) handoffJobs(ctx context.Context, t models.Team, set *models.ScheduleSet, r roleOnCall, previous string) ([]models.NewJob, error) {
	ids := []string{r.Now.PersonID, previous}
	if r.Next != nil {
		ids = append(ids, r.Next.PersonID)
	}
	list, err := a.Store.PeopleByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	people := make(map[string]models.Person, len(list))
	for _, p := range list {
		people[p.ID] = p
	}
	h := handoff{Team: t, Role: r, Previous: previous, People: people}
	var jobs []models.NewJob
	if t.SlackChannelID != "" {
		j, err := oncallPostJob(t.SlackChannelID, h.channelText(), h.channelBlocks())
		if err != nil {
			return nil, err
		}
		jobs = append(jobs, j)
	}
	if p, ok := people[r.Now.PersonID]; ok && p.SlackUserID != nil && *p.SlackUserID != "" {
		zone := p.TimeZone
		if zone == "" {
			zone = scheduleZone(set, r.Now.ScheduleID)
		}
		j, err := oncallPostJob(*p.SlackUserID, h.dmText(zone), nil)
		if err != nil {
			return nil, err
		}
		jobs = append(jobs, j)
	}
	return jobs, nil
}

func scheduleZone(set *models.ScheduleSet, scheduleID string) string {
	for _, s := range set.Schedules {
		if s.Schedule.ID == scheduleID {
			return s.Schedule.TimeZone
		}
	}
	return ""
}

// summarise posts who is on call over the next week in each team's
// channel when the summary schedule fired within the grace period and no
// replica has posted that firing yet.
func (a *OncallAnnouncer) summarise(ctx context.Context, teams []models.Team, now time.Time) error {
	if a.Summary == nil {
		return nil
	}
	fire := latestFiring(a.Summary, now, oncallSummaryGrace)
	if fire.IsZero() || fire.Equal(a.lastSummary) {
		return nil
	}
	var jobs []models.NewJob
	for _, t := range teams {
		if t.SlackChannelID == "" {
			continue
		}
		cal, _, err := a.teamCalendar(ctx, t, fire, fire.Add(oncallSummarySpan))
		if err != nil {
			return fmt.Errorf("on-call summary of team %s: %w", t.Name, err)
		}
		s := weekSummary{Team: t, From: fire, To: fire.Add(oncallSummarySpan)}
		var ids []string
		for _, role := range cal.Roles() {
			runs := mergeRuns(cal.RoleShifts(s.From, s.To, role))
			s.Roles = append(s.Roles, roleRuns{Role: role, Runs: runs})
			for _, r := range runs {
				ids = append(ids, r.PersonID)
			}
		}
		list, err := a.Store.PeopleByID(ctx, ids)
		if err != nil {
			return err
		}
		s.People = make(map[string]models.Person, len(list))
		for _, p := range list {
			s.People[p.ID] = p
		}
		j, err := oncallPostJob(t.SlackChannelID, s.text(), s.blocks())
		if err != nil {
			return err
		}
		jobs = append(jobs, j)
	}
	won, err := a.Store.ClaimOncallSummary(ctx, fire, a.Owner, jobs...)
	if err != nil {
		return err
	}
	a.lastSummary = fire
	if won {
		a.Log.InfoContext(ctx, "posted the on-call summary", "fire_at", fire, "teams", len(jobs))
		if a.Waker != nil {
			a.Waker.Wake()
		}
	}
	return nil
}

// latestFiring is the last firing of s at or before now and after
// now-grace; zero when none.
func latestFiring(s cron.Schedule, now time.Time, grace time.Duration) time.Time {
	var last time.Time
	// Bounded: a schedule firing every minute is found in 60 steps.
	for t, i := s.Next(now.Add(-grace)), 0; !t.IsZero() && !t.After(now) && i < 1000; t, i = s.Next(t), i+1 {
		last = t
	}
	return last
}
