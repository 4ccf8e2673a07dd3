package handlers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/heraldhq/herald/models"
)

// Intake opens and changes incidents for monitoring systems (the incidents
// API, Alertmanager, Grafana, the generic webhook, the Iris API): the
// incident shows in Slack like a declared one (headline, comms channel
// for SEV1/2, reminders) and its service's plan pages people.
type Intake struct {
	d Deps
	// Suppressor, when set, says whether an alert falls in a maintenance
	// window (recorded, shown, pages nobody).
	Suppressor AlertSuppressor
	// Deferred and Zones, when set, hold a low-urgency alert of a
	// working-hours-only service until working hours (see pagingStart);
	// without them it pages at once.
	Deferred DeferredPager
	Zones    TeamZones
}

// AlertSuppressor decides whether a new alert pages: a non-empty reason
// (a maintenance window, a silence) records it without paging.
type AlertSuppressor interface {
	// svc is nil for a plan-only alert (the Iris API): only what matches
	// the alert itself (labels, context) can hold it.
	Suppressed(ctx context.Context, svc *models.Service, alert *NewAlert) (reason string, err error)
}

// NewIntake builds the intake on the handlers' dependencies.
func NewIntake(d Deps) *Intake { return &Intake{d: d} }

// NewAlert is an incident a monitoring system raises.
type NewAlert struct {
	Integration *models.Integration // who raised it (scope, application)
	Service     string
	Severity    models.Severity // SeverityUnset: the service's default
	Title       string
	Message     string
	DetectedAt  *time.Time
	Source      string // nagios, prometheus…; "api" when empty
	DedupKey    string
	Context     string // JSON object
	// IdempotencyKey (the Idempotency-Key header) makes a retried request
	// return the first answer.
	IdempotencyKey string
	// Plan overrides the service's plan (the Iris API names plans).
	Plan string
	// Labels are matched by maintenance windows (alert labels).
	Labels map[string]string
}

// AlertResult is what opening an alert did.
type AlertResult struct {
	Incident *models.Incident
	// Created is false for a repeat (dedup key on an open incident: an
	// occurrence was added) or a retried request (idempotency key).
	Created bool
	// Paging says what paging the incident started, for the caller.
	Paging string
}

// Intake errors; the web layer maps them to HTTP statuses.
var (
	ErrUnknownService    = errors.New("unknown service")                  // 404
	ErrServiceNotAllowed = errors.New("service not allowed for this key") // 403
	ErrInvalidAlert      = errors.New("invalid alert")                    // 400
	ErrUnknownPlan       = errors.New("unknown escalation plan")          // 400
	ErrUnknownIncident   = errors.New("unknown incident")                 // 404
	ErrInvalidState      = errors.New("invalid state")                    // 400
)

// Paging outcomes of AlertResult.Paging.
const (
	PagingNoPlan      = "no escalation plan: recorded and shown in Slack, nobody paged"
	PagingRepeat      = "repeat of an open incident: occurrence added, nobody paged again"
	PagingSuppressed  = "suppressed: "
	PagingStarted     = "paging with plan "
	PagingFailed      = "paging could not start, nobody paged: "
	PagingDeferred    = "deferred: "
	PagingUnavailable = "paging is not configured on this server: nobody paged"
)

// ServiceFor loads a service an integration may raise incidents for.
func (in *Intake) ServiceFor(ctx context.Context, integ *models.Integration, name string) (*models.Service, error) {
	l, err := in.lookupService(ctx, integ, name)
	if err != nil {
		return nil, err
	}
	return l.Service, nil
}

// lookupService is ServiceFor with the service's plan name, in one query.
func (in *Intake) lookupService(ctx context.Context, integ *models.Integration, name string) (*models.ServiceLookup, error) {
	integID := ""
	if integ != nil {
		integID = integ.ID
	}
	l, err := in.d.Intake.LookupService(ctx, name, integID)
	if models.IsNotFound(err) {
		return nil, fmt.Errorf("%w %q", ErrUnknownService, name)
	}
	if err != nil {
		return nil, err
	}
	if integ != nil && !l.Allowed {
		return nil, fmt.Errorf("%w: %s may not raise incidents for %q", ErrServiceNotAllowed, integ.Name, name)
	}
	return l, nil
}

