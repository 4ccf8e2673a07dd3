package schedule

import (
	"cmp"
	"slices"
	"time"

	"github.com/heraldhq/herald/models"
)

// Shifts is who is on call for every role between from and to: for each
// role at most one shift holds any instant (the package rules decide).
// Shifts are clipped to [from, to) and ordered by start, then role.
func (c *Calendar) Shifts(from, to time.Time) []Shift {
	var out []Shift
	for _, role := range c.Roles() {
		out = append(out, c.effective(role, from.UTC(), to.UTC())...)
	}
	slices.SortStableFunc(out, func(a, b Shift) int {
		return cmp.Or(a.Start.Compare(b.Start), cmp.Compare(slices.Index(models.RotationRoles, a.Role), slices.Index(models.RotationRoles, b.Role)))
	})
	return out
}

// RoleShifts is Shifts for one role.
func (c *Calendar) RoleShifts(from, to time.Time, role string) []Shift {
	return c.effective(role, from.UTC(), to.UTC())
}

// OnCall is the shift of role holding at, whole (not clipped), and
// whether anyone is on call then.
func (c *Calendar) OnCall(at time.Time, role string) (Shift, bool) {
	at = at.UTC()
	reach := day
	for _, l := range c.layers {
		if l.role == role {
			reach = max(reach, l.maxShift())
		}
	}
	from, to := at.Add(-reach), at.Add(reach)
	for _, o := range c.overrides {
		if o.o.Role == role && !at.Before(o.o.StartsAt) && at.Before(o.o.EndsAt) {
			from, to = minTime(from, o.o.StartsAt.UTC()), maxTime(to, o.o.EndsAt.UTC())
		}
	}
	for _, s := range c.effective(role, from, to) {
		if s.Contains(at) {
			return s, true
		}
	}
	return Shift{}, false
}

// LayerShifts is every rotation's own coverage between from and to —
// its members' turns within its windows, time off applied — before
// layers are ranked and overrides applied; clipped to [from, to) and
// ordered by start, then layer.
func (c *Calendar) LayerShifts(from, to time.Time) []Shift {
	var out []Shift
	for _, l := range c.layers {
		for _, s := range c.segments(l, from.UTC(), to.UTC()) {
			out = append(out, s.shift())
		}
	}
	slices.SortStableFunc(out, func(a, b Shift) int { return a.Start.Compare(b.Start) })
	return out
}

// Coverage is an analysis of one role over a time range.
type Coverage struct {
	Role     string
	From, To time.Time
	// Gaps are when nobody is on call (overrides included).
	Gaps []Gap
	// Overlaps are when two or more rotations of the role cover at once:
	// the highest layer wins, the others are not paged. In follow-the-sun
	// schedules both are usually mistakes in the windows.
	Overlaps []Overlap
}

// Gap is a time nobody is on call.
type Gap struct{ Start, End time.Time }

// Overlap is a time several rotations cover. Shifts are the rotations'
// shifts there (clipped to the range), lowest layer first: the last wins.
type Overlap struct {
	Start, End time.Time
	Shifts     []Shift
}

// Coverage finds the gaps and overlaps of role between from and to.
func (c *Calendar) Coverage(from, to time.Time, role string) Coverage {
	from, to = from.UTC(), to.UTC()
	out := Coverage{Role: role, From: from, To: to}
	var lastSet []*seg
	c.sweep(role, from, to, func(x, y time.Time, covering []*seg, eff *Shift, _ shiftKey) {
		if eff == nil {
			if n := len(out.Gaps) - 1; n >= 0 && out.Gaps[n].End.Equal(x) {
				out.Gaps[n].End = y
			} else {
				out.Gaps = append(out.Gaps, Gap{Start: x, End: y})
			}
		}
		if len(covering) < 2 {
			lastSet = nil
			return
		}
		if n := len(out.Overlaps) - 1; n >= 0 && out.Overlaps[n].End.Equal(x) && slices.Equal(lastSet, covering) {
			out.Overlaps[n].End = y
			return
		}
		ov := Overlap{Start: x, End: y}
		for _, s := range covering {
			ov.Shifts = append(ov.Shifts, s.shift())
		}
		out.Overlaps = append(out.Overlaps, ov)
		lastSet = slices.Clone(covering)
	})
	return out
}

