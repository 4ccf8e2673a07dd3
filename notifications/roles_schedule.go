package notifications

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications/schedule"
)

// Recipient is a person a role resolved to, and what put them there.
type Recipient struct {
	PersonID string
	// Source is shown where the page is described: "primary, Payments
	// weekly" (a schedule's rotation), "manager, no primary on call";
	// "" when nothing more is known (a static assignment, a user).
	Source string
}

// Resolution is who a role resolves to now.
type Resolution struct {
	Recipients []Recipient
	// Gap is set when the target schedules the role but nobody is on call
	// now (a schedule gap): the engine pages the team's manager instead
	// and warns the incident channel.
	Gap bool
	// Warning is for the incident channel when the answer is a fallback:
	// an external schedule failed, so the static assignment answered
	// (ExternalOncallRoles).
	Warning string
}

// SourcedResolver is a RoleResolver that also says where each person came
// from. The engine uses it when its resolver implements it.
type SourcedResolver interface {
	RoleResolver
	ResolveWithSource(ctx context.Context, role, target string) (Resolution, error)
}

// OnCallLookup is the schedules' cached on-call lookup;
// *schedule.Resolver implements it.
type OnCallLookup interface {
	Lookup(ctx context.Context, team, role string) (schedule.Answer, error)
}

// ScheduleRoles resolves oncall-primary and oncall-secondary (target: a
// team name) from Herald's schedules first. A team without a schedule for
// the role — and every other role — goes to Next (DirectoryRoles: static
// on-call assignments, managers, members).
type ScheduleRoles struct {
	Schedules OnCallLookup
	Next      RoleResolver
}

// Resolve implements RoleResolver: a schedule gap resolves to nobody.
func (r ScheduleRoles) Resolve(ctx context.Context, role, target string) ([]string, error) {
	res, err := r.ResolveWithSource(ctx, role, target)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(res.Recipients))
	for i, rc := range res.Recipients {
		ids[i] = rc.PersonID
	}
	return ids, nil
}

// ResolveWithSource implements SourcedResolver.
func (r ScheduleRoles) ResolveWithSource(ctx context.Context, role, target string) (Resolution, error) {
	if role != RoleOncallPrimary && role != RoleOncallSecondary {
		return resolveWithSource(ctx, r.Next, role, target)
	}
	a, err := r.Schedules.Lookup(ctx, target, scheduleRole(role))
	if err != nil {
		return Resolution{}, fmt.Errorf("looking up the %s of team %q: %w", role, target, err)
	}
	switch a.Status {
	case schedule.StatusCovered:
		return Resolution{Recipients: []Recipient{{PersonID: a.Shift.PersonID, Source: a.Shift.Describe()}}}, nil
	case schedule.StatusGap:
		return Resolution{Gap: true}, nil
	}
	return resolveWithSource(ctx, r.Next, role, target)
}

// scheduleRole is the rotation role of an oncall-* plan role.
func scheduleRole(role string) string { return strings.TrimPrefix(role, "oncall-") }

// resolveWithSource asks roles for sources when it can give them.
func resolveWithSource(ctx context.Context, roles RoleResolver, role, target string) (Resolution, error) {
	if s, ok := roles.(SourcedResolver); ok {
		return s.ResolveWithSource(ctx, role, target)
	}
	ids, err := roles.Resolve(ctx, role, target)
	if err != nil {
		return Resolution{}, err
	}
	out := Resolution{Recipients: make([]Recipient, len(ids))}
	for i, id := range ids {
		out.Recipients[i] = Recipient{PersonID: id}
	}
	return out, nil
}

// stepRecipients is who a plan notification pages now: the people, why
// nobody (when so), and the warning a schedule gap raises.
type stepRecipients struct {
	recipients []Recipient
	why        string // when there are none: why not
	warning    string // a schedule gap sent the page to the manager
}

// recipientsOf resolves a plan notification at send time. A schedule gap
// of an on-call role pages the team's manager instead, with a warning for
// the incident channel (each send that falls back raises it, as each send
// that reaches nobody alerts).
func (e *Engine) recipientsOf(ctx context.Context, n models.PlanNotification) (stepRecipients, error) {
	res, err := resolveWithSource(ctx, e.roles, n.Role, n.Target)
	if errors.Is(err, ErrUnknownRole) {
		// A plan naming a role nobody knows must not stall the
		// escalation: skip the notification, loudly.
		return stepRecipients{why: "is an unknown role, so it pages nobody"}, nil
	}
	if err != nil {
		return stepRecipients{}, err
	}
	if !res.Gap {
		return stepRecipients{recipients: res.Recipients, why: "resolves to nobody", warning: res.Warning}, nil
	}
	role := scheduleRole(n.Role)
	managers, err := e.roles.Resolve(ctx, RoleManager, n.Target)
	if err != nil && !errors.Is(err, ErrUnknownRole) {
		return stepRecipients{}, err
	}
	if len(managers) == 0 {
		return stepRecipients{why: fmt.Sprintf("has no %s on call now (schedule gap) and the team has no manager", role)}, nil
	}
	name := managers[0]
	if people, err := e.store.PeopleByID(ctx, managers[:1]); err == nil && len(people) == 1 {
		name = cmp.Or(people[0].FullName, people[0].Name)
	}
	return stepRecipients{
		recipients: []Recipient{{PersonID: managers[0], Source: fmt.Sprintf("manager, no %s on call", role)}},
		warning:    fmt.Sprintf("⚠️ Team %s has no %s on call now (schedule gap): paged the manager %s instead.", n.Target, role, name),
	}, nil
}
