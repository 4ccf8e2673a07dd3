package notifications_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/testlog"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
	"github.com/heraldhq/herald/notifications/schedule"
)

// fakeOncall behaves like LinkedIn Oncall's GET
// /api/v0/teams/{team}/oncall/{role}: a list of who is on call (with the
// full_name and contacts fields Oncall adds), 404 for a team it does not
// know, and per team a failure: "broken" answers 500, "slow" never
// answers (until the request gives up), "garbled" answers non-JSON.
type fakeOncall struct {
	srv      *httptest.Server
	mu       sync.Mutex
	oncall   map[string][]string // "team/role" → users
	ends     map[string]int64    // "team/role" → end of their shifts (unix s)
	requests map[string]int
	total    atomic.Int64
	release  chan struct{}
	waiting  chan struct{} // a request to "slow" arrived
}

func newFakeOncall(t *testing.T) *fakeOncall {
	o := &fakeOncall{oncall: map[string][]string{}, ends: map[string]int64{}, requests: map[string]int{}, release: make(chan struct{}), waiting: make(chan struct{}, 16)}
	o.srv = httptest.NewServer(http.HandlerFunc(o.serve))
	t.Cleanup(func() { close(o.release); o.srv.Close() })
	return o
}

func (o *fakeOncall) set(team, role string, end time.Time, users ...string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.oncall[team+"/"+role], o.ends[team+"/"+role] = users, end.Unix()
}

func (o *fakeOncall) count(team, role string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.requests[team+"/"+role]
}

func (o *fakeOncall) serve(w http.ResponseWriter, r *http.Request) {
	o.total.Add(1)
	rest, ok := strings.CutPrefix(r.URL.Path, "/api/v0/teams/")
	team, role, ok2 := strings.Cut(rest, "/oncall/")
	if !ok || !ok2 || r.Method != http.MethodGet {
		http.NotFound(w, r)
		return
	}
	o.mu.Lock()
	o.requests[team+"/"+role]++
	users, known := o.oncall[team+"/"+role]
	end := o.ends[team+"/"+role]
	o.mu.Unlock()
	switch team {
	case "broken":
		http.Error(w, `{"title": "Internal Server Error"}`, http.StatusInternalServerError)
		return
	case "slow":
		o.waiting <- struct{}{}
		select {
		case <-r.Context().Done():
		case <-o.release:
		}
		return
	case "garbled":
		fmt.Fprint(w, "<html>maintenance</html>")
		return
	}
	if !known {
		http.Error(w, `{"title": "Team not found"}`, http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprint(w, "[")
	for i, u := range users {
		if i > 0 {
			fmt.Fprint(w, ",")
		}
		fmt.Fprintf(w, `{"user": %q, "start": %d, "end": %d, "full_name": "%s", "contacts": {"sms": "+1 555-0100", "im": %q}}`, u, end-7*24*3600, end, strings.ToUpper(u), u)
	}
	fmt.Fprint(w, "]")
}

// externalFixture wires the engine as app.go does with an external Oncall
// for teams payments, ops, broken, slow, garbled and gone.
func (f *fixture) useExternalOncall(o *fakeOncall, log *slog.Logger, mutate ...func(*notifications.ExternalOncallOptions)) *notifications.ExternalOncallRoles {
	f.t.Helper()
	opts := notifications.ExternalOncallOptions{BaseURL: o.srv.URL, Teams: []string{"payments", "ops", "broken", "slow", "garbled", "gone"},
		Timeout: 100 * time.Millisecond, Clock: f.clock, Log: log}
	for _, m := range mutate {
		m(&opts)
	}
	ext, err := notifications.NewExternalOncallRoles(f.store, notifications.DirectoryRoles{Dir: f.store}, opts)
	if err != nil {
		f.t.Fatal(err)
	}
	vs := notifications.NewVendors()
	if err := vs.Register(f.vendor); err != nil {
		f.t.Fatal(err)
	}
	roles := notifications.ScheduleRoles{Schedules: schedule.NewResolver(f.store, f.clock, schedule.ResolverOptions{}), Next: ext}
	f.engine = notifications.NewEngine(f.store, vs, roles, f.alerts, f.clock, quiet(f.t), notifications.EngineOptions{Owner: "engine-x"})
	return ext
}

// TestExternalOncallPaging: a listed team's primary comes from the
// external Oncall (and says so); when Oncall fails — 500, unknown team,
// too slow, garbage, a user Herald does not know — the static on-call is
// paged and the incident channel is warned; nobody on call in Oncall is a
// schedule gap (the manager); a team with its own Herald schedule is never
// asked; an unlisted team never either.
func TestExternalOncallPaging(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, f *fixture) {
		o := newFakeOncall(t)
		alice, bob, carol, mgr := f.person("alice"), f.person("bob"), f.person("carol"), f.person("mgr")
		teams := map[string]*models.Team{}
		for _, name := range []string{"payments", "ops", "broken", "slow", "garbled", "gone", "search", "unlisted"} {
			teams[name] = f.team(name, mgr, alice, bob, carol)
			f.oncall(teams[name], "primary", carol)
		}
		end := t0.Add(6 * time.Hour)
		o.set("payments", "primary", end, "alice", "bob", "alice")
		o.set("ops", "primary", end) // nobody
		o.set("gone", "primary", end, "ghost")
		o.set("search", "primary", end, "bob")
		o.set("unlisted", "primary", end, "bob")
		// search schedules its primary in Herald: Oncall is not asked.
		f.paymentsSchedule(teams["search"], models.Rotation{ShiftKind: models.ShiftDaily, HandoffTime: "09:00", StartDate: "2026-02-01", Members: []string{bob.ID}})
		var logs bytes.Buffer
		f.useExternalOncall(o, slog.New(testlog.Wrap(t, slog.NewTextHandler(&logs, nil))))

		want := map[string]struct {
			paged, source, alert string
		}{
			"payments": {"U_ALICE,U_BOB", "primary, external Oncall", ""},
			"ops":      {"U_MGR", "manager, no primary on call", "⚠️ Team ops has no primary on call now (schedule gap): paged the manager Mgr instead."},
			"broken":   {"U_CAROL", "", "⚠️ Team broken keeps its on-call in the external Oncall, which failed (HTTP 500): its primary comes from Herald's static assignment instead."},
			"slow":     {"U_CAROL", "", "(no answer within 100ms)"},
			"garbled":  {"U_CAROL", "", "(the answer is not a JSON list)"},
			"gone":     {"U_CAROL", "", "(it puts ghost on call, who is no active Herald person)"},
			"search":   {"U_BOB", "primary, Payments weekly", ""},
			"unlisted": {"U_CAROL", "", ""},
		}
		incs := map[string]*models.Incident{}
		for team := range want {
			f.plan(team, steps(step(models.PlanNotification{Role: notifications.RoleOncallPrimary, Target: team, Priority: "low", WaitMinutes: 10})))
			incs[team] = f.escalate(team+" down", team)
		}
		f.tick()
		for team, w := range want {
			inc := incs[team]
			var paged, sources []string
			for _, m := range f.messages(inc) {
				sources = append(sources, m.RecipientSource)
			}
			for _, s := range f.vendor.accepted() {
				if s.Msg.IncidentID == inc.ID {
					paged = append(paged, s.Msg.Destination)
				}
			}
			slices.Sort(paged)
			if strings.Join(paged, ",") != w.paged || slices.ContainsFunc(sources, func(s string) bool { return s != w.source }) {
				t.Errorf("%s: paged %v from %q, want %s from %q", team, paged, sources, w.paged, w.source)
			}
			var alerts []string
			for _, a := range f.alerts.all() {
				if a.IncidentID == inc.ID {
					alerts = append(alerts, a.Text)
				}
			}
			switch {
			case w.alert == "" && len(alerts) > 0:
				t.Errorf("%s: alerts %q, want none", team, alerts)
			case w.alert != "" && (len(alerts) != 1 || !strings.Contains(alerts[0], w.alert)):
				t.Errorf("%s: alerts %q, want one with %q", team, alerts, w.alert)
			}
		}
		if n := o.count("search", "primary") + o.count("unlisted", "primary"); n != 0 {
			t.Errorf("Oncall asked %d times for teams it does not hold", n)
		}
		for _, msg := range []string{"team=broken", "HTTP 500", "team=slow", "no answer within"} {
			if !strings.Contains(logs.String(), msg) {
				t.Errorf("log lacks %q:\n%s", msg, logs.String())
			}
		}
	})
}

