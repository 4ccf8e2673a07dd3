package models_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/models"
)

func TestEnqueueJobsDedupKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	testdb.ForEachDialect(t, newClock(), func(t *testing.T, db *testdb.DB) {
		steps := []struct {
			jobs  []models.NewJob
			added int
		}{
			{[]models.NewJob{{Kind: "a", DedupKey: "k1"}, {Kind: "b"}}, 2},
			{[]models.NewJob{{Kind: "a", DedupKey: "k1"}}, 0},                              // same key: skipped
			{[]models.NewJob{{Kind: "a", DedupKey: "k2"}, {Kind: "a", DedupKey: "k2"}}, 1}, // twice in one call
			{[]models.NewJob{{Kind: "b"}}, 1},                                              // no key: always added
		}
		for i, s := range steps {
			added, err := db.Store.EnqueueJobs(ctx, s.jobs...)
			if err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
			if added != s.added {
				t.Errorf("step %d: added %d, want %d", i, added, s.added)
			}
		}
		if n, err := db.Store.PendingJobs(ctx); err != nil || n != 4 {
			t.Errorf("PendingJobs = %d, %v; want 4", n, err)
		}
	})
}

func TestJobPayloadEncryptedAtRest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	testdb.ForEachDialect(t, newClock(), func(t *testing.T, db *testdb.DB) {
		payload := []byte(`{"text":"customer data of ada.lovelace@example.com"}`)
		if _, err := db.Store.EnqueueJobs(ctx, models.NewJob{Kind: "k", Payload: payload}, models.NewJob{Kind: "empty"}); err != nil {
			t.Fatal(err)
		}
		rows, err := db.Gorm.Raw("SELECT kind, payload FROM jobs").Rows()
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var kind string
			var raw []byte
			if err := rows.Scan(&kind, &raw); err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(raw, []byte("lovelace")) {
				t.Errorf("%s job payload stored in plaintext: %q", kind, raw)
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}

		jobs, err := db.Store.LeaseJobs(ctx, "w", 10, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, j := range jobs {
			got[j.Kind] = j.Payload.Reveal()
		}
		if got["k"] != string(payload) || got["empty"] != "" || len(got) != 2 {
			t.Errorf("leased payloads = %q", got)
		}
	})
}

