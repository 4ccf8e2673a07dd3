package notifications

import (
	"context"
	"fmt"
	"strings"

	"github.com/heraldhq/herald/models"
)

// OutOfBand is a message outside any incident or escalation: "deploy freeze
// starts at 18:00" to the payments on-call, by Slack.
type OutOfBand struct {
	Role     string
	Target   string
	Priority string // picks modes from each person's preferences...
	Mode     Mode   // ...unless a mode is forced
	Subject  string
	Body     string
	// Application sends it on behalf of an integration: its people's
	// per-application preferences apply, and it is recorded on the message.
	Application string
}

// MaxOutOfBandBody bounds an out-of-band message.
const MaxOutOfBandBody = 4000

// Notify queues an out-of-band message to whoever Role and Target resolve
// to now. Escalation pages always go before these (the sender orders by
// out_of_band). It reports how many messages were queued.
func (e *Engine) Notify(ctx context.Context, o OutOfBand) (int, error) {
	ids, err := e.NotifyTracked(ctx, o)
	return len(ids), err
}

// NotifyTracked is Notify returning the ids of the queued messages, so
// their outcome can be followed (the dead-man switch does).
func (e *Engine) NotifyTracked(ctx context.Context, o OutOfBand) ([]int64, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	if o.Role == RoleSlackChannel {
		now := e.clock.Now().UTC()
		m := models.Message{Role: o.Role, Target: o.Target, Mode: string(ModeSlack), Priority: o.priority(),
			Subject: o.Subject, Body: o.Body, OutOfBand: true, Optional: true, Application: o.Application,
			Status: models.MessageQueued, NotBefore: now, CreatedAt: now}
		msgs := []models.Message{m}
		if err := e.store.QueueMessages(ctx, msgs); err != nil {
			return nil, err
		}
		e.announce(ctx)
		return []int64{msgs[0].ID}, nil
	}
	people, err := e.roles.Resolve(ctx, o.Role, o.Target)
	if err != nil {
		return nil, err
	}
	if len(people) == 0 {
		return nil, fmt.Errorf("%w: %s %q resolves to nobody", ErrInvalidPage, o.Role, o.Target)
	}
	now := e.clock.Now().UTC()
	var msgs []models.Message
	for _, p := range people {
		modes := []Mode{o.Mode}
		if o.Mode == "" {
			if modes, err = e.modesFor(ctx, p, o.Priority, o.Application); err != nil {
				return nil, err
			}
		}
		for _, m := range modes {
			person := p
			msgs = append(msgs, models.Message{
				PersonID: &person, Role: o.Role, Target: o.Target, Mode: string(m), Priority: o.priority(),
				Subject: o.Subject, Body: o.Body, OutOfBand: true, Optional: true, Application: o.Application,
				Status: models.MessageQueued, NotBefore: now, CreatedAt: now,
			})
		}
	}
	if err := e.store.QueueMessages(ctx, msgs); err != nil {
		return nil, err
	}
	e.announce(ctx)
	ids := make([]int64, len(msgs))
	for i, m := range msgs {
		ids[i] = m.ID
	}
	return ids, nil
}

func (o OutOfBand) priority() string {
	if o.Priority == "" {
		return "low"
	}
	return o.Priority
}

func (o OutOfBand) validate() error {
	var problems []string
	if !validRole(o.Role) {
		problems = append(problems, fmt.Sprintf("role: unknown role %q (one of %s)", o.Role, strings.Join(Roles, ", ")))
	}
	if strings.TrimSpace(o.Target) == "" {
		problems = append(problems, "target: required")
	}
	switch {
	case o.Mode == "" && o.Priority == "":
		problems = append(problems, "priority: a priority or a mode is required")
	case o.Priority != "" && !ValidPriority(o.Priority):
		problems = append(problems, fmt.Sprintf("priority: unknown priority %q (one of %s)", o.Priority, strings.Join(Priorities, ", ")))
	}
	if o.Role == RoleSlackChannel && o.Mode != "" && o.Mode != ModeSlack {
		problems = append(problems, fmt.Sprintf("mode: a slack-channel message goes by slack, not %s", o.Mode))
	}
	if o.Mode != "" && !validMode(o.Mode) {
		problems = append(problems, fmt.Sprintf("mode: unknown mode %q (slack, email, sms or call)", o.Mode))
	}
	if strings.TrimSpace(o.Body) == "" {
		problems = append(problems, "body: required")
	}
	if len(o.Body) > MaxOutOfBandBody {
		problems = append(problems, fmt.Sprintf("body: longer than %d bytes", MaxOutOfBandBody))
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrInvalidPage, strings.Join(problems, "; "))
	}
	return nil
}

func validRole(r string) bool {
	for _, x := range Roles {
		if r == x {
			return true
		}
	}
	return false
}

func validMode(m Mode) bool {
	switch m {
	case ModeSlack, ModeEmail, ModeSMS, ModeCall:
		return true
	}
	return false
}
