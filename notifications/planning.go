package notifications

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/heraldhq/herald/models"
)

// Planning a check: which sends of the current step are due, to whom, in
// which modes, and the messages that record them.

// checkBatch is what the checks of one leased batch share.
type checkBatch struct {
	incidents map[int64]*models.Incident
	planned   map[int64]map[int]map[int]int // escalation → step → notification → sends planned
	roles     memo[stepRecipients]          // role + target → people
	modes     memo[[]Mode]                  // person + priority → modes
	storms    memo[bool]                    // plan version → over its aggregation threshold

	mu     sync.Mutex
	recent map[string]map[string]int // person → mode → messages within the throttle window; nil when not throttling
}

// throttle picks the mode a page for person in mode goes in: mode itself
// while the person is under the throttle, else its fallback (not one of
// taken, the modes this send already uses), else "" (hold it back). It
// counts the page it lets through.
func (b *checkBatch) throttle(t Throttle, person string, mode Mode, taken []Mode) Mode {
	if b.recent == nil {
		return mode
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.recent[person] == nil {
		b.recent[person] = map[string]int{}
	}
	counts := b.recent[person]
	if counts[string(mode)] >= t.Max {
		fb, ok := t.Fallback[mode]
		if !ok || fb == mode || slices.Contains(taken, fb) || counts[string(fb)] >= t.Max {
			return ""
		}
		mode = fb
	}
	counts[string(mode)]++
	return mode
}

func (e *Engine) newCheckBatch(ctx context.Context, due []models.Escalation) (*checkBatch, error) {
	incIDs := make([]int64, len(due))
	escIDs := make([]int64, len(due))
	for i, d := range due {
		incIDs[i], escIDs[i] = d.IncidentID, d.ID
	}
	incidents, err := e.store.IncidentsByID(ctx, incIDs)
	if err != nil {
		return nil, err
	}
	planned, err := e.store.PlannedSendsOf(ctx, escIDs)
	if err != nil {
		return nil, err
	}
	b := &checkBatch{incidents: incidents, planned: planned}
	if t := e.opts.Throttle; t.Max > 0 && t.Within > 0 {
		if b.recent, err = e.store.RecentSendCounts(ctx, e.clock.Now().Add(-t.Within)); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func (e *Engine) check(ctx context.Context, b *checkBatch, esc *models.Escalation) (*checkResult, error) {
	def, err := e.definition(ctx, esc.PlanVersionID)
	if err != nil {
		return nil, err
	}
	inc := b.incidents[esc.IncidentID]
	if inc == nil {
		if inc, err = e.store.IncidentByID(ctx, esc.IncidentID); err != nil {
			return nil, err
		}
	}
	now := e.clock.Now().UTC()
	u := models.EscalationUpdate{Step: esc.Step, StepStartedAt: esc.StepStartedAt, State: models.EscalationActive}
	var (
		msgs   []models.Message
		alerts []string
	)
	for {
		if u.Step >= len(def.Steps) {
			u.State, u.NextCheckAt = models.EscalationExhausted, nil
			alerts = append(alerts, fmt.Sprintf("🚨 Escalation plan exhausted for incident #%d: everyone in the plan was paged and nobody claimed it. Page someone directly now.", inc.Number))
			break
		}
		stepMsgs, stepAlerts, next, stepEnd, err := e.planStep(ctx, b, inc, esc, def.Steps[u.Step], u.Step, u.StepStartedAt, b.planned[esc.ID][u.Step], now)
		if err != nil {
			return nil, err
		}
		msgs = append(msgs, stepMsgs...)
		alerts = append(alerts, stepAlerts...)
		if next != nil || now.Before(stepEnd) {
			// Sends or the step's end are still ahead.
			if next == nil || stepEnd.Before(*next) {
				next = &stepEnd
			}
			u.NextCheckAt = next
			break
		}
		// Step done: the next one starts when this one ended.
		u.Step++
		u.StepStartedAt = stepEnd
	}
	if def.Aggregation != nil {
		if err := e.aggregate(ctx, b, esc, *def.Aggregation, msgs, now); err != nil {
			return nil, err
		}
	}
	return &checkResult{inc: inc, check: models.EscalationCheck{Escalation: esc, Update: u, Messages: msgs}, alerts: alerts}, nil
}

// planStep builds the messages of a step that are due by now, and the
// alerts for required sends that reach nobody. It returns the time of the
// next future send (nil if none) and when the step ends.
func (e *Engine) planStep(ctx context.Context, b *checkBatch, inc *models.Incident, esc *models.Escalation, step models.PlanStep, stepIdx int,
	started time.Time, planned map[int]int, now time.Time) ([]models.Message, []string, *time.Time, time.Time, error) {
	var (
		msgs   []models.Message
		alerts []string
		next   *time.Time
		end    = started
	)
	for ni, n := range step.Notifications {
		wait, total := notificationSchedule(n)
		if stepEnd := started.Add(time.Duration(total) * wait); stepEnd.After(end) {
			end = stepEnd
		}
		for k := planned[ni]; k < total; k++ {
			due := started.Add(time.Duration(k) * wait)
			if due.After(now) {
				if next == nil || due.Before(*next) {
					d := due
					next = &d
				}
				break
			}
			if n.Role == RoleSlackChannel {
				msgs = append(msgs, e.channelMessage(ctx, inc, esc, stepIdx, ni, k, n, now))
				continue
			}
			// Roles resolve at send time: a handoff pages the new person.
			rs, err := b.roles.get(n.Role+"\x00"+n.Target, func() (stepRecipients, error) { return e.recipientsOf(ctx, n) })
			if err != nil {
				return nil, nil, nil, end, err
			}
			if rs.warning != "" {
				alerts = append(alerts, rs.warning)
			}
			if len(rs.recipients) == 0 {
				// Record the send as failed, so it is planned once: the
				// next check neither plans nor alerts it again.
				msgs = append(msgs, e.nobodyMessage(inc, esc, stepIdx, ni, k, n, rs.why, now))
				if !n.Optional {
					alerts = append(alerts, fmt.Sprintf("🚨 Incident #%d: step %d of its plan should page %s %q, which %s. Page someone directly.", inc.Number, stepIdx+1, n.Role, n.Target, rs.why))
				}
				continue
			}
			for _, rc := range rs.recipients {
				p := rc.PersonID
				modes, err := b.modes.get(p+"\x00"+n.Priority+"\x00"+inc.Application, func() ([]Mode, error) { return e.modesFor(ctx, p, n.Priority, inc.Application) })
				if err != nil {
					return nil, nil, nil, end, err
				}
				taken := slices.Clone(modes) // a send reaches a person once per mode
				for _, mode := range modes {
					to := b.throttle(e.opts.Throttle, p, mode, taken)
					if to == "" {
						msgs = append(msgs, e.throttledMessage(inc, esc, stepIdx, ni, k, p, n, mode, now))
						continue
					}
					taken = append(taken, to)
					m := e.newMessage(ctx, inc, esc, stepIdx, ni, k, p, n, to, now)
					m.RecipientSource = rc.Source
					msgs = append(msgs, m)
				}
			}
		}
	}
	return msgs, alerts, next, end, nil
}

// memo computes each key's value once; concurrent callers of a key wait
// for the first.
type memo[T any] struct {
	mu sync.Mutex
	m  map[string]*memoCall[T]
}

type memoCall[T any] struct {
	done chan struct{}
	v    T
	err  error
}

func (m *memo[T]) get(key string, fn func() (T, error)) (T, error) {
	m.mu.Lock()
	if c, ok := m.m[key]; ok {
		m.mu.Unlock()
		<-c.done
		return c.v, c.err
	}
	if m.m == nil {
		m.m = map[string]*memoCall[T]{}
	}
	c := &memoCall[T]{done: make(chan struct{})}
	m.m[key] = c
	m.mu.Unlock()
	c.v, c.err = fn()
	close(c.done)
	return c.v, c.err
}

// notificationSchedule is how far apart a notification's sends are and how
// many there are. Without a wait there is nothing to repeat after: it is
// sent once and the step moves on.
func notificationSchedule(n models.PlanNotification) (wait time.Duration, sends int) {
	wait = time.Duration(n.WaitMinutes) * time.Minute
	if wait <= 0 {
		return 0, 1
	}
	return wait, 1 + max(n.Repeat, 0)
}

// modesFor is how a person wants to hear priority for pages of an
// application: their preference for it, else their global one, else the
// defaults.
func (e *Engine) modesFor(ctx context.Context, personID, priority, application string) ([]Mode, error) {
	pref, err := e.store.PriorityModes(ctx, personID, priority, application)
	if err != nil {
		return nil, err
	}
	if len(pref) == 0 {
		if m := e.opts.DefaultModes[priority]; len(m) > 0 {
			return m, nil
		}
		return DefaultModes[priority], nil
	}
	out := make([]Mode, len(pref))
	for i, m := range pref {
		out[i] = Mode(m)
	}
	return out, nil
}

func (e *Engine) newMessage(ctx context.Context, inc *models.Incident, esc *models.Escalation, step, ni, k int, personID string, n models.PlanNotification, mode Mode, now time.Time) models.Message {
	id, pv, escID := inc.ID, esc.PlanVersionID, esc.ID
	code := claimCode()
	subject, body, problem := e.templates.render(ctx, inc, n, mode, code)
	if problem != nil {
		e.log.WarnContext(ctx, "message template failed; the built-in text was sent instead", "err", problem)
	}
	return models.Message{
		IncidentID: &id, EscalationID: &escID, PlanVersionID: &pv, Step: step, Notification: ni, SendIndex: k,
		PersonID: &personID, Role: n.Role, Target: n.Target, Mode: string(mode), Priority: n.Priority,
		Subject: subject, Body: body, ClaimCode: code, Optional: n.Optional, Application: inc.FairnessKey(),
		Status: models.MessageQueued, NotBefore: now, CreatedAt: now,
	}
}

// channelMessage is a page posted in a Slack channel (role
// slack-channel): no person, the channel id as its target.
func (e *Engine) channelMessage(ctx context.Context, inc *models.Incident, esc *models.Escalation, step, ni, k int, n models.PlanNotification, now time.Time) models.Message {
	id, pv, escID := inc.ID, esc.PlanVersionID, esc.ID
	code := claimCode()
	subject, body, problem := e.templates.render(ctx, inc, n, ModeSlack, code)
	if problem != nil {
		e.log.WarnContext(ctx, "message template failed; the built-in text was sent instead", "err", problem)
	}
	return models.Message{
		IncidentID: &id, EscalationID: &escID, PlanVersionID: &pv, Step: step, Notification: ni, SendIndex: k,
		Role: n.Role, Target: n.Target, Mode: string(ModeSlack), Priority: n.Priority,
		Subject: subject, Body: body, ClaimCode: code, Optional: n.Optional, Application: inc.FairnessKey(),
		Status: models.MessageQueued, NotBefore: now, CreatedAt: now,
	}
}

// nobodyMessage records a planned send that reached nobody: failed at
// once, never queued, shown in the incident's message history.
func (e *Engine) nobodyMessage(inc *models.Incident, esc *models.Escalation, step, ni, k int, n models.PlanNotification, why string, now time.Time) models.Message {
	id, pv, escID := inc.ID, esc.PlanVersionID, esc.ID
	return models.Message{
		IncidentID: &id, EscalationID: &escID, PlanVersionID: &pv, Step: step, Notification: ni, SendIndex: k,
		Role: n.Role, Target: n.Target, Priority: n.Priority, Optional: n.Optional, Application: inc.FairnessKey(),
		Status: models.MessageFailed, Error: fmt.Sprintf("%s %q %s", n.Role, n.Target, why), NotBefore: now, CreatedAt: now,
	}
}

// throttledMessage records a send the throttle held back: suppressed,
// never queued, shown in the incident's message history.
func (e *Engine) throttledMessage(inc *models.Incident, esc *models.Escalation, step, ni, k int, personID string, n models.PlanNotification, mode Mode, now time.Time) models.Message {
	id, pv, escID := inc.ID, esc.PlanVersionID, esc.ID
	return models.Message{
		IncidentID: &id, EscalationID: &escID, PlanVersionID: &pv, Step: step, Notification: ni, SendIndex: k,
		PersonID: &personID, Role: n.Role, Target: n.Target, Mode: string(mode), Priority: n.Priority, Optional: n.Optional,
		Application: inc.FairnessKey(), Status: models.MessageSuppressed, Error: models.ThrottledDetail, NotBefore: now, CreatedAt: now,
	}
}
