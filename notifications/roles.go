package notifications

import (
	"context"
	"fmt"

	"github.com/heraldhq/herald/models"
)

// Roles a plan notification can name (Iris's, plus slack-channel).
const (
	RoleUser            = "user"
	RoleTeam            = "team"
	RoleOncallPrimary   = "oncall-primary"
	RoleOncallSecondary = "oncall-secondary"
	RoleManager         = "manager"
	// RoleSlackChannel posts the page in a Slack channel (target: its id),
	// where anyone can claim it; it pages no person.
	RoleSlackChannel = "slack-channel"
)

// Roles lists the roles in the order the docs present them.
var Roles = []string{RoleUser, RoleTeam, RoleOncallPrimary, RoleOncallSecondary, RoleManager, RoleSlackChannel}

// Directory is the people and team data role lookup reads;
// *models.Store implements it.
type Directory interface {
	PersonByName(ctx context.Context, name string) (*models.Person, error)
	TeamByName(ctx context.Context, name string) (*models.Team, error)
	TeamMemberIDs(ctx context.Context, teamID string) ([]string, error)
	OncallPersonID(ctx context.Context, teamID, role string) (string, error)
	PriorityModes(ctx context.Context, personID, priority, application string) ([]string, error)
	ContactMethods(ctx context.Context, personID, mode string) ([]models.ContactMethod, error)
	PeopleByID(ctx context.Context, ids []string) ([]models.Person, error)
}

// RoleResolver turns a plan's (role, target) into the ids of the people to
// page now. Implementations chain: the first that knows the role answers.
type RoleResolver interface {
	Resolve(ctx context.Context, role, target string) ([]string, error)
}

// ErrUnknownRole means no resolver handles a role.
var ErrUnknownRole = fmt.Errorf("unknown role")

// DirectoryRoles resolves roles from Herald's own teams and static on-call
// assignments. The schedules issue adds rotations in front of it.
type DirectoryRoles struct{ Dir Directory }

// Resolve implements RoleResolver. A target that does not exist resolves
// to nobody (the engine alerts), not to an error that would stall paging.
func (r DirectoryRoles) Resolve(ctx context.Context, role, target string) ([]string, error) {
	switch role {
	case RoleUser:
		p, err := r.Dir.PersonByName(ctx, target)
		if models.IsNotFound(err) || (err == nil && !p.Active) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return []string{p.ID}, nil
	case RoleTeam, RoleManager, RoleOncallPrimary, RoleOncallSecondary:
		t, err := r.Dir.TeamByName(ctx, target)
		if models.IsNotFound(err) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		switch role {
		case RoleTeam:
			return r.Dir.TeamMemberIDs(ctx, t.ID)
		case RoleManager:
			if t.ManagerID == nil {
				return nil, nil
			}
			return r.active(ctx, *t.ManagerID)
		default:
			id, err := r.Dir.OncallPersonID(ctx, t.ID, role[len("oncall-"):])
			if models.IsNotFound(err) {
				return nil, nil
			}
			if err != nil {
				return nil, err
			}
			return r.active(ctx, id)
		}
	}
	return nil, fmt.Errorf("%w %q", ErrUnknownRole, role)
}

// active keeps a person who is still active: someone deactivated (left,
// on leave) but still named as a manager or on-call resolves to nobody,
// so the engine alerts instead of paging them.
func (r DirectoryRoles) active(ctx context.Context, id string) ([]string, error) {
	people, err := r.Dir.PeopleByID(ctx, []string{id})
	if err != nil {
		return nil, err
	}
	if len(people) == 0 || !people[0].Active {
		return nil, nil
	}
	return []string{id}, nil
}
