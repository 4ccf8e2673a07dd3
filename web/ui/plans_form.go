package ui

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
)

// The plan editor is a plain form: steps and notifications are numbered
// fields (s0.n1.role), with their counts in hidden fields, and buttons
// named "action" add or remove one and post the form back. Nothing is
// stored until "Save draft".

// Bounds of the form: far beyond any real plan, they keep a crafted post
// from allocating much.
const (
	maxPlanSteps     = 30
	maxPlanStepNotes = 20
	maxPlanField     = 200
)

type planForm struct {
	Name   string
	TeamID string
	Steps  []planFormStep
	// Aggregation; all three blank is none.
	AggCount, AggWindow, AggBatch string
	// Base is the version the edit started from (0: a new plan).
	Base int
	// Errors maps a field key (name, team, s0.n1.target, s0, steps,
	// agg.threshold_count) to what is wrong with it.
	Errors map[string]string
	// Problems lists every error for the summary at the top, readably.
	Problems []string
}

type planFormStep struct {
	Notes []planFormNote
}

type planFormNote struct {
	Role, Target, Priority, Wait, Repeat, Template string
	Optional                                       bool
}

func blankNote() planFormNote { return planFormNote{Priority: "high", Wait: "5", Repeat: "0"} }

// planAction is what a post of the form asks for.
type planAction struct {
	Kind       string // save, add-step, remove-step, add-note, remove-note
	Step, Note int
}

var errBadAction = errors.New("unknown form action")

func parsePlanAction(s string) (planAction, error) {
	if s == "" {
		s = "save" // a browser that sends no button: Enter in a field
	}
	parts := strings.Split(s, ":")
	a := planAction{Kind: parts[0]}
	nums := make([]int, 0, 2)
	for _, p := range parts[1:] {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n >= maxPlanSteps*maxPlanStepNotes {
			return a, fmt.Errorf("%w: %q", errBadAction, s)
		}
		nums = append(nums, n)
	}
	want := map[string]int{"save": 0, "add-step": 0, "remove-step": 1, "add-note": 1, "remove-note": 2}
	if n, ok := want[a.Kind]; !ok || n != len(nums) {
		return a, fmt.Errorf("%w: %q", errBadAction, s)
	}
	if len(nums) > 0 {
		a.Step = nums[0]
	}
	if len(nums) > 1 {
		a.Note = nums[1]
	}
	return a, nil
}

func formCount(f url.Values, key string, limit int) int {
	n, err := strconv.Atoi(f.Get(key))
	if err != nil || n < 0 {
		return 0
	}
	return min(n, limit)
}

func clip(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > maxPlanField {
		s = s[:maxPlanField]
	}
	return s
}

// parsePlanForm reads the editor's fields. It never fails: what cannot be
// read is kept as typed and reported by validate.
func parsePlanForm(f url.Values) *planForm {
	pf := &planForm{Name: clip(f.Get("name")), TeamID: clip(f.Get("team")), AggCount: clip(f.Get("agg_count")),
		AggWindow: clip(f.Get("agg_window")), AggBatch: clip(f.Get("agg_batch")), Errors: map[string]string{}}
	pf.Base, _ = strconv.Atoi(f.Get("base"))
	steps := formCount(f, "steps", maxPlanSteps)
	pf.Steps = make([]planFormStep, steps)
	for i := range steps {
		notes := formCount(f, fmt.Sprintf("s%d.notes", i), maxPlanStepNotes)
		pf.Steps[i].Notes = make([]planFormNote, notes)
		for j := range notes {
			k := func(field string) string { return f.Get(fmt.Sprintf("s%d.n%d.%s", i, j, field)) }
			pf.Steps[i].Notes[j] = planFormNote{Role: clip(k("role")), Target: clip(k("target")), Priority: clip(k("priority")),
				Wait: clip(k("wait")), Repeat: clip(k("repeat")), Template: clip(k("template")), Optional: k("optional") != ""}
		}
	}
	return pf
}

// apply changes the form's structure; it reports whether it did.
func (pf *planForm) apply(a planAction) bool {
	switch a.Kind {
	case "add-step":
		if len(pf.Steps) < maxPlanSteps {
			pf.Steps = append(pf.Steps, planFormStep{Notes: []planFormNote{blankNote()}})
		}
	case "remove-step":
		if a.Step < len(pf.Steps) {
			pf.Steps = append(pf.Steps[:a.Step], pf.Steps[a.Step+1:]...)
		}
	case "add-note":
		if a.Step < len(pf.Steps) && len(pf.Steps[a.Step].Notes) < maxPlanStepNotes {
			pf.Steps[a.Step].Notes = append(pf.Steps[a.Step].Notes, blankNote())
		}
	case "remove-note":
		if a.Step < len(pf.Steps) && a.Note < len(pf.Steps[a.Step].Notes) {
			n := pf.Steps[a.Step].Notes
			pf.Steps[a.Step].Notes = append(n[:a.Note], n[a.Note+1:]...)
		}
	default:
		return false
	}
	return true
}

