package schedule

import (
	"context"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldhq/herald/models"
)

// Source loads schedules; *models.Store implements it.
type Source interface {
	// TeamScheduleSet is what decides a team's on-call over [from, to);
	// a not-found error (models.IsNotFound) for an unknown team.
	TeamScheduleSet(ctx context.Context, teamName string, from, to time.Time) (*models.ScheduleSet, error)
	// SchedulesVersion changes whenever any schedule data does.
	SchedulesVersion(ctx context.Context) (int64, error)
}

// Status is what the schedules say about a role at an instant.
type Status int

const (
	// StatusNotScheduled: the team has no started rotation and no override of
	// the role (or is unknown). Someone else decides: static assignments.
	StatusNotScheduled Status = iota
	// StatusCovered: Answer.Shift is on call.
	StatusCovered
	// StatusGap: the team schedules the role, but nobody is on call now.
	StatusGap
)

// Answer is who a team's schedules put on call for a role now.
type Answer struct {
	Status Status
	// Shift is the shift on call (StatusCovered only). Its Start and End are
	// clipped to the window the resolver computed (at least a day either
	// side of the load); Calendar.OnCall gives whole shifts.
	Shift Shift
}

// ResolverOptions tunes a Resolver; zero values take the defaults.
type ResolverOptions struct {
	// TTL is how long a team's loaded schedules are used (default 30 s):
	// the bound on how late a change made by another replica shows when
	// the version check is off.
	TTL time.Duration
	// VersionCheck is how often the schedules version is read (default
	// 5 s); a new version drops every cached team. Negative turns it off.
	VersionCheck time.Duration
}

// Resolver answers who is on call for a team's role now, from a cache of
// each team's computed shifts: a warm lookup takes a map read and a binary
// search, no I/O. Safe for concurrent use.
type Resolver struct {
	src   Source
	clock models.Clock
	opts  ResolverOptions

	mu    sync.RWMutex
	teams map[string]*teamCache

	generation   atomic.Int64 // bumped to drop every cached team
	version      atomic.Int64 // the schedules version last read
	versionAt    atomic.Int64 // when (unix ns) it was read
	versionCheck sync.Mutex   // one reader at a time
}

// NewResolver builds a resolver reading src.
func NewResolver(src Source, clock models.Clock, o ResolverOptions) *Resolver {
	if o.TTL <= 0 {
		o.TTL = 30 * time.Second
	}
	if o.VersionCheck == 0 {
		o.VersionCheck = 5 * time.Second
	}
	r := &Resolver{src: src, clock: clock, opts: o, teams: map[string]*teamCache{}}
	r.version.Store(-1)
	return r
}

// teamCache holds a team's latest snapshot; mu serialises its loads.
type teamCache struct {
	mu   sync.Mutex
	snap atomic.Pointer[snapshot]
}

// snapshot is a team's computed on-call over [from, to).
type snapshot struct {
	generation int64
	expires    time.Time
	from, to   time.Time
	cal        *Calendar
	byRole     map[string][]Shift
}

// Lookup says who is on call for team's role (models.RotationPrimary, …)
// now.
func (r *Resolver) Lookup(ctx context.Context, team, role string) (Answer, error) {
	now := r.clock.Now().UTC()
	if err := r.checkVersion(ctx, now); err != nil {
		return Answer{}, err
	}
	s, err := r.snapshot(ctx, team, now)
	if err != nil {
		return Answer{}, err
	}
	shifts := s.byRole[role]
	i := sort.Search(len(shifts), func(i int) bool { return shifts[i].End.After(now) })
	if i < len(shifts) && shifts[i].Contains(now) {
		return Answer{Status: StatusCovered, Shift: shifts[i]}, nil
	}
	if s.cal.Scheduled(now, role) {
		return Answer{Status: StatusGap}, nil
	}
	return Answer{Status: StatusNotScheduled}, nil
}

// Invalidate drops every cached team: the next lookups load afresh. A
// replica calls it after changing schedules itself; others notice through
// the version check.
func (r *Resolver) Invalidate() { r.generation.Add(1) }

func (r *Resolver) valid(s *snapshot, now time.Time) bool {
	return s != nil && s.generation == r.generation.Load() && now.Before(s.expires) && !now.Before(s.from) && now.Before(s.to)
}

func (r *Resolver) snapshot(ctx context.Context, team string, now time.Time) (*snapshot, error) {
	r.mu.RLock()
	tc := r.teams[team]
	r.mu.RUnlock()
	if tc != nil {
		if s := tc.snap.Load(); r.valid(s, now) {
			return s, nil
		}
	} else {
		r.mu.Lock()
		if tc = r.teams[team]; tc == nil {
			tc = &teamCache{}
			r.teams[team] = tc
		}
		r.mu.Unlock()
	}
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if s := tc.snap.Load(); r.valid(s, now) {
		return s, nil // another caller loaded it meanwhile
	}
	s, err := r.load(ctx, team, now)
	if err != nil {
		return nil, err
	}
	tc.snap.Store(s)
	return s, nil
}

// load reads a team's schedules and computes each role's shifts from a
// day before now to a day after the snapshot expires, so every shift
// around now is whole (up to a day-long shift's length).
func (r *Resolver) load(ctx context.Context, team string, now time.Time) (*snapshot, error) {
	gen := r.generation.Load()
	expires := now.Add(r.opts.TTL)
	from, to := now.Add(-day), expires.Add(day)
	set, err := r.src.TeamScheduleSet(ctx, team, from, to)
	if models.IsNotFound(err) {
		set, err = &models.ScheduleSet{}, nil
	}
	if err != nil {
		return nil, err
	}
	cal, err := New(*set)
	if err != nil {
		return nil, err
	}
	s := &snapshot{generation: gen, expires: expires, from: from, to: to, cal: cal, byRole: map[string][]Shift{}}
	for _, role := range cal.Roles() {
		s.byRole[role] = cal.RoleShifts(from, to, role)
	}
	return s, nil
}

// checkVersion reads the schedules version when it is due, dropping
// every cached team when it changed. One caller reads; the others go on
// with what they have.
func (r *Resolver) checkVersion(ctx context.Context, now time.Time) error {
	if r.opts.VersionCheck < 0 || now.UnixNano()-r.versionAt.Load() < int64(r.opts.VersionCheck) {
		return nil
	}
	if !r.versionCheck.TryLock() {
		return nil
	}
	defer r.versionCheck.Unlock()
	if now.UnixNano()-r.versionAt.Load() < int64(r.opts.VersionCheck) {
		return nil
	}
	v, err := r.src.SchedulesVersion(ctx)
	if err != nil {
		return err
	}
	if old := r.version.Swap(v); old != v && old != -1 {
		r.Invalidate()
	}
	r.versionAt.Store(now.UnixNano())
	return nil
}
