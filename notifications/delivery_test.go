package notifications_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
)

// deliveryRig pages pat by SMS through twilio and, when asked, a backup
// SMS vendor (the sender skips a vendor whose report failed the page).
type deliveryRig struct {
	*fixture
	twilio, backup *fakeVendor
	engine         *notifications.Engine
	plan           string
}

func newDeliveryRig(t *testing.T, f *fixture, backup, optional bool) *deliveryRig {
	r := &deliveryRig{fixture: f, plan: "sms"}
	r.twilio = newFakeVendor(notifications.TwilioSMSVendor, f.clock, notifications.ModeSMS)
	vs := notifications.NewVendors()
	if err := vs.Register(r.twilio); err != nil {
		t.Fatal(err)
	}
	if backup {
		r.backup = newFakeVendor("backup-sms", f.clock, notifications.ModeSMS)
		if err := vs.Register(r.backup); err != nil {
			t.Fatal(err)
		}
	}
	r.engine = f.newEngine("engine-a", vs, notifications.EngineOptions{})
	pat := f.person("pat", noSlack)
	f.contact(pat, notifications.ModeSMS, "+15550100001", true)
	f.prefer(pat, "high", "sms")
	n := user("pat", "high", 10, 0)
	n.Optional = optional
	f.plan(r.plan, steps(step(n)))
	return r
}

// page escalates an incident and sends its first page.
func (r *deliveryRig) page() (*models.Incident, models.Message) {
	r.t.Helper()
	inc := r.incident("db down")
	if err := r.engine.Escalate(r.ctx, inc.ID, r.plan); err != nil {
		r.t.Fatal(err)
	}
	r.tickWith(r.engine)
	ms := r.messages(inc)
	if len(ms) != 1 || ms[0].Status != models.MessageSent || ms[0].Vendor != notifications.TwilioSMSVendor {
		r.t.Fatalf("messages %+v", ms)
	}
	return inc, ms[0]
}

func (r *deliveryRig) report(m models.Message, failed bool) models.DeliveryResult {
	r.t.Helper()
	res, err := r.engine.ReportDelivery(r.ctx, models.DeliveryReport{MessageID: m.ID, Vendor: m.Vendor, VendorID: m.VendorID, Failed: failed, Detail: "Twilio: undelivered (error 30003)"})
	if err != nil {
		r.t.Fatal(err)
	}
	return res
}

func TestDeliveryFailureFailsOver(t *testing.T) {
	forEachDialect(t, func(t *testing.T, f *fixture) {
		r := newDeliveryRig(t, f, true, false)
		inc, page := r.page()
		if res := r.report(page, true); res != models.DeliveryRequeued {
			t.Fatalf("result %s", res)
		}
		r.tickWith(r.engine)
		// The backup sent the same page; Twilio was not asked again.
		if n := len(r.twilio.attempts()); n != 1 {
			t.Errorf("twilio called %d times, want 1", n)
		}
		got := r.backup.accepted()
		if len(got) != 1 || got[0].Msg.ID != page.ID || got[0].Msg.ClaimCode != page.ClaimCode || got[0].Msg.Destination != "+15550100001" {
			t.Fatalf("backup sent %+v", got)
		}
		m := r.messages(inc)[0]
		if m.Status != models.MessageSent || m.Vendor != "backup-sms" || m.Attempts != 1 || m.Error != "" {
			t.Errorf("message %+v", m)
		}
		var trail []string
		for _, c := range r.changes(m) {
			trail = append(trail, c.FromStatus+">"+c.ToStatus)
		}
		if want := "sending>sent sent>queued sending>sent"; strings.Join(trail, " ") != want {
			t.Errorf("change log %v, want %s", trail, want)
		}
		// The backup's own delivery report is the last word.
		if res := r.report(m, false); res != models.DeliveryDelivered {
			t.Errorf("backup's report: %s", res)
		}
		if n := len(r.alerts.all()); n != 0 {
			t.Errorf("alerts %+v", r.alerts.all())
		}
	})
}

func TestDeliveryFailureWithNoVendorLeftAlerts(t *testing.T) {
	for _, optional := range []bool{false, true} {
		t.Run(fmt.Sprintf("optional=%v", optional), func(t *testing.T) {
			forEachDialect(t, func(t *testing.T, f *fixture) {
				r := newDeliveryRig(t, f, false, optional)
				inc, page := r.page()
				if res := r.report(page, true); res != models.DeliveryFailed {
					t.Fatalf("result %s", res)
				}
				r.tickWith(r.engine)
				if m := r.messages(inc)[0]; m.Status != models.MessageFailed || len(r.twilio.attempts()) != 1 {
					t.Fatalf("message %s after %d sends", m.Status, len(r.twilio.attempts()))
				}
				want := fmt.Sprintf("🚨 Incident #%d: a sms page could not be delivered (every sms vendor failed: twilio-sms reported Twilio: undelivered (error 30003)). Reach them another way.", inc.Number)
				alerts := r.alerts.all()
				if optional && len(alerts) != 0 {
					t.Errorf("an optional page alerted: %+v", alerts)
				}
				if !optional && (len(alerts) != 1 || alerts[0].IncidentID != inc.ID || alerts[0].Text != want) {
					t.Errorf("alerts %+v, want one: %s", alerts, want)
				}
				// A repeat of the report changes nothing and alerts no more.
				if res := r.report(page, true); res != models.DeliveryIgnored || len(r.alerts.all()) != len(alerts) {
					t.Errorf("repeat: %s, %d alerts", res, len(r.alerts.all()))
				}
			})
		})
	}
}

