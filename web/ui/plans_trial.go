package ui

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
)

// "Test plan": the editor alone is paged, once per step and priority, by
// their own preferences for that priority, so they see what each step's
// on-callers would get. Nobody else is paged: the pages go out of band to
// the role "user" with the editor's own handle.

// trialPage is one test page to send.
type trialPage struct {
	Step     int
	Priority string
	Notes    []string
}

// trialPages lists a version's test pages: one per step and distinct
// priority, in order.
func trialPages(def models.PlanDefinition) []trialPage {
	var out []trialPage
	for i, s := range def.Steps {
		seen := map[string]int{}
		for _, n := range s.Notifications {
			k, ok := seen[n.Priority]
			if !ok {
				k = len(out)
				seen[n.Priority] = k
				out = append(out, trialPage{Step: i + 1, Priority: n.Priority})
			}
			out[k].Notes = append(out[k].Notes, describeNote(n))
		}
	}
	return out
}

func (p *PlanPages) testPlan(c *Ctx) error {
	a, ok, err := p.loadPlan(c)
	if !ok {
		return err
	}
	if !a.CanEdit {
		return c.Forbidden(a.Why)
	}
	n, err := strconv.Atoi(c.FormValue("version"))
	v := a.version(n)
	if err != nil || v == nil {
		return c.ErrorPage(http.StatusBadRequest, "No such version", "Plan "+a.Plan.Name+" has no version "+strconv.Quote(c.FormValue("version"))+". Go back and pick one from its history.")
	}
	if c.Viewer.User.PersonID == nil {
		return c.ErrorPage(http.StatusConflict, "Nobody to page",
			"Your web account is not linked to a person Herald pages, so a test page has nobody to go to (it never goes to the plan's on-callers). Ask an admin to link your account to your person, then try again.")
	}
	ctx := c.Request().Context()
	people, err := p.store.PeopleByID(ctx, []string{*c.Viewer.User.PersonID})
	if err != nil {
		return c.Failed("loading your person", err)
	}
	if len(people) != 1 || !people[0].Active {
		return c.ErrorPage(http.StatusConflict, "Nobody to page",
			"The person your web account is linked to is not active in Herald, so it cannot be paged. Ask an admin to check your person.")
	}
	me := people[0]
	def, err := decodePlan(v.Definition)
	if err != nil {
		return c.Failed("reading the plan version", err)
	}
	pages := trialPages(def)
	sent := 0
	for _, tp := range pages {
		q, err := p.pager.Notify(ctx, notifications.OutOfBand{
			Role: notifications.RoleUser, Target: me.Name, Priority: tp.Priority,
			Subject: fmt.Sprintf("TEST: plan %s v%d, step %d (%s)", a.Plan.Name, v.Version, tp.Step, tp.Priority),
			Body: fmt.Sprintf("Test page of escalation plan %s, version %d, step %d of %d, sent only to you by %s. "+
				"On-callers of this step get %s-priority pages like this one, by their own preferences. The step:\n%s\nNo action needed.",
				a.Plan.Name, v.Version, tp.Step, len(def.Steps), c.Viewer.ActorName(), tp.Priority, strings.Join(tp.Notes, "\n")),
		})
		if errors.Is(err, notifications.ErrInvalidPage) {
			return c.ErrorPage(http.StatusConflict, "Test page refused", fmt.Sprintf("Herald could not page you (%d test pages sent before this): %v", sent, err))
		}
		if err != nil {
			return c.Failed("sending the test pages", err)
		}
		sent += q
	}
	if err := c.Audit("plan.test", "plan "+a.Plan.Name, "", fmt.Sprintf("version %d: %d test messages to %s", v.Version, sent, me.Name)); err != nil {
		return c.Failed("recording the test in the audit log", err)
	}
	return c.SeeOther(planURL(a.Plan.Name, v.Version), fmt.Sprintf("Queued %d test messages to you only (%d steps, each at its priority, by your preferences).", sent, len(def.Steps)))
}
