package models_test

import (
	"testing"
	"time"

	"github.com/heraldhq/herald/models"
)

// TestQueueStats: only what the sender would lease counts: queued and due,
// of an escalation still paging or of none.
func TestQueueStats(t *testing.T) {
	t.Parallel()
	forEachEscDB(t, func(t *testing.T, f *escFixture) {
		if q, err := f.s.QueueStats(f.ctx); err != nil || q.Due != 0 || !q.OldestDue.IsZero() || q.Lag(t0) != 0 {
			t.Fatalf("empty queue: %+v %v", q, err)
		}
		paging, e1 := f.start()
		claimed, e2 := f.start()
		old := f.msg(paging, e1, 0, 0, 0)
		old.NotBefore = t0.Add(-2 * time.Minute)
		later := f.msg(paging, e1, 0, 0, 1)
		later.NotBefore = t0.Add(time.Minute)
		planned := map[int64][]models.Message{e1.ID: {old, later}, e2.ID: {f.msg(claimed, e2, 0, 0, 0)}}
		due, err := f.s.LeaseDueEscalations(f.ctx, "a", 10, time.Minute)
		if err != nil || len(due) != 2 {
			t.Fatalf("leased %d, %v", len(due), err)
		}
		for i := range due {
			if _, err := f.s.FinishEscalationCheck(f.ctx, &due[i], models.EscalationUpdate{StepStartedAt: t0, State: models.EscalationActive}, planned[due[i].ID]); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := f.s.StopEscalation(f.ctx, claimed.ID, models.EscalationClaimed, "bob"); err != nil {
			t.Fatal(err)
		}
		outOfBand := models.Message{PersonID: &f.alice.ID, Mode: "slack", Priority: "low", Body: "x", OutOfBand: true,
			Status: models.MessageQueued, NotBefore: t0.Add(-30 * time.Second), CreatedAt: t0}
		if err := f.s.QueueMessages(f.ctx, []models.Message{outOfBand}); err != nil {
			t.Fatal(err)
		}
		q, err := f.s.QueueStats(f.ctx)
		if err != nil || q.Due != 2 || !q.OldestDue.Equal(t0.Add(-2*time.Minute)) || q.Lag(t0) != 2*time.Minute {
			t.Fatalf("queue: %+v %v; want 2 due, the oldest 2 minutes old", q, err)
		}
	})
}

// TestMarkFirstPages: an escalation's first page is marked once; its
// paging start is its first step's start while on it.
func TestMarkFirstPages(t *testing.T) {
	t.Parallel()
	forEachEscDB(t, func(t *testing.T, f *escFixture) {
		_, e1 := f.start()
		f.clock.Advance(time.Minute)
		inc2, _, err := f.s.CreateIncident(f.ctx, models.NewIncident{Title: "low urgency, held until working hours"})
		if err != nil {
			t.Fatal(err)
		}
		deferred, err := f.s.StartEscalationAt(f.ctx, inc2.ID, f.pv.ID, t0.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		firsts, err := f.s.MarkFirstPages(f.ctx, []int64{e1.ID, deferred.ID}, t0.Add(2*time.Hour))
		if err != nil || len(firsts) != 2 {
			t.Fatalf("first marking: %+v %v", firsts, err)
		}
		starts := map[int64]time.Time{}
		for _, fp := range firsts {
			starts[fp.EscalationID] = fp.PagingStartedAt
		}
		if !starts[e1.ID].Equal(t0) || !starts[deferred.ID].Equal(t0.Add(time.Hour)) {
			t.Errorf("paging starts %v; want %s and %s", starts, t0, t0.Add(time.Hour))
		}
		if again, err := f.s.MarkFirstPages(f.ctx, []int64{e1.ID, deferred.ID}, t0.Add(3*time.Hour)); err != nil || len(again) != 0 {
			t.Errorf("marked again: %+v %v", again, err)
		}
		if at := f.escalation(&models.Incident{ID: e1.IncidentID}).FirstPageAt; at == nil || !at.Equal(t0.Add(2*time.Hour)) {
			t.Errorf("first_page_at = %v", at)
		}
	})
}

// TestDeadManRuns: a period is claimed once; its outcome is recorded once;
// pruning keeps the latest success.
func TestDeadManRuns(t *testing.T) {
	t.Parallel()
	forEachEscDB(t, func(t *testing.T, f *escFixture) {
		p1, p2, p3 := t0.Add(-3*time.Hour), t0.Add(-2*time.Hour), t0.Add(-time.Hour)
		if sum, err := f.s.DeadManSummary(f.ctx); err != nil || sum.Last != nil || sum.LastSuccess != nil {
			t.Fatalf("no runs: %+v %v", sum, err)
		}
		for _, p := range []time.Time{p1, p2, p3} {
			if ok, err := f.s.ClaimDeadManRun(f.ctx, p, "a"); err != nil || !ok {
				t.Fatalf("claiming %s: %v %v", p, ok, err)
			}
		}
		if ok, err := f.s.ClaimDeadManRun(f.ctx, p1, "b"); err != nil || ok {
			t.Fatalf("a period claimed twice: %v %v", ok, err)
		}
		if err := f.s.SetDeadManRunMessages(f.ctx, p1, []int64{7, 9}, "queued 2"); err != nil {
			t.Fatal(err)
		}
		if err := f.s.SetDeadManRunMessages(f.ctx, p3, nil, "queueing the test page: nobody"); err != nil {
			t.Fatal(err)
		}
		pending, err := f.s.PendingDeadManRuns(f.ctx)
		if err != nil || len(pending) != 2 || !pending[0].PeriodStart.Equal(p1) || pending[0].Owner != "a" {
			t.Fatalf("pending: %+v %v", pending, err)
		}
		if ids, err := pending[0].Messages(); err != nil || len(ids) != 2 || ids[1] != 9 {
			t.Fatalf("message ids %v %v", ids, err)
		}
		s1, s2 := p1.Add(time.Second), p2.Add(time.Second)
		for _, fin := range []struct {
			p  time.Time
			at *time.Time
		}{{p1, &s1}, {p2, &s2}, {p2, &t0}} { // the last is ignored: p2 is finished
			if err := f.s.FinishDeadManRun(f.ctx, fin.p, models.DeadManSucceeded, "ok", fin.at); err != nil {
				t.Fatal(err)
			}
		}
		sum, err := f.s.DeadManSummary(f.ctx)
		if err != nil || sum.Last == nil || !sum.Last.PeriodStart.Equal(p3) || sum.Last.Outcome != models.DeadManFailed || sum.LastSuccess == nil || !sum.LastSuccess.Equal(s2) {
			t.Fatalf("summary: %+v %v", sum, err)
		}
		// Everything is old: only the latest success survives.
		f.clock.Advance(90 * 24 * time.Hour)
		if n, err := f.s.PruneDeadManRuns(f.ctx, f.clock.Now().Add(-30*24*time.Hour)); err != nil || n != 2 {
			t.Fatalf("pruned %d, %v; want 2", n, err)
		}
		if last, err := f.s.LastDeadManSuccess(f.ctx); err != nil || last == nil || !last.Equal(s2) {
			t.Fatalf("last success after pruning: %v %v", last, err)
		}
	})
}
