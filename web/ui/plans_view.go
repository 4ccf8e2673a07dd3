package ui

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
)

// How plan versions read on the page, in the audit log and in diffs.

func decodePlan(definition string) (models.PlanDefinition, error) {
	var def models.PlanDefinition
	if err := json.Unmarshal([]byte(definition), &def); err != nil {
		return def, fmt.Errorf("decoding a plan definition: %w", err)
	}
	return def, nil
}

type planStepView struct {
	Number int
	Notes  []string
}

// describeWho says whom a notification pages, in words.
func describeWho(n models.PlanNotification) string {
	switch n.Role {
	case notifications.RoleUser:
		return "the person " + n.Target
	case notifications.RoleTeam:
		return "every member of team " + n.Target
	case notifications.RoleOncallPrimary:
		return "the primary on-call of team " + n.Target
	case notifications.RoleOncallSecondary:
		return "the secondary on-call of team " + n.Target
	case notifications.RoleManager:
		return "the manager of team " + n.Target
	case notifications.RoleSlackChannel:
		return "the Slack channel " + n.Target
	}
	return n.Role + " " + n.Target
}

// describeNote is one notification in a sentence.
func describeNote(n models.PlanNotification) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Page %s at %s priority", describeWho(n), n.Priority)
	switch {
	case n.Repeat > 0:
		fmt.Fprintf(&b, ", %d times, %s apart, then wait %s", n.Repeat+1, minutes(n.WaitMinutes), minutes(n.WaitMinutes))
	case n.WaitMinutes > 0:
		fmt.Fprintf(&b, ", once, then wait %s", minutes(n.WaitMinutes))
	default:
		b.WriteString(", once, without waiting")
	}
	if n.Template != "" {
		fmt.Fprintf(&b, "; template %s", n.Template)
	}
	if n.Optional {
		b.WriteString("; optional (reaching nobody is fine)")
	}
	b.WriteString(".")
	return b.String()
}

func minutes(n int) string {
	if n == 1 {
		return "1 minute"
	}
	return strconv.Itoa(n) + " minutes"
}

func describeAggregation(a *models.PlanAggregation) string {
	if a == nil {
		return ""
	}
	s := fmt.Sprintf("When more than %d incidents start on this plan within %s, each person's further pages are batched",
		a.ThresholdCount, planDuration(a.ThresholdWindowSeconds))
	if a.BatchWindowSeconds > 0 {
		s += " (up to " + planDuration(a.BatchWindowSeconds) + " each)"
	}
	return s + "."
}

// planDuration writes seconds as a Go duration people read: 5m, 1h, 90s.
func planDuration(seconds int) string {
	switch {
	case seconds%3600 == 0:
		return strconv.Itoa(seconds/3600) + "h"
	case seconds%60 == 0:
		return strconv.Itoa(seconds/60) + "m"
	}
	return strconv.Itoa(seconds) + "s"
}

func describePlan(def models.PlanDefinition) ([]planStepView, string) {
	steps := make([]planStepView, len(def.Steps))
	for i, s := range def.Steps {
		steps[i].Number = i + 1
		for _, n := range s.Notifications {
			steps[i].Notes = append(steps[i].Notes, describeNote(n))
		}
	}
	return steps, describeAggregation(def.Aggregation)
}

// planText is a version as plain text for the audit log.
func planText(definition string) string {
	def, err := decodePlan(definition)
	if err != nil {
		return definition
	}
	var b strings.Builder
	steps, agg := describePlan(def)
	for _, s := range steps {
		fmt.Fprintf(&b, "Step %d:\n", s.Number)
		for _, n := range s.Notes {
			b.WriteString("  " + n + "\n")
		}
	}
	if agg != "" {
		b.WriteString(agg + "\n")
	}
	return b.String()
}

// diffRow is one line of a diff: Class "add", "del" or "" (context).
type diffRow struct {
	Class string
	Text  string
}

// noteFields lists a notification's fields by name, in reading order.
func noteFields(n models.PlanNotification) [][2]string {
	opt := "no"
	if n.Optional {
		opt = "yes"
	}
	tpl := n.Template
	if tpl == "" {
		tpl = "(default)"
	}
	return [][2]string{{"role", n.Role}, {"target", n.Target}, {"priority", n.Priority}, {"wait", minutes(n.WaitMinutes)},
		{"repeat", strconv.Itoa(n.Repeat)}, {"template", tpl}, {"optional", opt}}
}

func aggFields(a *models.PlanAggregation) [][2]string {
	if a == nil {
		return nil
	}
	batch := "(default)"
	if a.BatchWindowSeconds > 0 {
		batch = planDuration(a.BatchWindowSeconds)
	}
	return [][2]string{{"threshold count", strconv.Itoa(a.ThresholdCount)}, {"threshold window", planDuration(a.ThresholdWindowSeconds)}, {"batch window", batch}}
}

