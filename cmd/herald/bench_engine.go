package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	mrand "math/rand/v2"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/google/uuid"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/heraldhq/herald/migrations"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
)

const benchUsage = `usage: herald bench engine [flags]

Benchmarks the paging engine against a fresh PostgreSQL database and a local
HTTP sink that answers like Twilio after --delay. Engines run in child herald
processes (herald bench engine-worker), so their memory is measured alone.

scenarios:
  burst     --n incidents start escalating at once; each pages one user
  steady    --rate incidents per minute for --duration
  claim     a burst of --n; --claims of them are claimed mid-escalation
  replicas  the burst with 3 workers, one killed with SIGKILL halfway
  all       every scenario in turn`

// benchCommand is `herald bench`.
func benchCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{benchUsage}
	}
	switch args[0] {
	case "engine":
		return benchEngine(ctx, args[1:], stdout, stderr)
	case "engine-worker":
		return benchEngineWorker(ctx, args[1:], stderr)
	default:
		return usageError{fmt.Sprintf("unknown benchmark %q\n\n%s", args[0], benchUsage)}
	}
}

type benchConfig struct {
	scenario     string
	n            int
	delay        time.Duration
	adminURL     string
	out          string
	markdown     string
	rate         int
	duration     time.Duration
	claims       int
	replicas     int
	sendConc     int
	checkConc    int
	workerConns  int
	keep         bool
	inserters    int
	replicaGrace time.Duration
	profileDir   string
}

// BenchReport is the JSON the harness writes.
type BenchReport struct {
	Started   time.Time        `json:"started"`
	Command   string           `json:"command"`
	Machine   map[string]any   `json:"machine"`
	Settings  map[string]any   `json:"settings"`
	Scenarios []ScenarioResult `json:"scenarios"`
}

// ScenarioResult is one scenario's figures.
type ScenarioResult struct {
	Name    string         `json:"name"`
	Figures map[string]any `json:"figures"`
	Checks  []BenchCheck   `json:"checks"`
	Error   string         `json:"error,omitempty"`
}

// BenchCheck is one target of the issue and whether it was met.
type BenchCheck struct {
	Target string `json:"target"`
	Result string `json:"result"`
	Pass   bool   `json:"pass"`
}

