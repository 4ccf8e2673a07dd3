package notifications

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/heraldhq/herald/models"
)

// EngineStore is the storage the engine needs; *models.Store implements it.
type EngineStore interface {
	IncidentByID(ctx context.Context, id int64) (*models.Incident, error)
	ActivePlanVersion(ctx context.Context, planName string) (*models.PlanVersion, error)
	PlanVersionByID(ctx context.Context, id int64) (*models.PlanVersion, error)
	StartEscalation(ctx context.Context, incidentID, planVersionID int64) (*models.Escalation, error)
	StartEscalationAt(ctx context.Context, incidentID, planVersionID int64, at time.Time) (*models.Escalation, error)
	LeaseDueEscalations(ctx context.Context, owner string, limit int, lease time.Duration) ([]models.Escalation, error)
	PlannedSends(ctx context.Context, escalationID int64, step int) (map[int]int, error)
	PlannedSendsOf(ctx context.Context, escalationIDs []int64) (map[int64]map[int]map[int]int, error)
	IncidentsByID(ctx context.Context, ids []int64) (map[int64]*models.Incident, error)
	FinishEscalationCheck(ctx context.Context, e *models.Escalation, u models.EscalationUpdate, msgs []models.Message) (int, error)
	FinishEscalationChecks(ctx context.Context, checks []models.EscalationCheck) (planned int, stored []bool, err error)
	LeaseQueuedMessages(ctx context.Context, owner string, limit int, deadline time.Duration) ([]models.Message, error)
	FinishMessage(ctx context.Context, m *models.Message, o models.MessageOutcome) (bool, error)
	FinishMessages(ctx context.Context, fs []models.MessageFinish) ([]bool, error)
	ReclaimExpiredSends(ctx context.Context) (int64, error)
	StopEscalation(ctx context.Context, incidentID int64, state, by string) (*models.Escalation, error)
	ResumeEscalation(ctx context.Context, incidentID int64) error
	MessagesOf(ctx context.Context, incidentID int64) ([]models.Message, error)
	QueueMessages(ctx context.Context, msgs []models.Message) error
	TakeSendTokens(ctx context.Context, mode string, windowStart time.Time, n, limit int) (int, error)
	RequeueRateLimited(ctx context.Context, owner string, ids []int64, notBefore time.Time) (int, error)
	RecentSendCounts(ctx context.Context, since time.Time) (map[string]map[string]int, error)
	RecentEscalations(ctx context.Context, planVersionID int64, since time.Time) (int, error)
	LeaseBatch(ctx context.Context, lead *models.Message) ([]models.Message, error)
	RenewSendLeases(ctx context.Context, owner string, ids []int64, until time.Time) (int64, error)
	SetClaimCode(ctx context.Context, ids []int64, code string) error
	MarkFirstPages(ctx context.Context, escalationIDs []int64, at time.Time) ([]models.FirstPage, error)
	TemplateSource
	NotifyEngines(ctx context.Context, channel string) error
	Directory
}

// Alerter is told when paging goes wrong in a way people must know about:
// a plan ran out with nobody claiming, a required notification reached
// nobody. The handlers post it to the incident channel and the plan owner.
type Alerter interface {
	Alert(ctx context.Context, incidentID int64, text string)
}

// DefaultMaxAttempts is how often a page is tried before it fails. The
// n-th retry waits n²·5 s (5, 20, 45, 80, 125 s): a page is tried for
// about four and a half minutes, so a vendor down or hanging for a minute
// or two still delivers it, while the plan's next steps go on meanwhile.
const DefaultMaxAttempts = 6

