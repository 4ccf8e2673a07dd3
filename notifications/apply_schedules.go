package notifications

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/heraldhq/herald/models"
)

// KindSchedule is a schedule (with its rotations) in reports.
const KindSchedule = "schedule"

// Schedules are written through the Store's schedule methods, not raw
// rows: each change is validated as the API's are, written to the audit
// log with the apply's actor, and bumps the schedules version, so every
// replica's cached on-call lookups refresh.

// scheduleState is the schedules the database holds, by team and name.
type scheduleState struct {
	schedules map[scheduleKey]*dbSchedule
}

// scheduleKey names a schedule by its team's name and its own.
type scheduleKey struct{ team, name string }

func (k scheduleKey) String() string { return k.team + "/" + k.name }

type dbSchedule struct {
	row       models.Schedule
	rotations []models.Rotation // with members, by layer
}

func loadScheduleState(ctx context.Context, store *models.Store, st *state) (*scheduleState, error) {
	ss := &scheduleState{schedules: map[scheduleKey]*dbSchedule{}}
	scheds, err := store.Schedules(ctx, "")
	if err != nil {
		return nil, err
	}
	if len(scheds) == 0 {
		return ss, nil
	}
	byID := make(map[string]*dbSchedule, len(scheds))
	ids := make([]string, len(scheds))
	for i, sc := range scheds {
		d := &dbSchedule{row: sc}
		ss.schedules[scheduleKey{st.teamNames[sc.TeamID], sc.Name}], byID[sc.ID], ids[i] = d, d, sc.ID
	}
	rots, err := store.Rotations(ctx, ids...)
	if err != nil {
		return nil, err
	}
	for _, r := range rots {
		if d := byID[r.ScheduleID]; d != nil {
			d.rotations = append(d.rotations, r)
		}
	}
	return ss, nil
}

// sortedKeys lists the schedules by team, then name.
func (ss *scheduleState) sortedKeys() []scheduleKey {
	keys := make([]scheduleKey, 0, len(ss.schedules))
	for k := range ss.schedules {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].team != keys[j].team {
			return keys[i].team < keys[j].team
		}
		return keys[i].name < keys[j].name
	})
	return keys
}

func (a *applier) actor() models.Actor { return models.Actor{Name: a.opts.Actor} }

// pruneSchedules removes (with Prune) or lists the schedules the file
// does not declare. It runs before teams and people are pruned, so a
// schedule goes through the Store (audited) rather than by cascade.
func (a *applier) pruneSchedules(ctx context.Context, tx *models.Store, ss *scheduleState, c *Catalog) error {
	declared := map[scheduleKey]bool{}
	for _, s := range c.Schedules {
		declared[scheduleKey{s.Team, s.Name}] = true
	}
	for _, k := range ss.sortedKeys() {
		if declared[k] {
			continue
		}
		if !a.opts.Prune {
			a.report.Prunable = append(a.report.Prunable, Change{Kind: KindSchedule, Name: k.String(), Action: ActionDelete})
			continue
		}
		if err := tx.DeleteSchedule(ctx, a.actor(), ss.schedules[k].row.ID); err != nil {
			return fmt.Errorf("pruning schedule %q: %w", k, err)
		}
		a.report.record(KindSchedule, k.String(), ActionDelete, "")
	}
	return nil
}

// applySchedules makes the declared schedules what the file says, after
// the people and teams they name. It also bumps the schedules version
// when people changed (deactivated, removed: their turns move), since
// those writes do not go through the schedule methods.
func (a *applier) applySchedules(ctx context.Context, tx *models.Store, ss *scheduleState, c *Catalog) error {
	for _, spec := range c.Schedules {
		k := scheduleKey{spec.Team, spec.Name}
		if err := a.schedule(ctx, tx, ss.schedules[k], spec); err != nil {
			return fmt.Errorf("applying schedule %q: %w", k, err)
		}
	}
	people, schedules := false, false
	for _, ch := range a.report.Changes {
		people = people || ch.Kind == KindPerson
		schedules = schedules || ch.Kind == KindSchedule
	}
	if people && !schedules {
		if err := a.db.Exec("UPDATE counters SET value = value + 1 WHERE name = 'schedules'").Error; err != nil {
			return fmt.Errorf("bumping the schedules version: %w", err)
		}
	}
	return nil
}

func (a *applier) schedule(ctx context.Context, tx *models.Store, have *dbSchedule, spec ScheduleSpec) error {
	name := scheduleKey{spec.Team, spec.Name}.String()
	want := models.Schedule{TeamID: a.teamIDs[spec.Team], Name: spec.Name, TimeZone: spec.TimeZone}
	var details []string
	created := have == nil
	if created {
		if err := tx.CreateSchedule(ctx, a.actor(), &want); err != nil {
			return err
		}
		have = &dbSchedule{row: want}
	} else if have.row.TimeZone != spec.TimeZone {
		want.ID = have.row.ID
		if err := tx.UpdateSchedule(ctx, a.actor(), &want); err != nil {
			return err
		}
		details = append(details, "time_zone")
	}
	rotDetails, err := a.rotations(ctx, tx, have, spec.Rotations)
	if err != nil {
		return err
	}
	if created {
		a.report.record(KindSchedule, name, ActionCreate, fmt.Sprintf("%d rotation(s)", len(spec.Rotations)))
		return nil
	}
	return a.finish(KindSchedule, name, append(details, rotDetails...), nil)
}

