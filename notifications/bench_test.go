package notifications_test

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
)

var (
	burstN      = flag.Int("burst.n", 1000, "BenchmarkBurst: escalations created at once")
	burstDelay  = flag.Duration("burst.delay", 50*time.Millisecond, "BenchmarkBurst: how long the no-op vendor takes per message")
	burstChecks = flag.Int("burst.checks", 0, "BenchmarkBurst: EngineOptions.CheckConcurrency (0: the default)")
)

// delayVendor accepts every message after a delay and notes when each
// incident's page reached it.
type delayVendor struct {
	delay time.Duration
	mu    sync.Mutex
	at    map[int64]time.Time
}

func (v *delayVendor) Name() string { return "noop" }
func (v *delayVendor) Modes() []notifications.Mode {
	return []notifications.Mode{notifications.ModeSlack, notifications.ModeEmail, notifications.ModeSMS, notifications.ModeCall}
}

func (v *delayVendor) Send(ctx context.Context, m notifications.Message) (string, error) {
	now := time.Now()
	v.mu.Lock()
	if _, ok := v.at[m.IncidentID]; !ok {
		v.at[m.IncidentID] = now
	}
	v.mu.Unlock()
	if v.delay > 0 {
		t := time.NewTimer(v.delay)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-t.C:
		}
	}
	return "ok", nil
}

func (v *delayVendor) count() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.at)
}

// BenchmarkBurst creates -burst.n incidents with an escalation each (at the
// store, as a burst of alerts would), each paging one user through a no-op
// vendor that takes -burst.delay, and runs EscalateDue + SendDue until
// every page reached the vendor. It reports the burst's total time and the
// p50/p99 latency from an escalation's creation to its vendor call.
//
//	go test -run '^$' -bench BenchmarkBurst -benchtime 1x ./notifications/ -args -burst.delay=50ms
func BenchmarkBurst(b *testing.B) {
	ctx := context.Background()
	db := testdb.New(b, models.DialectPostgres, models.SystemClock{}) // skipped without Postgres
	store := db.Store
	now := time.Now().UTC()
	slack := "U_ONCALL"
	if err := db.Gorm.Create(&models.Person{ID: uuid.NewString(), Name: "oncall", SlackUserID: &slack, Active: true, CreatedAt: now, UpdatedAt: now}).Error; err != nil {
		b.Fatal(err)
	}
	plan := &models.Plan{ID: uuid.NewString(), Name: "burst", ActiveVersion: 1, CreatedAt: now, UpdatedAt: now}
	if err := db.Gorm.Create(plan).Error; err != nil {
		b.Fatal(err)
	}
	pv := &models.PlanVersion{PlanID: plan.ID, Version: 1, Definition: `{"steps":[{"notifications":[{"role":"user","target":"oncall","priority":"low","wait":5}]}]}`, CreatedAt: now}
	if err := db.Gorm.Create(pv).Error; err != nil {
		b.Fatal(err)
	}
	n := *burstN
	var totals, p50s, p99s, escs, sends []float64
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		incidents := make([]int64, n)
		parallel(b, n, func(j int) error {
			inc, _, err := store.CreateIncident(ctx, models.NewIncident{Title: fmt.Sprintf("burst %d/%d", i, j)})
			if err != nil {
				return err
			}
			incidents[j] = inc.ID
			return nil
		})
		vendor := &delayVendor{delay: *burstDelay, at: map[int64]time.Time{}}
		vs := notifications.NewVendors()
		if err := vs.Register(vendor); err != nil {
			b.Fatal(err)
		}
		// A plain discard logger, not testlog: teeing to a file would time the disk.
		engine := notifications.NewEngine(store, vs, notifications.DirectoryRoles{Dir: store}, nil, models.SystemClock{}, slog.New(slog.DiscardHandler),
			notifications.EngineOptions{Owner: "bench", CheckConcurrency: *burstChecks})
		created := make([]time.Time, n)
		b.StartTimer()

		start := time.Now()
		parallel(b, n, func(j int) error {
			if _, err := store.StartEscalation(ctx, incidents[j], pv.ID); err != nil {
				return err
			}
			created[j] = time.Now()
			return nil
		})
		var escalating, sending time.Duration
		for vendor.count() < n {
			t1 := time.Now()
			if _, err := engine.EscalateDue(ctx); err != nil {
				b.Fatal(err)
			}
			t2 := time.Now()
			if _, err := engine.SendDue(ctx); err != nil {
				b.Fatal(err)
			}
			escalating, sending = escalating+t2.Sub(t1), sending+time.Since(t2)
			if time.Since(start) > 5*time.Minute {
				b.Fatalf("only %d of %d pages after 5 minutes", vendor.count(), n)
			}
		}
		b.StopTimer()

		lat := make([]float64, n)
		var last time.Time
		for j, id := range incidents {
			at := vendor.at[id]
			lat[j] = float64(at.Sub(created[j]).Microseconds()) / 1000
			if at.After(last) {
				last = at
			}
		}
		slices.Sort(lat)
		totals = append(totals, float64(last.Sub(start).Microseconds())/1000)
		p50s = append(p50s, lat[n/2])
		p99s = append(p99s, lat[min(n-1, n*99/100)])
		escs = append(escs, float64(escalating.Microseconds())/1000)
		sends = append(sends, float64(sending.Microseconds())/1000)
		b.StartTimer()
	}
	b.ReportMetric(mean(totals), "ms-total")
	b.ReportMetric(mean(p50s), "ms-p50")
	b.ReportMetric(mean(p99s), "ms-p99")
	b.ReportMetric(mean(escs), "ms-escalating")
	b.ReportMetric(mean(sends), "ms-sending")
	b.ReportMetric(float64(n)/(mean(totals)/1000), "pages/s")
}

// parallel runs fn(0..n-1) on 16 goroutines.
func parallel(b *testing.B, n int, fn func(int) error) {
	b.Helper()
	var (
		wg   sync.WaitGroup
		next = make(chan int)
		mu   sync.Mutex
		fail error
	)
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range next {
				if err := fn(j); err != nil {
					mu.Lock()
					fail = err
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
	if fail != nil {
		b.Fatal(fail)
	}
}

func mean(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}
