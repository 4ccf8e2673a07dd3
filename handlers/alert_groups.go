package handlers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/heraldhq/herald/models"
)

// AlertGroup is one notification of a monitoring system about a group of
// alerts (Alertmanager's and Grafana's groups; the generic webhook's
// single alert): the web layer parses it, AlertGroups.Receive acts on it.
type AlertGroup struct {
	Integration *models.Integration
	Service     string
	Source      string // incidents.source: alertmanager, grafana, generic
	System      string // who resolves it, for the timeline: "Alertmanager"
	// DedupKey names the group: one incident per group while it is open.
	DedupKey   string
	Resolved   bool // the whole group is resolved
	Title      string
	Message    string
	Severity   models.Severity // SeverityUnset: the service's default
	DetectedAt *time.Time
	Context    string            // JSON object
	Labels     map[string]string // what maintenance windows match
	RunbookURL string            // the group's runbook (http or https), if any
	Alerts     []GroupAlert
}

// GroupAlert is one alert of a group, tracked by fingerprint.
type GroupAlert struct {
	Fingerprint string
	Resolved    bool
	Name        string // how the timeline names it
	Labels      string // JSON object
	Annotations string // JSON object
	StartsAt    *time.Time
	EndsAt      *time.Time
	RunbookURL  string // http or https, if any
}

// AlertGroupResult is what a notification did.
type AlertGroupResult struct {
	Incident *models.Incident // nil when ignored with no incident
	Action   string           // one of the Group* actions
	Created  bool
	Paging   string // what paging a new incident started
	Reason   string // why it was ignored
	Changes  int    // alert transitions recorded
}

// Actions of AlertGroupResult.Action.
const (
	GroupOpened    = "opened"    // a new incident for the group
	GroupUpdated   = "updated"   // alerts of the open incident changed; nobody paged again
	GroupUnchanged = "unchanged" // a repeat: nothing new
	GroupResolved  = "resolved"  // the group resolved and so did its incident
	GroupIgnored   = "ignored"   // nothing to act on (see Reason)
)

// AlertGroupStore is what alert groups keep; *models.Store implements it.
type AlertGroupStore interface {
	IncidentForDedupKey(ctx context.Context, serviceID, dedupKey string) (*models.Incident, error)
	IncidentAlerts(ctx context.Context, incidentID int64) ([]models.IncidentAlert, error)
	RecordIncidentAlerts(ctx context.Context, incidentID int64, alerts []models.IncidentAlert, notes models.AlertNotes) ([]models.AlertTransition, error)
}

// AlertGroups turns monitoring systems' alert groups into incidents: one
// per group, opened (and paged) once, updated as alerts join or resolve,
// resolved when the group resolves.
type AlertGroups struct {
	intake *Intake
	store  AlertGroupStore
}

// NewAlertGroups builds the alert groups on an intake.
func NewAlertGroups(intake *Intake, store AlertGroupStore) *AlertGroups {
	return &AlertGroups{intake: intake, store: store}
}

// maxListed bounds the alerts one timeline entry or notice names.
const maxListed = 5

// ReceiveAlertGroup acts on one notification. Unknown and out-of-scope
// services are ErrUnknownService and ErrServiceNotAllowed, a malformed
// group ErrInvalidAlert; nothing is stored then.
func (g *AlertGroups) ReceiveAlertGroup(ctx context.Context, grp AlertGroup) (*AlertGroupResult, error) {
	if err := validGroup(&grp); err != nil {
		return nil, err
	}
	svc, err := g.intake.ServiceFor(ctx, grp.Integration, grp.Service)
	if err != nil {
		return nil, err
	}
	inc, err := g.store.IncidentForDedupKey(ctx, svc.ID, grp.DedupKey)
	if err != nil && !models.IsNotFound(err) {
		return nil, err
	}
	switch {
	case inc != nil && inc.IsOpen():
		return g.update(ctx, inc, &grp)
	case grp.Resolved:
		return &AlertGroupResult{Incident: inc, Action: GroupIgnored, Reason: "the group is resolved and has no open incident"}, nil
	case inc != nil:
		stale, err := g.replayOf(ctx, inc, &grp)
		if err != nil {
			return nil, err
		}
		if stale {
			return &AlertGroupResult{Incident: inc, Action: GroupIgnored,
				Reason: fmt.Sprintf("these alerts already raised incident #%d, which is resolved; a new firing (new start time or new alert) opens a new incident", inc.Number)}, nil
		}
	}
	return g.open(ctx, &grp)
}

