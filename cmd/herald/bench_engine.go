package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

const benchUsage = `usage: herald bench engine [flags]

Benchmarks the paging engine against a fresh PostgreSQL database and a local
HTTP sink that answers like Twilio after --delay. Engines run in child herald
processes (herald bench engine-worker), so their memory is measured alone.

scenarios:
  burst     --n incidents start escalating at once; each pages one user
  steady    --rate incidents per minute for --duration
  claim     a burst of --n; --claims of them are claimed mid-escalation
  replicas  the burst with --replicas workers (3), --kills of them (1) killed
            with SIGKILL, evenly through the burst (2: at a third, at two thirds)
  fair      a noisy application's burst of --n, then --quiet incidents of a
            quiet one: their pages must not wait behind the noisy backlog
  storm     a burst of --n on a plan with aggregation: batched pages
  ingest    --n PUT /api/v1/incidents from 64 clients against herald serve
  pgrestart STOPS AND STARTS the PostgreSQL server (--pg-stop, --pg-start)
            while --n incidents escalate through herald serve: /readyz
            must go red then green and no page may be lost or early (not
            part of "all": it takes the database down for everyone)
  all       every scenario in turn

--roles schedule makes burst, steady, claim and replicas page the primary of
a team whose Herald schedule (a weekly rotation) puts someone on call,
instead of a person: the figures then include the on-call lookup.`

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
	quiet        int
	replicas     int
	pgStop       string
	pgStart      string
	pgDown       time.Duration
	kills        int
	sendConc     int
	checkConc    int
	workerConns  int
	keep         bool
	inserters    int
	replicaGrace time.Duration
	statusLookup bool
	profileDir   string
	roles        string
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
	fs.StringVar(&c.scenario, "scenario", "all", "burst, steady, claim, replicas, fair, storm, ingest, pgrestart or all (all but pgrestart)")
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
	fs.IntVar(&c.quiet, "quiet", 60, "fair: incidents of the quiet application")
	fs.IntVar(&c.replicas, "replicas", 3, "replicas: worker processes")
	fs.IntVar(&c.kills, "kills", 1, "replicas: workers killed (SIGKILL) during the burst, fewer than --replicas")
	fs.IntVar(&c.sendConc, "send-concurrency", 0, "workers' SendConcurrency (0: engine default)")
	fs.IntVar(&c.checkConc, "check-concurrency", 0, "workers' CheckConcurrency (0: engine default)")
	fs.IntVar(&c.workerConns, "worker-conns", 0, "workers' database connections (0: store default)")
	fs.IntVar(&c.inserters, "inserters", 16, "goroutines inserting the burst")
	fs.DurationVar(&c.replicaGrace, "replicas-timeout", 3*time.Minute, "replicas: how long to wait for every page after the kill")
	fs.BoolVar(&c.keep, "keep", false, "keep the benchmark databases")
	fs.BoolVar(&c.statusLookup, "status-lookup", true, "workers ask the sink's webhook status lookup before re-sending a taken-over page (false: re-sent unasked)")
	fs.StringVar(&c.pgStop, "pg-stop", pgClusterCmd("stop"), "pgrestart: the shell command that stops PostgreSQL")
	fs.StringVar(&c.pgStart, "pg-start", pgClusterCmd("start"), "pgrestart: the shell command that starts it again")
	fs.DurationVar(&c.pgDown, "pg-down", 10*time.Second, "pgrestart: how long PostgreSQL stays down")
	fs.StringVar(&c.profileDir, "worker-cpuprofile", "", "write each worker's CPU profile into this directory")
	fs.StringVar(&c.roles, "roles", benchRolesUser, "who the plans page: user (a person) or schedule (a team's primary from a Herald schedule; burst, steady, claim and replicas)")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	scenarios := []string{c.scenario}
	if c.scenario == "all" {
		scenarios = benchScenarios
	}
	for _, s := range scenarios {
		if !slices.Contains(benchScenarios, s) && s != "pgrestart" {
			return usageError{fmt.Sprintf("unknown scenario %q", s)}
		}
		if c.roles == benchRolesSchedule && !slices.Contains(benchScheduleScenarios, s) {
			return usageError{fmt.Sprintf("--roles schedule applies to %s, not %s", strings.Join(benchScheduleScenarios, ", "), s)}
		}
	}
	if c.roles != benchRolesUser && c.roles != benchRolesSchedule {
		return usageError{fmt.Sprintf("--roles: %q is neither user nor schedule", c.roles)}
	}
	rep := BenchReport{Started: time.Now().UTC(), Command: strings.Join(append([]string{"herald", "bench", "engine"}, args...), " "),
		Machine: machineInfo(ctx, c.adminURL),
		Settings: map[string]any{"n": c.n, "delay": c.delay.String(), "rate_per_min": c.rate, "duration": c.duration.String(),
			"claims": c.claims, "replicas": c.replicas, "kills": c.kills, "status_lookup": c.statusLookup, "send_concurrency": c.sendConc, "check_concurrency": c.checkConc, "roles": c.roles}}
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

// benchScenarios are the scenarios, in the order "all" runs them.
var benchScenarios = []string{"burst", "steady", "claim", "replicas", "fair", "storm", "ingest"}

func runScenario(ctx context.Context, c benchConfig, name string, stderr io.Writer) (r ScenarioResult) {
	r = ScenarioResult{Name: name, Figures: map[string]any{}}
	if c.roles == benchRolesSchedule {
		r.Name += " (schedule roles)"
	}
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
	case "fair":
		err = env.fair(ctx, &r)
	case "storm":
		err = env.storm(ctx, &r)
	case "ingest":
		err = env.ingest(ctx, &r)
	case "pgrestart":
		err = env.pgRestart(ctx, &r)
	}
	if err != nil {
		r.Error = err.Error()
	}
	return r
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
