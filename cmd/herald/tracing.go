package main

import (
	"context"
	"net/http"
	"net/url"
	"sync"
	"time"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/heraldhq/herald/handlers"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
	"github.com/heraldhq/herald/observability"
)

// tracing is the App's OpenTelemetry tracing (HERALD_OTEL_*): nil
// provider when off, so nothing is wrapped and no exporter runs.
type tracing struct {
	provider trace.TracerProvider
	stop     func(context.Context) error
	once     sync.Once
}

// setUpTracing builds the tracer provider: BuildOptions.Tracer (tests),
// else an OTLP/HTTP exporter when HERALD_OTEL_ENDPOINT is set.
func (a *App) setUpTracing(ctx context.Context, o BuildOptions) error {
	a.tracing = &tracing{stop: func(context.Context) error { return nil }}
	if o.Tracer != nil {
		a.tracing.provider = o.Tracer
		return nil
	}
	t := a.cfg.Tracing
	if !t.Enabled() {
		return nil
	}
	tp, stop, err := observability.NewTracing(ctx, observability.TracingConfig{
		Endpoint: t.Endpoint, Headers: t.Headers, ServiceName: t.ServiceName, ServiceVersion: version, SampleRatio: t.SampleRatio,
	})
	if err != nil {
		return err
	}
	a.tracing.provider, a.tracing.stop = tp, stop
	// Scheme and host only: the URL could carry credentials; the headers
	// are never logged.
	a.log.Info("tracing on: exporting spans over OTLP/HTTP", "collector", collectorHost(t.Endpoint), "service", t.ServiceName, "sample_ratio", t.SampleRatio)
	return nil
}

// flushTraces exports the spans not yet sent and stops the exporter, once.
func (a *App) flushTraces(ctx context.Context) {
	if a.tracing == nil {
		return
	}
	a.tracing.once.Do(func() {
		if err := a.tracing.stop(ctx); err != nil {
			a.log.Warn("flushing traces", "err", err)
		}
	})
}

// closeTracing flushes what Serve did not (Build failed, or a test).
func (a *App) closeTracing() {
	ctx, cancel := context.WithTimeout(context.Background(), min(a.cfg.ShutdownTimeout, 5*time.Second))
	defer cancel()
	a.flushTraces(ctx)
}

func collectorHost(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil {
		return "?"
	}
	return u.Scheme + "://" + u.Host
}

// slackHTTPClient traces the Slack Web API calls (children of the page
// or request that made them). Without tracing it is base unchanged (nil:
// the Slack client's default).
func (a *App) slackHTTPClient(base *http.Client) *http.Client {
	tp := a.tracing.provider
	if tp == nil {
		return base
	}
	c := &http.Client{Timeout: 10 * time.Second}
	if base != nil {
		copied := *base
		c = &copied
	}
	c.Transport = notifications.TracedTransport(c.Transport, tp)
	return c
}

// vendorHTTP is the HTTP options of the Twilio and webhook vendors.
func (a *App) vendorHTTP() notifications.HTTPOptions {
	return notifications.HTTPOptions{Tracer: a.tracing.provider}
}

// tracedCreator is the alert intake's incident creation in a span.
type tracedCreator struct {
	next   handlers.IncidentCreator
	tracer trace.Tracer
}

func traceCreations(next handlers.IncidentCreator, tp trace.TracerProvider) handlers.IncidentCreator {
	if tp == nil {
		return next
	}
	return tracedCreator{next: next, tracer: tp.Tracer("github.com/heraldhq/herald/cmd/herald")}
}

// Span name of an intake's incident creation.
const spanIncidentCreate = "incident.create"

func (t tracedCreator) CreateIncident(ctx context.Context, n models.NewIncident) (*models.Incident, bool, error) {
	ctx, span := t.tracer.Start(ctx, spanIncidentCreate, trace.WithAttributes(
		notifications.AttrEscalationPlanned.Bool(n.Escalation != nil)))
	defer span.End()
	inc, created, err := t.next.CreateIncident(ctx, n)
	if err != nil {
		span.SetStatus(codes.Error, "creating the incident failed")
		return inc, created, err
	}
	span.SetAttributes(notifications.AttrIncidentID.Int64(inc.ID), notifications.AttrIncidentNumber.Int64(inc.Number), notifications.AttrCreated.Bool(created))
	if n.Escalation != nil {
		span.SetAttributes(notifications.AttrEscalationStarted.Bool(n.Escalation.Started))
	}
	return inc, created, nil
}
