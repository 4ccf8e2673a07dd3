package notifications

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/heraldhq/herald/models"
)

// The web UI's plan editor checks and stores a plan exactly as `herald
// apply` does: these wrap the catalog's validation and conversion for one
// plan.

// PlanFieldPrefix is how ValidatePlan's error paths begin ("plans[0]."):
// the rest is the field's path within the plan, like
// steps[1].notifications[0].target.
const PlanFieldPrefix = "plans[0]."

// ValidatePlan checks one plan against what the database holds (ex; nil
// means nothing) with the catalog's validator, and returns its stored
// definition as JSON. Problems are an Errors, each at a path starting
// with PlanFieldPrefix; warnings are legal but probably unintended.
func ValidatePlan(spec PlanSpec, ex *Existing) (definition string, warnings []string, err error) {
	c := &Catalog{Plans: []PlanSpec{spec}}
	warnings, err = c.Validate(ex)
	if err != nil {
		return "", warnings, err
	}
	b, err := json.Marshal(planDefinition(spec))
	if err != nil {
		return "", warnings, fmt.Errorf("encoding plan %q: %w", spec.Name, err)
	}
	return string(b), warnings, nil
}

// PlanSpecOf is a stored plan definition as a spec (team and owner are
// left to the caller), as `herald export` writes it.
func PlanSpecOf(name, definition string) (PlanSpec, error) {
	var def models.PlanDefinition
	if err := json.Unmarshal([]byte(definition), &def); err != nil {
		return PlanSpec{}, fmt.Errorf("plan %q: its stored definition is not valid: %w", name, err)
	}
	spec := PlanSpec{Name: name, Aggregation: aggregationSpec(def.Aggregation)}
	for _, s := range def.Steps {
		var step StepSpec
		for _, n := range s.Notifications {
			step.Notifications = append(step.Notifications, NotificationSpec{Role: n.Role, Target: n.Target, Priority: n.Priority,
				Wait: n.WaitMinutes, Repeat: n.Repeat, Template: n.Template, Optional: n.Optional})
		}
		spec.Steps = append(spec.Steps, step)
	}
	return spec, nil
}

// PlanFieldPath strips PlanFieldPrefix from a FieldError's path.
func PlanFieldPath(path string) string {
	return strings.TrimPrefix(path, PlanFieldPrefix)
}
