package handlers

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/heraldhq/herald/models"
)

// ErrPlanNotAllowed means an integration scoped to services named a plan
// none of them uses. It wraps ErrServiceNotAllowed (403).
var ErrPlanNotAllowed = fmt.Errorf("%w: plan not allowed", ErrServiceNotAllowed)

// planAllowed checks a plan-only alert (no service: the Iris API, whose
// incidents name a plan). The plan must exist with a published version,
// checked here so that a bad name creates nothing. An integration scoped
// to no service may raise incidents with any plan (an Iris application
// could); one scoped to services only with the plans those services use,
// so scoping a key still bounds who it can page.
func (in *Intake) planAllowed(ctx context.Context, integ *models.Integration, plan string) error {
	p, err := in.d.Intake.PlanByName(ctx, plan)
	if models.IsNotFound(err) || (err == nil && p.ActiveVersion == 0) {
		return fmt.Errorf("%w %q", ErrUnknownPlan, plan)
	}
	if err != nil {
		return err
	}
	if integ == nil {
		return nil
	}
	ids, err := in.d.Intake.IntegrationServiceIDs(ctx, integ.ID)
	if err != nil || len(ids) == 0 {
		return err
	}
	svcs, err := in.d.Intake.ServicesByID(ctx, ids)
	if err != nil {
		return err
	}
	var names []string
	for _, s := range svcs {
		if s.PlanID != nil && *s.PlanID == p.ID {
			return nil
		}
		names = append(names, s.Name)
	}
	sort.Strings(names)
	return fmt.Errorf("%w: %s is scoped to services %s, none of which escalates with plan %q",
		ErrPlanNotAllowed, integ.Name, strings.Join(names, ", "), plan)
}
