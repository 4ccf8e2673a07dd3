package handlers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/heraldhq/herald/internal/ttlcache"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
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
	// DeferLowUrgency holds a low-urgency alert of a working-hours-only
	// service until working hours, in the zone Zones tells (see
	// pagingStart); without it such an alert pages at once.
	DeferLowUrgency bool
	Zones           TeamZones
	// Creator stores new incidents; nil: the store, one by one.
	Creator IncidentCreator
	// services caches service lookups (by integration and name) for a
	// second: every alert needs one, and services change rarely (a
	// change shows within the second).
	services *ttlcache.Cache[serviceKey, *models.ServiceLookup]
}

type serviceKey struct{ integration, name string }

// serviceLookupTTL is how stale a service an alert is raised for may be.
const serviceLookupTTL = time.Second

// AlertSuppressor decides whether a new alert pages: a non-empty reason
// (a maintenance window, a silence) records it without paging.
type AlertSuppressor interface {
	// svc is nil for a plan-only alert (the Iris API): only what matches
	// the alert itself (labels, context) can hold it.
	Suppressed(ctx context.Context, svc *models.Service, alert *NewAlert) (reason string, err error)
}

// NewIntake builds the intake on the handlers' dependencies.
func NewIntake(d Deps) *Intake {
	return &Intake{d: d, services: ttlcache.New[serviceKey, *models.ServiceLookup](serviceLookupTTL, 10_000, clockOf(d))}
}

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
	key := serviceKey{integID, name}
	l, ok := in.services.Get(key)
	if !ok {
		var err error
		l, err = in.d.Intake.LookupService(ctx, name, integID)
		if models.IsNotFound(err) {
			return nil, fmt.Errorf("%w %q", ErrUnknownService, name)
		}
		if err != nil {
			return nil, err
		}
		in.services.Put(key, l)
	}
	// A copy: callers may keep pointers into it.
	svc := *l.Service
	l = &models.ServiceLookup{Service: &svc, PlanName: l.PlanName, Allowed: l.Allowed}
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
	// Paging is decided before the incident is stored, so that its
	// escalation (and what the timeline says of paging) is stored with it.
	p, err := in.planPaging(ctx, svc, plan, sev, &a)
	if err != nil {
		return nil, err
	}
	n.Escalation = p.escalation
	for _, text := range p.notes {
		n.Timeline = append(n.Timeline, models.TimelineEvent{Kind: models.TimelineNote, Text: text})
	}
	inc, created, err := in.creator().CreateIncident(ctx, n)
	if errors.Is(err, models.ErrInvalid) {
		return nil, fmt.Errorf("%w: %w", ErrInvalidAlert, err)
	}
	if err != nil {
		return nil, err
	}
	res := &AlertResult{Incident: inc, Created: created, Paging: p.outcome}
	if !created {
		res.Paging = PagingRepeat
		return res, nil
	}
	in.d.Log.InfoContext(ctx, "incident raised", "incident", inc.Number, "service", n.Services, "plan", plan, "application", n.Application, "severity", int(sev))
	if e := n.Escalation; e != nil {
		if !e.Started {
			return res, in.pagingFailed(ctx, res, plan)
		}
		if w, ok := in.d.Pager.(interface{ Wake() }); ok {
			w.Wake() // this replica's engine; others heard the NOTIFY
		}
	}
	return res, nil
}

// ForgetCached drops cached services (after configuration changed here).
func (in *Intake) ForgetCached() { in.services.Clear() }

// clockOf is the dependencies' clock for a cache (the wall clock when a
// test leaves it out).
func clockOf(d Deps) func() time.Time {
	if d.Clock == nil {
		return time.Now
	}
	return d.Clock.Now
}

// IncidentCreator stores new incidents; *models.Store does it one by one,
// *models.IncidentBatcher group-commits concurrent ones.
type IncidentCreator interface {
	CreateIncident(ctx context.Context, n models.NewIncident) (*models.Incident, bool, error)
}

func (in *Intake) creator() IncidentCreator {
	if in.Creator != nil {
		return in.Creator
	}
	return in.d.Store
}

// pagingPlan is how a new incident will page: its escalation (nil: it
// pages nobody), the timeline notes saying why not, and the outcome told
// to the caller.
type pagingPlan struct {
	escalation *models.NewEscalation
	notes      []string
	outcome    string
}

// planPaging decides how a new incident pages: with its plan, unless it
// has none, a maintenance window holds it, or paging is not configured;
// a low-urgency alert of a working-hours-only service starts later.
func (in *Intake) planPaging(ctx context.Context, svc *models.Service, plan string, sev models.Severity, a *NewAlert) (pagingPlan, error) {
	if plan == "" {
		return pagingPlan{notes: []string{fmt.Sprintf("Service %s has no escalation plan: nobody is paged. Page someone with @%s page.", svc.Name, in.d.Settings.BotName)},
			outcome: PagingNoPlan}, nil
	}
	if in.Suppressor != nil {
		reason, err := in.Suppressor.Suppressed(ctx, svc, a)
		if err != nil {
			return pagingPlan{}, err
		}
		if reason != "" {
			return pagingPlan{notes: []string{fmt.Sprintf("Not paged: %s.", reason)}, outcome: PagingSuppressed + reason}, nil
		}
	}
	if in.d.Pager == nil {
		return pagingPlan{notes: []string{"Paging is not configured on this server: nobody is paged."}, outcome: PagingUnavailable}, nil
	}
	start, deferred, err := in.pagingStart(ctx, sev, svc)
	if err != nil {
		return pagingPlan{}, err
	}
	p := pagingPlan{escalation: &models.NewEscalation{Plan: plan, StartAt: start, WakeChannel: notifications.WakeChannel},
		outcome: PagingStarted + plan}
	if deferred != "" {
		p.notes, p.outcome = []string{fmt.Sprintf("Not paged yet: %s.", deferred)}, PagingDeferred+deferred
	}
	return p, nil
}

// pagingFailed tells the incident's channel and timeline that its plan
// could not start (it has no published version). The incident is stored:
// failing the request would make the sender retry, find it open and
// never page.
func (in *Intake) pagingFailed(ctx context.Context, res *AlertResult, plan string) error {
	inc := res.Incident
	why := fmt.Errorf("%w: %q has no published version", notifications.ErrNoPlan, plan)
	in.d.Log.ErrorContext(ctx, "raised incident could not start paging", "incident", inc.Number, "plan", plan, "err", why)
	text := fmt.Sprintf("🚨 Paging could not start with plan %q (%v): nobody was paged. Page someone with @%s page.", plan, why, in.d.Settings.BotName)
	res.Paging = PagingFailed + why.Error()
	if _, err := in.d.Store.EnqueueJobs(ctx, noticeJob(inc, text)); err != nil {
		return err
	}
	return in.d.Store.AddTimelineEvent(ctx, &models.TimelineEvent{IncidentID: inc.ID, Kind: models.TimelineNote, Text: text, OccurredAt: in.d.Clock.Now()})
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
