package observability

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// TracingConfig is OpenTelemetry tracing (HERALD_OTEL_*). With neither an
// Endpoint nor an Exporter, tracing is off: NewTracing returns a no-op
// provider, builds no exporter and starts no goroutine.
type TracingConfig struct {
	// Endpoint is the collector's OTLP/HTTP URL, e.g.
	// http://collector:4318; without a path, /v1/traces is appended.
	Endpoint string
	// Headers go with every export (an API key): never logged.
	Headers        map[string]string
	ServiceName    string  // resource service.name (default "herald")
	ServiceVersion string  // resource service.version
	SampleRatio    float64 // of new traces; a sampled parent's children always are
	// Exporter replaces the OTLP exporter and exports synchronously, as
	// each span ends (tests).
	Exporter sdktrace.SpanExporter
}

// NewTracing builds the tracer provider Herald passes to its HTTP server,
// engine and vendors. shutdown flushes the spans not yet exported and
// stops the exporter; give it the shutdown timeout's context. The
// standard OTEL_EXPORTER_OTLP_* variables (timeout, compression,
// certificates, headers) apply too; HERALD_OTEL_ENDPOINT and
// HERALD_OTEL_HEADERS take precedence.
func NewTracing(ctx context.Context, c TracingConfig) (tp trace.TracerProvider, shutdown func(context.Context) error, err error) {
	if c.Endpoint == "" && c.Exporter == nil {
		return noop.NewTracerProvider(), func(context.Context) error { return nil }, nil
	}
	if c.ServiceName == "" {
		c.ServiceName = "herald"
	}
	attrs := []attribute.KeyValue{attribute.String("service.name", c.ServiceName)}
	if c.ServiceVersion != "" {
		attrs = append(attrs, attribute.String("service.version", c.ServiceVersion))
	}
	// Not WithProcess: command lines can carry secrets.
	res, err := resource.New(ctx, resource.WithFromEnv(), resource.WithTelemetrySDK(), resource.WithHost(), resource.WithAttributes(attrs...))
	if err != nil {
		return nil, nil, fmt.Errorf("tracing resource: %w", err)
	}
	opts := []sdktrace.TracerProviderOption{
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(c.SampleRatio))),
	}
	if c.Exporter != nil {
		opts = append(opts, sdktrace.WithSyncer(c.Exporter))
	} else {
		exp, err := otlptracehttp.New(ctx, exporterOptions(c)...)
		if err != nil {
			return nil, nil, fmt.Errorf("OTLP exporter: %w", err)
		}
		opts = append(opts, sdktrace.WithBatcher(exp))
	}
	p := sdktrace.NewTracerProvider(opts...)
	return p, p.Shutdown, nil
}

// exporterOptions points the OTLP/HTTP exporter at c.Endpoint.
func exporterOptions(c TracingConfig) []otlptracehttp.Option {
	endpoint := c.Endpoint
	if u, err := url.Parse(endpoint); err == nil && strings.Trim(u.Path, "/") == "" {
		// A collector's base URL, as in OTEL_EXPORTER_OTLP_ENDPOINT.
		u.Path = "/v1/traces"
		endpoint = u.String()
	}
	opts := []otlptracehttp.Option{otlptracehttp.WithEndpointURL(endpoint)}
	if len(c.Headers) > 0 {
		opts = append(opts, otlptracehttp.WithHeaders(c.Headers))
	}
	return opts
}
