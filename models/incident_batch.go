package models

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gorm.io/gorm/clause"
)

// IncidentBatcher group-commits concurrent incident creations on
// PostgreSQL: while one batch's transaction runs, the creations that
// arrive queue, and the next transaction stores them all with one
// statement per table. An alert storm from many monitoring clients then
// costs a handful of statements per batch instead of a dozen per alert;
// a lone alert waits for nothing (a batch of one leaves at once).
//
// It keeps Store.CreateIncident's contract. A creation with an
// idempotency key or timeline entries tied to an outside object, any
// creation on SQLite, and any made while the batcher is not running take
// the store's own path. Twins (the same dedup key) never share a batch:
// the second waits for the next one and counts an occurrence.
type IncidentBatcher struct {
	store   *Store
	log     *slog.Logger
	max     int
	workers int
	reqs    chan *createRequest
	running atomic.Bool
	stopped chan struct{} // closed when Run returns
	// batches and batched count committed batches and their creations.
	batches, batched atomic.Int64
	lastFlush        atomic.Int64 // when a batch was last stored (Unix ns)
}

// LastFlush is when a batch of creations was last stored.
func (b *IncidentBatcher) LastFlush() time.Time { return time.Unix(0, b.lastFlush.Load()) }

// Stats is how many batches committed and how many creations they held:
// batched/batches is the mean batch size.
func (b *IncidentBatcher) Stats() (batches, creations int64) {
	return b.batches.Load(), b.batched.Load()
}

type createRequest struct {
	ctx     context.Context
	n       NewIncident
	inc     *Incident
	created bool
	err     error
	done    chan struct{}
}

// NewIncidentBatcher builds a batcher of at most max creations per
// transaction, with workers transactions in flight at once.
func NewIncidentBatcher(s *Store, log *slog.Logger, max, workers int) *IncidentBatcher {
	if max < 1 {
		max = 1
	}
	if workers < 1 {
		workers = 1
	}
	return &IncidentBatcher{store: s, log: log, max: max, workers: workers, reqs: make(chan *createRequest), stopped: make(chan struct{})}
}

// CreateIncident is Store.CreateIncident, batched with concurrent calls.
func (b *IncidentBatcher) CreateIncident(ctx context.Context, n NewIncident) (*Incident, bool, error) {
	if !b.batchable(&n) {
		return b.store.CreateIncident(ctx, n)
	}
	if err := n.validate(); err != nil {
		return nil, false, err
	}
	n.keepTrace(ctx) // the batch commits under a context of its own
	r := &createRequest{ctx: ctx, n: n, done: make(chan struct{})}
	select {
	case b.reqs <- r:
	case <-ctx.Done():
		return nil, false, ctx.Err()
	case <-b.stopped:
		return b.store.CreateIncident(ctx, n)
	}
	// Wait even when ctx ends: the batch may commit this incident.
	<-r.done
	return r.inc, r.created, r.err
}

func (b *IncidentBatcher) batchable(n *NewIncident) bool {
	if b == nil || !b.running.Load() || b.store.Dialect() != DialectPostgres || n.IdempotencyKey != "" {
		return false
	}
	for _, e := range n.Timeline {
		if e.SourceRef != nil {
			return false
		}
	}
	return true
}

// Run stores queued creations until ctx ends; later creations take the
// store's own path. Run or Start once.
func (b *IncidentBatcher) Run(ctx context.Context) { <-b.Start(ctx) }

// Start is Run in the background: creations are batched from its return
// on, and the channel closes when the batcher has stopped.
func (b *IncidentBatcher) Start(ctx context.Context) <-chan struct{} {
	b.running.Store(true)
	var wg sync.WaitGroup
	for range b.workers {
		wg.Go(func() { b.work(ctx) })
	}
	go func() {
		wg.Wait()
		close(b.stopped)
	}()
	return b.stopped
}

func (b *IncidentBatcher) work(ctx context.Context) {
	var carried []*createRequest // twins of the previous batch
	for {
		var batch []*createRequest
		keys := map[string]bool{}
		add := func(r *createRequest) {
			if k := r.n.dedupLockKey(); k != "" {
				if keys[k] {
					carried = append(carried, r)
					return
				}
				keys[k] = true
			}
			batch = append(batch, r)
		}
		waiting := carried
		carried = nil
		for _, r := range waiting {
			add(r)
		}
		if len(batch) == 0 {
			select {
			case r := <-b.reqs:
				add(r)
			case <-ctx.Done():
				b.running.Store(false)
				for _, r := range carried {
					go func() {
						defer close(r.done)
						r.inc, r.created, r.err = b.store.CreateIncident(r.ctx, r.n)
					}()
				}
				return
			}
		}
	more:
		for len(batch) < b.max {
			select {
			case r := <-b.reqs:
				add(r)
			default:
				break more
			}
		}
		b.flush(ctx, batch)
	}
}

// flush stores one batch. When the batch's transaction fails (a race the
// locks did not foresee, a deadlock, a bad row) each creation is retried
// on the store's own path, which handles every race, so one bad alert
// cannot fail the others.
func (b *IncidentBatcher) flush(ctx context.Context, batch []*createRequest) {
	// Not a request's context: one client hanging up must not fail the
	// others. Shutdown waits for this transaction.
	tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	err := b.store.createBatch(tctx, batch)
	if err == nil {
		b.lastFlush.Store(b.store.clock.Now().UnixNano())
		b.batches.Add(1)
		b.batched.Add(int64(len(batch)))
		for _, r := range batch {
			close(r.done)
		}
		return
	}
	b.log.WarnContext(ctx, "batched incident creation failed; creating them one by one", "incidents", len(batch), "err", err)
	for _, r := range batch {
		go func() {
			defer close(r.done)
			r.inc, r.created, r.err = b.store.CreateIncident(r.ctx, r.n)
		}()
	}
}