// diffPlans compares two versions step by step, notification by
// notification and field by field: a notification present in one only is
// added or removed whole; one in both lists its changed fields.
func diffPlans(a, b models.PlanDefinition) (rows []diffRow, changes int) {
	for i := range max(len(a.Steps), len(b.Steps)) {
		head := fmt.Sprintf("Step %d", i+1)
		switch {
		case i >= len(a.Steps):
			rows = append(rows, diffRow{"add", head})
			for j, n := range b.Steps[i].Notifications {
				rows = append(rows, diffRow{"add", fmt.Sprintf("  notification %d: %s", j+1, describeNote(n))})
			}
			changes++
			continue
		case i >= len(b.Steps):
			rows = append(rows, diffRow{"del", head})
			for j, n := range a.Steps[i].Notifications {
				rows = append(rows, diffRow{"del", fmt.Sprintf("  notification %d: %s", j+1, describeNote(n))})
			}
			changes++
			continue
		}
		rows = append(rows, diffRow{"", head})
		an, bn := a.Steps[i].Notifications, b.Steps[i].Notifications
		for j := range max(len(an), len(bn)) {
			label := fmt.Sprintf("  notification %d", j+1)
			switch {
			case j >= len(an):
				rows = append(rows, diffRow{"add", label + ": " + describeNote(bn[j])})
				changes++
			case j >= len(bn):
				rows = append(rows, diffRow{"del", label + ": " + describeNote(an[j])})
				changes++
			case an[j] == bn[j]:
				rows = append(rows, diffRow{"", label + ": " + describeNote(an[j])})
			default:
				rows = append(rows, diffRow{"", label + ":"})
				rows, changes = diffFields(rows, changes, "    ", noteFields(an[j]), noteFields(bn[j]))
			}
		}
	}
	af, bf := aggFields(a.Aggregation), aggFields(b.Aggregation)
	switch {
	case af == nil && bf == nil:
	case af == nil:
		rows = append(rows, diffRow{"add", "Aggregation: " + describeAggregation(b.Aggregation)})
		changes++
	case bf == nil:
		rows = append(rows, diffRow{"del", "Aggregation: " + describeAggregation(a.Aggregation)})
		changes++
	default:
		rows = append(rows, diffRow{"", "Aggregation:"})
		rows, changes = diffFields(rows, changes, "  ", af, bf)
	}
	return rows, changes
}

func diffFields(rows []diffRow, changes int, indent string, a, b [][2]string) ([]diffRow, int) {
	for k := range a {
		if a[k][1] == b[k][1] {
			rows = append(rows, diffRow{"", indent + a[k][0] + ": " + a[k][1]})
			continue
		}
		rows = append(rows, diffRow{"del", indent + a[k][0] + ": " + a[k][1]}, diffRow{"add", indent + b[k][0] + ": " + b[k][1]})
		changes++
	}
	return rows, changes
}

type planDiffData struct {
	Plan     *models.Plan
	From, To int
	Versions []planVersionRow
	Rows     []diffRow
	Changes  int
}

func (p *PlanPages) diff(c *Ctx) error {
	a, ok, err := p.loadPlan(c)
	if !ok {
		return err
	}
	if len(a.Versions) == 0 {
		return c.NotFound("version of plan " + a.Plan.Name)
	}
	d := planDiffData{Plan: a.Plan, To: a.latest().Version, From: a.Plan.ActiveVersion}
	if d.From == 0 || d.From == d.To {
		d.From = max(d.To-1, 1)
	}
	for name, dst := range map[string]*int{"from": &d.From, "to": &d.To} {
		q := c.QueryParam(name)
		if q == "" {
			continue
		}
		n, err := strconv.Atoi(q)
		if err != nil || n < 1 {
			return c.ErrorPage(http.StatusBadRequest, "Not a version", strconv.Quote(q)+" is not a version number ("+name+"). Pick versions from the plan's history.")
		}
		*dst = n
	}
	from, to := a.version(d.From), a.version(d.To)
	if from == nil || to == nil {
		return c.NotFound(fmt.Sprintf("version %d or %d of plan %s", d.From, d.To, a.Plan.Name))
	}
	fd, err := decodePlan(from.Definition)
	if err != nil {
		return c.Failed("reading the plan version", err)
	}
	td, err := decodePlan(to.Definition)
	if err != nil {
		return c.Failed("reading the plan version", err)
	}
	d.Rows, d.Changes = diffPlans(fd, td)
	for i := range a.Versions {
		d.Versions = append(d.Versions, planVersionRow{PlanVersion: a.Versions[i], State: versionState(a.Plan, &a.Versions[i])})
	}
	return c.Page(http.StatusOK, "plans_diff.html", fmt.Sprintf("Plan %s: version %d → %d", a.Plan.Name, d.From, d.To), d)
}
