package bot_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/heraldhq/herald/internal/testlog"
	"github.com/heraldhq/herald/models"
)

// fixture reads a Slack payload copied from /work/shared/fixtures into
// testdata/slack (see the README there).
func fixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "slack", name))
	if err != nil {
		tb.Fatalf("reading fixture: %v", err)
	}
	return b
}

// discardLogger keeps nothing but the suite log file (testlog), which the
// secrets scan reads.
func discardLogger(t testing.TB) *slog.Logger { return testlog.Logger(t) }

// fakeQueue is an in-memory bot.JobQueue: it records what the dispatcher
// stores, and can be told to fail.
type fakeQueue struct {
	mu       sync.Mutex
	events   []recordedEvent
	enqueued []models.NewJob
	seen     map[string]bool // event ids already recorded
	err      error           // returned by every call when set
}

type recordedEvent struct {
	EventID, Kind string
	Jobs          []models.NewJob
}

func (q *fakeQueue) RecordSlackEvent(_ context.Context, eventID, kind string, jobs ...models.NewJob) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err != nil {
		return q.err
	}
	if q.seen == nil {
		q.seen = map[string]bool{}
	}
	if q.seen[eventID] {
		return models.ErrDuplicate
	}
	q.seen[eventID] = true
	q.events = append(q.events, recordedEvent{EventID: eventID, Kind: kind, Jobs: jobs})
	return nil
}

func (q *fakeQueue) EnqueueJobs(_ context.Context, jobs ...models.NewJob) (int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err != nil {
		return 0, q.err
	}
	q.enqueued = append(q.enqueued, jobs...)
	return len(jobs), nil
}

// countingWaker counts Wake calls.
type countingWaker struct {
	mu sync.Mutex
	n  int
}

func (w *countingWaker) Wake() {
	w.mu.Lock()
	w.n++
	w.mu.Unlock()
}

func (w *countingWaker) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n
}
