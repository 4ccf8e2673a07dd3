package logctx

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"
)

func TestHandlerAddsContextAttrs(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(NewHandler(slog.NewJSONHandler(&buf, nil)))
	ctx := With(context.Background(), slog.String("request_id", "r1"), slog.Int64("incident", 7))
	ctx = With(ctx, slog.String("request_id", "r2")) // replaced, not repeated
	log.InfoContext(ctx, "one", "incident", 8)       // the record's own value wins
	log.With("component", "x").InfoContext(ctx, "two")
	log.Info("three") // no context attributes

	var lines []map[string]any
	for _, l := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatalf("%s: %v", l, err)
		}
		lines = append(lines, m)
	}
	if bytes.Count(buf.Bytes(), []byte(`"incident"`)) != 2 || bytes.Count(buf.Bytes(), []byte(`"request_id"`)) != 2 {
		t.Errorf("keys repeated or missing:\n%s", buf.String())
	}
	for i, want := range []map[string]any{
		{"request_id": "r2", "incident": 8.0},
		{"request_id": "r2", "incident": 7.0, "component": "x"},
		{},
	} {
		for k, v := range want {
			if lines[i][k] != v {
				t.Errorf("line %d: %s = %v, want %v", i+1, k, lines[i][k], v)
			}
		}
		if len(want) == 0 && (lines[i]["request_id"] != nil || lines[i]["incident"] != nil) {
			t.Errorf("line %d carries context attributes without a context: %v", i+1, lines[i])
		}
	}
}
