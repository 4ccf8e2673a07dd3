package notifications

import (
	"context"
	"net/http"
	"net/url"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/heraldhq/herald/internal/traceparent"
	"github.com/heraldhq/herald/models"
)

// Tracing (EngineOptions.Tracer, off by default): each escalation check is
// a span continuing the trace of the request that started the escalation
// (escalations.trace_parent); each vendor attempt of a page is a span
// continuing the trace of the check that planned it (messages.trace_parent),
// with the vendor's HTTP calls as its children. Attributes are ids, modes,
// vendor names and outcome words: never a destination or a message's text.

const tracerName = "github.com/heraldhq/herald/notifications"

// Span attribute keys.
const (
	AttrIncidentID     = attribute.Key("herald.incident.id")
	AttrIncidentNumber = attribute.Key("herald.incident.number")
	AttrEscalationID   = attribute.Key("herald.escalation.id")
	AttrStep           = attribute.Key("herald.escalation.step")
	AttrState          = attribute.Key("herald.escalation.state")
	AttrPlanned        = attribute.Key("herald.pages.planned")
	AttrMessageID      = attribute.Key("herald.message.id")
	AttrMode           = attribute.Key("herald.page.mode")
	AttrVendor         = attribute.Key("herald.page.vendor")
	AttrPriority       = attribute.Key("herald.page.priority")
	AttrAttempt        = attribute.Key("herald.page.attempt")
	AttrBatch          = attribute.Key("herald.page.batch")
	AttrOutcome        = attribute.Key("herald.page.outcome")
	// Of an intake's incident creation.
	AttrCreated           = attribute.Key("herald.incident.created")
	AttrEscalationPlanned = attribute.Key("herald.escalation.planned")
	AttrEscalationStarted = attribute.Key("herald.escalation.started")
)

// Span names.
const (
	SpanEscalationStep = "escalation.step"
	SpanPageSend       = "page.send"
)

func newTracer(tp trace.TracerProvider) trace.Tracer {
	if tp == nil {
		tp = noop.NewTracerProvider()
	}
	return tp.Tracer(tracerName)
}

// tracedCheck is check in a span that continues the escalation's trace;
// the messages it plans carry the span on to their sends.
func (e *Engine) tracedCheck(ctx context.Context, b *checkBatch, esc *models.Escalation) (*checkResult, error) {
	ctx, span := e.tracer.Start(traceparent.ContextPtr(ctx, esc.TraceParent), SpanEscalationStep, trace.WithAttributes(
		AttrEscalationID.Int64(esc.ID), AttrIncidentID.Int64(esc.IncidentID), AttrStep.Int(esc.Step)))
	defer span.End()
	r, err := e.check(ctx, b, esc)
	if err != nil {
		span.SetStatus(codes.Error, "check failed")
		return nil, err
	}
	span.SetAttributes(AttrIncidentNumber.Int64(r.inc.Number), AttrState.String(r.check.Update.State), AttrPlanned.Int(len(r.check.Messages)))
	if tp := traceparent.Ptr(ctx); tp != nil {
		for i := range r.check.Messages {
			r.check.Messages[i].TraceParent = tp
		}
	}
	return r, nil
}

// sendContext continues the trace of whatever planned the message.
func sendContext(ctx context.Context, m *models.Message) context.Context {
	return traceparent.ContextPtr(ctx, m.TraceParent)
}

// tracedSend is one vendor attempt of a page, in a span of its own.
func (e *Engine) tracedSend(ctx context.Context, v Vendor, m *models.Message, out Message) (string, error) {
	ctx, span := e.tracer.Start(ctx, SpanPageSend, trace.WithAttributes(
		AttrMode.String(m.Mode), AttrVendor.String(v.Name()), AttrMessageID.Int64(m.ID), AttrIncidentID.Int64(out.IncidentID),
		AttrPriority.String(m.Priority), AttrAttempt.Int(m.Attempts)))
	defer span.End()
	if out.Batch > 0 {
		span.SetAttributes(AttrBatch.Int(out.Batch))
	}
	id, err := v.Send(ctx, out)
	if err != nil {
		// Not the error's text: a vendor's answer may quote the number.
		span.SetAttributes(AttrOutcome.String(PageFailed))
		span.SetStatus(codes.Error, "vendor refused or unreachable")
		return id, err
	}
	span.SetAttributes(AttrOutcome.String(PageAccepted))
	return id, nil
}

// TracedTransport makes each request through rt a client span, a child
// of the span in the request's context (a page's vendor attempt). tp nil
// returns rt as it is. No trace header is sent: vendors are outsiders.
func TracedTransport(rt http.RoundTripper, tp trace.TracerProvider) http.RoundTripper {
	if tp == nil {
		return rt
	}
	if rt == nil {
		rt = http.DefaultTransport
	}
	return otelhttp.NewTransport(rt,
		otelhttp.WithTracerProvider(redactingProvider{tp}),
		otelhttp.WithMeterProvider(metricnoop.NewMeterProvider()),
		otelhttp.WithPropagators(propagation.NewCompositeTextMapPropagator()),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return r.Method + " " + r.URL.Host }),
	)
}

// redactingProvider cuts the URLs client spans record (url.full) to
// scheme and host: a webhook's path can hold its token, Twilio's names
// the account. otelhttp sets them after the span starts, out of a span
// processor's reach, hence a wrapper.
type redactingProvider struct{ trace.TracerProvider }

func (p redactingProvider) Tracer(name string, opts ...trace.TracerOption) trace.Tracer {
	return redactingTracer{p.TracerProvider.Tracer(name, opts...)}
}

type redactingTracer struct{ trace.Tracer }

func (t redactingTracer) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	ctx, span := t.Tracer.Start(ctx, name, opts...)
	return ctx, redactingSpan{span}
}

type redactingSpan struct{ trace.Span }

func (s redactingSpan) SetAttributes(kv ...attribute.KeyValue) {
	for i := range kv {
		if kv[i].Key == "url.full" || kv[i].Key == "http.url" {
			kv[i] = attribute.String(string(kv[i].Key), schemeHost(kv[i].Value.AsString()))
		}
	}
	s.Span.SetAttributes(kv...)
}

func schemeHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "redacted"
	}
	return u.Scheme + "://" + u.Host
}

// RoundTripper is NewTransport, traced when Tracer is set.
func (o HTTPOptions) RoundTripper() http.RoundTripper {
	return TracedTransport(o.NewTransport(), o.Tracer)
}
