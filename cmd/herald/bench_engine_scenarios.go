package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
)

const onePagePlan = `{"steps":[{"notifications":[{"role":"user","target":"oncall","priority":"low","wait":5}]}]}`

// burstInsert starts every incident's escalation at once from c.inserters
// goroutines and returns when each was created.
func (e *benchEnv) burstInsert(ctx context.Context, ids []int64, pv int64) ([]time.Time, error) {
	created := make([]time.Time, len(ids))
	err := parallelDo(len(ids), e.c.inserters, func(j int) error {
		t, err := e.escalate(ctx, ids[j], pv)
		created[j] = t
		return err
	})
	return created, err
}

// latencies are creation → first vendor call of each incident, in ms.
func latencies(ids []int64, created []time.Time, first map[int64]sinkHit) (lat []float64, lost int) {
	for j, id := range ids {
		h, ok := first[id]
		if !ok {
			lost++
			continue
		}
		lat = append(lat, benchMS(h.Arrived.Sub(created[j])))
	}
	slices.Sort(lat)
	return lat, lost
}

// burstOnOneWorker seeds a plan, creates --n incidents, starts one
// worker and starts every escalation at once; it returns the incidents,
// when each escalation was inserted, and when the first and last were.
func (e *benchEnv) burstOnOneWorker(ctx context.Context, plan string) (ids []int64, created []time.Time, start, lastInsert time.Time, err error) {
	pv, err := e.seed(ctx, plan)
	if err != nil {
		return nil, nil, start, lastInsert, err
	}
	if ids, err = e.incidents(ctx, e.c.n); err != nil {
		return nil, nil, start, lastInsert, err
	}
	if err = e.startWorkers(ctx, 1); err != nil {
		return nil, nil, start, lastInsert, err
	}
	start = time.Now()
	if created, err = e.burstInsert(ctx, ids, pv); err != nil {
		return nil, nil, start, lastInsert, err
	}
	return ids, created, start, slices.MaxFunc(created, func(a, b time.Time) int { return a.Compare(b) }), nil
}

func (e *benchEnv) burst(ctx context.Context, r *ScenarioResult) error {
	ids, created, start, lastInsert, err := e.burstOnOneWorker(ctx, onePagePlan)
	if err != nil {
		return err
	}
	waitErr := e.sink.waitPaged(ctx, len(ids), 5*time.Minute)
	_, first, dups := e.sink.snapshot()
	rss := e.peakRSS()
	lat, lost := latencies(ids, created, first)
	var lastAccepted time.Time
	for _, h := range first {
		if h.Answered.After(lastAccepted) {
			lastAccepted = h.Answered
		}
	}
	afterLast := benchMS(lastAccepted.Sub(lastInsert))
	f := r.Figures
	f["incidents"] = len(ids)
	f["insert_ms"] = benchMS(lastInsert.Sub(start))
	f["all_accepted_after_last_insert_ms"] = afterLast
	f["all_accepted_after_first_insert_ms"] = benchMS(lastAccepted.Sub(start))
	f["pages_per_s"] = round1(float64(len(lat)) / lastAccepted.Sub(start).Seconds())
	addPercentiles(f, "latency", lat)
	f["lost"], f["duplicates"], f["peak_rss_mb"] = lost, dups, rss
	r.Checks = append(r.Checks,
		BenchCheck{"all first pages accepted ≤ 3 s after the last insert", fmt.Sprintf("%.0f ms", afterLast), lost == 0 && afterLast <= 3000},
		BenchCheck{"peak RSS of the herald process ≤ 250 MB", fmt.Sprintf("%.1f MB", rss), rss <= 250},
	)
	return waitErr
}

func (e *benchEnv) steady(ctx context.Context, r *ScenarioResult) error {
	pv, err := e.seed(ctx, onePagePlan)
	if err != nil {
		return err
	}
	every := time.Minute / time.Duration(max(e.c.rate, 1))
	n := int(e.c.duration / every)
	ids, err := e.incidents(ctx, n)
	if err != nil {
		return err
	}
	if err := e.startWorkers(ctx, 1); err != nil {
		return err
	}
	created := make([]time.Time, n)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	t := time.NewTicker(every)
	start := time.Now()
	for j := 0; j < n; j++ {
		if j > 0 {
			<-t.C
		}
		wg.Add(1)
		go func(j int) {
			defer wg.Done()
			c, err := e.escalate(ctx, ids[j], pv)
			created[j] = c
			if err != nil {
				errs <- err
			}
		}(j)
	}
	t.Stop()
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	waitErr := e.sink.waitPaged(ctx, n, time.Minute)
	_, first, dups := e.sink.snapshot()
	lat, lost := latencies(ids, created, first)
	f := r.Figures
	f["incidents"], f["rate_per_min"], f["duration_s"] = n, e.c.rate, round1(time.Since(start).Seconds())
	addPercentiles(f, "latency", lat)
	f["lost"], f["duplicates"], f["peak_rss_mb"] = lost, dups, e.peakRSS()
	p99 := f["latency_p99_ms"].(float64)
	r.Checks = append(r.Checks, BenchCheck{"p99 creation → vendor call ≤ 250 ms", fmt.Sprintf("%.0f ms (%s at %d/min)", p99, e.c.duration, e.c.rate), lost == 0 && p99 <= 250})
	return waitErr
}

