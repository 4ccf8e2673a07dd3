package web_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/testlog"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
	"github.com/heraldhq/herald/web"
)

// statusURL is the status callback the Twilio vendor gives for a message.
func statusURL(m models.Message) string {
	return fmt.Sprintf("/twilio/status?m=%d", m.ID)
}

func smsReport(m models.Message, state string) url.Values {
	return url.Values{"MessageSid": {m.VendorID}, "MessageStatus": {state}, "AccountSid": {"AC1"}}
}

func (f *twFixture) message(id int64) models.Message {
	f.t.Helper()
	var m models.Message
	check(f.t, f.db.Gorm.Where("id = ?", id).Take(&m).Error)
	return m
}

func TestTwilioStatusByMessageID(t *testing.T) {
	forEachTwDialect(t, func(t *testing.T, f *twFixture) {
		inc := f.escalate("db down", "p")
		page := f.lastPage(inc, "sms")
		cases := []struct {
			name, target, sig string
			form              url.Values
			code              int
			status            string // the page's status after
		}{
			{"wrongly signed", statusURL(page), sign(twToken, twBase+"/twilio/status", smsReport(page, "failed")), smsReport(page, "failed"), http.StatusForbidden, models.MessageSent},
			{"signed for another port", statusURL(page), sign(twToken, "https://herald.example.com:8443"+statusURL(page), smsReport(page, "failed")), smsReport(page, "failed"), http.StatusForbidden, models.MessageSent},
			{"unsigned", statusURL(page), "-", smsReport(page, "failed"), http.StatusForbidden, models.MessageSent},
			{"not final", statusURL(page), "", smsReport(page, "sent"), http.StatusNoContent, models.MessageSent},
			// Twilio called (and signed) the URL with :443; Herald's base
			// URL has none.
			{"delivered, signed with :443", statusURL(page), sign(twToken, "https://herald.example.com:443"+statusURL(page), smsReport(page, "delivered")),
				smsReport(page, "delivered"), http.StatusNoContent, models.MessageDelivered},
			{"a late failure", statusURL(page), "", smsReport(page, "undelivered"), http.StatusNoContent, models.MessageDelivered},
		}
		for _, tc := range cases {
			w := f.post(tc.target, tc.form, tc.sig)
			if w.Code != tc.code {
				t.Fatalf("%s: %d %s", tc.name, w.Code, w.Body)
			}
			if m := f.message(page.ID); m.Status != tc.status {
				t.Fatalf("%s: status %s, want %s", tc.name, m.Status, tc.status)
			}
		}
	})
}