// rotations makes a schedule's rotations the declared ones, in the file's
// order (bottom layer first). Layers are renumbered only when the stored
// order differs from the file's, so an unchanged schedule is not written.
func (a *applier) rotations(ctx context.Context, tx *models.Store, have *dbSchedule, specs []RotationSpec) ([]string, error) {
	declared := map[string]bool{}
	for _, r := range specs {
		declared[r.Name] = true
	}
	var details []string
	stored := map[string]models.Rotation{}
	for _, r := range have.rotations {
		if declared[r.Name] {
			stored[r.Name] = r
			continue
		}
		if err := tx.DeleteRotation(ctx, a.actor(), r.ID); err != nil {
			return nil, err
		}
		details = append(details, "-rotation "+r.Name)
	}
	renumber := !inFileOrder(specs, stored)
	for i, spec := range specs {
		want := spec.rotation(have.row.ID, func(h string) string { return a.personIDs[h] })
		if err := want.Validate(); err != nil {
			return nil, fmt.Errorf("rotation %q: %w", spec.Name, err) // validated with the file: a bug
		}
		old, exists := stored[spec.Name]
		if !exists {
			// On top of the layers so far; then in place if the file
			// reorders the layers anyway.
			if err := tx.CreateRotation(ctx, a.actor(), &want); err != nil {
				return nil, fmt.Errorf("rotation %q: %w", spec.Name, err)
			}
			if renumber && want.Layer != i {
				want.Layer = i
				if err := tx.UpdateRotation(ctx, a.actor(), &want); err != nil {
					return nil, fmt.Errorf("rotation %q: %w", spec.Name, err)
				}
			}
			details = append(details, "+rotation "+spec.Name)
			continue
		}
		want.ID, want.Layer = old.ID, old.Layer
		if renumber {
			want.Layer = i
		}
		changed := rotationChanges(old, want)
		if len(changed) == 0 {
			continue
		}
		if err := tx.UpdateRotation(ctx, a.actor(), &want); err != nil {
			return nil, fmt.Errorf("rotation %q: %w", spec.Name, err)
		}
		details = append(details, fmt.Sprintf("rotation %s (%s)", spec.Name, strings.Join(changed, ", ")))
	}
	return details, nil
}

// inFileOrder reports whether the stored rotations the file keeps are
// layered in the file's order, with every new one after them (a new
// rotation goes on top).
func inFileOrder(specs []RotationSpec, stored map[string]models.Rotation) bool {
	last, seenNew := -1<<31, false
	for _, s := range specs {
		r, ok := stored[s.Name]
		if !ok {
			seenNew = true
			continue
		}
		if seenNew || r.Layer <= last {
			return false
		}
		last = r.Layer
	}
	return true
}

// rotationChanges names the file's fields in which want differs from have
// (both validated, so normalised alike).
func rotationChanges(have, want models.Rotation) []string {
	var out []string
	diff := func(field string, differs bool) {
		if differs {
			out = append(out, field)
		}
	}
	haveWindows, _ := have.Windows.Value()
	wantWindows, _ := want.Windows.Value()
	diff("role", have.Role != want.Role)
	diff("members", !slices.Equal(have.Members, want.Members))
	diff("shift", have.ShiftKind != want.ShiftKind)
	diff("every", have.ShiftCount != want.ShiftCount)
	diff("handoff", have.HandoffTime != want.HandoffTime)
	diff("handoff_day", have.HandoffWeekday != want.HandoffWeekday)
	diff("start", have.StartDate != want.StartDate)
	diff("time_zone", have.TimeZone != want.TimeZone)
	diff("windows", haveWindows != wantWindows)
	diff("order", have.Layer != want.Layer)
	return out
}

// export adds the database's schedules to c, rotations bottom layer first.
func (ss *scheduleState) export(c *Catalog, st *state) {
	for _, k := range ss.sortedKeys() {
		d := ss.schedules[k]
		spec := ScheduleSpec{Team: k.team, Name: k.name, TimeZone: d.row.TimeZone}
		for _, r := range d.rotations {
			spec.Rotations = append(spec.Rotations, rotationSpec(r, func(id string) string { return st.names[id] }))
		}
		c.Schedules = append(c.Schedules, spec)
	}
}

// writeScheduleCounts adds the schedules' counts when there was anything
// to count.
func (r *Report) writeScheduleCounts(b *strings.Builder) {
	if r.Schedules != (Counts{}) {
		fmt.Fprintf(b, "%-10s %s\n", "schedules:", r.Schedules)
	}
}