// TestExternalOncallCache: within the TTL a team's role is asked once
// however many pages (and concurrent lookups) need it; a failure is
// remembered for ErrorTTL; a shift ending sooner than the TTL is asked
// again when it ends; a 404 is an unknown team.
func TestExternalOncallCache(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, f *fixture) {
		o := newFakeOncall(t)
		alice, bob := f.person("alice"), f.person("bob")
		for _, name := range []string{"payments", "broken", "gone"} {
			f.oncall(f.team(name, nil, alice, bob), "primary", bob)
		}
		o.set("payments", "primary", t0.Add(time.Hour), "alice")
		ext := f.useExternalOncall(o, quiet(t))
		lookup := func(team string) []string {
			t.Helper()
			ids, err := ext.Resolve(f.ctx, notifications.RoleOncallPrimary, team)
			if err != nil {
				t.Fatal(err)
			}
			return ids
		}
		var wg sync.WaitGroup
		for range 20 {
			wg.Add(1)
			go func() { defer wg.Done(); lookup("payments") }()
		}
		wg.Wait()
		if n := o.count("payments", "primary"); n != 1 {
			t.Errorf("20 concurrent lookups asked Oncall %d times, want 1", n)
		}
		f.clock.Advance(29 * time.Second)
		if got := lookup("payments"); !slices.Equal(got, []string{alice.ID}) || o.count("payments", "primary") != 1 {
			t.Errorf("within the TTL: %v, %d requests", got, o.count("payments", "primary"))
		}
		// The handoff: bob from now on, seen once the TTL runs out.
		o.set("payments", "primary", t0.Add(2*time.Hour), "bob")
		f.clock.Advance(2 * time.Second)
		if got := lookup("payments"); !slices.Equal(got, []string{bob.ID}) || o.count("payments", "primary") != 2 {
			t.Errorf("after the TTL: %v, %d requests", got, o.count("payments", "primary"))
		}
		// A shift ending in 10 s is asked again at its end, not 30 s later.
		f.clock.Set(t0.Add(2*time.Hour - 10*time.Second))
		lookup("payments")
		n := o.count("payments", "primary")
		f.clock.Advance(10 * time.Second)
		lookup("payments")
		if o.count("payments", "primary") != n+1 {
			t.Errorf("a shift ending within the TTL was not asked again at its end")
		}

		// Failures: the static on-call (bob), asked once per ErrorTTL.
		for range 5 {
			if got := lookup("broken"); !slices.Equal(got, []string{bob.ID}) {
				t.Errorf("broken: %v, want the static bob", got)
			}
		}
		if n := o.count("broken", "primary"); n != 1 {
			t.Errorf("a failing Oncall asked %d times within ErrorTTL, want 1", n)
		}
		f.clock.Advance(notifications.DefaultOncallErrorTTL)
		lookup("broken")
		if n := o.count("broken", "primary"); n != 2 {
			t.Errorf("after ErrorTTL: %d requests, want 2", n)
		}
		res, err := ext.ResolveWithSource(f.ctx, notifications.RoleOncallPrimary, "gone") // not set: 404
		if err != nil || !strings.Contains(res.Warning, `it does not know team "gone" (HTTP 404)`) || len(res.Recipients) != 1 || res.Recipients[0].PersonID != bob.ID {
			t.Errorf("unknown team: %+v %v", res, err)
		}
		// Other roles go straight on.
		if ids, err := ext.Resolve(f.ctx, notifications.RoleUser, "alice"); err != nil || !slices.Equal(ids, []string{alice.ID}) {
			t.Errorf("user role: %v %v", ids, err)
		}
	})
}