func TestLeaseJobsTakeover(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := newClock()
	testdb.ForEachDialect(t, clock, func(t *testing.T, db *testdb.DB) {
		start := clock.Now()
		if _, err := db.Store.EnqueueJobs(ctx,
			models.NewJob{Kind: "now", Payload: []byte("p")},
			models.NewJob{Kind: "later", RunAt: start.Add(time.Hour)},
		); err != nil {
			t.Fatal(err)
		}
		lease := func(owner string) []models.Job {
			t.Helper()
			jobs, err := db.Store.LeaseJobs(ctx, owner, 10, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			return jobs
		}

		a := lease("a")
		if len(a) != 1 || a[0].Kind != "now" || a[0].Attempts != 1 || *a[0].LeaseOwner != "a" || a[0].Payload.Reveal() != "p" {
			t.Fatalf("first lease = %+v, want the due job, attempt 1, owner a", a)
		}
		if !a[0].LeaseUntil.Equal(start.Add(time.Minute)) {
			t.Errorf("lease_until = %v, want %v", a[0].LeaseUntil, start.Add(time.Minute))
		}
		for _, d := range []time.Duration{0, 30 * time.Second, 30 * time.Second} {
			clock.Advance(d)
			if b := lease("b"); len(b) != 0 {
				t.Fatalf("at +%v: leased %d jobs still under a's lease", clock.Now().Sub(start), len(b))
			}
		}
		clock.Advance(time.Millisecond) // a's lease has run out: a died
		b := lease("b")
		if len(b) != 1 || b[0].ID != a[0].ID || b[0].Attempts != 2 || *b[0].LeaseOwner != "b" {
			t.Fatalf("takeover = %+v, want a's job, attempt 2, owner b", b)
		}

		// a wakes up and completes: its lease is gone, so nothing changes.
		if err := db.Store.CompleteJob(ctx, &a[0]); err != nil {
			t.Fatal(err)
		}
		if n, _ := db.Store.PendingJobs(ctx); n != 2 {
			t.Errorf("after a stale completion: %d pending, want 2", n)
		}
		if err := db.Store.CompleteJob(ctx, &b[0]); err != nil {
			t.Fatal(err)
		}
		if n, _ := db.Store.PendingJobs(ctx); n != 1 {
			t.Errorf("after completion: %d pending, want 1", n)
		}
		clock.Advance(10 * time.Minute)
		if c := lease("c"); len(c) != 0 {
			t.Errorf("leased %+v: a completed job, or one not yet due", c)
		}
		clock.Set(start.Add(time.Hour))
		if c := lease("c"); len(c) != 1 || c[0].Kind != "later" {
			t.Errorf("at its run_at: leased %+v, want the later job", c)
		}
	})
}

func TestLeaseJobsConcurrentLeasersNeverShare(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	testdb.ForEachDialect(t, newClock(), func(t *testing.T, db *testdb.DB) {
		const (
			jobs    = 200
			leasers = 4
			limit   = 7
		)
		batch := make([]models.NewJob, jobs)
		for i := range batch {
			batch[i] = models.NewJob{Kind: "k", Payload: fmt.Appendf(nil, "%d", i)}
		}
		if _, err := db.Store.EnqueueJobs(ctx, batch...); err != nil {
			t.Fatal(err)
		}
		var (
			wg  sync.WaitGroup
			mu  sync.Mutex
			got = map[string]string{} // job id -> owner
		)
		for w := range leasers {
			owner := fmt.Sprintf("w%d", w)
			wg.Go(func() {
				for {
					leased, err := db.Store.LeaseJobs(ctx, owner, limit, time.Hour)
					if err != nil {
						t.Error(err)
						return
					}
					if len(leased) == 0 {
						return
					}
					if len(leased) > limit {
						t.Errorf("%s leased %d jobs, limit %d", owner, len(leased), limit)
					}
					mu.Lock()
					for _, j := range leased {
						if prev, dup := got[j.ID]; dup {
							t.Errorf("job %s leased by both %s and %s", j.ID, prev, owner)
						}
						got[j.ID] = owner
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if len(got) != jobs {
			t.Errorf("%d distinct jobs leased, want %d", len(got), jobs)
		}
	})
}

func TestRetryJob(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := newClock()
	// Callers may pass local times; SQLite compares stored times as text.
	elsewhere := time.FixedZone("UTC+5", 5*3600)
	testdb.ForEachDialect(t, clock, func(t *testing.T, db *testdb.DB) {
		if _, err := db.Store.EnqueueJobs(ctx, models.NewJob{Kind: "flaky", MaxAttempts: 3}); err != nil {
			t.Fatal(err)
		}
		for attempt := 1; attempt <= 3; attempt++ {
			jobs, err := db.Store.LeaseJobs(ctx, "w", 10, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if len(jobs) != 1 || jobs[0].Attempts != attempt || jobs[0].MaxAttempts != 3 {
				t.Fatalf("attempt %d: leased %+v", attempt, jobs)
			}
			retryAt := clock.Now().Add(time.Minute).In(elsewhere)
			again, err := db.Store.RetryJob(ctx, &jobs[0], fmt.Errorf("slack said no (%d)", attempt), retryAt)
			if err != nil {
				t.Fatal(err)
			}
			if wantAgain := attempt < 3; again != wantAgain {
				t.Fatalf("attempt %d: again = %v, want %v", attempt, again, wantAgain)
			}
			if !again {
				break
			}
			// Not before retryAt, even though the lease was released.
			if early, err := db.Store.LeaseJobs(ctx, "w", 10, time.Minute); err != nil || len(early) != 0 {
				t.Fatalf("attempt %d: leased %d jobs before retryAt (%v)", attempt, len(early), err)
			}
			clock.Set(retryAt)
		}

		var j models.Job
		if err := db.Gorm.Take(&j).Error; err != nil {
			t.Fatal(err)
		}
		if j.FailedAt == nil || !j.FailedAt.Equal(clock.Now()) || j.LastError != "slack said no (3)" || j.LeaseOwner != nil || j.DoneAt != nil {
			t.Errorf("failed job = %+v, want failed now with the last error and no lease", j)
		}
		if n, _ := db.Store.PendingJobs(ctx); n != 0 {
			t.Errorf("%d pending jobs after the final failure, want 0", n)
		}
		clock.Advance(24 * time.Hour)
		if jobs, _ := db.Store.LeaseJobs(ctx, "w", 10, time.Minute); len(jobs) != 0 {
			t.Errorf("a failed job was leased again: %+v", jobs)
		}
	})
}

func TestRecordSlackEvent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := newClock()
	testdb.ForEachDialect(t, clock, func(t *testing.T, db *testdb.DB) {
		jobs := []models.NewJob{{Kind: "reaction_added", Payload: []byte("a")}, {Kind: "update_headline", Payload: []byte("b")}}
		if err := db.Store.RecordSlackEvent(ctx, "Ev1", "reaction_added", jobs...); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Second)
		if err := db.Store.RecordSlackEvent(ctx, "Ev1", "reaction_added", jobs...); !errors.Is(err, models.ErrDuplicate) {
			t.Errorf("second delivery: err = %v, want ErrDuplicate", err)
		}
		if n := count(t, db, "jobs"); n != 2 {
			t.Errorf("%d jobs stored, want 2 (once)", n)
		}

		// Concurrent deliveries (retries racing, several replicas).
		var wg sync.WaitGroup
		var mu sync.Mutex
		var ok, dup int
		for range 8 {
			wg.Go(func() {
				err := db.Store.RecordSlackEvent(ctx, "Ev2", "message", models.NewJob{Kind: "note"})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					ok++
				case errors.Is(err, models.ErrDuplicate):
					dup++
				default:
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if ok != 1 || dup != 7 {
			t.Errorf("8 concurrent deliveries: %d recorded, %d duplicates; want 1 and 7", ok, dup)
		}
		if n := count(t, db, "jobs"); n != 3 {
			t.Errorf("%d jobs stored, want 3", n)
		}

		// Pruned receipts are forgotten.
		clock.Advance(48 * time.Hour)
		pruned, err := db.Store.PruneSlackEventReceipts(ctx, clock.Now().Add(-24*time.Hour))
		if err != nil || pruned != 2 {
			t.Errorf("pruned %d, %v; want 2", pruned, err)
		}
		if err := db.Store.RecordSlackEvent(ctx, "Ev1", "reaction_added"); err != nil {
			t.Errorf("after pruning: %v", err)
		}
	})
}
