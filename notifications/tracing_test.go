package notifications_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/heraldhq/herald/notifications"
)

// TestTracedTransport: a vendor's HTTP call is a client span, child of the
// span in its context, whose URL is cut to scheme and host (a webhook's
// path may hold its token); no trace header reaches the vendor; without a
// provider the transport is left as it is.
func TestTracedTransport(t *testing.T) {
	var gotHeader string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotHeader = r.Header.Get("traceparent")
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	defer func() { _ = tp.Shutdown(context.Background()) }()

	base := &http.Transport{}
	if rt := notifications.TracedTransport(base, nil); rt != base {
		t.Fatal("wrapped without a provider")
	}
	client := &http.Client{Transport: notifications.HTTPOptions{Tracer: tp}.RoundTripper()}
	ctx, parent := tp.Tracer("t").Start(context.Background(), "page.send")
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/hooks/secret-token?sig=abc", nil)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	parent.End()
	if gotHeader != "" {
		t.Errorf("the vendor got traceparent %q", gotHeader)
	}
	var span tracetest.SpanStub
	for _, s := range exp.GetSpans() {
		if s.SpanKind == trace.SpanKindClient {
			span = s
		}
	}
	if span.Parent.SpanID() != parent.SpanContext().SpanID() {
		t.Fatalf("client span %q is not a child of the vendor attempt", span.Name)
	}
	for _, kv := range span.Attributes {
		if kv.Key == "url.full" && kv.Value.AsString() != srv.URL {
			t.Errorf("url.full %q, want %q", kv.Value.AsString(), srv.URL)
		}
		if kv.Key == "http.response.status_code" && kv.Value.AsInt64() != http.StatusNoContent {
			t.Errorf("status %d", kv.Value.AsInt64())
		}
	}
}
