package observability_test

import (
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/heraldhq/herald/observability"
)

// TestTracingOffIsNoop: no endpoint, no exporter: a no-op provider whose
// spans record nothing, and a shutdown with nothing to do.
func TestTracingOffIsNoop(t *testing.T) {
	tp, shutdown, err := observability.NewTracing(context.Background(), observability.TracingConfig{ServiceName: "herald"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := tp.(noop.TracerProvider); !ok {
		t.Fatalf("provider %T, want noop", tp)
	}
	_, span := tp.Tracer("t").Start(context.Background(), "x")
	if span.IsRecording() || span.SpanContext().IsValid() {
		t.Error("a span of the off provider records")
	}
	span.End()
	if err := shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// otlpCollector records the OTLP/HTTP exports it receives.
type otlpCollector struct {
	mu       sync.Mutex
	requests []*http.Request
	exports  []*coltrace.ExportTraceServiceRequest
	errs     []string
}

func (c *otlpCollector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	b, _ := io.ReadAll(body)
	var req coltrace.ExportTraceServiceRequest
	err := proto.Unmarshal(b, &req)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.requests = append(c.requests, r)
	if err != nil {
		c.errs = append(c.errs, err.Error())
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c.exports = append(c.exports, &req)
	w.Header().Set("Content-Type", "application/x-protobuf")
	out, _ := proto.Marshal(&coltrace.ExportTraceServiceResponse{})
	_, _ = w.Write(out)
}

// TestTracingExportsOTLPOverHTTP: spans reach a collector as protobuf
// POSTs on /v1/traces (the endpoint's base URL given), with the configured
// headers and service name.
func TestTracingExportsOTLPOverHTTP(t *testing.T) {
	col := &otlpCollector{}
	srv := httptest.NewServer(col)
	defer srv.Close()
	tp, shutdown, err := observability.NewTracing(context.Background(), observability.TracingConfig{
		Endpoint: srv.URL, Headers: map[string]string{"X-Api-Key": "k123"}, ServiceName: "herald-test", ServiceVersion: "v9", SampleRatio: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, parent := tp.Tracer("t").Start(context.Background(), "parent")
	_, child := tp.Tracer("t").Start(ctx, "child", trace.WithAttributes(attribute.String("herald.page.mode", "sms")))
	child.End()
	parent.End()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := shutdown(sctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	col.mu.Lock()
	defer col.mu.Unlock()
	if len(col.errs) > 0 || len(col.requests) == 0 {
		t.Fatalf("collector: %d requests, errors %v", len(col.requests), col.errs)
	}
	r := col.requests[0]
	if r.Method != http.MethodPost || r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" || r.Header.Get("X-Api-Key") != "k123" {
		t.Errorf("export %s %s content-type %q api key %q", r.Method, r.URL.Path, r.Header.Get("Content-Type"), r.Header.Get("X-Api-Key"))
	}
	names := map[string]string{} // span name → its mode
	service := ""
	for _, ex := range col.exports {
		for _, rs := range ex.ResourceSpans {
			for _, kv := range rs.GetResource().GetAttributes() {
				if kv.Key == "service.name" {
					service = kv.Value.GetStringValue()
				}
			}
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					names[s.Name] = ""
					for _, kv := range s.Attributes {
						if kv.Key == "herald.page.mode" {
							names[s.Name] = kv.Value.GetStringValue()
						}
					}
				}
			}
		}
	}
	if service != "herald-test" {
		t.Errorf("service.name %q", service)
	}
	if _, ok := names["parent"]; !ok {
		t.Errorf("spans %v, want parent", names)
	}
	if got := names["child"]; got != "sms" {
		t.Errorf("child span: mode %q, spans %v", got, names)
	}
}

// TestTracingSampleRatio: ratio 0 records no new trace, but a sampled
// remote parent's children are recorded (ParentBased).
func TestTracingSampleRatio(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp, shutdown, err := observability.NewTracing(context.Background(), observability.TracingConfig{Exporter: exp, SampleRatio: 0})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = shutdown(context.Background()) }()
	_, root := tp.Tracer("t").Start(context.Background(), "root")
	root.End()
	if root.IsRecording() || len(exp.GetSpans()) != 0 {
		t.Fatalf("ratio 0 exported %d spans", len(exp.GetSpans()))
	}
	tid, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	sid, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	remote := trace.ContextWithRemoteSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled, Remote: true}))
	_, child := tp.Tracer("t").Start(remote, "child")
	child.End()
	if spans := exp.GetSpans(); len(spans) != 1 || spans[0].SpanContext.TraceID() != tid {
		t.Fatalf("sampled parent: exported %v", spans)
	}
}
