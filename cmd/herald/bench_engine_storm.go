package main

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/heraldhq/herald/models"
)

// incidentsOf creates n incidents raised by an application (not
// escalating yet).
func (e *benchEnv) incidentsOf(ctx context.Context, n int, application string) ([]int64, error) {
	ids := make([]int64, n)
	err := parallelDo(n, 16, func(j int) error {
		inc, _, err := e.store.CreateIncident(ctx, models.NewIncident{Title: fmt.Sprintf("bench %s incident %d", application, j), Application: application})
		if err != nil {
			return err
		}
		ids[j] = inc.ID
		return nil
	})
	return ids, err
}

// fair: a noisy application starts --n escalations at once; right after
// its last insert, a quiet one starts --quiet. Leasing in turns between
// applications should page the quiet ones at once instead of after the
// noisy backlog.
func (e *benchEnv) fair(ctx context.Context, r *ScenarioResult) error {
	pv, err := e.seed(ctx, onePagePlan)
	if err != nil {
		return err
	}
	noisy, err := e.incidentsOf(ctx, e.c.n, "noisy")
	if err != nil {
		return err
	}
	quiet, err := e.incidentsOf(ctx, e.c.quiet, "quiet")
	if err != nil {
		return err
	}
	if err := e.startWorkers(ctx, 1); err != nil {
		return err
	}
	noisyCreated, err := e.burstInsert(ctx, noisy, pv)
	if err != nil {
		return err
	}
	quietCreated, err := e.burstInsert(ctx, quiet, pv)
	if err != nil {
		return err
	}
	waitErr := e.sink.waitPaged(ctx, len(noisy)+len(quiet), 5*time.Minute)
	_, first, dups := e.sink.snapshot()
	noisyLat, lostNoisy := latencies(noisy, noisyCreated, first)
	quietLat, lostQuiet := latencies(quiet, quietCreated, first)
	// How much of the noisy backlog was still waiting when the quiet
	// incidents started: without turns, that is how long they would wait.
	lastQuietInsert := slices.MaxFunc(quietCreated, func(a, b time.Time) int { return a.Compare(b) })
	backlog := 0
	for _, id := range noisy {
		if h, ok := first[id]; ok && h.Arrived.After(lastQuietInsert) {
			backlog++
		}
	}
	f := r.Figures
	f["noisy_incidents"], f["quiet_incidents"] = len(noisy), len(quiet)
	f["noisy_backlog_at_last_quiet_insert"] = backlog
	addPercentiles(f, "noisy_latency", noisyLat)
	addPercentiles(f, "quiet_latency", quietLat)
	f["lost"], f["duplicates"] = lostNoisy+lostQuiet, dups
	q99 := percentileOf(quietLat, 0.99)
	r.Checks = append(r.Checks,
		BenchCheck{"quiet application's p99 creation → page ≤ 1 s while the noisy backlog drains", fmt.Sprintf("%.0f ms (%d noisy pages still queued at its last insert)", q99, backlog), lostQuiet == 0 && q99 <= 1000},
		BenchCheck{"no page lost", fmt.Sprintf("%d", lostNoisy+lostQuiet), lostNoisy+lostQuiet == 0},
	)
	return waitErr
}

// storm: a burst of --n on a plan with aggregation (threshold 100 in 10
// minutes, 10 s batches): the one person should get a handful of batched
// messages, not n pages, and every page should be recorded sent.
func (e *benchEnv) storm(ctx context.Context, r *ScenarioResult) error {
	const batchWindow = 10 * time.Second
	plan := fmt.Sprintf(`{"steps":[{"notifications":[{"role":"user","target":"oncall","priority":"low","wait":5}]}],`+
		`"aggregation":{"threshold_count":100,"threshold_window_seconds":600,"batch_window_seconds":%d}}`, int(batchWindow/time.Second))
	ids, _, start, lastInsert, err := e.burstOnOneWorker(ctx, plan)
	if err != nil {
		return err
	}
	// Every page is recorded sent (batched ones with their batch).
	var sent int64
	deadline := time.Now().Add(5 * time.Minute)
	for ctx.Err() == nil && time.Now().Before(deadline) {
		if err := e.gdb.WithContext(ctx).Model(&models.Message{}).Where("status = ?", models.MessageSent).Count(&sent).Error; err != nil {
			return err
		}
		if int(sent) >= len(ids) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	done := time.Now()
	hits, _, dups := e.sink.snapshot()
	f := r.Figures
	f["incidents"], f["pages_recorded_sent"], f["vendor_calls"] = len(ids), sent, len(hits)
	f["batch_window_ms"] = benchMS(batchWindow)
	f["all_sent_after_last_insert_ms"] = benchMS(done.Sub(lastInsert))
	f["insert_ms"] = benchMS(lastInsert.Sub(start))
	f["duplicates"], f["peak_rss_mb"] = dups, e.peakRSS()
	r.Checks = append(r.Checks,
		BenchCheck{"every page recorded sent", fmt.Sprintf("%d of %d", sent, len(ids)), int(sent) >= len(ids)},
		BenchCheck{"the person gets batches, not a page per incident (≤ 1 % as many vendor calls)", fmt.Sprintf("%d vendor calls for %d incidents", len(hits), len(ids)), len(hits)*100 <= len(ids)},
	)
	return nil
}

// percentileOf is the nearest-rank percentile of sorted values (q in 0..1); 0 for none.
func percentileOf(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(float64(len(sorted))*q)) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
