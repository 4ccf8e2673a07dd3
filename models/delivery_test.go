package models_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/heraldhq/herald/internal/fakeclock"
	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/models"
)

// deliveryRig is a database with a person and a plan version; each page
// gets its own incident and escalation.
type deliveryRig struct {
	t      *testing.T
	ctx    context.Context
	db     *testdb.DB
	s      *models.Store
	clock  *fakeclock.Clock
	person *models.Person
	pv     *models.PlanVersion
	seq    int
}

func newDeliveryRig(t *testing.T, db *testdb.DB, clock *fakeclock.Clock) *deliveryRig {
	r := &deliveryRig{t: t, ctx: context.Background(), db: db, s: db.Store, clock: clock}
	now := clock.Now()
	r.person = &models.Person{ID: uuid.NewString(), Name: "pat", Active: true, CreatedAt: now, UpdatedAt: now}
	plan := &models.Plan{ID: uuid.NewString(), Name: "p", ActiveVersion: 1, CreatedAt: now, UpdatedAt: now}
	r.pv = &models.PlanVersion{PlanID: plan.ID, Version: 1, Definition: `{"steps":[]}`, CreatedAt: now}
	for _, v := range []any{r.person, plan, r.pv} {
		if err := db.Gorm.Create(v).Error; err != nil {
			t.Fatal(err)
		}
	}
	return r
}

// page stores an SMS page of a new escalation, as the sender left it:
// sent by twilio-sms (as SM<n>, unique), or (status sending) not recorded
// yet.
func (r *deliveryRig) page(status string) (*models.Message, *models.Incident) {
	r.t.Helper()
	inc, _, err := r.s.CreateIncident(r.ctx, models.NewIncident{Title: "db down"})
	if err != nil {
		r.t.Fatal(err)
	}
	e, err := r.s.StartEscalation(r.ctx, inc.ID, r.pv.ID)
	if err != nil {
		r.t.Fatal(err)
	}
	now := r.clock.Now()
	m := &models.Message{IncidentID: &inc.ID, EscalationID: &e.ID, PlanVersionID: &r.pv.ID, PersonID: &r.person.ID, Mode: "sms", Priority: "high",
		Subject: "s", Body: "b", ClaimCode: "123456", Status: status, Attempts: 2, NotBefore: now.Add(-time.Minute), CreatedAt: now}
	r.seq++
	if status == models.MessageSent {
		m.Vendor, m.VendorID, m.SentAt = "twilio-sms", fmt.Sprintf("SM%d", r.seq), &now
	} else {
		owner, until := "engine-a", now.Add(30*time.Second)
		m.LeaseOwner, m.LeaseUntil = &owner, &until
	}
	if err := r.db.Gorm.Create(m).Error; err != nil {
		r.t.Fatal(err)
	}
	return m, inc
}

func (r *deliveryRig) reload(id int64) models.Message {
	r.t.Helper()
	var m models.Message
	if err := r.db.Gorm.Where("id = ?", id).Take(&m).Error; err != nil {
		r.t.Fatal(err)
	}
	return m
}

func (r *deliveryRig) changes(id int64) []models.MessageChange {
	r.t.Helper()
	cs, err := r.s.MessageChanges(r.ctx, id)
	if err != nil {
		r.t.Fatal(err)
	}
	return cs
}

