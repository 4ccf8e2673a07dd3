package bot_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald/bot"
	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/internal/testlog"
	"github.com/heraldhq/herald/models"
)

// TestWorkerYields: while Yield says paging is busy, the worker runs one
// job at a time; otherwise up to its concurrency. Jobs block until the
// test releases them, so what runs at once is observed, not timed.
func TestWorkerYields(t *testing.T) {
	for _, yield := range []bool{true, false} {
		t.Run(map[bool]string{true: "busy", false: "idle"}[yield], func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			db := testdb.New(t, models.DialectSQLite, nil)
			var running, most atomic.Int32
			started := make(chan struct{}, 8)
			release := make(chan struct{})
			jobs := bot.NewJobRegistry()
			if err := jobs.Register("test.block", func(context.Context, []byte) error {
				n := running.Add(1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				started <- struct{}{}
				<-release
				running.Add(-1)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			for range 3 {
				if _, err := db.Store.EnqueueJobs(ctx, models.NewJob{Kind: "test.block"}); err != nil {
					t.Fatal(err)
				}
			}
			w := bot.NewWorker(db.Store, jobs, models.SystemClock{}, testlog.Logger(t), nil,
				bot.WorkerOptions{Owner: "test", Concurrency: 3, Yield: func() bool { return yield }})
			var wg sync.WaitGroup
			wg.Go(func() { w.Run(ctx) })
			wait := func() {
				t.Helper()
				select {
				case <-started:
				case <-time.After(10 * time.Second):
					t.Fatal("a job did not start")
				}
			}
			if yield {
				for range 3 { // one at a time: each starts after the last is released
					wait()
					if n := running.Load(); n != 1 {
						t.Fatalf("%d jobs running while paging is busy", n)
					}
					release <- struct{}{}
				}
			} else {
				for range 3 { // all three start before any is released
					wait()
				}
				close(release)
			}
			cancel()
			wg.Wait()
			want := map[bool]int32{true: 1, false: 3}[yield]
			if got := most.Load(); got != want {
				t.Errorf("at most %d jobs ran at once, want %d", got, want)
			}
		})
	}
}