func (pf *planForm) fail(key, msg string) {
	if _, seen := pf.Errors[key]; !seen {
		pf.Errors[key] = msg
		pf.Problems = append(pf.Problems, fieldLabel(key)+": "+msg)
	}
}

var (
	notePath = regexp.MustCompile(`^steps\[(\d+)\]\.notifications\[(\d+)\]\.(\w+)$`)
	stepPath = regexp.MustCompile(`^steps\[(\d+)\]\.notifications$`)
)

// fieldKey turns a validator path (steps[1].notifications[0].target)
// into the form's key (s1.n0.target).
func fieldKey(path string) string {
	path = notifications.PlanFieldPath(path)
	if m := notePath.FindStringSubmatch(path); m != nil {
		return "s" + m[1] + ".n" + m[2] + "." + m[3]
	}
	if m := stepPath.FindStringSubmatch(path); m != nil {
		return "s" + m[1]
	}
	if rest, ok := strings.CutPrefix(path, "aggregation."); ok {
		return "agg." + rest
	}
	return path
}

var formKey = regexp.MustCompile(`^s(\d+)(?:\.n(\d+)\.(\w+))?$`)

// fieldLabel names a field key for people: "step 2, notification 1, target".
func fieldLabel(key string) string {
	if m := formKey.FindStringSubmatch(key); m != nil {
		i, _ := strconv.Atoi(m[1])
		if m[2] == "" {
			return fmt.Sprintf("Step %d", i+1)
		}
		j, _ := strconv.Atoi(m[2])
		return fmt.Sprintf("Step %d, notification %d, %s", i+1, j+1, m[3])
	}
	switch key {
	case "agg.threshold_count":
		return "Aggregation, incidents"
	case "agg.threshold_window":
		return "Aggregation, within"
	case "agg.batch_window":
		return "Aggregation, batch window"
	}
	return strings.ToUpper(key[:min(1, len(key))]) + key[min(1, len(key)):]
}

// spec turns the form into the catalog's plan spec, noting numbers that
// are not numbers (the catalog's validator checks everything else).
func (pf *planForm) spec(teamName string) notifications.PlanSpec {
	spec := notifications.PlanSpec{Name: pf.Name, Team: teamName}
	for i, s := range pf.Steps {
		var step notifications.StepSpec
		for j, n := range s.Notes {
			key := fmt.Sprintf("s%d.n%d.", i, j)
			step.Notifications = append(step.Notifications, notifications.NotificationSpec{Role: n.Role, Target: n.Target, Priority: n.Priority,
				Wait: pf.number(key+"wait", n.Wait, "minutes"), Repeat: pf.number(key+"repeat", n.Repeat, "extra sends"),
				Template: n.Template, Optional: n.Optional})
		}
		spec.Steps = append(spec.Steps, step)
	}
	if pf.AggCount != "" || pf.AggWindow != "" || pf.AggBatch != "" {
		spec.Aggregation = &notifications.AggregationSpec{ThresholdCount: pf.number("agg.threshold_count", pf.AggCount, "incidents"),
			ThresholdWindow: pf.AggWindow, BatchWindow: pf.AggBatch}
	}
	return spec
}

func (pf *planForm) number(key, s, unit string) int {
	if s == "" {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		pf.fail(key, fmt.Sprintf("%q is not a whole number of %s", s, unit))
		return 0
	}
	return n
}

// addErrors adds the catalog validator's errors at their fields.
func (pf *planForm) addErrors(err error) bool {
	var errs notifications.Errors
	if !errors.As(err, &errs) {
		return false
	}
	for _, fe := range errs {
		pf.fail(fieldKey(fe.Path), fe.Message)
	}
	return true
}

// planFormOf fills the form from a stored version.
func planFormOf(plan *models.Plan, v *models.PlanVersion) (*planForm, error) {
	pf := &planForm{Name: plan.Name, Errors: map[string]string{}}
	if plan.TeamID != nil {
		pf.TeamID = *plan.TeamID
	}
	if v == nil {
		pf.Steps = []planFormStep{{Notes: []planFormNote{blankNote()}}}
		return pf, nil
	}
	pf.Base = v.Version
	spec, err := notifications.PlanSpecOf(plan.Name, v.Definition)
	if err != nil {
		return nil, err
	}
	for _, s := range spec.Steps {
		var step planFormStep
		for _, n := range s.Notifications {
			step.Notes = append(step.Notes, planFormNote{Role: n.Role, Target: n.Target, Priority: n.Priority,
				Wait: strconv.Itoa(n.Wait), Repeat: strconv.Itoa(n.Repeat), Template: n.Template, Optional: n.Optional})
		}
		pf.Steps = append(pf.Steps, step)
	}
	if a := spec.Aggregation; a != nil {
		pf.AggCount, pf.AggWindow, pf.AggBatch = strconv.Itoa(a.ThresholdCount), a.ThresholdWindow, a.BatchWindow
	}
	return pf, nil
}
