package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/heraldhq/herald/internal/logctx"
	"github.com/heraldhq/herald/web"
)

// loggingReady logs with the request's context, as every handler does.
type loggingReady struct{ log *slog.Logger }

func (r loggingReady) Ready(ctx context.Context) error {
	r.log.InfoContext(ctx, "readiness checked")
	return nil
}

// TestLogLinesCarryTheRequestID: a line logged anywhere while a request is
// served carries the request's id, the one answered in X-Request-ID.
func TestLogLinesCarryTheRequestID(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(logctx.NewHandler(slog.NewJSONHandler(&buf, nil)))
	e := web.New(web.Options{Log: log, Ready: loggingReady{log}})
	w := httptest.NewRecorder()
	e.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	id := w.Header().Get("X-Request-ID")
	if w.Code != http.StatusOK || id == "" {
		t.Fatalf("readyz: %d, request id %q", w.Code, id)
	}
	found := false
	for _, line := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		if m["msg"] == "readiness checked" {
			found = true
			if m["request_id"] != id {
				t.Errorf("log line %s: request_id %v, want %q", line, m["request_id"], id)
			}
		}
	}
	if !found {
		t.Fatalf("the handler's line was not logged:\n%s", buf.String())
	}
}