// A report that arrives while the sender has not recorded the send yet
// (so Twilio's id is not stored) waits for it instead of being dropped.
func TestTwilioStatusBeforeSendRecorded(t *testing.T) {
	forEachTwDialect(t, func(t *testing.T, f *twFixture) {
		inc, _, err := f.store.CreateIncident(f.ctx, models.NewIncident{Title: "db down", Severity: models.SEV2})
		check(t, err)
		check(t, f.engine.Escalate(f.ctx, inc.ID, "p"))
		_, err = f.engine.EscalateDue(f.ctx)
		check(t, err)
		leased, err := f.store.LeaseQueuedMessages(f.ctx, "replica-b", 10, time.Minute)
		check(t, err)
		if len(leased) != 1 {
			t.Fatalf("leased %d", len(leased))
		}
		m := leased[0]
		m.VendorID = "SMearly" // what Twilio answered, not stored yet
		done := make(chan *httptest.ResponseRecorder, 1)
		go func() { done <- f.post(statusURL(m), smsReport(m, "failed"), "") }()
		time.Sleep(100 * time.Millisecond)
		counted, err := f.store.FinishMessage(f.ctx, &m, models.MessageOutcome{Status: models.MessageSent, Vendor: notifications.TwilioSMSVendor, VendorID: "SMearly"})
		check(t, err)
		if !counted {
			t.Fatal("the send was not recorded")
		}
		select {
		case w := <-done:
			if w.Code != http.StatusNoContent {
				t.Fatalf("%d %s", w.Code, w.Body)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no answer")
		}
		// twilio-sms is the only SMS vendor: the page failed for good.
		got := f.message(m.ID)
		if got.Status != models.MessageFailed || !strings.Contains(got.Error, "Twilio: failed") {
			t.Fatalf("message %+v", got)
		}
		wantContains(t, f.logs.String(), "page not delivered, and no vendor is left to try", "paging alert")
	})
}

// A failed page goes to the next SMS vendor, unless its escalation was
// claimed meanwhile.
func TestTwilioStatusFailsOver(t *testing.T) {
	forEachTwDialect(t, func(t *testing.T, f *twFixture) {
		backup := &twVendor{name: "backup-sms", mode: notifications.ModeSMS}
		vs := notifications.NewVendors()
		check(t, vs.Register(f.sms))
		check(t, vs.Register(backup))
		check(t, vs.Register(f.call))
		log := testlog.Logger(t)
		f.engine = notifications.NewEngine(f.store, vs, notifications.DirectoryRoles{Dir: f.store}, nil, f.clock, log, notifications.EngineOptions{Owner: "test"})
		f.app = web.New(web.Options{Clock: f.clock, Log: log, Twilio: &web.TwilioOptions{
			AuthToken: twToken, BaseURL: twBase, Store: f.store, Claimer: engineClaimer{f.engine}, Escalator: f.engine, Deliveries: f.engine,
		}})

		inc := f.escalate("db down", "p")
		page := f.lastPage(inc, "sms")
		if w := f.post(statusURL(page), smsReport(page, "undelivered"), ""); w.Code != http.StatusNoContent {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
		if m := f.message(page.ID); m.Status != models.MessageQueued {
			t.Fatalf("status %s, want queued for the next vendor", m.Status)
		}
		f.tick()
		if len(f.sms.sent) != 1 || len(backup.sent) != 1 || backup.sent[0].ID != page.ID || backup.sent[0].ClaimCode != page.ClaimCode {
			t.Fatalf("twilio sent %d, backup sent %+v", len(f.sms.sent), backup.sent)
		}
		if m := f.message(page.ID); m.Status != models.MessageSent || m.Vendor != "backup-sms" {
			t.Fatalf("message %+v", m)
		}

		// Claimed before the report: failed, and nobody is paged again.
		inc2 := f.escalate("cache down", "p")
		page2 := f.lastPage(inc2, "sms")
		wantContains(t, f.text(annPhone, page2.ClaimCode+" claim"), "Claimed incident")
		if w := f.post(statusURL(page2), smsReport(page2, "failed"), ""); w.Code != http.StatusNoContent {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
		f.tick()
		if m := f.message(page2.ID); m.Status != models.MessageFailed {
			t.Fatalf("status %s", m.Status)
		}
		for _, m := range backup.sent[1:] {
			if !m.OutOfBand {
				t.Errorf("paged again after the claim: %+v", m)
			}
		}
	})
}

// A callback without the message id (a send made before the URL carried
// it), or with a malformed one, finds the message by Twilio's id.
func TestTwilioStatusWithoutMessageID(t *testing.T) {
	forEachTwDialect(t, func(t *testing.T, f *twFixture) {
		for _, target := range []string{"/twilio/status", "/twilio/status?m=abc"} {
			inc := f.escalate("db down "+target, "p")
			page := f.lastPage(inc, "sms")
			if w := f.post(target, smsReport(page, "delivered"), ""); w.Code != http.StatusNoContent {
				t.Fatalf("%s: %d %s", target, w.Code, w.Body)
			}
			if m := f.message(page.ID); m.Status != models.MessageDelivered {
				t.Fatalf("%s: status %s", target, m.Status)
			}
		}
	})
}