// createBatch stores a batch in one transaction: it waits for concurrent
// twins (advisory locks, in one order), counts occurrences of the open
// incidents of known dedup keys, and inserts the rest with one statement
// per table.
func (s *Store) createBatch(ctx context.Context, batch []*createRequest) error {
	return s.InTx(ctx, func(tx *Store) error {
		for _, r := range batch {
			r.inc, r.created = nil, false
		}
		repeats, err := tx.batchRepeats(ctx, batch)
		if err != nil {
			return err
		}
		var fresh []*createRequest
		for _, r := range batch {
			if inc := repeats[r.n.dedupLockKey()]; inc != nil {
				r.inc = inc
				continue
			}
			fresh = append(fresh, r)
		}
		if len(fresh) == 0 {
			return nil
		}
		var numbers []int64
		if err := tx.db.WithContext(ctx).Raw(`SELECT nextval('incident_numbers') FROM generate_series(1, ?)`, len(fresh)).Scan(&numbers).Error; err != nil {
			return fmt.Errorf("allocating %d incident numbers: %w", len(fresh), err)
		}
		if len(numbers) != len(fresh) {
			return fmt.Errorf("allocating %d incident numbers: got %d", len(fresh), len(numbers))
		}
		now := tx.clock.Now()
		rows := make([]Incident, len(fresh))
		for i, r := range fresh {
			rows[i] = *r.n.row(numbers[i], now)
		}
		if err := tx.db.WithContext(ctx).Omit(clause.Associations).Create(&rows).Error; err != nil {
			return fmt.Errorf("storing %d incidents: %w", len(rows), err)
		}
		incs := make([]*Incident, len(fresh))
		var (
			events    []TimelineEvent
			reminders []RecurringNotification
			jobs      []NewJob
			escs      = make([]*NewEscalation, len(fresh))
		)
		for i, r := range fresh {
			inc := &rows[i]
			incs[i], r.inc, r.created, escs[i] = inc, inc, true, r.n.Escalation
			events = append(events, TimelineEvent{IncidentID: inc.ID, Kind: TimelineDeclared, Text: "Incident declared: " + inc.Title,
				AuthorID: r.n.ReporterID, OccurredAt: now, CreatedAt: now})
			for _, e := range r.n.Timeline {
				e.IncidentID = inc.ID
				if e.CreatedAt.IsZero() {
					e.CreatedAt = now
				}
				if e.OccurredAt.IsZero() {
					e.OccurredAt = e.CreatedAt
				}
				events = append(events, e)
			}
			for _, rm := range r.n.Reminders {
				reminders = append(reminders, RecurringNotification{IncidentID: inc.ID, Name: rm.Name, NextRunAt: rm.FirstRunAt.UTC(), CreatedAt: now})
			}
			if r.n.Jobs != nil {
				jobs = append(jobs, r.n.Jobs(inc)...)
			}
		}
		if err := tx.db.WithContext(ctx).Omit(clause.Associations).Create(&events).Error; err != nil {
			return fmt.Errorf("adding %d timeline events: %w", len(events), err)
		}
		if len(reminders) > 0 {
			if err := tx.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&reminders).Error; err != nil {
				return fmt.Errorf("scheduling %d reminders: %w", len(reminders), err)
			}
		}
		if err := tx.enqueueJobRows(ctx, jobs); err != nil {
			return err
		}
		return tx.startEscalations(ctx, incs, escs)
	})
}

// batchRepeats locks the batch's dedup keys (sorted, so batches in flight
// at once cannot deadlock; the store's own path takes the same locks) and
// counts an occurrence on each open incident one of them already has. It
// returns those incidents by lock key.
func (s *Store) batchRepeats(ctx context.Context, batch []*createRequest) (map[string]*Incident, error) {
	var (
		keys  []any
		pairs [][]any
	)
	for _, r := range batch {
		if k := r.n.dedupLockKey(); k != "" {
			keys = append(keys, k)
			pairs = append(pairs, []any{*r.n.ServiceID, r.n.DedupKey})
		}
	}
	if len(keys) == 0 {
		return nil, nil
	}
	values := strings.TrimSuffix(strings.Repeat("(hashtext(?)),", len(keys)), ",")
	lock := `SELECT pg_advisory_xact_lock(h) FROM (SELECT h FROM (VALUES ` + values + `) AS v(h) ORDER BY h) AS sorted`
	if err := s.db.WithContext(ctx).Exec(lock, keys...).Error; err != nil {
		return nil, fmt.Errorf("waiting for concurrent twins: %w", err)
	}
	var ids []int64
	err := s.db.WithContext(ctx).Raw(`UPDATE incidents SET occurrences = occurrences + 1, last_seen_at = ?
		WHERE resolved_at IS NULL AND (service_id, dedup_key) IN ? RETURNING id`, s.clock.Now().UTC(), pairs).Scan(&ids).Error
	if err != nil {
		return nil, fmt.Errorf("recording occurrences: %w", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	var incs []Incident
	if err := s.db.WithContext(ctx).Where("id IN ?", ids).Find(&incs).Error; err != nil {
		return nil, fmt.Errorf("loading repeated incidents: %w", err)
	}
	out := make(map[string]*Incident, len(incs))
	for i := range incs {
		inc := &incs[i]
		if inc.ServiceID != nil && inc.DedupKey != nil {
			out["dedup:"+*inc.ServiceID+":"+*inc.DedupKey] = inc
		}
	}
	return out, nil
}
