package ui

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
)

// The on-call schedule pages: who is on call now (/schedules), a team's
// calendar, rotations and overrides (/schedules/:team), and the forms that
// add overrides and swaps; team editors also change schedules, rotations
// and time off here (schedules_rotations.go, schedules_timeoff.go).

// ScheduleStore is what the schedule pages read and write; *models.Store
// implements it. Every write takes the viewer as models.Actor and audits.
type ScheduleStore interface {
	notifications.OnCallStore
	ScheduleEditStore
	ListTeams(ctx context.Context) ([]models.Team, error)
	Schedules(ctx context.Context, teamID string) ([]models.Schedule, error)
	Overrides(ctx context.Context, from, to time.Time, scheduleIDs ...string) ([]models.ScheduleOverride, error)
	TeamMemberIDs(ctx context.Context, teamID string) ([]string, error)
	ActivePeopleByName(ctx context.Context) ([]models.Person, error)
	ScheduleOverrideByID(ctx context.Context, id string) (*models.ScheduleOverride, error)
	CreateOverride(ctx context.Context, by models.Actor, o *models.ScheduleOverride) error
	CreateSwap(ctx context.Context, by models.Actor, sw models.Swap) ([]models.ScheduleOverride, error)
	DeleteOverride(ctx context.Context, by models.Actor, id string) error
}

// OnCallCache is this replica's cache of on-call lookups (the paging
// engine's), dropped after a page changes a schedule so the next page goes
// to whoever the change put on call; *schedule.Resolver implements it.
// Other replicas notice through the schedules version.
type OnCallCache interface{ Invalidate() }

// SchedulePages are the on-call schedule pages.
type SchedulePages struct {
	store ScheduleStore
	views notifications.OnCallViews
	cache OnCallCache // may be nil (tests of reads only)
	clock models.Clock
}

// NewSchedulePages builds the schedule pages on store; cache is the paging
// engine's on-call cache.
func NewSchedulePages(store ScheduleStore, cache OnCallCache, clock models.Clock) *SchedulePages {
	return &SchedulePages{store: store, views: notifications.OnCallViews{Store: store}, cache: cache, clock: clock}
}

// Mount adds the routes. Writes need the member role at least; who may
// change which team is checked per request (mayOverride, mayDelete).
func (p *SchedulePages) Mount(r *Router) {
	r.GET("/schedules", p.index, NeedViewer)
	r.GET("/schedules/:team", p.team, NeedViewer)
	r.GET("/schedules/:team/overrides/new", p.newOverride, NeedMember)
	r.POST("/schedules/:team/overrides", p.addOverride, NeedMember)
	r.POST("/schedules/:team/overrides/:id/delete", p.deleteOverride, NeedMember)
	r.GET("/schedules/:team/swaps/new", p.newSwap, NeedMember)
	r.POST("/schedules/:team/swaps", p.addSwap, NeedMember)
	p.mountEditing(r)
}

// roleNow is who is on call for a role, as the pages show it.
type roleNow struct {
	Role, Status string
	Person       string // "" when nobody
	Description  string
	Until        Time // end of the current shift
	Next         string
	NextAt       Time
	Gap          bool
}

type teamNow struct {
	Name      string
	Schedules []string
	Roles     []roleNow
}

type scheduleIndexData struct {
	Teams []teamNow
}

func (p *SchedulePages) index(c *Ctx) error {
	ctx := c.Request().Context()
	teams, err := p.store.ListTeams(ctx)
	if err != nil {
		return c.Failed("listing teams", err)
	}
	scheds, err := p.store.Schedules(ctx, "")
	if err != nil {
		return c.Failed("listing schedules", err)
	}
	byTeam := map[string][]string{}
	for _, s := range scheds {
		byTeam[s.TeamID] = append(byTeam[s.TeamID], s.Name)
	}
	now := p.clock.Now()
	var d scheduleIndexData
	for _, t := range teams {
		if len(byTeam[t.ID]) == 0 {
			continue
		}
		roles, err := p.onCallNow(ctx, c.Viewer, t.Name, now)
		if err != nil {
			return c.Failed("working out who is on call for "+t.Name, err)
		}
		d.Teams = append(d.Teams, teamNow{Name: t.Name, Schedules: byTeam[t.ID], Roles: roles})
	}
	return c.Page(http.StatusOK, "schedules_index.html", "On-call schedules", d)
}

// onCallNow is who is on call for each role of a team at now, and next.
func (p *SchedulePages) onCallNow(ctx context.Context, v *Viewer, team string, now time.Time) ([]roleNow, error) {
	oc, err := p.views.TeamOnCall(ctx, team, now)
	if err != nil {
		return nil, err
	}
	out := make([]roleNow, 0, len(oc.Roles))
	for _, r := range oc.Roles {
		rn := roleNow{Role: r.Role, Status: r.Status, Description: r.Description, Gap: r.Status == notifications.OnCallGap}
		if r.Person != nil {
			rn.Person = r.Person.Display()
		}
		if r.Shift != nil {
			rn.Until = v.At(r.Shift.End)
		}
		if r.Next != nil {
			rn.Next, rn.NextAt = r.Next.Person.Display(), v.At(r.Next.Start)
		}
		out = append(out, rn)
	}
	return out, nil
}

// teamOf loads the team named in the path with its schedules, or renders
// a 404.
func (p *SchedulePages) teamOf(c *Ctx) (*models.Team, []models.Schedule, error) {
	ctx := c.Request().Context()
	t, err := p.store.TeamByName(ctx, c.Param("team"))
	if models.IsNotFound(err) {
		return nil, nil, c.NotFound(fmt.Sprintf("team %q", c.Param("team")))
	}
	if err != nil {
		return nil, nil, c.Failed("loading the team", err)
	}
	scheds, err := p.store.Schedules(ctx, t.ID)
	if err != nil {
		return nil, nil, c.Failed("loading the team's schedules", err)
	}
	return t, scheds, nil
}

// peopleNames maps person ids to display names (full name, else handle).
func (p *SchedulePages) peopleNames(ctx context.Context, ids []string) (map[string]string, error) {
	slices.Sort(ids)
	ids = slices.Compact(ids)
	people, err := p.store.PeopleByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(people))
	for _, pe := range people {
		out[pe.ID] = personDisplay(pe)
	}
	return out, nil
}

func personDisplay(pe models.Person) string {
	if pe.FullName != "" {
		return pe.FullName
	}
	return pe.Name
}

func nameOr(names map[string]string, id string) string {
	if n, ok := names[id]; ok {
		return n
	}
	return "unknown person"
}

// forget drops the engine's cached on-call after a write.
func (p *SchedulePages) forget() {
	if p.cache != nil {
		p.cache.Invalidate()
	}
}
