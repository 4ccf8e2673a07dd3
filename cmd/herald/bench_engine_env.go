package main

import (
	"bufio"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
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
	oncall := &models.Person{ID: uuid.NewString(), Name: "oncall", SlackUserID: &slack, Active: true, CreatedAt: now, UpdatedAt: now}
	if err := e.gdb.WithContext(ctx).Create(oncall).Error; err != nil {
		return 0, err
	}
	if e.c.roles == benchRolesSchedule {
		if definition, err = e.seedSchedule(ctx, oncall.ID, definition); err != nil {
			return 0, err
		}
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
	return e.incidentsOf(ctx, n, "")
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
			"--send-concurrency", strconv.Itoa(e.c.sendConc), "--check-concurrency", strconv.Itoa(e.c.checkConc), "--max-conns", strconv.Itoa(e.c.workerConns), "--roles", cmp.Or(e.c.roles, benchRolesUser)}
		if e.c.statusLookup {
			args = append(args, "--sink-status", e.sink.statusURL)
		}
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
