package schedule

import (
	"fmt"
	"slices"
	"time"

	"github.com/heraldhq/herald/models"
)

// layer is a compiled rotation: where its handoffs fall and whose turn
// each shift is.
type layer struct {
	sched   *models.Schedule
	rot     models.Rotation
	role    string
	loc     *time.Location
	kind    string
	count   int
	hh, mm  int
	d0      time.Time // daily, weekly: the first handoff's date (midnight UTC standing for the civil date)
	period  int       // daily, weekly: days between handoffs
	t0      time.Time // hourly: the first handoff
	windows []window
	members []string
}

// window is a compiled restriction window (minutes after midnight).
type window struct {
	days       [7]bool
	start, end int
}

const day = 24 * time.Hour

func compile(s *models.Schedule, r models.Rotation) (*layer, error) {
	zone := r.TimeZone
	if zone == "" {
		zone = s.TimeZone
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return nil, fmt.Errorf("time_zone: unknown time zone %q", zone)
	}
	handoff, err := models.ClockMinutes(r.HandoffTime)
	if err != nil {
		return nil, fmt.Errorf("handoff_time: %w", err)
	}
	start, err := time.Parse(models.DateLayout, r.StartDate)
	if err != nil {
		return nil, fmt.Errorf("start_date: %q is not a date (YYYY-MM-DD)", r.StartDate)
	}
	l := &layer{sched: s, rot: r, role: r.Role, loc: loc, kind: r.ShiftKind, count: max(r.ShiftCount, 1),
		hh: handoff / 60, mm: handoff % 60, members: slices.Clone(r.Members)}
	switch r.ShiftKind {
	case models.ShiftHourly:
		l.t0 = time.Date(start.Year(), start.Month(), start.Day(), l.hh, l.mm, 0, 0, loc)
	case models.ShiftDaily:
		l.d0, l.period = start, l.count
	case models.ShiftWeekly:
		wd, ok := models.WeekdayOf(r.HandoffWeekday)
		if !ok {
			return nil, fmt.Errorf("handoff_weekday: %q is not a day (mon … sun)", r.HandoffWeekday)
		}
		l.d0, l.period = start.AddDate(0, 0, (int(wd)-int(start.Weekday())+7)%7), 7*l.count
	default:
		return nil, fmt.Errorf("shift_kind: %q is not hourly, daily or weekly", r.ShiftKind)
	}
	for i, w := range r.Windows {
		cw, err := compileWindow(w)
		if err != nil {
			return nil, fmt.Errorf("windows[%d]: %w", i, err)
		}
		l.windows = append(l.windows, cw)
	}
	return l, nil
}

func compileWindow(w models.RotationWindow) (window, error) {
	var cw window
	var err error
	if cw.start, err = models.ClockMinutes(w.Start); err != nil {
		return cw, fmt.Errorf("start: %w", err)
	}
	if cw.end, err = models.ClockMinutes(w.End); err != nil {
		return cw, fmt.Errorf("end: %w", err)
	}
	for _, d := range w.Weekdays {
		wd, ok := models.WeekdayOf(d)
		if !ok {
			return cw, fmt.Errorf("weekdays: %q is not a day (mon … sun)", d)
		}
		cw.days[wd] = true
	}
	return cw, nil
}

// boundary is when shift k starts (k = 0 is the first shift); shift k
// ends at boundary(k+1).
func (l *layer) boundary(k int) time.Time {
	if l.kind == models.ShiftHourly {
		return l.t0.Add(time.Duration(k) * time.Duration(l.count) * time.Hour)
	}
	// time.Date normalises the day: the handoff stays at hh:mm local
	// whatever the length of the days in between.
	return time.Date(l.d0.Year(), l.d0.Month(), l.d0.Day()+k*l.period, l.hh, l.mm, 0, 0, l.loc)
}

// maxShift is the longest one shift of the layer can be.
func (l *layer) maxShift() time.Duration {
	if l.kind == models.ShiftHourly {
		return time.Duration(l.count) * time.Hour
	}
	return time.Duration(l.period)*day + 2*time.Hour // a DST change inside
}

// indexAt is the shift holding t (negative before the first handoff).
func (l *layer) indexAt(t time.Time) int {
	var k int
	if l.kind == models.ShiftHourly {
		per := time.Duration(l.count) * time.Hour
		d := t.Sub(l.t0)
		k = int(d / per)
		if d < 0 && d%per != 0 {
			k--
		}
	} else {
		lt := t.In(l.loc)
		days := int(time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, time.UTC).Sub(l.d0) / day)
		k = days / l.period
		if days < 0 && days%l.period != 0 {
			k--
		}
	}
	// The handoff time of day (or a DST change) may put t one shift
	// either side of the estimate.
	for l.boundary(k).After(t) {
		k--
	}
	for !l.boundary(k + 1).After(t) {
		k++
	}
	return k
}

