package models

import (
	"context"

	"github.com/heraldhq/herald/internal/traceparent"
)

// The trace of the request that raised an incident or queued a page is
// stored with the escalation and messages it created (trace_parent), so
// the engine, which leases those rows later and perhaps on another
// replica, continues it. With tracing off the context carries no span and
// nothing is stored.

// traceParent is the value stored with the escalation e starts.
func (e *NewEscalation) traceParent(ctx context.Context) *string {
	if e.TraceParent != "" {
		tp := e.TraceParent
		return &tp
	}
	return traceparent.Ptr(ctx)
}

// keepTrace records the creating request's trace on n's escalation
// before a batch commits it under a context of its own.
func (n *NewIncident) keepTrace(ctx context.Context) {
	if n.Escalation != nil && n.Escalation.TraceParent == "" {
		n.Escalation.TraceParent = traceparent.Of(ctx)
	}
}

// stampTraceParent gives messages that have none ctx's trace.
func stampTraceParent(ctx context.Context, msgs []Message) {
	tp := traceparent.Ptr(ctx)
	if tp == nil {
		return
	}
	for i := range msgs {
		if msgs[i].TraceParent == nil {
			msgs[i].TraceParent = tp
		}
	}
}