// claimPlan pages once, repeats a minute later, then moves to a second
// step: claimed incidents must get none of the later pages either.
const claimPlan = `{"steps":[{"notifications":[{"role":"user","target":"oncall","priority":"low","wait":1,"repeat":1}]},{"notifications":[{"role":"user","target":"oncall","priority":"low","wait":5}]}]}`

func (e *benchEnv) claim(ctx context.Context, r *ScenarioResult) error {
	pv, err := e.seed(ctx, claimPlan)
	if err != nil {
		return err
	}
	ids, err := e.incidents(ctx, e.c.n)
	if err != nil {
		return err
	}
	claims := min(e.c.claims, len(ids))
	rng := mrand.New(mrand.NewPCG(1, 2))
	claimed := rng.Perm(len(ids))[:claims]
	// An engine of this process claims, as a Slack handler would.
	engine := notifications.NewEngine(e.store, notifications.NewVendors(), notifications.DirectoryRoles{Dir: e.store}, nil, models.SystemClock{},
		slog.New(slog.NewTextHandler(io.Discard, nil)), notifications.EngineOptions{Owner: "bench-claimer"})
	if err := e.startWorkers(ctx, 1); err != nil {
		return err
	}
	created, err := e.burstInsert(ctx, ids, pv)
	if err != nil {
		return err
	}
	// Mid-escalation: claim once a tenth of the burst has been paged, so
	// some claimed incidents were paged already (they get a note) and the
	// rest have pages queued or not yet planned.
	_ = e.sink.waitPaged(ctx, len(ids)/10, time.Minute)
	claimedAt := make([]time.Time, claims)
	claimStart := time.Now()
	var claimErrs int
	var mu sync.Mutex
	_ = parallelDo(claims, 16, func(j int) error {
		if err := engine.Claim(ctx, ids[claimed[j]], "bench"); err != nil {
			mu.Lock()
			claimErrs++
			mu.Unlock()
		}
		claimedAt[j] = time.Now()
		return nil
	})
	claimEnd := time.Now()
	isClaimed := map[int64]time.Time{}
	for j, idx := range claimed {
		isClaimed[ids[idx]] = claimedAt[j]
	}
	// Every unclaimed incident is paged, then watch a while longer.
	waitErr := e.sink.waitPaged(ctx, len(ids)-claims, 5*time.Minute)
	time.Sleep(3 * time.Second)
	hits, first, dups := e.sink.snapshot()
	var late, inFlight, notes, pagedBefore int
	for _, h := range hits {
		at, ok := isClaimed[h.Incident]
		if !ok {
			continue
		}
		switch {
		case h.Note:
			notes++
		case h.Arrived.After(at.Add(time.Second)):
			late++
		case h.Arrived.After(at):
			inFlight++
		default:
			pagedBefore++
		}
	}
	var unclaimedLost int
	for _, id := range ids {
		if _, ok := isClaimed[id]; ok {
			continue
		}
		if _, ok := first[id]; !ok {
			unclaimedLost++
		}
	}
	_ = created
	f := r.Figures
	f["incidents"], f["claimed"], f["claim_errors"] = len(ids), claims, claimErrs
	f["claim_ms_total"] = benchMS(claimEnd.Sub(claimStart))
	f["claimed_pages_before_claim"] = pagedBefore
	f["claimed_pages_within_1s_of_claim"] = inFlight
	f["claimed_pages_later_than_1s"] = late
	f["claimed_notes_sent"] = notes
	f["unclaimed_lost"], f["duplicates"], f["peak_rss_mb"] = unclaimedLost, dups, e.peakRSS()
	r.Checks = append(r.Checks, BenchCheck{"no page for a claimed incident leaves > 1 s after its claim",
		fmt.Sprintf("%d late, %d within 1 s (in flight), %d claim errors", late, inFlight, claimErrs), late == 0 && claimErrs == 0})
	return waitErr
}

