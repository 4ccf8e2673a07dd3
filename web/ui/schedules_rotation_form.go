package ui

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/heraldhq/herald/models"
)

// The rotation editor is a plain form, like the plan editor: members are
// repeated hidden "member" fields in turn order, windows are numbered
// fields (w0.days, w0.start, w0.end) with their count in "windows", and
// buttons named "action" reorder, add or remove one and post the form
// back. Nothing is stored until "save".

// maxRotationField bounds one text field of the form, so a crafted post
// allocates little; real values are far shorter.
const maxRotationField = 100

// rotationWeekdays are the days a window or a weekly handoff names.
var rotationWeekdays = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

// rotationForm is the rotation editor's fields as typed, and its problems.
type rotationForm struct {
	Name, Role, ShiftKind, ShiftCount   string
	HandoffTime, HandoffWeekday         string
	StartDate, TimeZone, Layer          string
	Members                             []string // person ids, in turn order
	Windows                             []windowField
	AddMember                           string
	Errors                              map[string]string // form key (name, m2, w0.start) → problem
	Problems                            []string          // every problem, labelled, for the summary
	membersOverflow, windowsOverflowing bool
}

// windowField is one weekday time window as typed.
type windowField struct {
	Days       []string
	Start, End string
}

// rotationAction is what a post of the editor asks for.
type rotationAction struct {
	Kind  string // save, add-member, up, down, remove, add-window, remove-window
	Index int
}

func parseRotationAction(s string) (rotationAction, error) {
	if s == "" {
		return rotationAction{Kind: "save"}, nil // Enter in a field sends no button
	}
	kind, num, hasNum := strings.Cut(s, ":")
	a := rotationAction{Kind: kind}
	want := map[string]bool{"save": false, "add-member": false, "add-window": false, "up": true, "down": true, "remove": true, "remove-window": true}
	needs, ok := want[kind]
	if !ok || needs != hasNum {
		return a, fmt.Errorf("%w: %q", errBadAction, s)
	}
	if hasNum {
		n, err := strconv.Atoi(num)
		if err != nil || n < 0 || n > models.MaxRotationMembers {
			return a, fmt.Errorf("%w: %q", errBadAction, s)
		}
		a.Index = n
	}
	return a, nil
}

func clipField(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > maxRotationField {
		s = s[:maxRotationField]
	}
	return s
}

// parseRotationForm reads the editor's fields. It never fails: what cannot
// be read is kept as typed and reported when the rotation is built.
func parseRotationForm(f url.Values) *rotationForm {
	rf := &rotationForm{Name: clipField(f.Get("name")), Role: clipField(f.Get("role")), ShiftKind: clipField(f.Get("shift_kind")),
		ShiftCount: clipField(f.Get("shift_count")), HandoffTime: clipField(f.Get("handoff_time")),
		HandoffWeekday: clipField(f.Get("handoff_weekday")), StartDate: clipField(f.Get("start_date")),
		TimeZone: clipField(f.Get("time_zone")), Layer: clipField(f.Get("layer")), AddMember: clipField(f.Get("add_member")),
		Errors: map[string]string{}}
	for _, m := range f["member"] {
		if len(rf.Members) == models.MaxRotationMembers {
			rf.membersOverflow = true
			break
		}
		if m = clipField(m); m != "" {
			rf.Members = append(rf.Members, m)
		}
	}
	n := formCount(f, "windows", models.MaxRotationWindows)
	rf.windowsOverflowing = formCount(f, "windows", models.MaxRotationWindows+1) > models.MaxRotationWindows
	rf.Windows = make([]windowField, n)
	for i := range n {
		k := func(field string) string { return fmt.Sprintf("w%d.%s", i, field) }
		w := windowField{Start: clipField(f.Get(k("start"))), End: clipField(f.Get(k("end")))}
		for _, d := range f[k("days")] {
			if d = clipField(d); d != "" && !slices.Contains(w.Days, d) && len(w.Days) < len(rotationWeekdays) {
				w.Days = append(w.Days, d)
			}
		}
		rf.Windows[i] = w
	}
	return rf
}

// apply changes the form's lists; it reports whether the action was one
// that edits the form (rather than saving it).
func (rf *rotationForm) apply(a rotationAction) bool {
	i, ms := a.Index, rf.Members
	switch a.Kind {
	case "add-member":
		switch {
		case rf.AddMember == "":
			rf.fail("add_member", "choose a person to add")
		case len(ms) >= models.MaxRotationMembers:
			rf.fail("members", fmt.Sprintf("at most %d people", models.MaxRotationMembers))
		default:
			// The same person may take two turns (a longer share), so no
			// check for duplicates.
			rf.Members = append(ms, rf.AddMember)
			rf.AddMember = ""
		}
	case "up":
		if i > 0 && i < len(ms) {
			ms[i-1], ms[i] = ms[i], ms[i-1]
		}
	case "down":
		if i+1 < len(ms) {
			ms[i], ms[i+1] = ms[i+1], ms[i]
		}
	case "remove":
		if i < len(ms) {
			rf.Members = slices.Delete(ms, i, i+1)
		}
	case "add-window":
		if len(rf.Windows) < models.MaxRotationWindows {
			rf.Windows = append(rf.Windows, windowField{Days: []string{"mon", "tue", "wed", "thu", "fri"}, Start: "09:00", End: "17:00"})
		} else {
			rf.fail("windows", fmt.Sprintf("at most %d windows", models.MaxRotationWindows))
		}
	case "remove-window":
		if i < len(rf.Windows) {
			rf.Windows = slices.Delete(rf.Windows, i, i+1)
		}
	default:
		return false
	}
	return true
}

