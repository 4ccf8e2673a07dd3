// Package traceparent carries a trace across Herald's database: the W3C
// traceparent of the request that created an escalation or a message is
// stored with it, and the engine that later leases the row continues that
// trace. It uses only the OpenTelemetry API (no SDK, no global state): with
// tracing off there is no span context, and nothing is stored.
package traceparent

import (
	"context"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// header is the W3C Trace Context header the value is stored as.
const header = "traceparent"

// MaxLen bounds a stored value: version 00 is 55 characters; anything much
// longer is not a traceparent this package wrote.
const MaxLen = 128

// Of returns ctx's span context as a traceparent ("00-<trace>-<span>-<flags>"),
// or "" when ctx carries no valid span context (tracing off).
func Of(ctx context.Context) string {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return ""
	}
	c := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(ctx, c)
	return c[header]
}

// Ptr is Of as a nullable column value: nil when there is none.
func Ptr(ctx context.Context) *string {
	if tp := Of(ctx); tp != "" {
		return &tp
	}
	return nil
}

// Context returns ctx with the span context of a stored traceparent as its
// remote parent, so spans started from it join that trace. An empty,
// malformed or oversized value leaves ctx as it is: a bad row must not
// stop paging.
func Context(ctx context.Context, tp string) context.Context {
	if tp == "" || len(tp) > MaxLen {
		return ctx
	}
	sc := trace.SpanContextFromContext(propagation.TraceContext{}.Extract(context.Background(), propagation.MapCarrier{header: tp}))
	if !sc.IsValid() {
		return ctx
	}
	return trace.ContextWithRemoteSpanContext(ctx, sc)
}

// ContextPtr is Context for a nullable column.
func ContextPtr(ctx context.Context, tp *string) context.Context {
	if tp == nil {
		return ctx
	}
	return Context(ctx, *tp)
}
