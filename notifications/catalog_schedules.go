package notifications

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/heraldhq/herald/models"
)

// ScheduleSpec declares a team's on-call schedule (models.Schedule): team
// and name identify it. Its rotations are the schedule's whole list: one
// the database has and the file does not is removed. Overrides, swaps and
// time off are operational data, changed in Slack or over the API, never
// in the file.
type ScheduleSpec struct {
	Team      string         `yaml:"team"`
	Name      string         `yaml:"name"`
	TimeZone  string         `yaml:"time_zone"`
	Rotations []RotationSpec `yaml:"rotations,omitempty"`
}

// RotationSpec is one layer of a schedule (models.Rotation), identified by
// its name within the schedule. The file lists a schedule's layers bottom
// first: where two rotations of a role overlap, the later one wins.
type RotationSpec struct {
	Name string `yaml:"name"`
	// Role is primary, secondary or shadow (never paged).
	Role string `yaml:"role"`
	// Members are person handles, in the order they take turns.
	Members []string `yaml:"members,flow"`
	// Shift is hourly, daily or weekly; Every is how many of them make a
	// turn (omitted: one).
	Shift      string `yaml:"shift"`
	Every      int    `yaml:"every,omitempty"`
	Handoff    string `yaml:"handoff"`               // HH:MM in the rotation's zone
	HandoffDay string `yaml:"handoff_day,omitempty"` // weekly only: mon … sun
	Start      string `yaml:"start"`                 // YYYY-MM-DD of the first handoff
	// TimeZone is the rotation's own zone (a follow-the-sun layer);
	// omitted, the schedule's.
	TimeZone string       `yaml:"time_zone,omitempty"`
	Windows  []WindowSpec `yaml:"windows,omitempty"`
}

// WindowSpec restricts a rotation to Days from Start to End (an End at or
// before Start ends the next day).
type WindowSpec struct {
	Days  []string `yaml:"days,flow"`
	Start string   `yaml:"start"`
	End   string   `yaml:"end"`
}

// rotation is the spec as a model of schedule scheduleID, members given as
// member(handle) (an id, or the handle itself to validate the shape).
func (r RotationSpec) rotation(scheduleID string, member func(string) string) models.Rotation {
	out := models.Rotation{ScheduleID: scheduleID, Name: r.Name, Role: r.Role, ShiftKind: r.Shift, ShiftCount: r.Every,
		HandoffTime: r.Handoff, HandoffWeekday: r.HandoffDay, StartDate: r.Start, TimeZone: r.TimeZone,
		Members: make([]string, len(r.Members))}
	for i, m := range r.Members {
		out.Members[i] = member(m)
	}
	for _, w := range r.Windows {
		out.Windows = append(out.Windows, models.RotationWindow{Weekdays: slices.Clone(w.Days), Start: w.Start, End: w.End})
	}
	return out
}

// rotationSpec is a stored rotation as the file writes it; name(id) is a
// member's handle.
func rotationSpec(r models.Rotation, name func(string) string) RotationSpec {
	out := RotationSpec{Name: r.Name, Role: r.Role, Shift: r.ShiftKind, Every: r.ShiftCount, Handoff: r.HandoffTime,
		HandoffDay: r.HandoffWeekday, Start: r.StartDate, TimeZone: r.TimeZone, Members: make([]string, len(r.Members))}
	for i, id := range r.Members {
		out.Members[i] = name(id)
	}
	for _, w := range r.Windows {
		out.Windows = append(out.Windows, WindowSpec{Days: slices.Clone(w.Weekdays), Start: w.Start, End: w.End})
	}
	return out
}

// rotationFields maps the model's field names to the file's.
var rotationFields = map[string]string{"shift_kind": "shift", "shift_count": "every", "handoff_time": "handoff",
	"handoff_weekday": "handoff_day", "start_date": "start"}

// fileField turns a model field path (handoff_time, windows[0].weekdays[1])
// into the file's (handoff, windows[0].days[1]).
func fileField(field string) string {
	head, rest := field, ""
	if i := strings.IndexAny(field, ".["); i >= 0 {
		head, rest = field[:i], field[i:]
	}
	if f, ok := rotationFields[head]; ok {
		head = f
	}
	return head + strings.ReplaceAll(rest, ".weekdays", ".days")
}

