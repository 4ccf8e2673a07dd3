package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/heraldhq/herald/internal/fakeclock"
	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/models"
)

// TestIncidentDocShowsPages: the incident document's timeline says who was
// paged, how, at which step and what put them on call (a schedule), in
// time order with the other entries, and never shows a destination or a
// vendor's error text (they hold phone numbers).
func TestIncidentDocShowsPages(t *testing.T) {
	for _, dialect := range testdb.Dialects {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			clock := fakeclock.New(docT0)
			db := testdb.New(t, dialect, clock)
			inc, _, err := db.Store.CreateIncident(ctx, models.NewIncident{Title: "Checkout is down", Severity: models.SEV1, Source: "api"})
			check(t, err)
			alice := &models.Person{ID: uuid.NewString(), Name: "alice", Active: true, CreatedAt: docT0, UpdatedAt: docT0}
			check(t, db.Gorm.Create(alice).Error)
			at := func(m int) *time.Time { x := docT0.Add(time.Duration(m) * time.Minute); return &x }
			for _, m := range []models.Message{
				{PersonID: &alice.ID, Role: "oncall-primary", Target: "payments", Mode: "sms", Step: 0, Status: models.MessageDelivered,
					RecipientSource: "primary, Payments weekly", SentAt: at(1), Error: "", Subject: "s", Body: "b"},
				{PersonID: &alice.ID, Role: "oncall-primary", Target: "payments", Mode: "call", Step: 1, SendIndex: 1, Status: models.MessageFailed,
					RecipientSource: "primary, Payments weekly", SentAt: at(6), Error: "twilio: +15550100777 is unreachable"},
				{Role: "oncall-secondary", Target: "payments", Step: 1, Status: models.MessageFailed, Error: "resolves to nobody", SentAt: at(7)},
				{PersonID: &alice.ID, Role: "user", Target: "alice", Mode: "slack", Step: 2, Status: models.MessageQueued},
				{PersonID: &alice.ID, Mode: "email", Status: models.MessageSent, OutOfBand: true, SentAt: at(8)},
			} {
				m.IncidentID, m.Priority, m.NotBefore, m.CreatedAt = &inc.ID, "high", docT0, docT0
				check(t, db.Gorm.Create(&m).Error)
			}
			check(t, db.Store.AddTimelineEvent(ctx, &models.TimelineEvent{IncidentID: inc.ID, Kind: models.TimelineNote, Text: "between the pages", OccurredAt: *at(3)}))

			body := wantHTML(t, get(newPagesApp(t, db.Store, clock), fmt.Sprintf("/incidents/%d", inc.Number)), http.StatusOK,
				"Paged alice (primary, Payments weekly) by sms, step 1: delivered",
				"Could not page alice (primary, Payments weekly) by call, step 2",
				"Could not page oncall-secondary payments, step 2",
			)
			wantAbsent(t, body, "+15550100777", "unreachable", "by slack", "by email")
			order := []string{"Incident declared", "by sms, step 1", "between the pages", "by call, step 2", "oncall-secondary payments"}
			last := -1
			for _, s := range order {
				i := strings.Index(body, s)
				if i <= last {
					t.Fatalf("timeline out of order at %q (want %v)", s, order)
				}
				last = i
			}
		})
	}
}
