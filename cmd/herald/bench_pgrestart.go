package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"sync"
	"time"
)

// twoStepPlan pages the on-call person, then again as step 2 one minute
// later: step 2 falls after the database restart, so its timing shows
// whether escalation resumes on schedule.
const twoStepPlan = `{"steps":[{"notifications":[{"role":"user","target":"oncall","priority":"low","wait":1}]},` +
	`{"notifications":[{"role":"user","target":"oncall","priority":"low","wait":1}]}]}`

// pgClusterCmd is the Debian command that stops or starts the machine's
// one PostgreSQL cluster.
func pgClusterCmd(action string) string {
	version := "15"
	if entries, err := os.ReadDir("/etc/postgresql"); err == nil && len(entries) == 1 {
		version = entries[0].Name()
	}
	extra := ""
	if action == "stop" {
		extra = " -m fast"
	}
	return fmt.Sprintf("pg_ctlcluster --skip-systemctl-redirect %s main %s%s", version, action, extra)
}

// pgRestart: --n incidents raised through a real `herald serve` escalate
// with a two-step plan; PostgreSQL is stopped just before step 2 comes due
// and started again after --pg-down. /readyz must go red and then green, every
// incident must get both pages, and no step-2 page may leave before its
// minute (nor long after the database is back).
func (e *benchEnv) pgRestart(ctx context.Context, r *ScenarioResult) error {
	key, err := e.seedIngestWith(ctx, twoStepPlan)
	if err != nil {
		return err
	}
	slack := startFakeSlack()
	defer slack.Close()
	base, err := e.startServe(ctx, slack.URL)
	if err != nil {
		return err
	}
	client := &http.Client{Timeout: 30 * time.Second}
	var (
		mu      sync.Mutex
		created = map[int64]time.Time{}
	)
	err = parallelDo(e.c.n, 16, func(j int) error {
		body := fmt.Sprintf(`{"service":"bench","severity":"WARN","title":"restart %d","dedup_key":"restart-%d"}`, j, j)
		t0 := time.Now()
		id, status, raw, err := putIncident(ctx, client, base, key, body)
		if err != nil {
			return err
		}
		if status != http.StatusCreated || id == 0 {
			return fmt.Errorf("PUT: %d %s", status, raw)
		}
		mu.Lock()
		created[id] = t0
		mu.Unlock()
		return nil
	})
	if err != nil {
		return err
	}
	if err := e.sink.waitPaged(ctx, len(created), time.Minute); err != nil {
		return fmt.Errorf("first pages before the restart: %w", err)
	}
	ready := func() bool {
		rctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(rctx, http.MethodGet, base+"/readyz", nil)
		resp, err := client.Do(req)
		if err != nil {
			return false
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}
	// Stop the database 52 s after the first incident was raised, so that
	// step 2 (due at 60 s) comes due while it is down.
	var firstRaised time.Time
	for _, t := range created {
		if firstRaised.IsZero() || t.Before(firstRaised) {
			firstRaised = t
		}
	}
	time.Sleep(time.Until(firstRaised.Add(52 * time.Second)))
	stoppedAt := time.Now()
	if out, err := exec.CommandContext(ctx, "sh", "-c", e.c.pgStop).CombinedOutput(); err != nil {
		return fmt.Errorf("stopping PostgreSQL (%s): %v: %s", e.c.pgStop, err, out)
	}
	redAt := time.Time{}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if !ready() {
			redAt = time.Now()
			break
		}
	}
	time.Sleep(time.Until(stoppedAt.Add(e.c.pgDown)))
	startedAt := time.Now()
	if out, err := exec.CommandContext(context.WithoutCancel(ctx), "sh", "-c", e.c.pgStart).CombinedOutput(); err != nil {
		return fmt.Errorf("starting PostgreSQL again (%s): %v: %s", e.c.pgStart, err, out)
	}
	greenAt := time.Time{}
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if ready() {
			greenAt = time.Now()
			break
		}
	}
	// Every incident's step-2 page, then a little longer for duplicates.
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) && secondPages(e.sink) < len(created) {
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(2 * time.Second)
	hits, _, dups := e.sink.snapshot()
	pages := map[int64][]sinkHit{} // incident → its distinct pages, in order
	for _, h := range hits {
		if h.Note || slices.ContainsFunc(pages[h.Incident], func(p sinkHit) bool { return p.Key == h.Key }) {
			continue
		}
		pages[h.Incident] = append(pages[h.Incident], h)
	}
	var lost, early int
	var step2 []float64 // seconds after the incident was raised
	for id, t0 := range created {
		ps := pages[id]
		if len(ps) < 2 {
			lost++
			continue
		}
		s := ps[1].Arrived.Sub(t0).Seconds()
		step2 = append(step2, round1(s))
		if s < 59 { // the request's start precedes the step's start by its latency
			early++
		}
	}
	slices.Sort(step2)
	f := r.Figures
	f["incidents"], f["pg_down_s"] = len(created), round1(startedAt.Sub(stoppedAt).Seconds())
	if !redAt.IsZero() {
		f["readyz_red_after_stop_ms"] = benchMS(redAt.Sub(stoppedAt))
	}
	if !greenAt.IsZero() {
		f["readyz_green_after_start_ms"] = benchMS(greenAt.Sub(startedAt))
	}
	f["lost_step2_pages"], f["early_step2_pages"], f["duplicates"] = lost, early, dups
	if len(step2) > 0 {
		f["step2_after_raise_s_min"], f["step2_after_raise_s_max"] = step2[0], step2[len(step2)-1]
	}
	lateBound := startedAt.Sub(firstRaised).Seconds() + 15 // due during the outage: out within 15 s of the restart
	r.Checks = append(r.Checks,
		BenchCheck{"/readyz red while PostgreSQL is down, green after", fmt.Sprintf("red %v, green %v", !redAt.IsZero(), !greenAt.IsZero()), !redAt.IsZero() && !greenAt.IsZero()},
		BenchCheck{"no page lost across the restart", fmt.Sprintf("%d of %d incidents without their step-2 page", lost, len(created)), lost == 0},
		BenchCheck{"no step-2 page early (before its minute)", fmt.Sprintf("%d early", early), early == 0},
		BenchCheck{fmt.Sprintf("step 2, due during the outage, leaves within 15 s of the restart (≤ %.0f s after raising)", lateBound),
			fmt.Sprintf("latest %.1f s", f["step2_after_raise_s_max"]), len(step2) > 0 && step2[len(step2)-1] <= lateBound},
		BenchCheck{"pages re-delivered (target 0)", fmt.Sprintf("%d", dups), dups == 0},
	)
	return nil
}

// secondPages counts incidents with at least two distinct pages.
func secondPages(s *benchSink) int {
	hits, _, _ := s.snapshot()
	keys := map[int64]map[string]bool{}
	for _, h := range hits {
		if h.Note {
			continue
		}
		if keys[h.Incident] == nil {
			keys[h.Incident] = map[string]bool{}
		}
		keys[h.Incident][h.Key] = true
	}
	n := 0
	for _, k := range keys {
		if len(k) >= 2 {
			n++
		}
	}
	return n
}
