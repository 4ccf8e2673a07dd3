package handlers

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/models"
)

type jobRecorder struct{ jobs []models.NewJob }

func (r *jobRecorder) EnqueueJobs(_ context.Context, jobs ...models.NewJob) (int, error) {
	r.jobs = append(r.jobs, jobs...)
	return len(jobs), nil
}

func TestPagingAlertReachesPlanOwner(t *testing.T) {
	for _, dialect := range testdb.Dialects {
		t.Run(dialect, func(t *testing.T) {
			r := newReminderRig(t, dialect)
			ctx := context.Background()
			inc := r.declare(t, models.SEV2)
			now := r.clock.Now()
			slackID := "U0PLANOWNER"
			owner := &models.Person{ID: uuid.NewString(), Name: "olga", SlackUserID: &slackID, Active: true, CreatedAt: now, UpdatedAt: now}
			plan := &models.Plan{ID: uuid.NewString(), Name: "payments", OwnerID: &owner.ID, ActiveVersion: 1, CreatedAt: now, UpdatedAt: now}
			pv := &models.PlanVersion{PlanID: plan.ID, Version: 1, Definition: `{"steps":[]}`, CreatedBy: "test", CreatedAt: now}
			for _, v := range []any{owner, plan, pv} {
				if err := r.store.DB().Create(v).Error; err != nil {
					t.Fatal(err)
				}
			}

			// The alerter stores the channel post and the owner DM as two jobs.
			rec := &jobRecorder{}
			PagingAlerts{Queue: rec, Log: r.deps.Log}.Alert(ctx, inc.ID, "🚨 Escalation plan exhausted")
			if len(rec.jobs) != 2 || rec.jobs[0].Kind != JobPagingAlert || rec.jobs[1].Kind != JobPagingAlertOwner {
				t.Fatalf("jobs = %+v; want %s and %s", rec.jobs, JobPagingAlert, JobPagingAlertOwner)
			}
			payload := rec.jobs[1].Payload
			var p incidentText
			if err := json.Unmarshal(payload, &p); err != nil || p.IncidentID != inc.ID {
				t.Fatalf("payload %s: %v", payload, err)
			}

			d := r.deps
			d.PlanOwners = r.store
			dms := func() int {
				n := 0
				for _, c := range r.fake.Calls("chat.postMessage") {
					if c.Param("channel") == slackID && strings.Contains(c.Param("text"), "Escalation plan exhausted") {
						n++
					}
				}
				return n
			}
			// No escalation yet: nobody to DM.
			if err := pagingAlertOwner(d)(ctx, payload); err != nil || dms() != 0 {
				t.Fatalf("without an escalation: %v, %d DMs", err, dms())
			}
			if _, err := r.store.StartEscalation(ctx, inc.ID, pv.ID); err != nil {
				t.Fatal(err)
			}
			if err := pagingAlertOwner(d)(ctx, payload); err != nil {
				t.Fatal(err)
			}
			if dms() != 1 {
				t.Fatalf("owner DMs = %d, want 1; calls: %+v", dms(), r.fake.Calls("chat.postMessage"))
			}
			// Without a lookup (paging not configured) the job does nothing.
			if err := pagingAlertOwner(r.deps)(ctx, payload); err != nil || dms() != 1 {
				t.Fatalf("without PlanOwners: %v, %d DMs", err, dms())
			}
			// The channel alert still goes to the incident's channel.
			if err := pagingAlert(d)(ctx, rec.jobs[0].Payload); err != nil || r.sent("Escalation plan exhausted") != 2 {
				t.Fatalf("channel alert: %v, %d posts with the text", err, r.sent("Escalation plan exhausted"))
			}
		})
	}
}