// TestExternalOncallKeepsSecrets: a base URL with credentials is never in
// the logs or the warning the incident channel gets.
func TestExternalOncallKeepsSecrets(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, f *fixture) {
		o := newFakeOncall(t)
		bob := f.person("bob")
		f.oncall(f.team("broken", nil, bob), "primary", bob)
		f.oncall(f.team("payments", nil, bob), "primary", bob)
		var logs bytes.Buffer
		u, _ := url.Parse(o.srv.URL)
		u.User = url.UserPassword("herald", "hunter2")
		closed := httptest.NewServer(http.NotFoundHandler())
		closedURL, _ := url.Parse(closed.URL)
		closed.Close() // connection refused
		closedURL.User = u.User
		for _, base := range []string{u.String(), closedURL.String()} {
			ext := f.useExternalOncall(o, slog.New(testlog.Wrap(t, slog.NewTextHandler(&logs, nil))), func(opts *notifications.ExternalOncallOptions) { opts.BaseURL = base + "/" })
			for _, team := range []string{"broken", "payments"} {
				res, err := ext.ResolveWithSource(f.ctx, notifications.RoleOncallPrimary, team)
				if err != nil || res.Warning == "" || strings.Contains(res.Warning, "hunter2") {
					t.Errorf("%s via %s: %+v %v", team, strings.ReplaceAll(base, "hunter2", "***"), res, err)
				}
			}
		}
		if strings.Contains(logs.String(), "hunter2") || !strings.Contains(logs.String(), "team=payments") {
			t.Errorf("logs:\n%s", strings.ReplaceAll(logs.String(), "hunter2", "***"))
		}
		if _, err := notifications.NewExternalOncallRoles(f.store, nil, notifications.ExternalOncallOptions{BaseURL: "oncall.example.com"}); err == nil {
			t.Error("a relative base URL was accepted")
		}
	})
}

// TestExternalOncallCallerGivesUp: a lookup whose caller's context ends
// is an error (the engine retries), not the service's failure: nothing
// falls back, nothing is remembered.
func TestExternalOncallCallerGivesUp(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, f *fixture) {
		o := newFakeOncall(t)
		bob := f.person("bob")
		f.oncall(f.team("slow", nil, bob), "primary", bob)
		ext := f.useExternalOncall(o, quiet(t), func(opts *notifications.ExternalOncallOptions) { opts.Timeout = time.Minute })
		giveUp := func() error {
			ctx, cancel := context.WithCancel(f.ctx)
			defer cancel()
			go func() { <-o.waiting; cancel() }() // once the request is in flight
			_, err := ext.ResolveWithSource(ctx, notifications.RoleOncallPrimary, "slow")
			return err
		}
		if err := giveUp(); err == nil {
			t.Fatal("a cancelled lookup resolved")
		}
		// The clock never moved: a remembered answer would be used now.
		_ = giveUp()
		if n := o.count("slow", "primary"); n != 2 {
			t.Errorf("%d requests, want 2 (a given-up lookup is not remembered)", n)
		}
	})
}