// validGroup checks what the web layer must have filled.
func validGroup(grp *AlertGroup) error {
	switch {
	case strings.TrimSpace(grp.Service) == "":
		return fmt.Errorf("%w: no service", ErrInvalidAlert)
	case grp.DedupKey == "":
		return fmt.Errorf("%w: no group key", ErrInvalidAlert)
	case len(grp.Alerts) == 0:
		return fmt.Errorf("%w: no alerts", ErrInvalidAlert)
	}
	for _, a := range grp.Alerts {
		if a.Fingerprint == "" {
			return fmt.Errorf("%w: an alert without a fingerprint", ErrInvalidAlert)
		}
	}
	return nil
}

// open raises the group's incident (paging with the service's plan) and
// records its alerts.
func (g *AlertGroups) open(ctx context.Context, grp *AlertGroup) (*AlertGroupResult, error) {
	res, openErr := g.intake.Open(ctx, NewAlert{
		Integration: grp.Integration, Service: grp.Service, Severity: grp.Severity, Title: grp.Title,
		Message: grp.Message, DetectedAt: grp.DetectedAt, Source: grp.Source, DedupKey: grp.DedupKey,
		Context: grp.Context, Labels: grp.Labels,
	})
	if res == nil {
		return nil, openErr
	}
	out := &AlertGroupResult{Incident: res.Incident, Action: GroupOpened, Created: res.Created, Paging: res.Paging}
	if !res.Created {
		// A concurrent notification of the same group opened it first.
		out.Action = GroupUpdated
	}
	runbook := grp.RunbookURL
	if !res.Created {
		runbook = ""
	}
	ts, err := g.store.RecordIncidentAlerts(ctx, res.Incident.ID, storedAlerts(grp.Alerts), g.notes(grp, runbook, !res.Created))
	if err != nil {
		return nil, errors.Join(openErr, err)
	}
	out.Changes = len(ts)
	if !res.Created && len(ts) == 0 {
		out.Action = GroupUnchanged
	}
	return out, openErr
}

// update records a notification of a group whose incident is open: new
// alerts and status changes go on the timeline (and to the comms
// channel), nobody is paged again; a resolved group resolves it.
func (g *AlertGroups) update(ctx context.Context, inc *models.Incident, grp *AlertGroup) (*AlertGroupResult, error) {
	ts, err := g.store.RecordIncidentAlerts(ctx, inc.ID, storedAlerts(grp.Alerts), g.notes(grp, "", !grp.Resolved))
	if err != nil {
		return nil, err
	}
	out := &AlertGroupResult{Incident: inc, Action: GroupUnchanged, Changes: len(ts)}
	if len(ts) > 0 {
		out.Action = GroupUpdated
	}
	if !grp.Resolved {
		return out, nil
	}
	resolved, err := g.intake.SetState(ctx, inc.ID, StateResolved, grp.System)
	if errors.Is(err, models.ErrNoChange) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	out.Incident, out.Action = resolved, GroupResolved
	return out, nil
}

// replayOf reports whether a firing notification only repeats alerts the
// resolved incident already saw: each firing alert's fingerprint and
// start are stored there. Alerts without a start time (the generic
// webhook) never count as replays.
func (g *AlertGroups) replayOf(ctx context.Context, inc *models.Incident, grp *AlertGroup) (bool, error) {
	stored, err := g.store.IncidentAlerts(ctx, inc.ID)
	if err != nil {
		return false, err
	}
	starts := make(map[string]time.Time, len(stored))
	for _, a := range stored {
		if a.StartsAt != nil {
			starts[a.Fingerprint] = *a.StartsAt
		}
	}
	firing := 0
	for _, a := range grp.Alerts {
		if a.Resolved {
			continue
		}
		firing++
		seen, ok := starts[a.Fingerprint]
		if a.StartsAt == nil || !ok || !a.StartsAt.UTC().Truncate(time.Microsecond).Equal(seen) {
			return false, nil
		}
	}
	return firing > 0, nil
}

