package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/heraldhq/herald/internal/logctx"
	"github.com/heraldhq/herald/web"
)

// TestRequestSpans: with a tracer every request is a server span named by
// its route, continuing the caller's traceparent, with its status and
// request id; log lines carry the trace id. Without one, nothing.
func TestRequestSpans(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	var buf bytes.Buffer
	log := slog.New(logctx.NewHandler(slog.NewJSONHandler(&buf, nil)))
	e := web.New(web.Options{Log: log, Ready: loggingReady{log}, Tracer: tp})

	req := httptest.NewRequest(http.MethodGet, "/readyz?token=secret", nil)
	req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	w := httptest.NewRecorder()
	e.ServeHTTP(w, req)
	w404 := httptest.NewRecorder()
	e.ServeHTTP(w404, httptest.NewRequest(http.MethodGet, "/nope/secret", nil))

	spans := exp.GetSpans()
	if len(spans) != 2 {
		t.Fatalf("%d spans, want 2", len(spans))
	}
	s := spans[0]
	if s.Name != "GET /readyz" || s.SpanKind != trace.SpanKindServer || s.SpanContext.TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" || s.Parent.SpanID().String() != "00f067aa0ba902b7" {
		t.Errorf("span %q kind %v trace %s parent %s", s.Name, s.SpanKind, s.SpanContext.TraceID(), s.Parent.SpanID())
	}
	attrs := map[string]string{}
	for _, kv := range s.Attributes {
		attrs[string(kv.Key)] = kv.Value.String()
	}
	if attrs["http.route"] != "/readyz" || attrs["http.response.status_code"] != "200" || attrs["herald.request_id"] != w.Header().Get("X-Request-ID") {
		t.Errorf("attributes %v", attrs)
	}
	for _, sp := range spans {
		for _, kv := range sp.Attributes {
			if bytes.Contains([]byte(kv.Value.String()), []byte("secret")) {
				t.Errorf("span %s: %s=%s holds the path or query", sp.Name, kv.Key, kv.Value.String())
			}
		}
	}
	if spans[1].Name == "" || spans[1].Parent.IsValid() {
		t.Errorf("unrouted span %q parent %v", spans[1].Name, spans[1].Parent)
	}
	var line map[string]any
	for _, l := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
		var m map[string]any
		if json.Unmarshal(l, &m) == nil && m["msg"] == "readiness checked" {
			line = m
		}
	}
	if line["trace_id"] != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Errorf("log line %v, want the trace id", line)
	}

	exp.Reset()
	plain := web.New(web.Options{Log: log, Ready: loggingReady{log}})
	plain.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/readyz", nil))
	if n := len(exp.GetSpans()); n != 0 {
		t.Errorf("no tracer: %d spans", n)
	}
}