func TestRecordDelivery(t *testing.T) {
	smsVendors := map[string][]string{"sms": {"twilio-sms", "backup-sms"}}
	onlyTwilio := map[string][]string{"sms": {"twilio-sms"}}
	failed := func(m *models.Message) models.DeliveryReport {
		return models.DeliveryReport{MessageID: m.ID, Vendor: "twilio-sms", VendorID: m.VendorID, Failed: true, Detail: "Twilio: undelivered (error 30003)"}
	}
	delivered := func(m *models.Message) models.DeliveryReport {
		return models.DeliveryReport{MessageID: m.ID, Vendor: "twilio-sms", VendorID: m.VendorID, Detail: "Twilio: delivered"}
	}
	byTwilioID := func(report func(*models.Message) models.DeliveryReport) func(*models.Message) models.DeliveryReport {
		return func(m *models.Message) models.DeliveryReport { r := report(m); r.MessageID = 0; return r }
	}
	cases := []struct {
		name    string
		status  string                                                        // the page's status before the report
		setup   func(r *deliveryRig, m *models.Message, inc *models.Incident) // more state before the report
		report  func(m *models.Message) models.DeliveryReport
		vendors map[string][]string
		want    models.DeliveryResult
		// After: the page's status, failed vendors, and its last change
		// (from → to, detail containing; "" for none), new unless quiet.
		status2, from, to, detail string
		quiet                     bool
		failedVendors             []string
	}{
		{name: "delivered, by message id", status: models.MessageSent, report: delivered, vendors: smsVendors,
			want: models.DeliveryDelivered, status2: models.MessageDelivered, from: "sent", to: "delivered", detail: "Twilio: delivered"},
		{name: "delivered, by Twilio's id", status: models.MessageSent, vendors: smsVendors, report: byTwilioID(delivered),
			want: models.DeliveryDelivered, status2: models.MessageDelivered, from: "sent", to: "delivered"},
		{name: "failed, by Twilio's id", status: models.MessageSent, vendors: onlyTwilio, report: byTwilioID(failed),
			want: models.DeliveryFailed, status2: models.MessageFailed, from: "sent", to: "failed"},
		{name: "failed, the next vendor is tried", status: models.MessageSent, report: failed, vendors: smsVendors,
			want: models.DeliveryRequeued, status2: models.MessageQueued, from: "sent", to: "queued", detail: "twilio-sms: Twilio: undelivered (error 30003); trying backup-sms",
			failedVendors: []string{"twilio-sms"}},
		{name: "failed, no vendor left", status: models.MessageSent, report: failed, vendors: onlyTwilio,
			want: models.DeliveryFailed, status2: models.MessageFailed, from: "sent", to: "failed", detail: "no other sms vendor to try",
			failedVendors: []string{"twilio-sms"}},
		{name: "failed, the next vendor failed before", status: models.MessageSent, report: failed, vendors: smsVendors,
			setup: func(r *deliveryRig, m *models.Message, _ *models.Incident) { r.setFailed(m.ID, `["backup-sms"]`) },
			want:  models.DeliveryFailed, status2: models.MessageFailed, from: "sent", to: "failed", detail: "no other sms vendor",
			failedVendors: []string{"backup-sms", "twilio-sms"}},
		{name: "failed by a vendor that failed it before", status: models.MessageSent, report: failed, vendors: smsVendors,
			setup: func(r *deliveryRig, m *models.Message, _ *models.Incident) { r.setFailed(m.ID, `["twilio-sms"]`) },
			want:  models.DeliveryFailed, status2: models.MessageFailed, from: "sent", to: "failed", detail: "failed this page before",
			failedVendors: []string{"twilio-sms"}},
		{name: "failed after the claim: not sent again", status: models.MessageSent, report: failed, vendors: smsVendors,
			setup: func(r *deliveryRig, _ *models.Message, inc *models.Incident) { r.stop(inc, models.EscalationClaimed) },
			want:  models.DeliveryStopped, status2: models.MessageFailed, from: "sent", to: "failed", detail: "escalation claimed, not sent again",
			failedVendors: []string{"twilio-sms"}},
		{name: "failed after resolving: not sent again", status: models.MessageSent, report: failed, vendors: smsVendors,
			setup: func(r *deliveryRig, _ *models.Message, inc *models.Incident) { r.stop(inc, models.EscalationResolved) },
			want:  models.DeliveryStopped, status2: models.MessageFailed, from: "sent", to: "failed", detail: "escalation resolved"},
		{name: "before the send was recorded", status: models.MessageSending, vendors: smsVendors,
			report: func(m *models.Message) models.DeliveryReport { r := failed(m); r.VendorID = "SMnew"; return r },
			want:   models.DeliveryEarly, status2: models.MessageSending},
		{name: "Twilio's id unknown while sending", status: models.MessageSending, vendors: smsVendors,
			report: func(m *models.Message) models.DeliveryReport {
				r := failed(m)
				r.MessageID, r.VendorID = 0, "SMnew"
				return r
			},
			want: models.DeliveryUnknown, status2: models.MessageSending},
		{name: "sending again after a failure: a repeat of the old report", status: models.MessageSent, vendors: smsVendors, report: failed,
			setup: func(r *deliveryRig, m *models.Message, _ *models.Incident) {
				if err := r.db.Gorm.Exec("UPDATE messages SET status = 'sending' WHERE id = ?", m.ID).Error; err != nil {
					r.t.Fatal(err)
				}
			},
			want: models.DeliveryIgnored, status2: models.MessageSending},
		{name: "repeated report", status: models.MessageSent, report: delivered, vendors: smsVendors,
			setup: func(r *deliveryRig, m *models.Message, _ *models.Incident) {
				if res, _, err := r.s.RecordDelivery(r.ctx, delivered(m), smsVendors); err != nil || res != models.DeliveryDelivered {
					r.t.Fatalf("first report: %s, %v", res, err)
				}
			},
			want: models.DeliveryIgnored, status2: models.MessageDelivered, from: "sent", to: "delivered", quiet: true},
		{name: "a late failure does not undo a delivery", status: models.MessageSent, report: failed, vendors: smsVendors,
			setup: func(r *deliveryRig, m *models.Message, _ *models.Incident) {
				if _, _, err := r.s.RecordDelivery(r.ctx, delivered(m), smsVendors); err != nil {
					r.t.Fatal(err)
				}
			},
			want: models.DeliveryIgnored, status2: models.MessageDelivered, from: "sent", to: "delivered", quiet: true},
		{name: "about an earlier send: noted only", status: models.MessageSent, vendors: smsVendors,
			report: func(m *models.Message) models.DeliveryReport { r := delivered(m); r.VendorID = "SMold"; return r },
			want:   models.DeliveryIgnored, status2: models.MessageSent, from: "sent", to: "sent", detail: "about an earlier send, twilio-sms SMold"},
		{name: "another vendor's report", status: models.MessageSent, vendors: smsVendors,
			report: func(m *models.Message) models.DeliveryReport { r := failed(m); r.Vendor = "twilio-call"; return r },
			want:   models.DeliveryIgnored, status2: models.MessageSent},
		{name: "unknown message", status: models.MessageSent, vendors: smsVendors,
			report: func(m *models.Message) models.DeliveryReport { r := failed(m); r.MessageID += 1000; return r },
			want:   models.DeliveryUnknown, status2: models.MessageSent},
	}
	clock := newClock()
	testdb.ForEachDialect(t, clock, func(t *testing.T, db *testdb.DB) {
		r := newDeliveryRig(t, db, clock)
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r.t = t
				m, inc := r.page(tc.status)
				if tc.setup != nil {
					tc.setup(r, m, inc)
				}
				before := len(r.changes(m.ID))
				res, changed, err := r.s.RecordDelivery(r.ctx, tc.report(m), tc.vendors)
				if err != nil || res != tc.want {
					t.Fatalf("RecordDelivery = %s, %v; want %s", res, err, tc.want)
				}
				// Only a page that changed status is reported changed, as it
				// was before.
				switch res {
				case models.DeliveryDelivered, models.DeliveryRequeued, models.DeliveryFailed, models.DeliveryStopped:
					if len(changed) != 1 || changed[0].Message.ID != m.ID || changed[0].Result != res || changed[0].Message.Status != models.MessageSent {
						t.Errorf("changes %+v", changed)
					}
				default:
					if len(changed) != 0 {
						t.Errorf("changes %+v, want none", changed)
					}
				}
				after := r.reload(m.ID)
				if after.Status != tc.status2 {
					t.Errorf("status %s, want %s", after.Status, tc.status2)
				}
				if fv, err := r.s.FailedVendors(r.ctx, m.ID); err != nil || (tc.failedVendors != nil && !slices.Equal(fv, tc.failedVendors)) {
					t.Errorf("failed vendors %q, %v; want %q", fv, err, tc.failedVendors)
				}
				cs := r.changes(m.ID)
				if wantNew := tc.from != "" && !tc.quiet; (len(cs) > before) != wantNew {
					t.Errorf("changes %+v (%d before), want a new one: %v", cs, before, wantNew)
				}
				if tc.from == "" {
					return
				}
				last := cs[len(cs)-1]
				if last.FromStatus != tc.from || last.ToStatus != tc.to || !strings.Contains(last.Detail, tc.detail) {
					t.Errorf("last change %s → %s %q; want %s → %s containing %q", last.FromStatus, last.ToStatus, last.Detail, tc.from, tc.to, tc.detail)
				}
				switch res {
				case models.DeliveryRequeued:
					// Due now, with a fresh retry budget, and the reason kept.
					if !after.NotBefore.Equal(clock.Now()) || after.Attempts != 0 || !strings.Contains(after.Error, "undelivered") {
						t.Errorf("requeued page %+v", after)
					}
				case models.DeliveryDelivered:
					if after.DeliveredAt == nil || !after.DeliveredAt.Equal(clock.Now()) {
						t.Errorf("delivered at %v", after.DeliveredAt)
					}
				case models.DeliveryFailed, models.DeliveryStopped:
					if !strings.Contains(after.Error, "Twilio: undelivered") {
						t.Errorf("error %q", after.Error)
					}
				}
			})
		}
	})
}

