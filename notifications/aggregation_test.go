package notifications_test

import (
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/models"
)

// TestAggregationBatchesAStorm: over the plan's threshold, each person's
// pages wait for the batch window and go out as one message whose code
// claims them all; below it, pages go one by one at once; a page claimed
// before the batch leaves is not in it.
func TestAggregationBatchesAStorm(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, f *fixture) {
		f.person("alice")
		agg := &models.PlanAggregation{ThresholdCount: 3, ThresholdWindowSeconds: 600, BatchWindowSeconds: 60}
		storm := steps(step(user("alice", "low", 5, 0)))
		storm.Aggregation = agg
		f.plan("storm", storm)
		calm := steps(step(user("alice", "low", 0, 0)))
		calm.Aggregation = agg
		f.plan("calm", calm)

		// Below the threshold: sent at once, one by one.
		a, b := f.escalate("calm 1", "calm"), f.escalate("calm 2", "calm")
		f.tick()
		if got := f.vendor.accepted(); len(got) != 2 || got[0].Msg.Batch != 0 || got[1].Msg.Batch != 0 {
			t.Fatalf("below the threshold: %+v, want two ordinary pages", got)
		}
		for _, inc := range []*models.Incident{a, b} {
			if ms := f.messages(inc); len(ms) != 1 || ms[0].BatchKey != "" {
				t.Fatalf("calm page %+v", ms)
			}
		}
		f.vendor.reset()

		// A storm: five incidents, one claimed before the batch leaves.
		var incs []*models.Incident
		for i := range 5 {
			incs = append(incs, f.escalate("storm "+string(rune('A'+i)), "storm"))
		}
		f.tick()
		if got := f.vendor.accepted(); len(got) != 0 {
			t.Fatalf("storm pages went before the batch window: %+v", got)
		}
		if err := f.engine.Claim(f.ctx, incs[2].ID, "bob"); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(59 * time.Second)
		f.tick()
		if got := f.vendor.accepted(); len(got) != 0 {
			t.Fatalf("batch left early: %+v", got)
		}
		f.clock.Advance(time.Second)
		f.tick()
		got := f.vendor.accepted()
		if len(got) != 1 {
			t.Fatalf("storm: %d messages, want one batch: %+v", len(got), got)
		}
		m := got[0].Msg
		if m.Batch != 4 || !strings.Contains(m.Subject, "4 incidents") || m.IncidentID != incs[4].ID {
			t.Errorf("batch message: batch %d, subject %q, incident %d (want 4, newest %d)", m.Batch, m.Subject, m.IncidentID, incs[4].ID)
		}
		for i, inc := range incs {
			listed := strings.Contains(m.Body, inc.Title)
			if listed == (i == 2) {
				t.Errorf("incident %q listed: %v (claimed: %v)\n%s", inc.Title, listed, i == 2, m.Body)
			}
		}
		if !strings.Contains(m.Body, m.ClaimCode) {
			t.Errorf("body does not give the claim code %s:\n%s", m.ClaimCode, m.Body)
		}
		for i, inc := range incs {
			ms := f.messages(inc)
			if len(ms) != 1 {
				t.Fatalf("incident %d has %d messages", i, len(ms))
			}
			want := models.MessageSent
			if i == 2 {
				want = models.MessageSuppressed
			}
			if ms[0].Status != want || (i != 2 && ms[0].ClaimCode != m.ClaimCode) {
				t.Errorf("incident %d message: status %s code %s, want %s with the batch code", i, ms[0].Status, ms[0].ClaimCode, want)
			}
		}
		ids, err := f.store.IncidentsByClaimCode(f.ctx, m.ClaimCode)
		if err != nil || len(ids) != 4 {
			t.Fatalf("incidents of the batch code: %v, %v", ids, err)
		}
		if _, err := f.store.IncidentsByClaimCode(f.ctx, "999999"); !models.IsNotFound(err) {
			t.Errorf("unknown code: %v, want not found", err)
		}
	})
}