func benchEngine(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench engine", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, benchUsage+"\n\nflags:"); fs.PrintDefaults() }
	var c benchConfig
	fs.StringVar(&c.scenario, "scenario", "all", "burst, steady, claim, replicas or all")
	fs.IntVar(&c.n, "n", 6000, "incidents in the burst, claim and replicas scenarios")
	fs.DurationVar(&c.delay, "delay", 50*time.Millisecond, "how long the sink takes to answer")
	defURL := os.Getenv("HERALD_TEST_POSTGRES_URL")
	if defURL == "" {
		defURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	fs.StringVar(&c.adminURL, "database-url", defURL, "PostgreSQL server to create the benchmark databases on (any database of it)")
	fs.StringVar(&c.out, "out", "bench-engine.json", "JSON report")
	fs.StringVar(&c.markdown, "markdown", "", "also write the Markdown table here")
	fs.IntVar(&c.rate, "rate", 2000, "steady: incidents per minute")
	fs.DurationVar(&c.duration, "duration", 3*time.Minute, "steady: how long")
	fs.IntVar(&c.claims, "claims", 1000, "claim: incidents claimed")
	fs.IntVar(&c.replicas, "replicas", 3, "replicas: worker processes")
	fs.IntVar(&c.sendConc, "send-concurrency", 0, "workers' SendConcurrency (0: engine default)")
	fs.IntVar(&c.checkConc, "check-concurrency", 0, "workers' CheckConcurrency (0: engine default)")
	fs.IntVar(&c.workerConns, "worker-conns", 0, "workers' database connections (0: store default)")
	fs.IntVar(&c.inserters, "inserters", 16, "goroutines inserting the burst")
	fs.DurationVar(&c.replicaGrace, "replicas-timeout", 3*time.Minute, "replicas: how long to wait for every page after the kill")
	fs.BoolVar(&c.keep, "keep", false, "keep the benchmark databases")
	fs.StringVar(&c.profileDir, "worker-cpuprofile", "", "write each worker's CPU profile into this directory")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	scenarios := []string{c.scenario}
	if c.scenario == "all" {
		scenarios = []string{"burst", "steady", "claim", "replicas"}
	}
	for _, s := range scenarios {
		if !slices.Contains([]string{"burst", "steady", "claim", "replicas"}, s) {
			return usageError{fmt.Sprintf("unknown scenario %q", s)}
		}
	}
	rep := BenchReport{Started: time.Now().UTC(), Command: strings.Join(append([]string{"herald", "bench", "engine"}, args...), " "),
		Machine: machineInfo(ctx, c.adminURL),
		Settings: map[string]any{"n": c.n, "delay": c.delay.String(), "rate_per_min": c.rate, "duration": c.duration.String(),
			"claims": c.claims, "replicas": c.replicas, "send_concurrency": c.sendConc, "check_concurrency": c.checkConc}}
	for _, s := range scenarios {
		fmt.Fprintf(stderr, "== %s\n", s)
		r := runScenario(ctx, c, s, stderr)
		if r.Error != "" {
			fmt.Fprintf(stderr, "   error: %s\n", r.Error)
		}
		rep.Scenarios = append(rep.Scenarios, r)
		if ctx.Err() != nil {
			break
		}
	}
	md := benchMarkdown(rep)
	fmt.Fprint(stdout, md)
	if c.markdown != "" {
		if err := os.WriteFile(c.markdown, []byte(md), 0o644); err != nil {
			return err
		}
	}
	if c.out != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(c.out, append(b, '\n'), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "report written to %s\n", c.out)
	}
	return nil
}

func runScenario(ctx context.Context, c benchConfig, name string, stderr io.Writer) (r ScenarioResult) {
	r = ScenarioResult{Name: name, Figures: map[string]any{}}
	env, err := newBenchEnv(ctx, c, name, stderr)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	defer env.close()
	switch name {
	case "burst":
		err = env.burst(ctx, &r)
	case "steady":
		err = env.steady(ctx, &r)
	case "claim":
		err = env.claim(ctx, &r)
	case "replicas":
		err = env.replicasRun(ctx, &r)
	}
	if err != nil {
		r.Error = err.Error()
	}
	return r
}

// benchEnv is one scenario's database, sink and worker processes.
type benchEnv struct {
	c       benchConfig
	log     io.Writer
	keys    string
	dbName  string
	dbURL   string
	gdb     *gorm.DB
	store   *models.Store
	sink    *benchSink
	workers []*benchWorker
}