func TestDeliveryFailureAfterClaimDoesNotRepage(t *testing.T) {
	forEachDialect(t, func(t *testing.T, f *fixture) {
		r := newDeliveryRig(t, f, true, false)
		inc, page := r.page()
		if err := r.engine.Claim(r.ctx, inc.ID, "pat"); err != nil {
			t.Fatal(err)
		}
		if res := r.report(page, true); res != models.DeliveryStopped {
			t.Fatalf("result %s", res)
		}
		r.tickWith(r.engine)
		for _, s := range r.backup.attempts() {
			if !s.Msg.OutOfBand {
				t.Errorf("paged again after the claim: %+v", s.Msg)
			}
		}
		if got := r.messages(inc)[0]; got.Status != models.MessageFailed {
			t.Errorf("status %s", got.Status)
		}
		if n := len(r.alerts.all()); n != 0 {
			t.Errorf("alerts %+v", r.alerts.all())
		}
	})
}

// A report that arrives before the sender recorded the send waits for it;
// one whose send is never recorded is noted and dropped.
func TestEarlyDeliveryReport(t *testing.T) {
	forEachDialect(t, func(t *testing.T, f *fixture) {
		r := newDeliveryRig(t, f, false, false)
		inc := r.incident("db down")
		if err := r.engine.Escalate(r.ctx, inc.ID, r.plan); err != nil {
			t.Fatal(err)
		}
		if _, err := r.engine.EscalateDue(r.ctx); err != nil {
			t.Fatal(err)
		}
		// As the sender: lease, and Twilio accepted as SMearly.
		leased, err := r.store.LeaseQueuedMessages(r.ctx, "engine-a", 10, time.Minute)
		if err != nil || len(leased) != 1 {
			t.Fatalf("leased %d: %v", len(leased), err)
		}
		m := leased[0]
		report := models.DeliveryReport{MessageID: m.ID, Vendor: notifications.TwilioSMSVendor, VendorID: "SMearly", Failed: true, Detail: "Twilio: failed"}
		done := make(chan models.DeliveryResult, 1)
		go func() {
			res, err := r.engine.ReportDelivery(r.ctx, report)
			if err != nil {
				t.Error(err)
			}
			done <- res
		}()
		time.Sleep(100 * time.Millisecond)
		select {
		case res := <-done:
			t.Fatalf("the report did not wait for the send: %s", res)
		default:
		}
		counted, err := r.store.FinishMessage(r.ctx, &m, models.MessageOutcome{Status: models.MessageSent, Vendor: notifications.TwilioSMSVendor, VendorID: "SMearly", Detail: "accepted"})
		if err != nil || !counted {
			t.Fatalf("finishing the send: %v, %v", counted, err)
		}
		select {
		case res := <-done:
			if res != models.DeliveryFailed {
				t.Fatalf("result %s", res)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the report did not notice the send was recorded")
		}
		if len(r.alerts.all()) != 1 {
			t.Errorf("alerts %+v", r.alerts.all())
		}

		// Never recorded: the report gives up when its context ends.
		inc2 := r.incident("cache down")
		if err := r.engine.Escalate(r.ctx, inc2.ID, r.plan); err != nil {
			t.Fatal(err)
		}
		if _, err := r.engine.EscalateDue(r.ctx); err != nil {
			t.Fatal(err)
		}
		leased, err = r.store.LeaseQueuedMessages(r.ctx, "engine-a", 10, time.Minute)
		if err != nil || len(leased) != 1 {
			t.Fatalf("leased %d: %v", len(leased), err)
		}
		ctx, cancel := context.WithTimeout(r.ctx, 300*time.Millisecond)
		defer cancel()
		report.MessageID = leased[0].ID
		if res, err := r.engine.ReportDelivery(ctx, report); err != nil || res != models.DeliveryEarly {
			t.Fatalf("unrecorded send: %s, %v", res, err)
		}
		cs := r.changes(leased[0])
		if last := cs[len(cs)-1]; last.ToStatus != models.MessageSending || !strings.Contains(last.Detail, "arrived before the send was recorded; not applied") {
			t.Errorf("change log %+v", cs)
		}
	})
}