func (e *benchEnv) replicasRun(ctx context.Context, r *ScenarioResult) error {
	pv, err := e.seed(ctx, onePagePlan)
	if err != nil {
		return err
	}
	ids, err := e.incidents(ctx, e.c.n)
	if err != nil {
		return err
	}
	if err := e.startWorkers(ctx, e.c.replicas); err != nil {
		return err
	}
	if e.c.kills < 1 || e.c.kills >= len(e.workers) {
		return fmt.Errorf("--kills %d: kill at least one and fewer than the %d workers", e.c.kills, len(e.workers))
	}
	// Kill k of the workers evenly through the burst: at 1/(k+1), 2/(k+1)…
	// of the incidents paged.
	killedAt := make(chan time.Time, e.c.kills)
	held := make([][]int64, e.c.kills) // what each killed worker was sending
	go func() {
		defer close(killedAt)
		for i := range e.c.kills {
			if e.sink.waitPaged(ctx, len(ids)*(i+1)/(e.c.kills+1), 5*time.Minute) != nil {
				return
			}
			e.workers[i].kill()
			at := time.Now()
			held[i] = e.heldBy(ctx, e.workers[i].name)
			killedAt <- at
		}
	}()
	start := time.Now()
	created, err := e.burstInsert(ctx, ids, pv)
	if err != nil {
		return err
	}
	lastInsert := slices.MaxFunc(created, func(a, b time.Time) int { return a.Compare(b) })
	var kills []time.Time
	for at := range killedAt {
		kills = append(kills, at)
	}
	if len(kills) < e.c.kills {
		return fmt.Errorf("the burst never reached the point of kill %d", len(kills)+1)
	}
	kill := kills[len(kills)-1]
	waitErr := e.sink.waitPaged(ctx, len(ids), e.c.replicaGrace)
	allAt := time.Now()
	// Every page may be at the sink while a killed worker's leases have not
	// run out yet: wait for the takeovers too, or they go uncounted.
	settleErr := e.waitSettled(ctx, kill.Add(e.c.replicaGrace))
	settledAt := time.Now()
	time.Sleep(2 * time.Second) // late duplicates
	hits, first, dups := e.sink.snapshot()
	lat, lost := latencies(ids, created, first)
	var lastAccepted time.Time
	for _, h := range first {
		if h.Answered.After(lastAccepted) {
			lastAccepted = h.Answered
		}
	}
	var notSent int64
	if err := e.gdb.WithContext(ctx).Raw(`SELECT count(*) FROM messages WHERE status <> 'sent'`).Scan(&notSent).Error; err != nil {
		return err
	}
	var pages int
	for _, h := range hits {
		if !h.Note {
			pages++
		}
	}
	f := r.Figures
	f["incidents"], f["replicas"] = len(ids), e.c.replicas
	var killedAfter []float64
	for _, k := range kills {
		killedAfter = append(killedAfter, benchMS(k.Sub(start)))
	}
	f["kills"], f["killed_after_ms"] = len(kills), killedAfter
	f["all_paged_after_last_kill_ms"] = benchMS(allAt.Sub(kill))
	f["all_settled_after_last_kill_ms"] = benchMS(settledAt.Sub(kill))
	// A resent page carries its message's claim code: an incident paged
	// under two codes was planned twice, which no takeover may cause.
	codes := map[int64]map[string]bool{}
	for _, h := range hits {
		if h.Note {
			continue
		}
		if codes[h.Incident] == nil {
			codes[h.Incident] = map[string]bool{}
		}
		codes[h.Incident][h.Key] = true
	}
	planned := 0
	for _, ks := range codes {
		if len(ks) > 1 {
			planned++
		}
	}
	f["incidents_paged_twice_by_distinct_messages"] = planned
	f["all_accepted_after_last_insert_ms"] = benchMS(lastAccepted.Sub(lastInsert))
	addPercentiles(f, "latency", lat)
	f["lost"], f["duplicates"], f["sink_requests"], f["messages_not_sent_in_db"] = lost, dups, pages, notSent
	rss := map[string]float64{}
	peak := 0.0
	for _, w := range e.workers {
		w.sampleRSS()
		rss[w.name] = w.peakMB()
		peak = max(peak, w.peakMB())
	}
	f["peak_rss_mb_per_worker"], f["peak_rss_mb"] = rss, peak
	dupIDs, afterKill, err := e.takeoverFigures(ctx, f, kills, held)
	if err != nil {
		return err
	}
	slowest := 0.0
	for _, ms := range afterKill {
		slowest = max(slowest, ms)
	}
	r.Checks = append(r.Checks,
		BenchCheck{fmt.Sprintf("zero pages lost with %d of %d replicas killed (SIGKILL)", len(kills), len(e.workers)), fmt.Sprintf("%d lost, all paged %.1f s after the last kill", lost, allAt.Sub(kill).Seconds()), lost == 0},
		BenchCheck{"no incident planned twice (two distinct pages)", strconv.Itoa(planned), planned == 0},
		BenchCheck{"leases taken over ≤ 5 s after each kill", fmt.Sprintf("%v ms (pages held: %v; -1: none held)", afterKill, f["held_by_killed_workers"]), slowest <= 5000},
		BenchCheck{"pages delivered twice at the sink (same payload id / same claim code; target 0)",
			fmt.Sprintf("%d / %d (re-sent %v, suppressed by lookup %v)", dupIDs, dups, f["re_sent"], f["suppressed_by_lookup"]), dups == 0 && dupIDs == 0},
		BenchCheck{"peak RSS of one herald process ≤ 250 MB", fmt.Sprintf("%.1f MB", peak), peak <= 250},
	)
	return errors.Join(waitErr, settleErr)
}