func newBenchEnv(ctx context.Context, c benchConfig, scenario string, stderr io.Writer) (*benchEnv, error) {
	keys, err := models.GenerateKeyset()
	if err != nil {
		return nil, err
	}
	e := &benchEnv{c: c, log: stderr, keys: keys}
	if err := e.createDatabase(ctx, scenario); err != nil {
		return nil, err
	}
	cipher, err := models.NewFieldCipher(keys)
	if err != nil {
		return nil, err
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	e.gdb, err = models.Open(ctx, models.OpenOptions{PostgresURL: e.dbURL, Cipher: cipher, Logger: quiet, MaxOpenConns: 40})
	if err != nil {
		e.close()
		return nil, err
	}
	sqlDB, err := e.gdb.DB()
	if err != nil {
		e.close()
		return nil, err
	}
	if _, err := migrations.Up(ctx, sqlDB, migrations.Dialect(models.DialectPostgres), nil); err != nil {
		e.close()
		return nil, err
	}
	e.store = models.NewStore(e.gdb, models.SystemClock{})
	if e.sink, err = startBenchSink(c.delay); err != nil {
		e.close()
		return nil, err
	}
	return e, nil
}

func (e *benchEnv) createDatabase(ctx context.Context, scenario string) error {
	admin, err := gorm.Open(postgres.Open(e.c.adminURL), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		return fmt.Errorf("PostgreSQL at %s: %w", redactURL(e.c.adminURL), err)
	}
	defer closeGorm(admin)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	e.dbName = "herald_bench_" + scenario + "_" + hex.EncodeToString(b)
	if err := admin.WithContext(ctx).Exec("CREATE DATABASE " + e.dbName).Error; err != nil {
		return fmt.Errorf("creating benchmark database: %w", err)
	}
	u, err := url.Parse(e.c.adminURL)
	if err != nil {
		return err
	}
	u.Path = "/" + e.dbName
	e.dbURL = u.String()
	return nil
}

func (e *benchEnv) close() {
	e.stopWorkers()
	if e.sink != nil {
		e.sink.close()
	}
	if e.gdb != nil {
		_ = models.Close(e.gdb)
	}
	if e.dbName == "" || e.c.keep {
		if e.dbName != "" {
			fmt.Fprintf(e.log, "   kept database %s\n", e.dbName)
		}
		return
	}
	admin, err := gorm.Open(postgres.Open(e.c.adminURL), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		return
	}
	defer closeGorm(admin)
	if err := admin.Exec("DROP DATABASE IF EXISTS " + e.dbName + " WITH (FORCE)").Error; err != nil {
		fmt.Fprintf(e.log, "   dropping %s: %v\n", e.dbName, err)
	}
}

func closeGorm(db *gorm.DB) {
	if s, err := db.DB(); err == nil {
		_ = s.Close()
	}
}

func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}

// seed stores the person every plan pages and a plan with definition.
func (e *benchEnv) seed(ctx context.Context, definition string) (planVersionID int64, err error) {
	now := time.Now().UTC()
	slack := "U_ONCALL"
	if err := e.gdb.WithContext(ctx).Create(&models.Person{ID: uuid.NewString(), Name: "oncall", SlackUserID: &slack, Active: true, CreatedAt: now, UpdatedAt: now}).Error; err != nil {
		return 0, err
	}
	plan := &models.Plan{ID: uuid.NewString(), Name: "bench", ActiveVersion: 1, CreatedAt: now, UpdatedAt: now}
	if err := e.gdb.WithContext(ctx).Create(plan).Error; err != nil {
		return 0, err
	}
	pv := &models.PlanVersion{PlanID: plan.ID, Version: 1, Definition: definition, CreatedAt: now}
	if err := e.gdb.WithContext(ctx).Create(pv).Error; err != nil {
		return 0, err
	}
	return pv.ID, nil
}

// incidents creates n incidents (not escalating yet).
func (e *benchEnv) incidents(ctx context.Context, n int) ([]int64, error) {
	ids := make([]int64, n)
	err := parallelDo(n, 16, func(j int) error {
		inc, _, err := e.store.CreateIncident(ctx, models.NewIncident{Title: fmt.Sprintf("bench incident %d", j)})
		if err != nil {
			return err
		}
		ids[j] = inc.ID
		return nil
	})
	return ids, err
}

// escalate starts an incident's escalation the way Engine.Escalate does:
// the row, then a NOTIFY that wakes every replica's engine.
func (e *benchEnv) escalate(ctx context.Context, incidentID, planVersionID int64) (time.Time, error) {
	if _, err := e.store.StartEscalation(ctx, incidentID, planVersionID); err != nil {
		return time.Time{}, err
	}
	t := time.Now()
	if err := e.store.NotifyEngines(ctx, notifications.WakeChannel); err != nil {
		return t, err
	}
	return t, nil
}