// EngineOptions tunes the engine.
type EngineOptions struct {
	Owner string // this replica, written on leases
	// SendConcurrency bounds vendor calls in flight (default 256).
	SendConcurrency int
	// CheckConcurrency bounds escalations checked at once (default 8): a
	// burst of incidents is planned in parallel, not one by one.
	CheckConcurrency int
	// SendDeadline is how long a message may stay "sending" without its
	// sender renewing the lease before another replica assumes the sender
	// died (default 4 s; leases are renewed every third of it, so a slow
	// vendor does not matter, and a dead replica's pages move again within
	// 5 s: what is left of its lease, then at most one 1 s sweep).
	SendDeadline time.Duration
	// VendorTimeout bounds one vendor call (default 10 s).
	VendorTimeout time.Duration
	// CheckLease is how long a replica holds the escalations it checks
	// (default 4 s; a batch of checks takes milliseconds), so a dead
	// replica's escalations are taken over within 5 s. A check that
	// outlives its lease is thrown away, never stored twice.
	CheckLease time.Duration
	// MaxAttempts per message before it fails (DefaultMaxAttempts).
	MaxAttempts int
	// Sweep is the safety-net poll when nothing wakes the engine (1 s).
	Sweep time.Duration
	// DefaultModes overrides DefaultModes per priority (HERALD_DEFAULT_MODES).
	DefaultModes map[string][]Mode
	// RateLimits caps the sends of a mode, all replicas together (none by
	// default). Messages over the limit wait for the next window.
	RateLimits map[Mode]Rate
	// Throttle re-routes or holds back the pages of a person who already
	// had many in a mode (off by default).
	Throttle Throttle
	// Metrics receives the engine's measurements (nil: none). With it set,
	// the sender also records each escalation's first accepted page
	// (escalations.first_page_at) to time it once.
	Metrics Metrics
	// Gate, when set, can stop this replica from leasing paging work (a
	// rolling upgrade: an old binary stands by once the schema is newer).
	Gate WorkGate
	// Tracer traces checks and vendor attempts (tracing.go); nil: none.
	Tracer trace.TracerProvider
}

// Rate is at most Count sends Per fixed window; a zero Count or Per is no
// limit.
type Rate struct {
	Count int
	Per   time.Duration
}

// Throttle protects a person from an alert storm: a page planned for
// someone who already had Max or more messages in its mode Within the
// window goes in Fallback[mode] instead (say SMS to Slack), or, without a
// fallback (or with the fallback throttled too), is recorded suppressed
// as "throttled". Max 0 turns it off.
type Throttle struct {
	Max      int
	Within   time.Duration
	Fallback map[Mode]Mode
}

// Engine escalates incidents through their plans and sends the messages.
// All of its state is in the database: any replica can run it, any replica
// can die.
type Engine struct {
	store   EngineStore
	vendors *Vendors
	roles   RoleResolver
	alerter Alerter
	clock   models.Clock
	log     *slog.Logger
	opts    EngineOptions

	templates *templates

	wakeEsc  chan struct{}
	wakeSend chan struct{}
	plans    sync.Map     // plan version id → *models.PlanDefinition (versions are immutable)
	planIDs  sync.Map     // plan version id → plan id
	finisher finisher     // batches send outcomes
	inflight inflight     // messages this replica is sending (leases renewed)
	dests    destinations // where each person is reached, for a second
	gate     gateState    // the WorkGate's last answer
	lastBusy atomic.Int64 // when a pass last found work (Unix ns)

	metrics    Metrics
	tracer     trace.Tracer // noop without EngineOptions.Tracer
	firstPages bool         // record first pages (Metrics was set)
	passes     enginePasses // when each loop last finished a pass
}