// Open raises an incident for a service (or adds an occurrence to the
// open one with the same dedup key) and starts its plan.
func (in *Intake) Open(ctx context.Context, a NewAlert) (*AlertResult, error) {
	var svc *models.Service
	var err error
	if a.Service == "" && a.Plan != "" {
		// Plan-only (the Iris API): no service; see planAllowed.
		err = in.planAllowed(ctx, a.Integration, a.Plan)
	}
	servicePlan := ""
	if err == nil && (a.Service != "" || a.Plan == "") {
		var l *models.ServiceLookup
		if l, err = in.lookupService(ctx, a.Integration, a.Service); err == nil {
			svc, servicePlan = l.Service, l.PlanName
		}
	}
	if err != nil {
		return nil, err
	}
	plan := a.Plan
	if plan == "" {
		plan = servicePlan
	}
	sev := a.Severity
	if sev == models.SeverityUnset && svc != nil {
		sev = svc.DefaultSeverity
	}
	source := a.Source
	if source == "" {
		source = "api"
	}
	n := models.NewIncident{
		Title: a.Title, Summary: a.Message, Severity: sev, Source: source,
		DedupKey: a.DedupKey, DetectedAt: a.DetectedAt, Context: a.Context,
		Reminders: in.d.reminderPlan(in.d.Clock.Now()),
	}
	if svc != nil {
		n.ServiceID, n.Services = &svc.ID, svc.Name
	}
	if a.Integration != nil {
		n.Application = a.Integration.Name
		if a.IdempotencyKey != "" {
			n.IdempotencyKey = "api:" + a.Integration.ID + ":" + a.IdempotencyKey
		}
	}
	n.Jobs = func(inc *models.Incident) []models.NewJob {
		jobs := []models.NewJob{headlineJob(inc.ID, inc.Version)}
		if in.d.wantsCommsChannel(inc) {
			jobs = append(jobs, commsCreateJob(inc, nil))
		}
		return jobs
	}
	inc, created, err := in.d.Store.CreateIncident(ctx, n)
	if errors.Is(err, models.ErrInvalid) {
		return nil, fmt.Errorf("%w: %w", ErrInvalidAlert, err)
	}
	if err != nil {
		return nil, err
	}
	res := &AlertResult{Incident: inc, Created: created}
	if !created {
		res.Paging = PagingRepeat
		return res, nil
	}
	in.d.Log.InfoContext(ctx, "incident raised", "incident", inc.Number, "service", n.Services, "plan", plan, "application", n.Application, "severity", int(sev))
	res.Paging, err = in.startPaging(ctx, inc, svc, plan, &a)
	return res, err
}

// startPaging escalates a new incident with its plan, unless it has none
// or a maintenance window holds it; either way the timeline says so.
func (in *Intake) startPaging(ctx context.Context, inc *models.Incident, svc *models.Service, plan string, a *NewAlert) (string, error) {
	note := func(text string) error {
		return in.d.Store.AddTimelineEvent(ctx, &models.TimelineEvent{IncidentID: inc.ID, Kind: models.TimelineNote, Text: text, OccurredAt: in.d.Clock.Now()})
	}
	if plan == "" {
		return PagingNoPlan, note(fmt.Sprintf("Service %s has no escalation plan: nobody is paged. Page someone with @%s page.", svc.Name, in.d.Settings.BotName))
	}
	if in.Suppressor != nil {
		reason, err := in.Suppressor.Suppressed(ctx, svc, a)
		if err != nil {
			return "", err
		}
		if reason != "" {
			return PagingSuppressed + reason, note(fmt.Sprintf("Not paged: %s.", reason))
		}
	}
	if in.d.Pager == nil {
		return PagingUnavailable, note("Paging is not configured on this server: nobody is paged.")
	}
	start, deferred, err := in.pagingStart(ctx, inc, svc)
	if err != nil {
		return "", err
	}
	if deferred != "" {
		err = in.Deferred.EscalateAt(ctx, inc.ID, plan, start)
	} else {
		err = in.d.Pager.Escalate(ctx, inc.ID, plan)
	}
	if err != nil && !errors.Is(err, models.ErrEscalationExists) {
		// The incident is stored: failing the request now would make the
		// sender retry, find it open and never page. Say so loudly instead.
		in.d.Log.ErrorContext(ctx, "raised incident could not start paging", "incident", inc.Number, "plan", plan, "err", err)
		text := fmt.Sprintf("🚨 Paging could not start with plan %q (%v): nobody was paged. Page someone with @%s page.", plan, err, in.d.Settings.BotName)
		if _, jerr := in.d.Store.EnqueueJobs(ctx, noticeJob(inc, text)); jerr != nil {
			return "", errors.Join(err, jerr)
		}
		return PagingFailed + err.Error(), note(text)
	}
	if deferred != "" {
		return PagingDeferred + deferred, note(fmt.Sprintf("Not paged yet: %s.", deferred))
	}
	return PagingStarted + plan, nil
}

// Incident states of the incidents API, onto Herald's status model.
const (
	StateOpen     = "OPEN"
	StateClaimed  = "CLAIMED"
	StateResolved = "RESOLVED"
)

// StateOf is an incident's API state.
func StateOf(inc *models.Incident) string {
	switch {
	case !inc.IsOpen():
		return StateResolved
	case inc.AcknowledgedAt != nil:
		return StateClaimed
	default:
		return StateOpen
	}
}

