package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
)

// Graceful shutdown: Serve runs the real app (HTTP server, worker,
// reminders, engine) against a test database; SMS pages go to a webhook
// vendor that holds each request until the test lets it answer.

// slowVendor is the webhook receiver: it reports each page as it arrives
// and answers only once released.
type slowVendor struct {
	srv      *httptest.Server
	arrived  chan struct{}
	received atomic.Int32
	release  func()
}

func newSlowVendor(t *testing.T) *slowVendor {
	released := make(chan struct{})
	v := &slowVendor{arrived: make(chan struct{}, 16)}
	v.release = sync.OnceFunc(func() { close(released) })
	v.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		v.received.Add(1)
		v.arrived <- struct{}{}
		<-released
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(v.srv.Close)
	return v
}

// waitForPage waits until a page is in flight at the vendor.
func (v *slowVendor) waitForPage(t *testing.T) {
	t.Helper()
	select {
	case <-v.arrived:
	case <-time.After(30 * time.Second): // a guard, not timing: the engine sends at once
		t.Fatal("no page reached the vendor")
	}
}

// serveUntilPaging starts Serve with an escalation due, and returns once
// its engine has a page in flight at the slow vendor.
func serveUntilPaging(t *testing.T, dialect, shutdownTimeout string) (*harness, *slowVendor, *models.Incident, context.CancelFunc, <-chan error) {
	vendor := newSlowVendor(t)
	h := newHarness(t, dialect, withEnv("HERALD_WEBHOOK_URL", vendor.srv.URL), withEnv("HERALD_WEBHOOK_SECRET", strings.Repeat("s", 40)),
		withEnv("HERALD_WEBHOOK_MODES", "sms"), withEnv("HERALD_SHUTDOWN_TIMEOUT", shutdownTimeout))
	t.Cleanup(vendor.release) // before the harness closes the database
	c, err := parseConfigFile("twilio.yaml", []byte(twilioConfig))
	if err != nil {
		t.Fatal(err)
	}
	if err := applyCatalog(h.ctx, h.db.Store, "twilio.yaml", c, notifications.ApplyOptions{}, io.Discard); err != nil {
		t.Fatal(err)
	}
	inc := h.declare(incidentForm{Title: "Checkout down", Summary: "s", Severity: models.SEV3})
	if err := h.app.Engine.Escalate(h.ctx, inc.ID, "payments"); err != nil {
		t.Fatal(err)
	}
	ctx, sigterm := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- h.app.Serve(ctx) }()
	vendor.waitForPage(t)
	return h, vendor, inc, sigterm, served
}

func waitServe(t *testing.T, served <-chan error) {
	t.Helper()
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("Serve: %v, want a clean exit", err)
		}
	case <-time.After(30 * time.Second): // a guard against a hang
		t.Fatal("Serve did not return after SIGTERM")
	}
}

// TestServeDrainsInFlightSendsOnShutdown: on SIGTERM the page being
// delivered finishes and is recorded sent before Serve returns (nil, so
// exit 0), and work that becomes due afterwards is not leased: neither
// the next incident's page nor its jobs.
func TestServeDrainsInFlightSendsOnShutdown(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dialect string) {
		h, vendor, inc, sigterm, served := serveUntilPaging(t, dialect, "1m")
		jobsBefore := map[string]bool{}
		for _, j := range h.jobs() {
			jobsBefore[j.ID] = true
		}
		sigterm()

		// After SIGTERM a second incident pages: its page is planned and due.
		later := h.declare(incidentForm{Title: "Billing down", Summary: "s", Severity: models.SEV3})
		if err := h.app.Engine.Escalate(h.ctx, later.ID, "billing"); err != nil {
			t.Fatal(err)
		}
		if _, err := h.app.Engine.EscalateDue(h.ctx); err != nil {
			t.Fatal(err)
		}
		vendor.release()
		waitServe(t, served)

		page := h.smsPage(inc)
		if page.Status != models.MessageSent || page.Vendor != "webhook" {
			t.Errorf("the page in flight at SIGTERM is %s by %q, want sent by webhook", page.Status, page.Vendor)
		}
		next := h.smsPage(later)
		if next.Status != models.MessageQueued || next.LeaseOwner != nil || next.Attempts != 0 {
			t.Errorf("the page due after SIGTERM is %s, lease %v, %d attempts: want queued and never leased", next.Status, next.LeaseOwner, next.Attempts)
		}
		if n := vendor.received.Load(); n != 1 {
			t.Errorf("the vendor got %d pages, want 1", n)
		}
		for _, j := range h.jobs() {
			if !jobsBefore[j.ID] && (j.LeaseOwner != nil || j.Attempts != 0) {
				t.Errorf("job %s (%s), stored after SIGTERM, was leased", j.ID, j.Kind)
			}
		}
		if !strings.Contains(h.logs.String(), "shutdown complete") {
			t.Errorf("no shutdown complete line in the log")
		}
	})
}

// TestServeShutdownIsBoundedByTimeout: a send that outlasts
// HERALD_SHUTDOWN_TIMEOUT does not hold the process: Serve returns while
// the vendor still holds the page, which keeps its lease (status
// sending) for another replica to take over when the lease runs out.
func TestServeShutdownIsBoundedByTimeout(t *testing.T) {
	h, _, inc, sigterm, served := serveUntilPaging(t, models.DialectSQLite, "100ms")
	sigterm()
	waitServe(t, served) // the vendor is released only when the test ends
	if page := h.smsPage(inc); page.Status != models.MessageSending {
		t.Errorf("the page still at the vendor is %s, want sending", page.Status)
	}
	if !strings.Contains(h.logs.String(), "work still in flight at HERALD_SHUTDOWN_TIMEOUT") {
		t.Errorf("no warning about the work left in flight:\n%s", h.logs.String())
	}
}
