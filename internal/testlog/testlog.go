// Package testlog gives tests a slog.Handler that, when HERALD_TEST_LOG_DIR
// is set, also appends every record (JSON, debug level) to a file per test
// binary in that directory, so `make test-secrets` can scan what the whole
// suite logged for secrets and phone numbers (see ./scan).
package testlog

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// DirEnv names the directory the records are appended to.
const DirEnv = "HERALD_TEST_LOG_DIR"

// Wrap returns inner, teed to the suite's log file when DirEnv is set; the
// file gets every level (debug up) whatever inner keeps. The file is
// closed when t ends; records logged after that are dropped.
func Wrap(t testing.TB, inner slog.Handler) slog.Handler {
	t.Helper()
	dir := os.Getenv(DirEnv)
	if dir == "" {
		return inner
	}
	f, err := os.OpenFile(filepath.Join(dir, fileName()), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatalf("testlog: %v", err)
	}
	w := &lineFile{f: f}
	t.Cleanup(w.close)
	file := slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}).WithAttrs([]slog.Attr{slog.String("test", t.Name())})
	return tee{inner: inner, file: file}
}

// Discard is a handler that keeps nothing, except in the suite's log file:
// what tests use instead of a handler on io.Discard.
func Discard(t testing.TB) slog.Handler {
	t.Helper()
	return Wrap(t, slog.DiscardHandler)
}

// Logger is slog.New(Discard(t)).
func Logger(t testing.TB) *slog.Logger {
	t.Helper()
	return slog.New(Discard(t))
}

// fileName is one file per test binary: the package directory (go test
// runs a binary in it) and the process id.
func fileName() string {
	wd, _ := os.Getwd()
	parts := strings.Split(filepath.ToSlash(wd), "/")
	if len(parts) > 3 {
		parts = parts[len(parts)-3:]
	}
	return strings.Join(parts, "_") + "-" + itoa(os.Getpid()) + ".jsonl"
}

func itoa(n int) string {
	b := []byte{}
	for {
		b = append([]byte{byte('0' + n%10)}, b...)
		if n /= 10; n == 0 {
			return string(b)
		}
	}
}

// lineFile serialises writes (slog's JSON handler writes a record in one
// Write) and drops those after close.
type lineFile struct {
	mu     sync.Mutex
	f      *os.File
	closed bool
}

func (l *lineFile) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return len(p), nil
	}
	return l.f.Write(p)
}

func (l *lineFile) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	_ = l.f.Close()
}

type tee struct{ inner, file slog.Handler }

func (h tee) Enabled(context.Context, slog.Level) bool { return true }

func (h tee) Handle(ctx context.Context, r slog.Record) error {
	var errs []error
	if h.inner.Enabled(ctx, r.Level) {
		errs = append(errs, h.inner.Handle(ctx, r.Clone()))
	}
	errs = append(errs, h.file.Handle(ctx, r))
	return errors.Join(errs...)
}

func (h tee) WithAttrs(as []slog.Attr) slog.Handler {
	return tee{inner: h.inner.WithAttrs(as), file: h.file.WithAttrs(as)}
}

func (h tee) WithGroup(name string) slog.Handler {
	return tee{inner: h.inner.WithGroup(name), file: h.file.WithGroup(name)}
}