// shiftKey tells apart the pieces of the effective timeline that are one
// shift: the same layer segment, or the same override replacing the same
// person.
type shiftKey struct {
	seg      *seg
	override string
	replaced string
}

// effective is the timeline of role: who wins each instant of [from, to).
func (c *Calendar) effective(role string, from, to time.Time) []Shift {
	var (
		out  []Shift
		last shiftKey
	)
	c.sweep(role, from, to, func(x, y time.Time, _ []*seg, eff *Shift, key shiftKey) {
		if eff == nil {
			return
		}
		if n := len(out) - 1; n >= 0 && out[n].End.Equal(x) && key == last {
			out[n].End = y
			return
		}
		s := *eff
		s.Start, s.End = x, y
		out = append(out, s)
		last = key
	})
	return out
}

// sweep walks [from, to) in stretches where nothing changes, calling fn
// with the layer segments covering the stretch (lowest layer first) and
// who is on call (nil: nobody).
func (c *Calendar) sweep(role string, from, to time.Time, fn func(x, y time.Time, covering []*seg, eff *Shift, key shiftKey)) {
	if !to.After(from) {
		return
	}
	var segs [][]seg
	cuts := []time.Time{from, to}
	for _, l := range c.layers {
		if l.role != role {
			continue
		}
		ss := c.segments(l, from, to)
		for _, s := range ss {
			cuts = append(cuts, s.start, s.end)
		}
		segs = append(segs, ss)
	}
	var ovs []*override
	for i := range c.overrides {
		o := &c.overrides[i]
		if o.o.Role != role || !o.o.EndsAt.After(from) || !o.o.StartsAt.Before(to) || c.inactive[o.o.PersonID] {
			continue
		}
		ovs = append(ovs, o)
		for _, t := range []time.Time{o.o.StartsAt, o.o.EndsAt} {
			if t.After(from) && t.Before(to) {
				cuts = append(cuts, t.UTC())
			}
		}
	}
	cuts = sortedUnique(cuts)
	next := make([]int, len(segs))
	covering := make([]*seg, 0, len(segs))
	for i := 0; i+1 < len(cuts); i++ {
		x, y := cuts[i], cuts[i+1]
		covering = covering[:0]
		for li, ss := range segs {
			for next[li] < len(ss) && !ss[next[li]].end.After(x) {
				next[li]++
			}
			if next[li] < len(ss) && !ss[next[li]].start.After(x) {
				covering = append(covering, &ss[next[li]])
			}
		}
		var (
			eff Shift
			on  bool
			key shiftKey
		)
		if n := len(covering); n > 0 {
			eff, on, key = covering[n-1].shift(), true, shiftKey{seg: covering[n-1]}
		}
		for _, o := range ovs {
			if x.Before(o.o.StartsAt) || !x.Before(o.o.EndsAt) {
				continue
			}
			if o.o.ReplacedPersonID != nil && (!on || eff.PersonID != *o.o.ReplacedPersonID) {
				continue
			}
			replaced := ""
			if on {
				replaced = eff.PersonID
			}
			eff = Shift{ScheduleID: o.sched.ID, ScheduleName: o.sched.Name, OverrideID: o.o.ID, Role: role, PersonID: o.o.PersonID,
				Source: o.o.Source(), ReplacedPersonID: replaced}
			on, key = true, shiftKey{override: o.o.ID, replaced: replaced}
		}
		if on {
			fn(x, y, covering, &eff, key)
		} else {
			fn(x, y, covering, nil, key)
		}
	}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
