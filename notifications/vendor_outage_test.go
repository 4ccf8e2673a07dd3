package notifications_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/fakeclock"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
)

// outageTwilio is the fake Twilio behind a switch: answering (state ""),
// failing with 500s ("500"), or hanging until the caller gives up ("hang").
// It records the fake-clock time of every request.
type outageTwilio struct {
	fake  *fakeTwilio
	srv   *httptest.Server
	clock *fakeclock.Clock

	mu    sync.Mutex
	state string
	at    []time.Duration // since t0, one per request
}

func newOutageTwilio(t *testing.T, clock *fakeclock.Clock) *outageTwilio {
	o := &outageTwilio{fake: &fakeTwilio{}, clock: clock}
	release := make(chan struct{}) // lets hung requests go when the test ends
	o.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.mu.Lock()
		state := o.state
		o.at = append(o.at, clock.Now().Sub(t0))
		o.mu.Unlock()
		switch state {
		case "500":
			w.WriteHeader(http.StatusInternalServerError)
		case "hang":
			select { // past the vendor timeout: the client hangs up
			case <-r.Context().Done():
			case <-release:
			}
		default:
			o.fake.serve(w, r)
		}
	}))
	t.Cleanup(o.srv.Close)
	t.Cleanup(func() { close(release) }) // runs first
	return o
}

func (o *outageTwilio) set(state string) { o.mu.Lock(); o.state = state; o.mu.Unlock() }

func (o *outageTwilio) requestTimes() []time.Duration {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]time.Duration(nil), o.at...)
}

func (f *fixture) vendorFailureNotes(inc *models.Incident) []string {
	f.t.Helper()
	tl, err := f.store.Timeline(f.ctx, inc.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	var out []string
	for _, e := range tl {
		if e.SourceRef != nil && strings.HasPrefix(*e.SourceRef, "vendor-failure:") {
			out = append(out, e.Text)
		}
	}
	return out
}

// TestVendorOutageFailsOverToSecondSMSVendor: Twilio answers 500, then
// hangs past the vendor timeout; each page goes out on time through the
// second SMS vendor (the webhook's place), and once Twilio is back it
// takes the pages again.
func TestVendorOutageFailsOverToSecondSMSVendor(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, f *fixture) {
		tw := newOutageTwilio(t, f.clock)
		sms, _ := twilioVendors(t, tw.srv.URL, quiet(t))
		backup := newFakeVendor("webhook", f.clock, notifications.ModeSMS)
		f.engine = f.newEngine("a", vendorsOf(sms, backup), notifications.EngineOptions{VendorTimeout: 300 * time.Millisecond})
		alice := f.person("alice")
		f.contact(alice, notifications.ModeSMS, "+15550001", true)
		f.plan("p", steps(step(user("alice", "high", 0, 0))))
		for _, c := range []struct{ state, want string }{{"500", "webhook"}, {"hang", "webhook"}, {"", notifications.TwilioSMSVendor}} {
			tw.set(c.state)
			inc := f.escalate("outage "+c.state, "p")
			f.tick() // one pass, no clock movement: the page goes now
			m := f.messages(inc)[0]
			if m.Status != models.MessageSent || m.Vendor != c.want || m.Attempts != 1 {
				t.Errorf("twilio %q: status %s vendor %s attempts %d, want sent by %s on the first attempt", c.state, m.Status, m.Vendor, m.Attempts, c.want)
			}
			if notes := f.vendorFailureNotes(inc); len(notes) != 0 {
				t.Errorf("twilio %q: failover is not a failed page, yet the timeline has %v", c.state, notes)
			}
		}
		if n := f.alerts.count("could not be delivered"); n != 0 {
			t.Errorf("%d delivery alerts, want none: every page was delivered", n)
		}
	})
}