func (r *deliveryRig) setFailed(id int64, raw string) {
	r.t.Helper()
	if err := r.db.Gorm.Exec("UPDATE messages SET failed_vendors = ? WHERE id = ?", raw, id).Error; err != nil {
		r.t.Fatal(err)
	}
}

func (r *deliveryRig) stop(inc *models.Incident, state string) {
	r.t.Helper()
	if _, err := r.s.StopEscalation(r.ctx, inc.ID, state, "ann"); err != nil {
		r.t.Fatal(err)
	}
}

// A page queued again for the next vendor is suppressed by a claim like
// any queued page, and leased again while its escalation is active.
func TestRequeuedPageFollowsItsEscalation(t *testing.T) {
	clock := newClock()
	testdb.ForEachDialect(t, clock, func(t *testing.T, db *testdb.DB) {
		r := newDeliveryRig(t, db, clock)
		vendors := map[string][]string{"sms": {"twilio-sms", "backup-sms"}}
		for _, claim := range []bool{false, true} {
			m, inc := r.page(models.MessageSent)
			res, _, err := r.s.RecordDelivery(r.ctx, models.DeliveryReport{MessageID: m.ID, Vendor: "twilio-sms", VendorID: m.VendorID, Failed: true, Detail: "Twilio: failed"}, vendors)
			if err != nil || res != models.DeliveryRequeued {
				t.Fatalf("%s, %v", res, err)
			}
			if claim {
				r.stop(inc, models.EscalationClaimed)
				if got := r.reload(m.ID); got.Status != models.MessageSuppressed {
					t.Fatalf("after the claim: %s", got.Status)
				}
			}
			leased, err := r.s.LeaseQueuedMessages(r.ctx, "engine-b", 10, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if wantLeased := !claim; (len(leased) == 1 && leased[0].ID == m.ID) != wantLeased {
				t.Fatalf("claim %v: leased %+v", claim, leased)
			}
		}
	})
}

// Pages batched into one send share its vendor id, so one report is about
// them all; each follows its own escalation.
func TestRecordDeliveryOfABatch(t *testing.T) {
	clock := newClock()
	testdb.ForEachDialect(t, clock, func(t *testing.T, db *testdb.DB) {
		r := newDeliveryRig(t, db, clock)
		vendors := map[string][]string{"sms": {"twilio-sms", "backup-sms"}}
		lead, _ := r.page(models.MessageSent)
		claimed, claimedInc := r.page(models.MessageSent)
		other, _ := r.page(models.MessageSent)
		if err := r.db.Gorm.Exec("UPDATE messages SET vendor_id = ? WHERE id = ?", lead.VendorID, claimed.ID).Error; err != nil {
			t.Fatal(err)
		}
		r.stop(claimedInc, models.EscalationClaimed)
		res, changed, err := r.s.RecordDelivery(r.ctx, models.DeliveryReport{MessageID: lead.ID, Vendor: "twilio-sms", VendorID: lead.VendorID, Failed: true, Detail: "Twilio: failed"}, vendors)
		if err != nil || res != models.DeliveryRequeued {
			t.Fatalf("%s, %v", res, err)
		}
		want := map[int64]models.DeliveryResult{lead.ID: models.DeliveryRequeued, claimed.ID: models.DeliveryStopped}
		if len(changed) != 2 {
			t.Fatalf("changes %+v", changed)
		}
		for _, c := range changed {
			if want[c.Message.ID] != c.Result {
				t.Errorf("page %d: %s, want %s", c.Message.ID, c.Result, want[c.Message.ID])
			}
		}
		for id, status := range map[int64]string{lead.ID: models.MessageQueued, claimed.ID: models.MessageFailed, other.ID: models.MessageSent} {
			if got := r.reload(id).Status; got != status {
				t.Errorf("page %d: %s, want %s", id, got, status)
			}
		}
	})
}

func TestDeliveryNotesAndErrors(t *testing.T) {
	clock := newClock()
	testdb.ForEachDialect(t, clock, func(t *testing.T, db *testdb.DB) {
		r := newDeliveryRig(t, db, clock)
		m, _ := r.page(models.MessageSending)
		if err := r.s.NoteDelivery(r.ctx, m.ID, "twilio-sms: Twilio: failed (arrived early)"); err != nil {
			t.Fatal(err)
		}
		cs := r.changes(m.ID)
		if len(cs) != 1 || cs[0].FromStatus != models.MessageSending || cs[0].ToStatus != models.MessageSending || !strings.Contains(cs[0].Detail, "arrived early") {
			t.Errorf("changes %+v", cs)
		}
		if err := r.s.NoteDelivery(r.ctx, m.ID+1000, "x"); !models.IsNotFound(err) {
			t.Errorf("note on an unknown message: %v", err)
		}
		if fv, err := r.s.FailedVendors(r.ctx, m.ID+1000); err != nil || fv != nil {
			t.Errorf("failed vendors of an unknown message: %q, %v", fv, err)
		}
		for _, bad := range []models.DeliveryReport{{MessageID: m.ID, Vendor: "twilio-sms"}, {MessageID: m.ID, VendorID: "SM1"}} {
			if _, _, err := r.s.RecordDelivery(r.ctx, bad, nil); err == nil {
				t.Errorf("report %+v accepted", bad)
			}
		}
		r.setFailed(m.ID, "not json")
		if _, err := r.s.FailedVendors(r.ctx, m.ID); err == nil {
			t.Error("a corrupt failed_vendors column read without error")
		}
	})
}