// SetState moves an incident to an API state on behalf of by (a person or
// a system, named in the timeline). It returns models.ErrNoChange when
// the incident is already in that state.
func (in *Intake) SetState(ctx context.Context, incidentID int64, state, by string) (*models.Incident, error) {
	if by == "" {
		by = "an integration"
	}
	switch state {
	case StateClaimed:
		return in.claim(ctx, incidentID, by)
	case StateResolved:
		return in.resolve(ctx, incidentID, by)
	case StateOpen:
		return in.open(ctx, incidentID, by)
	}
	return nil, fmt.Errorf("%w %q: one of OPEN, CLAIMED, RESOLVED", ErrInvalidState, state)
}

func (in *Intake) claim(ctx context.Context, id int64, by string) (*models.Incident, error) {
	inc, err := in.d.change(ctx, id, nil, func(inc *models.Incident) (models.Change, error) {
		if inc.AcknowledgedAt != nil || !inc.IsOpen() {
			return models.Change{}, models.ErrNoChange
		}
		now := in.d.Clock.Now()
		inc.AcknowledgedAt = &now
		text := fmt.Sprintf("Acknowledged by %s (API)", by)
		return models.Change{Action: "incident.ack", After: now.UTC().Format(time.RFC3339),
			Timeline: []models.TimelineEvent{{Kind: models.TimelineAcknowledged, Text: text}},
			Jobs:     []models.NewJob{noticeJob(inc, "👍 "+text)}}, nil
	})
	if err != nil {
		return nil, in.notFound(err, id)
	}
	return inc, in.stop(ctx, id, false, by)
}

func (in *Intake) resolve(ctx context.Context, id int64, by string) (*models.Incident, error) {
	inc, err := in.d.change(ctx, id, nil, func(inc *models.Incident) (models.Change, error) {
		if !inc.IsOpen() {
			return models.Change{}, models.ErrNoChange
		}
		now := in.d.Clock.Now()
		inc.Status, inc.ResolvedAt, inc.ResolvedByID = models.StatusResolved, &now, nil
		text := fmt.Sprintf("Resolved by %s (API)", by)
		return models.Change{Action: "incident.close", Before: "open", After: "resolved",
			Timeline: []models.TimelineEvent{{Kind: models.TimelineClosed, Text: text}},
			Jobs:     []models.NewJob{noticeJob(inc, "✅ "+text)}}, nil
	})
	if err != nil {
		return nil, in.notFound(err, id)
	}
	return inc, in.stop(ctx, id, true, by)
}

// open un-acknowledges a claimed incident (paging resumes from its
// current step) or re-opens a resolved one.
func (in *Intake) open(ctx context.Context, id int64, by string) (*models.Incident, error) {
	wasClaimed := false
	inc, err := in.d.change(ctx, id, nil, func(inc *models.Incident) (models.Change, error) {
		switch {
		case !inc.IsOpen():
			inc.Status, inc.ResolvedAt, inc.ResolvedByID = models.StatusInvestigating, nil, nil
			inc.AcknowledgedAt = nil
			text := fmt.Sprintf("Re-opened by %s (API)", by)
			return models.Change{Action: "incident.reopen", Before: "resolved", After: "investigating",
				Timeline: []models.TimelineEvent{{Kind: models.TimelineReopened, Text: text}},
				Jobs:     []models.NewJob{noticeJob(inc, "🔁 "+text)}}, nil
		case inc.AcknowledgedAt != nil:
			wasClaimed = true
			inc.AcknowledgedAt = nil
			text := fmt.Sprintf("Un-acknowledged by %s (API): paging resumes", by)
			return models.Change{Action: "incident.unack", Before: "claimed", After: "open",
				Timeline: []models.TimelineEvent{{Kind: models.TimelineNote, Text: text}},
				Jobs:     []models.NewJob{noticeJob(inc, "↩️ "+text)}}, nil
		}
		return models.Change{}, models.ErrNoChange
	})
	if err != nil {
		return nil, in.notFound(err, id)
	}
	if wasClaimed && in.d.Pager != nil {
		if err := in.d.Pager.Unclaim(ctx, id); err != nil && !errors.Is(err, models.ErrNoChange) && !models.IsNotFound(err) {
			return nil, err
		}
	}
	return inc, nil
}

func (in *Intake) stop(ctx context.Context, id int64, resolve bool, by string) error {
	if in.d.Pager == nil {
		return nil
	}
	stop := in.d.Pager.Claim
	if resolve {
		stop = in.d.Pager.Resolve
	}
	if err := stop(ctx, id, by); err != nil && !errors.Is(err, models.ErrNoChange) && !models.IsNotFound(err) {
		return err
	}
	return nil
}

func (in *Intake) notFound(err error, id int64) error {
	if models.IsNotFound(err) {
		return fmt.Errorf("%w %d", ErrUnknownIncident, id)
	}
	return err
}
