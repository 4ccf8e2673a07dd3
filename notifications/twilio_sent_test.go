package notifications_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/testlog"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
)

// twStored is a message the fake Twilio accepted.
type twStored struct {
	SID, To, Body, Status string
	At                    time.Time
}

// listingTwilio is a fake of Twilio's Messages.json that keeps what it
// accepts: POST creates a message, GET lists them (To filter, newest
// first, date_created set and date_sent not yet), as the real API does
// for texts still queued.
type listingTwilio struct {
	srv *httptest.Server
	now func() time.Time

	mu       sync.Mutex
	msgs     []twStored
	posts    int
	lists    []url.Values
	listFail int // answer GETs with this status when set
}

func newListingTwilio(t *testing.T, now func() time.Time) *listingTwilio {
	f := &listingTwilio{now: now}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *listingTwilio) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if user, pass, _ := r.BasicAuth(); user != twSID || pass != twToken ||
		r.URL.Path != "/2010-04-01/Accounts/"+twSID+"/Messages.json" {
		w.WriteHeader(http.StatusUnauthorized)
		_ = json.NewEncoder(w).Encode(map[string]any{"code": 20003, "message": "Authenticate", "status": 401})
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch r.Method {
	case http.MethodPost:
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		f.posts++
		m := twStored{SID: fmt.Sprintf("SM%032d", len(f.msgs)+1), To: form.Get("To"), Body: form.Get("Body"), Status: "sent", At: f.now()}
		f.msgs = append(f.msgs, m)
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]any{"sid": m.SID, "status": "queued", "to": m.To, "body": m.Body})
	case http.MethodGet:
		q := r.URL.Query()
		f.lists = append(f.lists, q)
		if f.listFail != 0 {
			w.WriteHeader(f.listFail)
			_ = json.NewEncoder(w).Encode(map[string]any{"code": 20500, "message": "Internal Server Error", "status": f.listFail})
			return
		}
		if q.Has("DateSent>") {
			// Herald must not filter on date_sent: a queued text has none.
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]any{"code": 20001, "message": "unexpected DateSent> filter", "status": 400})
			return
		}
		out := []map[string]any{}
		for i := len(f.msgs) - 1; i >= 0; i-- {
			if m := f.msgs[i]; m.To == q.Get("To") {
				out = append(out, map[string]any{"sid": m.SID, "to": m.To, "body": m.Body, "status": m.Status,
					"direction": "outbound-api", "date_created": m.At.Format(time.RFC1123Z), "date_sent": nil})
			}
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"messages": out, "page": 0, "page_size": len(out)})
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

func (f *listingTwilio) add(m twStored) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m.SID = fmt.Sprintf("SM%032d", len(f.msgs)+1)
	f.msgs = append(f.msgs, m)
}

func (f *listingTwilio) counts() (posts int, lists []url.Values) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.posts, append([]url.Values(nil), f.lists...)
}

func (f *listingTwilio) sids() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, m := range f.msgs {
		out = append(out, m.SID)
	}
	return out
}

// TestTakenOverSMSNotSentTwice: a replica dies after Twilio accepted its
// page (or before); another takes the page over once the lease expires and
// asks Twilio before sending. Only a page Twilio has is not sent again;
// any doubt sends it (at least once).
func TestTakenOverSMSNotSentTwice(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		takenOver bool // the first sender dies holding the lease
		deadSent  bool // ...after Twilio accepted its page
		other     bool // Twilio has another page to the same number
		listFail  int
		wantPosts int // in all, the dead sender's included
		wantLists int
		wantFirst bool // recorded with the dead sender's SID
		wantLog   string
	}{
		{name: "accepted before the sender died", takenOver: true, deadSent: true, wantPosts: 1, wantLists: 1, wantFirst: true, wantLog: "already accepted"},
		{name: "died before sending", takenOver: true, wantPosts: 1, wantLists: 1},
		{name: "another page to the same number", takenOver: true, other: true, wantPosts: 1, wantLists: 1},
		{name: "listing fails: sent again", takenOver: true, deadSent: true, listFail: http.StatusInternalServerError, wantPosts: 2, wantLists: 1, wantLog: "could not ask the vendor"},
		{name: "not taken over: no lookup", wantPosts: 1, wantLists: 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			forEachDialect(t, func(t *testing.T, f *fixture) {
				fake := newListingTwilio(t, f.clock.Now)
				fake.listFail = tc.listFail
				sms, _ := twilioVendors(t, fake.srv.URL, quiet(t))
				var logs bytes.Buffer
				other := notifications.NewEngine(f.replica(), vendorsOf(sms), notifications.DirectoryRoles{Dir: f.store}, f.alerts, f.clock,
					slog.New(testlog.Wrap(t, slog.NewTextHandler(&logs, nil))), notifications.EngineOptions{Owner: "alive"})
				ann := f.person("ann", noSlack)
				f.contact(ann, notifications.ModeSMS, twTo, true)
				f.plan("p", steps(step(user("ann", "high", 0, 0))))
				inc := f.escalate("db down", "p")
				if _, err := other.EscalateDue(f.ctx); err != nil {
					t.Fatal(err)
				}
				if tc.other {
					f.clock.Advance(time.Second)
					fake.add(twStored{To: twTo, Body: `Herald #1 SEV2: other. Reply "999999 claim" to claim.`, Status: "delivered", At: f.clock.Now()})
				}
				if tc.takenOver {
					leased, err := f.store.LeaseQueuedMessages(f.ctx, "dead", 10, 30*time.Second)
					if err != nil || len(leased) != 1 {
						t.Fatalf("lease: %v %v", leased, err)
					}
					if tc.deadSent {
						m := leased[0]
						f.clock.Advance(time.Second)
						if _, err := sms.Send(f.ctx, notifications.Message{ID: m.ID, Mode: notifications.ModeSMS, Destination: twTo,
							Subject: m.Subject, Body: m.Body, ClaimCode: m.ClaimCode, IncidentID: inc.ID}); err != nil {
							t.Fatal(err)
						}
					}
					f.clock.Advance(31 * time.Second)
					if n, err := other.ReclaimExpiredSends(f.ctx); err != nil || n != 1 {
						t.Fatalf("reclaimed %d (%v), want 1", n, err)
					}
				}
				f.tickWith(other)

				posts, lists := fake.counts()
				if posts != tc.wantPosts || len(lists) != tc.wantLists {
					t.Fatalf("%d POSTs and %d lists, want %d and %d", posts, len(lists), tc.wantPosts, tc.wantLists)
				}
				for _, q := range lists {
					if q.Get("To") != twTo || q.Get("PageSize") != "50" {
						t.Fatalf("list query %v", q)
					}
				}
				ms := f.messages(inc)
				if len(ms) != 1 || ms[0].Status != models.MessageSent || ms[0].Vendor != notifications.TwilioSMSVendor || ms[0].TakenOver != tc.takenOver {
					t.Fatalf("messages %+v", ms)
				}
				sids := fake.sids()
				want := sids[len(sids)-1]
				if tc.wantFirst {
					want = sids[len(sids)-1-(tc.wantPosts-1)]
				}
				if ms[0].VendorID != want {
					t.Fatalf("vendor id %q, want %q (of %v)", ms[0].VendorID, want, sids)
				}
				cs := f.changes(ms[0])
				last := cs[len(cs)-1].Detail
				if already := strings.Contains(last, "already accepted by twilio-sms before the takeover; not sent again"); already != tc.wantFirst {
					t.Fatalf("last change %q", last)
				}
				if tc.wantLog != "" && !strings.Contains(logs.String(), tc.wantLog) {
					t.Fatalf("log lacks %q:\n%s", tc.wantLog, logs.String())
				}
				if strings.Contains(logs.String(), twTo) || strings.Contains(logs.String(), twTo[1:]) {
					t.Fatalf("log holds the phone number:\n%s", logs.String())
				}
			})
		})
	}
}

