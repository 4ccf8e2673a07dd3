package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/heraldhq/herald/internal/logctx"
	"github.com/heraldhq/herald/models"
)

// JobStore is the storage the worker leases jobs from.
type JobStore interface {
	LeaseJobs(ctx context.Context, owner string, limit int, lease time.Duration) ([]models.Job, error)
	CompleteJob(ctx context.Context, j *models.Job) error
	RetryJob(ctx context.Context, j *models.Job, cause error, retryAt time.Time) (bool, error)
	DeferJob(ctx context.Context, j *models.Job, cause error, retryAt time.Time) error
}

// WorkerOptions configures a Worker.
type WorkerOptions struct {
	Owner       string        // this replica's name, written on leases
	Concurrency int           // jobs run at once
	Lease       time.Duration // how long a job is ours before another replica may take it
	// Poll is the safety-net sweep for jobs stored by other replicas or
	// whose retry time came; new local work wakes the worker at once.
	Poll time.Duration
	// Yield, when set and true, holds the worker to one job at a time:
	// paging and the alert intake come first while they are busy (an
	// alert storm: the jobs are mostly Slack posts, which Slack's own
	// rate limits would slow down anyway).
	Yield func() bool
}

// Worker runs stored jobs. Several replicas may run workers on one database:
// leases make each job run on one of them at a time.
type Worker struct {
	store   JobStore
	jobs    *JobRegistry
	clock   models.Clock
	log     *slog.Logger
	metrics *Metrics
	opts    WorkerOptions
	wake    chan struct{}
}

// NewWorker builds a worker.
func NewWorker(store JobStore, jobs *JobRegistry, clock models.Clock, log *slog.Logger, metrics *Metrics, o WorkerOptions) *Worker {
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.Lease <= 0 {
		o.Lease = 30 * time.Second
	}
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	return &Worker{store: store, jobs: jobs, clock: clock, log: log, metrics: metrics, opts: o, wake: make(chan struct{}, 1)}
}

// Wake makes the worker look for jobs now.
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run leases and runs jobs until ctx ends, then waits for running jobs.
func (w *Worker) Run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	slots := make(chan struct{}, w.opts.Concurrency)
	tick := time.NewTicker(w.opts.Poll)
	defer tick.Stop()
	for {
		limit := w.opts.Concurrency
		if w.opts.Yield != nil && w.opts.Yield() {
			limit = 1
		}
		free := limit - len(slots)
		leased := 0
		if free > 0 {
			jobs, err := w.store.LeaseJobs(ctx, w.opts.Owner, free, w.opts.Lease)
			if err != nil && ctx.Err() == nil {
				w.log.ErrorContext(ctx, "leasing jobs", "err", err)
			}
			leased = len(jobs)
			for i := range jobs {
				slots <- struct{}{}
				wg.Add(1)
				go func(j models.Job) {
					defer func() { <-slots; wg.Done(); w.Wake() }()
					// Jobs finish even while shutting down: the lease
					// would otherwise make another replica wait for it.
					w.runOne(context.WithoutCancel(ctx), &j)
				}(jobs[i])
			}
		}
		if leased > 0 && leased == free {
			continue // maybe more due: look again before sleeping
		}
		select {
		case <-ctx.Done():
			return
		case <-w.wake:
		case <-tick.C:
		}
	}
}

// Drain runs due jobs in this goroutine until none are left; tests and
// one-shot commands use it instead of Run.
func (w *Worker) Drain(ctx context.Context) (int, error) {
	ran := 0
	for {
		jobs, err := w.store.LeaseJobs(ctx, w.opts.Owner, w.opts.Concurrency, w.opts.Lease)
		if err != nil {
			return ran, err
		}
		if len(jobs) == 0 {
			return ran, nil
		}
		for i := range jobs {
			w.runOne(ctx, &jobs[i])
			ran++
		}
	}
}

func (w *Worker) runOne(ctx context.Context, j *models.Job) {
	start := w.clock.Now()
	lag := start.Sub(j.RunAt)
	log := w.log.With("job_id", j.ID, "kind", j.Kind, "attempt", j.Attempts)
	// What the job's handler logs says which job it was.
	ctx = logctx.With(ctx, slog.String("job_id", j.ID), slog.String("job_kind", j.Kind))
	fn, ok := w.jobs.Lookup(j.Kind)
	var err error
	if !ok {
		err = fmt.Errorf("%w: no handler for job kind %q", ErrPermanent, j.Kind)
	} else {
		err = runSafely(ctx, fn, []byte(j.Payload.Reveal()))
	}
	took := w.clock.Now().Sub(start)
	if err == nil {
		if cerr := w.store.CompleteJob(ctx, j); cerr != nil {
			log.ErrorContext(ctx, "job ran but could not be marked done; it may run again", "err", cerr)
		}
		w.metrics.job(j.Kind, "done", took, lag)
		return
	}
	if errors.Is(err, ErrPermanent) {
		j.MaxAttempts = j.Attempts // no more tries
	}
	retryAt := w.clock.Now().Add(Backoff(j.Attempts, err))
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		// Slack asked us to wait: that is not a failed attempt.
		if derr := w.store.DeferJob(ctx, j, err, retryAt); derr != nil {
			log.ErrorContext(ctx, "deferring rate-limited job", "err", derr)
			return
		}
		w.metrics.job(j.Kind, "deferred", took, lag)
		log.InfoContext(ctx, "Slack rate limit; job deferred", "retry_at", retryAt)
		return
	}
	again, rerr := w.store.RetryJob(ctx, j, err, retryAt)
	if rerr != nil {
		log.ErrorContext(ctx, "recording job failure", "err", rerr, "cause", err)
		return
	}
	if again {
		w.metrics.job(j.Kind, "retry", took, lag)
		log.WarnContext(ctx, "job failed; will retry", "err", err, "retry_at", retryAt)
		return
	}
	w.metrics.job(j.Kind, "failed", took, lag)
	log.ErrorContext(ctx, "job failed for good", "err", err)
	if w.jobs.onFailure != nil {
		w.jobs.onFailure(ctx, j.Kind, []byte(j.Payload.Reveal()), err)
	}
}

func runSafely(ctx context.Context, fn JobFunc, payload []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: panic: %v", ErrPermanent, r)
		}
	}()
	return fn(ctx, payload)
}

// Backoff is the wait before retry n (1-based): exponential from 1 s with
// jitter, capped at 5 minutes; a Slack rate limit's Retry-After wins.
func Backoff(attempt int, cause error) time.Duration {
	var rl *slack.RateLimitedError
	if errors.As(cause, &rl) && rl.RetryAfter > 0 {
		return rl.RetryAfter
	}
	if attempt < 1 {
		attempt = 1
	}
	d := time.Second << min(attempt-1, 9)
	d = min(d, 5*time.Minute)
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}