// TestVendorOutageRetriesWithBackoff: the only SMS vendor fails (500,
// then a hang); the page is retried 5 s and then 20 s later (attempts²·5 s
// on the fake clock), delivered once Twilio is back, and the outage is
// one bounded line on the incident timeline. An outage longer than the
// attempts fails the page with a channel alert.
func TestVendorOutageRetriesWithBackoff(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, f *fixture) {
		tw := newOutageTwilio(t, f.clock)
		sms, _ := twilioVendors(t, tw.srv.URL, quiet(t))
		f.engine = f.newEngine("a", vendorsOf(sms), notifications.EngineOptions{VendorTimeout: 300 * time.Millisecond})
		alice := f.person("alice")
		f.contact(alice, notifications.ModeSMS, "+15550001", true)
		f.plan("p", steps(step(user("alice", "high", 0, 0))))

		tw.set("500")
		inc := f.escalate("short outage", "p")
		f.tick()
		tw.set("hang")
		f.clock.Advance(4 * time.Second)
		f.tick() // not due yet: the backoff is 5 s
		f.clock.Advance(time.Second)
		f.tick()
		tw.set("")
		f.clock.Advance(19 * time.Second)
		f.tick() // not due yet: 20 s after the second attempt
		f.clock.Advance(time.Second)
		f.tick()
		want := []time.Duration{0, 5 * time.Second, 25 * time.Second}
		if got := tw.requestTimes(); len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
			t.Fatalf("twilio called at %v, want %v", got, want)
		}
		m := f.messages(inc)[0]
		if m.Status != models.MessageSent || m.Attempts != 3 {
			t.Fatalf("after the outage: status %s attempts %d, want sent on attempt 3", m.Status, m.Attempts)
		}
		var log []string
		for _, c := range f.changes(m) {
			log = append(log, c.ToStatus)
		}
		if strings.Join(log, " ") != "queued queued sent" {
			t.Errorf("change log %v", log)
		}
		// Two failed attempts within one minute: one timeline line.
		notes := f.vendorFailureNotes(inc)
		if len(notes) != 1 || !strings.Contains(notes[0], "attempt 1") || !strings.Contains(notes[0], "will be retried") {
			t.Errorf("timeline notes %q, want one for the first failed attempt", notes)
		}

		// Longer than every attempt (about 4.5 minutes): failed for good,
		// alerted, noted.
		tw.set("500")
		f.clock.Advance(2 * time.Minute)
		inc = f.escalate("long outage", "p")
		for i := 0; i < 12; i++ {
			f.tick()
			f.clock.Advance(time.Minute)
		}
		if m := f.messages(inc)[0]; m.Status != models.MessageFailed || m.Attempts != notifications.DefaultMaxAttempts {
			t.Fatalf("after a long outage: status %s attempts %d", m.Status, m.Attempts)
		}
		if n := f.alerts.count("could not be delivered"); n != 1 {
			t.Errorf("%d delivery alerts, want 1", n)
		}
		// The attempts fall in different minutes (0, 1, 2, 3, 5, 8): a
		// line each, the last failed for good.
		if notes := f.vendorFailureNotes(inc); len(notes) != notifications.DefaultMaxAttempts || !strings.Contains(notes[len(notes)-1], "failed for good") {
			t.Errorf("timeline notes %q, want one per minute with a failed attempt, the last failed for good", notes)
		}
	})
}

// TestVendorOutageOfAMinuteDelivers is the scenario: the only SMS
// vendor hangs for 60 s; the retries (5, 20, 45 s apart) outlast it and
// the page is delivered on the fourth attempt, 70 s after the first.
func TestVendorOutageOfAMinuteDelivers(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, f *fixture) {
		tw := newOutageTwilio(t, f.clock)
		sms, _ := twilioVendors(t, tw.srv.URL, quiet(t))
		f.engine = f.newEngine("a", vendorsOf(sms), notifications.EngineOptions{VendorTimeout: 300 * time.Millisecond})
		alice := f.person("alice")
		f.contact(alice, notifications.ModeSMS, "+15550001", true)
		f.plan("p", steps(step(user("alice", "high", 0, 0))))
		tw.set("hang")
		start := f.clock.Now()
		inc := f.escalate("minute outage", "p")
		for f.clock.Now().Sub(start) < 90*time.Second {
			if f.clock.Now().Sub(start) >= 60*time.Second {
				tw.set("") // the vendor is back
			}
			f.tick()
			f.clock.Advance(5 * time.Second)
		}
		m := f.messages(inc)[0]
		if m.Status != models.MessageSent || m.Attempts != 4 {
			t.Fatalf("status %s attempts %d, want sent on attempt 4", m.Status, m.Attempts)
		}
		want := []time.Duration{0, 5 * time.Second, 25 * time.Second, 70 * time.Second}
		got := tw.requestTimes()
		if len(got) != len(want) {
			t.Fatalf("twilio called at %v, want %v", got, want)
		}
		for i := range want {
			if got[i]-got[0] != want[i] {
				t.Fatalf("twilio called at %v (from the first), want %v", got, want)
			}
		}
		if n := f.alerts.count("could not be delivered"); n != 0 {
			t.Errorf("%d delivery alerts for a page that was delivered", n)
		}
	})
}