func storedAlerts(as []GroupAlert) []models.IncidentAlert {
	out := make([]models.IncidentAlert, len(as))
	for i, a := range as {
		status := models.AlertFiring
		if a.Resolved {
			status = models.AlertResolved
		}
		out[i] = models.IncidentAlert{Fingerprint: a.Fingerprint, Status: status, Labels: a.Labels,
			Annotations: a.Annotations, StartsAt: a.StartsAt, EndsAt: a.EndsAt}
	}
	return out
}

// notes writes the transitions of a notification on the timeline: alerts
// that began firing, fired again or resolved (one entry each, or one for
// many), runbook links not yet shown, and, with notify, a notice in the
// comms channel.
func (g *AlertGroups) notes(grp *AlertGroup, groupRunbook string, notify bool) models.AlertNotes {
	byFP := make(map[string]*GroupAlert, len(grp.Alerts))
	for i := range grp.Alerts {
		byFP[grp.Alerts[i].Fingerprint] = &grp.Alerts[i]
	}
	return func(inc *models.Incident, ts []models.AlertTransition) ([]models.TimelineEvent, []models.NewJob) {
		var firing, again, resolved []string
		runbooks := []string{}
		if groupRunbook != "" {
			runbooks = append(runbooks, groupRunbook)
		}
		for _, t := range ts {
			a := byFP[t.Alert.Fingerprint]
			if a == nil {
				continue
			}
			name := a.Name
			if name == "" {
				name = a.Fingerprint
			}
			switch {
			case t.Alert.Status == models.AlertResolved:
				resolved = append(resolved, name)
			case t.From == "":
				firing = append(firing, name)
			default:
				again = append(again, name)
			}
			if a.RunbookURL != "" && t.Alert.Status == models.AlertFiring {
				runbooks = append(runbooks, a.RunbookURL)
			}
		}
		var entries []models.TimelineEvent
		add := func(verb string, names []string) {
			for _, text := range alertLines(verb, names) {
				entries = append(entries, models.TimelineEvent{Kind: models.TimelineNote, Text: text})
			}
		}
		add("firing", firing)
		add("firing again", again)
		add("resolved", resolved)
		seen := map[string]bool{}
		for _, u := range runbooks {
			if seen[u] || len(seen) == maxListed {
				continue
			}
			seen[u] = true
			ref := "runbook:" + u
			entries = append(entries, models.TimelineEvent{Kind: models.TimelineNote, Text: "Runbook: <" + u + ">", SourceRef: &ref})
		}
		if !notify || !inc.IsOpen() || len(firing)+len(again)+len(resolved) == 0 {
			return entries, nil
		}
		var parts []string
		if n := len(firing) + len(again); n > 0 {
			parts = append(parts, fmt.Sprintf("🔥 %s firing: %s", plural(n, "more alert", "more alerts"), listNames(append(firing, again...))))
		}
		if len(resolved) > 0 {
			parts = append(parts, fmt.Sprintf("✅ %s resolved: %s", plural(len(resolved), "alert", "alerts"), listNames(resolved)))
		}
		text := fmt.Sprintf("%s (from %s; nobody paged again)", strings.Join(parts, "\n"), grp.System)
		return entries, []models.NewJob{noticeJob(inc, text)}
	}
}

// alertLines is one line per alert, or one for many.
func alertLines(verb string, names []string) []string {
	switch {
	case len(names) == 0:
		return nil
	case len(names) <= maxListed:
		out := make([]string, len(names))
		for i, n := range names {
			out[i] = fmt.Sprintf("Alert %s: %s", verb, n)
		}
		return out
	}
	return []string{fmt.Sprintf("%d alerts %s: %s", len(names), verb, listNames(names))}
}

// listNames names at most maxListed alerts.
func listNames(names []string) string {
	if len(names) <= maxListed {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:maxListed], ", "), len(names)-maxListed)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