// NewEngine builds an engine.
func NewEngine(store EngineStore, vendors *Vendors, roles RoleResolver, alerter Alerter, clock models.Clock, log *slog.Logger, o EngineOptions) *Engine {
	if o.SendConcurrency <= 0 {
		o.SendConcurrency = 256
	}
	if o.CheckConcurrency <= 0 {
		o.CheckConcurrency = 8
	}
	if o.SendDeadline <= 0 {
		o.SendDeadline = 4 * time.Second
	}
	if o.VendorTimeout <= 0 {
		o.VendorTimeout = 10 * time.Second
	}
	if o.CheckLease <= 0 {
		o.CheckLease = 4 * time.Second
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.Sweep <= 0 {
		o.Sweep = time.Second
	}
	var metrics Metrics = noMetrics{}
	if o.Metrics != nil {
		metrics = o.Metrics
	}
	return &Engine{store: store, vendors: vendors, roles: roles, alerter: alerter, clock: clock, log: log, opts: o,
		templates: &templates{src: store, clock: clock},
		wakeEsc:   make(chan struct{}, 1), wakeSend: make(chan struct{}, 1),
		metrics: metrics, tracer: newTracer(o.Tracer), firstPages: o.Metrics != nil}
}

// Wake makes the engine look for work now (new escalations, new messages).
func (e *Engine) Wake() {
	for _, ch := range []chan struct{}{e.wakeEsc, e.wakeSend} {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// ErrNoPlan means the named plan does not exist or has no published version.
var ErrNoPlan = errors.New("no such escalation plan")

// Escalate starts paging for an incident with a plan's active version.
func (e *Engine) Escalate(ctx context.Context, incidentID int64, planName string) error {
	return e.EscalateAt(ctx, incidentID, planName, time.Time{})
}

// EscalateAt is Escalate with the plan's first step starting at a later
// time (a low-urgency alert outside working hours pages when they begin);
// a zero or past time starts it now. A claim before then stops it as any
// claim does.
func (e *Engine) EscalateAt(ctx context.Context, incidentID int64, planName string, at time.Time) error {
	pv, err := e.store.ActivePlanVersion(ctx, planName)
	if models.IsNotFound(err) {
		return fmt.Errorf("%w: %q", ErrNoPlan, planName)
	}
	if err != nil {
		return err
	}
	if now := e.clock.Now(); at.Before(now) {
		at = now
	}
	if _, err := e.store.StartEscalationAt(ctx, incidentID, pv.ID, at); err != nil {
		return err
	}
	e.announce(ctx)
	return nil
}

// Claim stops an incident's escalation (no further message leaves) and
// tells everyone already paged who claimed it.
func (e *Engine) Claim(ctx context.Context, incidentID int64, by string) error {
	return e.stop(ctx, incidentID, models.EscalationClaimed, by)
}

// Resolve stops an incident's escalation for good.
func (e *Engine) Resolve(ctx context.Context, incidentID int64, by string) error {
	return e.stop(ctx, incidentID, models.EscalationResolved, by)
}

// Unclaim resumes escalation from the current step.
func (e *Engine) Unclaim(ctx context.Context, incidentID int64) error {
	if err := e.store.ResumeEscalation(ctx, incidentID); err != nil {
		return err
	}
	e.announce(ctx)
	return nil
}

func (e *Engine) stop(ctx context.Context, incidentID int64, state, by string) error {
	before, err := e.store.StopEscalation(ctx, incidentID, state, by)
	if err != nil {
		return err
	}
	if state == models.EscalationClaimed {
		// A claim before a deferred start (working hours) is not timed.
		if took := e.clock.Now().Sub(before.PagingStartedAt()); took >= 0 {
			e.metrics.Acknowledged(took)
		}
	}
	// Close the loop: everyone already reached hears it is handled.
	sent, err := e.store.MessagesOf(ctx, incidentID)
	if err != nil {
		return err
	}
	inc, err := e.store.IncidentByID(ctx, incidentID)
	if err != nil {
		return err
	}
	verb := "claimed"
	if state == models.EscalationResolved {
		verb = "resolved"
	}
	seen := map[string]bool{}
	var notes []models.Message
	now := e.clock.Now().UTC()
	for _, m := range sent {
		// A page in flight ("sending") is about to reach its person too.
		reached := m.Status == models.MessageSent || m.Status == models.MessageDelivered || m.Status == models.MessageSending
		if reached && !m.OutOfBand && m.PersonID == nil && m.Role == RoleSlackChannel && !seen["#"+m.Target] {
			seen["#"+m.Target] = true
			notes = append(notes, models.Message{
				IncidentID: &incidentID, Role: m.Role, Target: m.Target, Mode: string(ModeSlack), Priority: "low",
				Subject:   fmt.Sprintf("Incident #%d %s", inc.Number, verb),
				Body:      fmt.Sprintf("Incident #%d (%s) was %s by %s. No action needed.", inc.Number, inc.Title, verb, by),
				OutOfBand: true, Status: models.MessageQueued, NotBefore: now, CreatedAt: now, Optional: true,
			})
		}
		if m.PersonID == nil || !reached || m.OutOfBand || seen[*m.PersonID] {
			continue
		}
		seen[*m.PersonID] = true
		// The note is low priority: it goes the way the person wants to
		// hear low-priority news (no phone call to say "no action needed").
		modes, err := e.modesFor(ctx, *m.PersonID, "low", inc.Application)
		if err != nil {
			return err
		}
		for _, mode := range modes {
			notes = append(notes, models.Message{
				IncidentID: &incidentID, EscalationID: nil, PersonID: m.PersonID, Mode: string(mode), Priority: "low",
				Subject:   fmt.Sprintf("Incident #%d %s", inc.Number, verb),
				Body:      fmt.Sprintf("Incident #%d (%s) was %s by %s. No action needed.", inc.Number, inc.Title, verb, by),
				OutOfBand: true, Status: models.MessageQueued, NotBefore: now, CreatedAt: now, Optional: true,
			})
		}
	}
	if err := e.store.QueueMessages(ctx, notes); err != nil {
		return err
	}
	e.Wake()
	return nil
}

// Run runs the escalator, the sender and the reclaimer until ctx ends; it
// then leases nothing more and returns once the sends in flight are done.
func (e *Engine) Run(ctx context.Context) {
	// Leases are renewed until the last send in flight is recorded, not
	// only until ctx ends: a shutdown's drain can outlast SendDeadline, and
	// an expired lease lets another replica send the page again.
	renewCtx, stopRenewing := context.WithCancel(context.WithoutCancel(ctx))
	renewed := make(chan struct{})
	go func() { defer close(renewed); e.renewLeases(renewCtx) }()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); e.loop(ctx, e.wakeEsc, e.EscalateDue) }()
	go func() { defer wg.Done(); e.loop(ctx, e.wakeSend, e.sendAndReclaim) }()
	wg.Wait() // SendDue returns once the outcomes of its sends are stored
	stopRenewing()
	<-renewed
}

func (e *Engine) sendAndReclaim(ctx context.Context) (int, error) {
	if _, err := e.ReclaimExpiredSends(ctx); err != nil {
		return 0, err
	}
	return e.SendDue(ctx)
}

// ReclaimExpiredSends re-queues the messages of senders that stopped
// mid-send (their lease ran out): possible duplicates, logged and counted.
func (e *Engine) ReclaimExpiredSends(ctx context.Context) (int64, error) {
	n, err := e.store.ReclaimExpiredSends(ctx)
	if err != nil {
		return 0, err
	}
	if n > 0 {
		e.log.WarnContext(ctx, "took over messages of a sender that stopped mid-send; they may be duplicates", "count", n)
		e.metrics.SendsTakenOver(int(n))
	}
	return n, nil
}

func (e *Engine) loop(ctx context.Context, wake chan struct{}, work func(context.Context) (int, error)) {
	t := time.NewTicker(e.opts.Sweep)
	defer t.Stop()
	for {
		n, err := work(ctx)
		if err != nil && ctx.Err() == nil {
			e.log.ErrorContext(ctx, "paging engine", "err", err)
		}
		if n > 0 {
			e.lastBusy.Store(e.clock.Now().UnixNano())
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-t.C:
		}
	}
}

// LastBusy is when one of the engine's passes last found work to do.
func (e *Engine) LastBusy() time.Time { return time.Unix(0, e.lastBusy.Load()) }

// definition returns a plan version's parsed definition, cached: published
// versions never change.
func (e *Engine) definition(ctx context.Context, id int64) (*models.PlanDefinition, error) {
	if d, ok := e.plans.Load(id); ok {
		return d.(*models.PlanDefinition), nil
	}
	pv, err := e.store.PlanVersionByID(ctx, id)
	if err != nil {
		return nil, err
	}
	var d models.PlanDefinition
	if err := json.Unmarshal([]byte(pv.Definition), &d); err != nil {
		return nil, fmt.Errorf("plan version %d: %w", id, err)
	}
	e.planIDs.Store(id, pv.PlanID)
	e.plans.Store(id, &d)
	return &d, nil
}

// EscalateDue checks every escalation that is due: plans the sends whose
// time has come and moves to the next step when a step is done. It
// reports how many escalations it checked.
//
// Escalations are leased in batches. A batch's incidents and planned sends
// are read in one query each, each (role, target) and (person, priority)
// is resolved once per batch (the batch is one moment: a handoff between
// two checks of the same batch is not missed, it is simply not there yet),
// and the checks are stored in one transaction.
func (e *Engine) EscalateDue(ctx context.Context) (int, error) {
	if !e.mayWork(ctx) {
		return 0, nil
	}
	checked := 0
	for {
		due, err := e.store.LeaseDueEscalations(ctx, e.opts.Owner, 200, e.opts.CheckLease)
		if err != nil {
			return checked, err
		}
		if len(due) == 0 {
			e.passes.escalated.Store(e.clock.Now().UnixNano())
			return checked, nil
		}
		b, err := e.newCheckBatch(ctx, due)
		if err != nil {
			return checked, err
		}
		var (
			wg      sync.WaitGroup
			results = make([]*checkResult, len(due))
			sem     = make(chan struct{}, e.opts.CheckConcurrency)
		)
		for i := range due {
			sem <- struct{}{}
			wg.Add(1)
			go func(i int) {
				defer func() { <-sem; wg.Done() }()
				r, err := e.tracedCheck(ctx, b, &due[i])
				if err != nil {
					e.log.ErrorContext(ctx, "checking escalation", "escalation", due[i].ID, "err", err)
					return
				}
				results[i] = r
			}(i)
		}
		wg.Wait()
		n, planned := e.storeChecks(ctx, results)
		checked += n
		if planned > 0 {
			e.wakeSender()
		}
	}
}

// checkResult is what one check decided, not stored yet.
type checkResult struct {
	inc    *models.Incident
	check  models.EscalationCheck
	alerts []string // raised only once the check is stored
}

// storeChecks stores a batch's checks in one transaction (one by one if
// that fails, so one bad check does not hold up the others) and raises
// the alerts of those stored. It reports how many were stored and how
// many messages they planned.
func (e *Engine) storeChecks(ctx context.Context, results []*checkResult) (stored, planned int) {
	var (
		checks []models.EscalationCheck
		rs     []*checkResult
	)
	for _, r := range results {
		if r != nil {
			checks, rs = append(checks, r.check), append(rs, r)
		}
	}
	if len(checks) == 0 {
		return 0, 0
	}
	ok := make([]bool, len(checks))
	n, done, err := e.store.FinishEscalationChecks(ctx, checks)
	if err == nil {
		planned, ok = n, done
	} else {
		e.log.WarnContext(ctx, "storing a batch of escalation checks failed; storing them one by one", "err", err)
		for i, c := range checks {
			n, err := e.store.FinishEscalationCheck(ctx, c.Escalation, c.Update, c.Messages)
			if errors.Is(err, models.ErrNoChange) {
				continue // claimed, resolved or taken over while we looked
			}
			if err != nil {
				e.log.ErrorContext(ctx, "checking escalation", "escalation", c.Escalation.ID, "err", err)
				continue
			}
			planned += n
			ok[i] = true
		}
	}
	// Alert only for a check that was stored: a check thrown away (claimed
	// meanwhile) or retried after an error must not alert twice.
	for i, r := range rs {
		if !ok[i] {
			continue
		}
		stored++
		e.countThrottled(r.check.Messages)
		for _, text := range r.alerts {
			e.alert(ctx, r.inc, text)
		}
	}
	return stored, planned
}

func (e *Engine) wakeSender() {
	select {
	case e.wakeSend <- struct{}{}:
	default:
	}
}

func (e *Engine) alert(ctx context.Context, inc *models.Incident, text string) {
	e.log.WarnContext(ctx, "paging alert", "incident", inc.Number, "text", text)
	if e.alerter != nil {
		e.alerter.Alert(ctx, inc.ID, text)
	}
}

// claimCode is a short random code people type to claim by SMS.
func claimCode() string {
	n, err := rand.Int(rand.Reader, big.NewInt(900000))
	if err != nil {
		return "000000"
	}
	return fmt.Sprintf("%06d", n.Int64()+100000)
}