// TestTwilioFindSent matches on the claim code, or on the whole text when
// there is none, skips failed sends, and never looks calls up.
func TestTwilioFindSent(t *testing.T) {
	t.Parallel()
	now := t0
	fake := newListingTwilio(t, func() time.Time { return now })
	sms, voice := twilioVendors(t, fake.srv.URL, quiet(t))
	fake.add(twStored{To: twTo, Body: `Herald #3 SEV1: a. Reply "111111 claim" to claim.`, Status: "delivered", At: t0})
	fake.add(twStored{To: twTo, Body: `Herald #4 SEV1: b. Reply "222222 claim" to claim.`, Status: "undelivered", At: t0})
	fake.add(twStored{To: twTo, Body: "Incident 3 was resolved.", Status: "sent", At: t0})
	fake.add(twStored{To: "+15550009999", Body: `Reply "333333 claim" to claim.`, Status: "sent", At: t0})
	fake.add(twStored{To: twTo, Body: `Herald #2 SEV1: old. Reply "444444 claim" to claim.`, Status: "delivered", At: t0.Add(-2 * time.Hour)})
	cases := []struct {
		name  string
		msg   notifications.Message
		found string
	}{
		{"claim code", notifications.Message{Body: "custom template, code 111111"}, "SM" + fmt.Sprintf("%032d", 1)},
		{"undelivered does not count", notifications.Message{Body: "x", ClaimCode: "222222"}, ""},
		{"whole text without a code", notifications.Message{Body: "Incident 3 was resolved."}, "SM" + fmt.Sprintf("%032d", 3)},
		{"text differs", notifications.Message{Body: "Incident 3 was resolved"}, ""},
		{"other number", notifications.Message{Body: "x", ClaimCode: "333333"}, ""},
		{"before since", notifications.Message{Body: "x", ClaimCode: "444444"}, ""},
	}
	cases[0].msg.ClaimCode = "111111"
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.msg.Mode, tc.msg.Destination = notifications.ModeSMS, twTo
			id, found, err := sms.FindSent(context.Background(), tc.msg, t0.Add(-time.Minute))
			if err != nil || found != (tc.found != "") || id != tc.found {
				t.Fatalf("FindSent = %q %v %v, want %q", id, found, err, tc.found)
			}
		})
	}
	_, lists := fake.counts()
	id, found, err := voice.FindSent(context.Background(), notifications.Message{Mode: notifications.ModeCall, Destination: twTo, ClaimCode: "111111"}, t0)
	if _, after := fake.counts(); id != "" || found || err != nil || len(after) != len(lists) {
		t.Fatalf("voice FindSent = %q %v %v after %d list calls", id, found, err, len(after)-len(lists))
	}
	fake.listFail = http.StatusInternalServerError
	if _, _, err := sms.FindSent(context.Background(), notifications.Message{Mode: notifications.ModeSMS, Destination: twTo, ClaimCode: "111111"}, t0); err == nil || strings.Contains(err.Error(), twTo) {
		t.Fatalf("failed list: %v", err)
	}
}
