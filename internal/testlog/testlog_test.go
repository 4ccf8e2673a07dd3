package testlog

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWrapTeesEveryLevelToTheDirectory(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(DirEnv, dir)
	var inner bytes.Buffer
	t.Run("logs", func(t *testing.T) {
		log := slog.New(Wrap(t, slog.NewTextHandler(&inner, &slog.HandlerOptions{Level: slog.LevelInfo}))).With("k", "v")
		log.Debug("quiet detail")
		log.Info("loud news")
	})
	if strings.Contains(inner.String(), "quiet detail") || !strings.Contains(inner.String(), "loud news") {
		t.Errorf("inner handler got %q, want only the info record", inner.String())
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if len(files) != 1 {
		t.Fatalf("files %v, want one", files)
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 2 {
		t.Fatalf("file holds %q, want both records", b)
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil || rec["msg"] != "quiet detail" || rec["k"] != "v" || rec["test"] != t.Name()+"/logs" {
		t.Errorf("first record %s (%v)", lines[0], err)
	}
}

func TestWrapWithoutTheDirectoryIsTheInnerHandler(t *testing.T) {
	t.Setenv(DirEnv, "")
	inner := slog.NewTextHandler(&bytes.Buffer{}, nil)
	if Wrap(t, inner) != slog.Handler(inner) {
		t.Error("Wrap changed the handler with no directory set")
	}
}
