package web_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
)

// TestTwilioBatchClaim: in an alert storm (over the threshold) a plan with
// aggregation sends one batched SMS and one batched call; replying "<code> claim" to the
// SMS claims every incident of its batch, "resolve <code>" is refused
// with how to claim instead, and key 1 on the batched call claims its
// batch.
func TestTwilioBatchClaim(t *testing.T) {
	forEachTwDialect(t, func(t *testing.T, f *twFixture) {
		agg := &models.PlanAggregation{ThresholdCount: 1, ThresholdWindowSeconds: 600, BatchWindowSeconds: 30}
		for _, p := range []struct{ name, priority string }{{"storm-sms", "high"}, {"storm-call", "urgent"}} {
			f.plan(p.name, models.PlanDefinition{Aggregation: agg, Steps: []models.PlanStep{
				{Notifications: []models.PlanNotification{{Role: notifications.RoleUser, Target: "ann", Priority: p.priority, WaitMinutes: 10}}},
			}})
		}
		// Under the threshold (the first of each plan): paged at once.
		f.escalate("first disk", "storm-sms")
		f.escalate("first cpu", "storm-call")
		if len(f.sms.sent) != 1 || len(f.call.sent) != 1 {
			t.Fatalf("the first incidents: %d sms, %d calls, want one each", len(f.sms.sent), len(f.call.sent))
		}
		f.sms.sent, f.call.sent = nil, nil
		var texts, calls []*models.Incident
		for i := range 3 {
			texts = append(texts, f.escalate("disk full "+string(rune('a'+i)), "storm-sms"))
			calls = append(calls, f.escalate("cpu hot "+string(rune('a'+i)), "storm-call"))
		}
		if len(f.sms.sent) != 0 || len(f.call.sent) != 0 {
			t.Fatalf("storm pages went before their batch: %d sms, %d calls", len(f.sms.sent), len(f.call.sent))
		}
		f.clock.Advance(30 * time.Second)
		f.tick()
		if len(f.sms.sent) != 1 || f.sms.sent[0].Batch != 3 || len(f.call.sent) != 1 || f.call.sent[0].Batch != 3 {
			t.Fatalf("want one batched SMS and one batched call of 3: %+v / %+v", f.sms.sent, f.call.sent)
		}
		code := f.sms.sent[0].ClaimCode
		wantContains(t, f.text(annPhone, "resolve "+code), "is a batch of 3 incidents", code+" claim")
		for _, inc := range texts {
			if s := f.state(inc); s != models.EscalationActive {
				t.Fatalf("resolve of a batch code changed %d: %s", inc.Number, s)
			}
		}
		reply := f.text(annPhone, code+" claim")
		wantContains(t, reply, "Claimed incident(s) #")
		for _, inc := range texts {
			if s := f.state(inc); s != models.EscalationClaimed {
				t.Errorf("incident #%d after the batch claim: %s", inc.Number, s)
			}
		}
		for _, inc := range calls {
			if s := f.state(inc); s != models.EscalationActive {
				t.Errorf("the SMS batch claimed call incident #%d: %s", inc.Number, s)
			}
		}

		// Key 1 on the batched call claims its three.
		call := f.call.sent[0]
		tok := notifications.NewVoiceTokens(twToken).Sign(notifications.VoiceToken{IncidentID: call.IncidentID, ClaimCode: call.ClaimCode, IssuedAt: f.clock.Now()})
		body := twimlOK(t, f.post("/twilio/voice/gather?m="+url.QueryEscape(tok), url.Values{"Digits": {"1"}}, ""))
		if !strings.Contains(body, "You claimed the 3 incidents of this page") {
			t.Errorf("key 1 on a batched call: %s", body)
		}
		for _, inc := range calls {
			if s := f.state(inc); s != models.EscalationClaimed {
				t.Errorf("incident #%d after key 1: %s", inc.Number, s)
			}
		}
	})
}