func (rf *rotationForm) fail(key, msg string) {
	if _, seen := rf.Errors[key]; !seen {
		rf.Errors[key] = msg
		rf.Problems = append(rf.Problems, rotationFieldLabel(key)+": "+msg)
	}
}

// rotation builds the model's rotation from the form, noting numbers that
// are not numbers (the model's validation checks everything else).
// withLayer reads the layer field (editing); a new rotation goes on top.
func (rf *rotationForm) rotation(scheduleID string, withLayer bool) models.Rotation {
	r := models.Rotation{ScheduleID: scheduleID, Name: rf.Name, Role: rf.Role, ShiftKind: rf.ShiftKind, HandoffTime: rf.HandoffTime,
		StartDate: rf.StartDate, TimeZone: rf.TimeZone, Members: slices.Clone(rf.Members)}
	if r.ShiftKind == models.ShiftWeekly {
		r.HandoffWeekday = rf.HandoffWeekday
	} // other kinds: a day left selected after switching kind is moot
	if rf.ShiftCount == "" {
		r.ShiftCount = 1
	} else if n, err := strconv.Atoi(rf.ShiftCount); err != nil || n < 1 {
		rf.fail("shift_count", fmt.Sprintf("%q is not a whole number of 1 or more", rf.ShiftCount))
	} else {
		r.ShiftCount = n
	}
	if withLayer {
		if n, err := strconv.Atoi(rf.Layer); err != nil || n < 0 || n > 1000 {
			rf.fail("layer", fmt.Sprintf("%q is not a whole number from 0 to 1000", rf.Layer))
		} else {
			r.Layer = n
		}
	}
	if rf.membersOverflow {
		rf.fail("members", fmt.Sprintf("at most %d people", models.MaxRotationMembers))
	}
	if rf.windowsOverflowing {
		rf.fail("windows", fmt.Sprintf("at most %d windows", models.MaxRotationWindows))
	}
	for _, w := range rf.Windows {
		r.Windows = append(r.Windows, models.RotationWindow{Weekdays: slices.Clone(w.Days), Start: w.Start, End: w.End})
	}
	return r
}

// rotationFormOf fills the form from a stored rotation.
func rotationFormOf(r *models.Rotation) *rotationForm {
	rf := &rotationForm{Name: r.Name, Role: r.Role, ShiftKind: r.ShiftKind, ShiftCount: strconv.Itoa(r.ShiftCount),
		HandoffTime: r.HandoffTime, HandoffWeekday: r.HandoffWeekday, StartDate: r.StartDate, TimeZone: r.TimeZone,
		Layer: strconv.Itoa(r.Layer), Members: slices.Clone(r.Members), Errors: map[string]string{}}
	for _, w := range r.Windows {
		rf.Windows = append(rf.Windows, windowField{Days: slices.Clone(w.Weekdays), Start: w.Start, End: w.End})
	}
	return rf
}

var (
	memberPath = regexp.MustCompile(`^members\[(\d+)\]$`)
	windowPath = regexp.MustCompile(`^windows\[(\d+)\]\.(weekdays|start|end)(?:\[\d+\])?$`)
)

// rotationFieldKey turns the model's field path (members[2],
// windows[0].weekdays[1], windows[0].end) into the form's key (m2,
// w0.days, w0.end).
func rotationFieldKey(path string) string {
	if m := memberPath.FindStringSubmatch(path); m != nil {
		return "m" + m[1]
	}
	if m := windowPath.FindStringSubmatch(path); m != nil {
		part := m[2]
		if part == "weekdays" {
			part = "days"
		}
		return "w" + m[1] + "." + part
	}
	return path
}

var (
	memberKey = regexp.MustCompile(`^m(\d+)$`)
	windowKey = regexp.MustCompile(`^w(\d+)\.(days|start|end)$`)
)

// rotationFieldLabel names a form key as its label does.
func rotationFieldLabel(key string) string {
	if m := memberKey.FindStringSubmatch(key); m != nil {
		i, _ := strconv.Atoi(m[1])
		return fmt.Sprintf("Member %d", i+1)
	}
	if m := windowKey.FindStringSubmatch(key); m != nil {
		i, _ := strconv.Atoi(m[1])
		return fmt.Sprintf("Window %d, %s", i+1, m[2])
	}
	labels := map[string]string{"name": "Name", "role": "Role", "members": "Members", "add_member": "Add a person",
		"shift_kind": "Shift kind", "shift_count": "Shift length", "handoff_time": "Handoff time",
		"handoff_weekday": "Handoff day", "start_date": "Start date", "time_zone": "Time zone", "layer": "Layer",
		"windows": "Windows", "schedule": "Schedule"}
	if l, ok := labels[key]; ok {
		return l
	}
	return "Form"
}

// modelErrors puts the model's (or the store's) field problems on the
// form; it reports whether err was such problems.
func (rf *rotationForm) modelErrors(err error) bool {
	var ie models.InputErrors
	if errors.As(err, &ie) {
		for _, p := range ie {
			rf.fail(rotationFieldKey(p.Field), p.Message)
		}
		return true
	}
	if errors.Is(err, models.ErrDuplicate) {
		rf.fail("name", "another rotation of this schedule has this name")
		return true
	}
	return false
}
