package models_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/internal/traceparent"
	"github.com/heraldhq/herald/models"
)

func tracedCtx(i int) (context.Context, string) {
	tp := fmt.Sprintf("00-4bf92f3577b34da6a3ce929d0e0e%04x-00f067aa0ba9%04x-01", i, i+1)
	return traceparent.Context(context.Background(), tp), tp
}

// TestTraceParentStored: an escalation started and messages queued under a
// traced context keep its traceparent, and leasing returns it; untraced,
// nothing is stored.
func TestTraceParentStored(t *testing.T) {
	t.Parallel()
	forEachEscDB(t, func(t *testing.T, f *escFixture) {
		ctx, tp := tracedCtx(1)
		inc, _, err := f.s.CreateIncident(ctx, models.NewIncident{Title: "traced"})
		if err != nil {
			t.Fatal(err)
		}
		e, err := f.s.StartEscalation(ctx, inc.ID, f.pv.ID)
		if err != nil {
			t.Fatal(err)
		}
		if e.TraceParent == nil || *e.TraceParent != tp {
			t.Fatalf("started with trace %v, want %s", e.TraceParent, tp)
		}
		due, err := f.s.LeaseDueEscalations(f.ctx, "o", 10, time.Minute)
		if err != nil || len(due) != 1 || due[0].TraceParent == nil || *due[0].TraceParent != tp {
			t.Fatalf("leased %+v, %v", due, err)
		}
		untraced, plain := f.start()
		if plain.TraceParent != nil {
			t.Errorf("an untraced start stored %q", *plain.TraceParent)
		}
		qctx, qtp := tracedCtx(2)
		if err := f.s.QueueMessages(qctx, []models.Message{f.msg(inc, e, 0, 0, 0)}); err != nil {
			t.Fatal(err)
		}
		if err := f.s.QueueMessages(f.ctx, []models.Message{f.msg(untraced, plain, 0, 0, 0)}); err != nil {
			t.Fatal(err)
		}
		if ms := f.messages(inc); len(ms) != 1 || ms[0].TraceParent == nil || *ms[0].TraceParent != qtp {
			t.Errorf("traced message %+v, want trace %s", ms, qtp)
		}
		if ms := f.messages(untraced); len(ms) != 1 || ms[0].TraceParent != nil {
			t.Errorf("untraced message %+v", ms)
		}
	})
}

// TestIncidentBatcherKeepsTrace: concurrent creations committed together
// (under the batch's context) each keep their own request's trace.
func TestIncidentBatcherKeepsTrace(t *testing.T) {
	t.Parallel()
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			f := newBatchFixture(t, d)
			const n = 6
			want := map[int64]string{}
			incs := make([]*models.Incident, n)
			errs := make(chan error, n)
			tps := make([]string, n)
			done := make(chan struct{})
			for i := range n {
				go func() {
					defer func() { done <- struct{}{} }()
					ctx, tp := tracedCtx(10 + i)
					tps[i] = tp
					inc, _, err := f.batcher.CreateIncident(ctx, models.NewIncident{Title: fmt.Sprintf("t%d", i), ServiceID: &f.svc.ID,
						Escalation: &models.NewEscalation{Plan: "shop"}})
					incs[i] = inc
					errs <- err
				}()
			}
			for range n {
				<-done
				if err := <-errs; err != nil {
					t.Fatal(err)
				}
			}
			for i, inc := range incs {
				want[inc.ID] = tps[i]
			}
			for id, tp := range want {
				e, err := f.db.Store.EscalationOf(f.ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				if e.TraceParent == nil || *e.TraceParent != tp {
					t.Errorf("incident %d: escalation trace %v, want %s", id, e.TraceParent, tp)
				}
			}
		})
	}
}