// modelProblems reports a model's validation errors at path.field, the
// fields named as the file names them; skip leaves some out.
func (v *validator) modelProblems(path string, err error, skip ...string) {
	if err == nil {
		return
	}
	var problems models.InputErrors
	if !errors.As(err, &problems) {
		v.errs.add(path, "%v", err)
		return
	}
	for _, p := range problems {
		if !slices.Contains(skip, p.Field) {
			v.errs.add(path+"."+fileField(p.Field), "%s", p.Message)
		}
	}
}

// validateSchedules checks the schedules and their rotations. The fields
// are checked by the models' own validation, so the file accepts exactly
// what the API does.
func (v *validator) validateSchedules() {
	type key struct{ team, name string }
	seen := map[key]int{}
	for i := range v.c.Schedules {
		s := &v.c.Schedules[i]
		path := fmt.Sprintf("schedules[%d]", i)
		switch {
		case s.Team == "":
			v.errs.add(path+".team", "required")
		case !v.teamExists(s.Team):
			v.errs.add(path+".team", "unknown team %q (not in this file or the database)", s.Team)
		}
		if s.Name != strings.TrimSpace(s.Name) {
			v.errs.add(path+".name", "%q has spaces at an end", s.Name)
		} else {
			sc := models.Schedule{TeamID: s.Team, Name: s.Name, TimeZone: s.TimeZone}
			v.modelProblems(path, sc.Validate(), "team")
		}
		if j, dup := seen[key{s.Team, s.Name}]; dup && s.Name != "" {
			v.errs.add(path+".name", "team %s already has a schedule %q: schedules[%d]", s.Team, s.Name, j)
		} else {
			seen[key{s.Team, s.Name}] = i
		}
		names := map[string]int{}
		for j := range s.Rotations {
			v.rotation(fmt.Sprintf("%s.rotations[%d]", path, j), s.Team, &s.Rotations[j], j, names)
		}
	}
}

func (v *validator) rotation(path, team string, r *RotationSpec, j int, names map[string]int) {
	if r.Name != strings.TrimSpace(r.Name) {
		v.errs.add(path+".name", "%q has spaces at an end", r.Name)
	} else if prev, dup := names[r.Name]; dup && r.Name != "" {
		v.errs.add(path+".name", "%q is already the name of rotations[%d]", r.Name, prev)
	} else {
		names[r.Name] = j
	}
	// The model checks the shape (members by handle here); the file's
	// own checks follow: the members exist.
	m := r.rotation("-", func(h string) string { return h })
	v.modelProblems(path, m.Validate(), "schedule")
	members := map[string]bool{}
	if i, declared := v.declaredTeam(team); declared {
		for _, name := range v.c.Teams[i].Members {
			members[name] = true
		}
	}
	for k, name := range r.Members {
		if name == "" {
			continue // reported by the model
		}
		mpath := fmt.Sprintf("%s.members[%d]", path, k)
		if !v.personExists(name) {
			v.errs.add(mpath, "unknown person %q (not in this file or the database)", name)
			continue
		}
		if _, declared := v.declaredTeam(team); declared && !members[name] {
			v.warn(mpath, "%s takes turns in a rotation of team %s but is not one of its members", name, team)
		}
	}
}

// schedulesRole reports whether the file gives team a rotation of role
// (primary, secondary): its on-call comes from the schedule, not a static
// assignment.
func (c *Catalog) schedulesRole(team, role string) bool {
	for _, s := range c.Schedules {
		if s.Team != team {
			continue
		}
		for _, r := range s.Rotations {
			if r.Role == role {
				return true
			}
		}
	}
	return false
}

// declaresNothing reports whether the file declares nothing at all (with
// --prune it would remove the whole configuration).
func (c *Catalog) declaresNothing() bool {
	return len(c.People)+len(c.Teams)+len(c.Templates)+len(c.Plans)+len(c.Services)+len(c.Integrations)+
		len(c.Heartbeats)+len(c.Maintenance)+len(c.Schedules) == 0
}
