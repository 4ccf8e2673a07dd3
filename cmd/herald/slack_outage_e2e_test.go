package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
)

// TestSlackOutageDoesNotDelayPaging: Slack answers every call with 429
// (Retry-After 30 s) and 503 in turn for ten minutes. The SMS pages go out
// at their due times all the same (0 and +5 min), an SMS claim works, and
// once Slack is back the Slack work stored meanwhile (headline, claim
// notice) catches up with no job failed for good.
func TestSlackOutageDoesNotDelayPaging(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dialect string) {
		api := newFakeTwilioAPI(t)
		h := newHarness(t, dialect, withEnv("TWILIO_ACCOUNT_SID", e2eTwilioSID), withEnv("TWILIO_AUTH_TOKEN", e2eTwilioToken),
			withEnv("TWILIO_FROM_NUMBER", e2eTwilioFrom), withEnv("TWILIO_API_URL", api.srv.URL), withQuietLogs())
		c, err := parseConfigFile("twilio.yaml", []byte(twilioConfig))
		if err != nil {
			t.Fatal(err)
		}
		if err := applyCatalog(h.ctx, h.db.Store, "twilio.yaml", c, notifications.ApplyOptions{}, io.Discard); err != nil {
			t.Fatal(err)
		}
		inc := h.declare(incidentForm{Title: "Checkout down", Summary: "s", Severity: models.SEV2})
		h.drain(h.node)
		start := h.clock.Now()

		h.fake.StartOutage(30*time.Second, http.StatusServiceUnavailable)
		if err := h.app.Engine.Escalate(h.ctx, inc.ID, "payments"); err != nil {
			t.Fatal(err)
		}
		// Each fake-clock tick: Slack work first (it fails), then the engine.
		smsAt := map[int]time.Duration{}
		tick := func() {
			h.drain(h.node)
			h.runEngine()
			for i := range api.messages() {
				if _, ok := smsAt[i]; !ok {
					smsAt[i] = h.clock.Now().Sub(start)
				}
			}
		}
		for h.clock.Now().Sub(start) < 10*time.Minute {
			tick()
			if h.clock.Now().Sub(start) == 6*time.Minute {
				if r := h.twilioPost("/twilio/sms", inboundSMS(patPhone, "claim"), ""); r.Status != http.StatusOK {
					t.Fatalf("claim by SMS during the Slack outage: %s", r)
				}
			}
			h.clock.Advance(30 * time.Second)
		}
		if len(smsAt) != 2 || smsAt[0] != 0 || smsAt[1] != 5*time.Minute {
			t.Errorf("SMS pages at %v, want at 0 and 5m despite Slack failing", smsAt)
		}
		if s := h.escalationState(inc); s != models.EscalationClaimed {
			t.Errorf("escalation %s after the SMS claim, want claimed", s)
		}
		failedDuring := len(h.fake.Calls("chat.postMessage")) + len(h.fake.Calls("chat.update"))
		if failedDuring == 0 {
			t.Fatal("no Slack call during the outage: the test shows nothing")
		}

		h.fake.EndOutage()
		for range 12 { // Retry-After and backoffs are at most a few minutes
			h.clock.Advance(30 * time.Second)
			tick()
		}
		var deferred, failed []string
		for _, j := range h.jobs() {
			if j.FailedAt != nil {
				failed = append(failed, j.Kind+": "+j.LastError)
			}
			if j.DoneAt == nil && j.FailedAt == nil {
				deferred = append(deferred, j.Kind)
			}
		}
		if len(failed) > 0 || len(deferred) > 0 {
			t.Errorf("after Slack recovered: failed jobs %q, jobs still waiting %q", failed, deferred)
		}
		var acked bool
		for _, c := range append(h.fake.Calls("chat.update"), h.fake.Calls("chat.postMessage")...) {
			if c.OK() && strings.Contains(c.AllText(), "Pat Phone") {
				acked = true
			}
		}
		if !acked {
			t.Error("no successful Slack post or update naming the claimer after the outage")
		}
	})
}