// member is whose turn shift k is.
func (l *layer) member(k int) string { return l.members[k%len(l.members)] }

// windowed clips [a, b) to the layer's restriction windows.
func (l *layer) windowed(a, b time.Time) []span {
	if len(l.windows) == 0 {
		return []span{{a, b}}
	}
	la, lb := a.In(l.loc), b.In(l.loc)
	// From the day before (an overnight window started then) to b's day.
	first := time.Date(la.Year(), la.Month(), la.Day()-1, 0, 0, 0, 0, time.UTC)
	last := time.Date(lb.Year(), lb.Month(), lb.Day(), 0, 0, 0, 0, time.UTC)
	var occ []span
	for d := first; !d.After(last); d = d.AddDate(0, 0, 1) {
		for _, w := range l.windows {
			if !w.days[d.Weekday()] {
				continue
			}
			endDay := d.Day()
			if w.end <= w.start {
				endDay++ // past midnight
			}
			s := time.Date(d.Year(), d.Month(), d.Day(), w.start/60, w.start%60, 0, 0, l.loc)
			e := time.Date(d.Year(), d.Month(), endDay, w.end/60, w.end%60, 0, 0, l.loc)
			if s.Before(a) {
				s = a
			}
			if e.After(b) {
				e = b
			}
			if s.Before(e) {
				occ = append(occ, span{s.UTC(), e.UTC()})
			}
		}
	}
	return mergeSpans(occ)
}

// seg is a stretch of one layer's coverage: one person, one shift.
type seg struct {
	start, end time.Time
	person     string
	replaced   string // the member whose turn it was, when off
	source     string
	layer      *layer
	k          int
}

func (s *seg) shift() Shift {
	return Shift{ScheduleID: s.layer.sched.ID, ScheduleName: s.layer.sched.Name, RotationID: s.layer.rot.ID, RotationName: s.layer.rot.Name,
		Role: s.layer.role, PersonID: s.person, Start: s.start.UTC(), End: s.end.UTC(), Source: s.source, ReplacedPersonID: s.replaced}
}

// segments is the layer's coverage within [from, to): its shifts, clipped
// to its windows, with members who are off replaced.
func (c *Calendar) segments(l *layer, from, to time.Time) []seg {
	if len(l.members) == 0 || !to.After(from) {
		return nil
	}
	var out []seg
	for k := max(l.indexAt(from), 0); ; k++ {
		s, e := l.boundary(k).UTC(), l.boundary(k+1).UTC()
		if !s.Before(to) {
			break
		}
		if s.Before(from) {
			s = from
		}
		if e.After(to) {
			e = to
		}
		if !s.Before(e) {
			continue
		}
		for _, p := range l.windowed(s, e) {
			out = c.cover(out, l, k, p)
		}
	}
	return out
}

// cover appends the coverage of piece p of shift k: its member, or while
// they are off the next member in order who is not.
func (c *Calendar) cover(out []seg, l *layer, k int, p span) []seg {
	nominal := l.member(k)
	cuts := []time.Time{p.start, p.end}
	for _, m := range l.members {
		for _, o := range c.off[m] {
			for _, t := range []time.Time{o.start, o.end} {
				if t.After(p.start) && t.Before(p.end) {
					cuts = append(cuts, t)
				}
			}
		}
	}
	cuts = sortedUnique(cuts)
	for i := 0; i+1 < len(cuts); i++ {
		x, y := cuts[i], cuts[i+1]
		person := ""
		for j := range l.members {
			if m := l.member(k + j); !c.isOff(m, x) {
				person = m
				break
			}
		}
		if person == "" {
			continue // everyone is off: the layer is empty
		}
		source, replaced := models.SourceRotation, ""
		if person != nominal {
			source, replaced = models.SourceTimeOff, nominal
		}
		if n := len(out) - 1; n >= 0 && out[n].end.Equal(x) && out[n].k == k && out[n].person == person && out[n].source == source {
			out[n].end = y
			continue
		}
		out = append(out, seg{start: x, end: y, person: person, replaced: replaced, source: source, layer: l, k: k})
	}
	return out
}

func sortedUnique(ts []time.Time) []time.Time {
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	return slices.CompactFunc(ts, func(a, b time.Time) bool { return a.Equal(b) })
}