func parallelDo(n, workers int, fn func(int) error) error {
	var (
		wg   sync.WaitGroup
		next = make(chan int)
		mu   sync.Mutex
		fail error
	)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range next {
				if err := fn(j); err != nil {
					mu.Lock()
					if fail == nil {
						fail = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for j := 0; j < n; j++ {
		next <- j
	}
	close(next)
	wg.Wait()
	return fail
}

// benchWorker is one `herald bench engine-worker` child.
type benchWorker struct {
	cmd    *exec.Cmd
	name   string
	mu     sync.Mutex
	peakKB int64
	done   chan struct{}
	killed bool
}

func (e *benchEnv) startWorkers(ctx context.Context, k int) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	for i := 0; i < k; i++ {
		name := fmt.Sprintf("worker-%d", i+1)
		args := []string{"bench", "engine-worker", "--database-url", e.dbURL, "--sink", e.sink.url, "--owner", name,
			"--send-concurrency", strconv.Itoa(e.c.sendConc), "--check-concurrency", strconv.Itoa(e.c.checkConc), "--max-conns", strconv.Itoa(e.c.workerConns)}
		if e.c.profileDir != "" {
			args = append(args, "--cpuprofile", filepath.Join(e.c.profileDir, name+".pprof"))
		}
		cmd := exec.Command(exe, args...)
		cmd.Env = append(os.Environ(), "ENCRYPTED_FIELD_KEY="+e.keys)
		pr, pw := io.Pipe()
		cmd.Stdout, cmd.Stderr = pw, pw
		go func() {
			sc := bufio.NewScanner(pr)
			for sc.Scan() {
				fmt.Fprintf(e.log, "   [%s] %s\n", name, sc.Text())
			}
		}()
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("starting %s: %w", name, err)
		}
		w := &benchWorker{cmd: cmd, name: name, done: make(chan struct{})}
		go func() { _ = cmd.Wait(); _ = pw.Close(); close(w.done) }()
		go w.watchRSS()
		e.workers = append(e.workers, w)
	}
	// Ready once every worker LISTENs for work.
	deadline := time.Now().Add(20 * time.Second)
	for {
		var n int64
		if err := e.gdb.WithContext(ctx).Raw(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'LISTEN%'`).Scan(&n).Error; err != nil {
			return err
		}
		if int(n) >= k {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("only %d of %d workers listening after 20 s", n, k)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (w *benchWorker) watchRSS() {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		w.sampleRSS()
		select {
		case <-w.done:
			return
		case <-t.C:
		}
	}
}

// sampleRSS reads the process's peak resident set (VmHWM).
func (w *benchWorker) sampleRSS() {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", w.cmd.Process.Pid))
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err == nil {
				w.mu.Lock()
				w.peakKB = max(w.peakKB, kb)
				w.mu.Unlock()
			}
		}
	}
}

func (w *benchWorker) peakMB() float64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return round1(float64(w.peakKB) / 1024)
}

func (w *benchWorker) kill() {
	w.sampleRSS()
	w.killed = true
	_ = syscall.Kill(w.cmd.Process.Pid, syscall.SIGKILL)
	<-w.done
}

func (e *benchEnv) stopWorkers() {
	for _, w := range e.workers {
		select {
		case <-w.done:
			continue
		default:
		}
		w.sampleRSS()
		_ = w.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-w.done:
		case <-time.After(5 * time.Second):
			_ = w.cmd.Process.Kill()
			<-w.done
		}
	}
}

func (e *benchEnv) peakRSS() float64 {
	peak := 0.0
	for _, w := range e.workers {
		w.sampleRSS()
		peak = max(peak, w.peakMB())
	}
	return peak
}

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

func (e *benchEnv) burst(ctx context.Context, r *ScenarioResult) error {
	pv, err := e.seed(ctx, onePagePlan)
	if err != nil {
		return err
	}
	ids, err := e.incidents(ctx, e.c.n)
	if err != nil {
		return err
	}
	if err := e.startWorkers(ctx, 1); err != nil {
		return err
	}
	start := time.Now()
	created, err := e.burstInsert(ctx, ids, pv)
	if err != nil {
		return err
	}
	lastInsert := slices.MaxFunc(created, func(a, b time.Time) int { return a.Compare(b) })
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
	victim := e.workers[0]
	killedAt := make(chan time.Time, 1)
	go func() {
		if e.sink.waitPaged(ctx, len(ids)/2, 5*time.Minute) == nil {
			victim.kill()
			killedAt <- time.Now()
		}
		close(killedAt)
	}()
	start := time.Now()
	created, err := e.burstInsert(ctx, ids, pv)
	if err != nil {
		return err
	}
	lastInsert := slices.MaxFunc(created, func(a, b time.Time) int { return a.Compare(b) })
	kill, ok := <-killedAt
	if !ok {
		return fmt.Errorf("the burst never reached half")
	}
	waitErr := e.sink.waitPaged(ctx, len(ids), e.c.replicaGrace)
	allAt := time.Now()
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
	f["killed_after_ms"] = benchMS(kill.Sub(start))
	f["all_paged_after_kill_ms"] = benchMS(allAt.Sub(kill))
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
	r.Checks = append(r.Checks,
		BenchCheck{"zero pages lost with a replica killed (SIGKILL) halfway", fmt.Sprintf("%d lost, all paged %.1f s after the kill", lost, allAt.Sub(kill).Seconds()), lost == 0},
		BenchCheck{"duplicates (target 0)", strconv.Itoa(dups), dups == 0},
		BenchCheck{"peak RSS of one herald process ≤ 250 MB", fmt.Sprintf("%.1f MB", peak), peak <= 250},
	)
	return waitErr
}

func addPercentiles(f map[string]any, name string, sorted []float64) {
	if len(sorted) == 0 {
		return
	}
	pct := func(p float64) float64 {
		return round1(sorted[min(len(sorted)-1, int(math.Ceil(p*float64(len(sorted))))-1)])
	}
	f[name+"_p50_ms"], f[name+"_p99_ms"], f[name+"_max_ms"] = pct(0.50), pct(0.99), round1(sorted[len(sorted)-1])
}

func benchMS(d time.Duration) float64 { return round1(float64(d.Microseconds()) / 1000) }

func round1(x float64) float64 { return math.Round(x*10) / 10 }

func machineInfo(ctx context.Context, adminURL string) map[string]any {
	m := map[string]any{"nproc": runtime.NumCPU(), "go": runtime.Version(), "os": runtime.GOOS + "/" + runtime.GOARCH}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m["cpu"] = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
				m["memory_gb"] = round1(float64(kb) / 1024 / 1024)
			}
		}
	}
	if db, err := gorm.Open(postgres.Open(adminURL), &gorm.Config{Logger: logger.Discard}); err == nil {
		var v string
		if db.WithContext(ctx).Raw("SHOW server_version").Scan(&v).Error == nil {
			m["postgres"] = v
		}
		closeGorm(db)
	}
	return m
}

func benchMarkdown(rep BenchReport) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n### herald bench engine — %s\n\n", rep.Started.Format(time.RFC3339))
	fmt.Fprintf(&b, "Machine: %v CPUs (%v), %v GB RAM, PostgreSQL %v, %v. Command: `%s`\n\n",
		rep.Machine["nproc"], rep.Machine["cpu"], rep.Machine["memory_gb"], rep.Machine["postgres"], rep.Machine["go"], rep.Command)
	b.WriteString("| Scenario | Target | Result | Met |\n|---|---|---|---|\n")
	for _, s := range rep.Scenarios {
		if s.Error != "" {
			fmt.Fprintf(&b, "| %s | (error) | %s | ✗ |\n", s.Name, strings.ReplaceAll(s.Error, "|", "/"))
		}
		for _, c := range s.Checks {
			met := "✗"
			if c.Pass {
				met = "✓"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", s.Name, c.Target, c.Result, met)
		}
	}
	b.WriteString("\n| Scenario | Figures |\n|---|---|\n")
	for _, s := range rep.Scenarios {
		keys := make([]string, 0, len(s.Figures))
		for k := range s.Figures {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s=%v", k, s.Figures[k]))
		}
		fmt.Fprintf(&b, "| %s | %s |\n", s.Name, strings.Join(parts, ", "))
	}
	return b.String()
}
