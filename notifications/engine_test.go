package notifications_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
)

func TestStepProgression(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		def  models.PlanDefinition
		// want is every page as "destination@minute".
		want []string
		// exhaustedAt is the minute the plan runs out.
		exhaustedAt int
	}{
		{
			name: "repeats wait apart, next step after (repeat+1)*wait",
			def:  steps(step(user("alice", "low", 5, 2)), step(user("bob", "low", 5, 0))),
			want: []string{"U_ALICE@0", "U_ALICE@5", "U_ALICE@10", "U_BOB@15"}, exhaustedAt: 20,
		},
		{
			name: "parallel notifications all fire, step ends at the latest end",
			def: steps(
				step(user("alice", "low", 5, 1), user("bob", "low", 3, 3)),
				step(user("carol", "low", 0, 0))),
			want: []string{"U_ALICE@0", "U_ALICE@5", "U_BOB@0", "U_BOB@3", "U_BOB@6", "U_BOB@9", "U_CAROL@12"}, exhaustedAt: 12,
		},
		{
			name: "wait 0 sends once and moves on at once",
			def: steps(
				step(user("alice", "low", 0, 2)),
				step(user("bob", "low", 0, 0)),
				step(user("carol", "low", 10, 1))),
			want: []string{"U_ALICE@0", "U_BOB@0", "U_CAROL@0", "U_CAROL@10"}, exhaustedAt: 20,
		},
		{
			name: "an empty step is skipped",
			def:  steps(step(), step(user("alice", "low", 5, 0))),
			want: []string{"U_ALICE@0"}, exhaustedAt: 5,
		},
		{
			name: "single send, no repeat",
			def:  steps(step(user("alice", "low", 7, 0))),
			want: []string{"U_ALICE@0"}, exhaustedAt: 7,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			forEachDialect(t, func(t *testing.T, f *fixture) {
				for _, n := range []string{"alice", "bob", "carol"} {
					f.person(n)
				}
				pv := f.plan("p", tt.def)
				inc := f.escalate("db down", "p")
				exhaustedAt := -1
				for m := 0; m <= 40; m++ {
					f.tick()
					if exhaustedAt < 0 && f.escalation(inc).State == models.EscalationExhausted {
						exhaustedAt = m
					}
					f.clock.Advance(time.Minute)
				}
				if got := pages(f.vendor.accepted(), inc.ID); !sortedEqual(got, tt.want) {
					t.Errorf("pages = %v, want %v", got, tt.want)
				}
				if exhaustedAt != tt.exhaustedAt {
					t.Errorf("exhausted at minute %d, want %d", exhaustedAt, tt.exhaustedAt)
				}
				esc := f.escalation(inc)
				if esc.NextCheckAt != nil || esc.LeaseOwner != nil {
					t.Errorf("exhausted escalation still scheduled or leased: %+v", esc)
				}
				if n := f.alerts.count("exhausted"); n != 1 {
					t.Errorf("%d exhausted alerts, want 1: %v", n, f.alerts.all())
				}
				if n := len(f.alerts.all()); n != 1 {
					t.Errorf("%d alerts, want 1: %v", n, f.alerts.all())
				}
				msgs := f.messages(inc)
				if len(msgs) != len(tt.want) {
					t.Errorf("%d messages stored, want %d", len(msgs), len(tt.want))
				}
				for _, m := range msgs {
					if m.Status != models.MessageSent || m.Vendor != "fake" || m.VendorID == "" || m.SentAt == nil || m.Attempts != 1 {
						t.Errorf("message %d: status %s vendor %q/%q sent_at %v attempts %d", m.ID, m.Status, m.Vendor, m.VendorID, m.SentAt, m.Attempts)
					}
					if m.PlanVersionID == nil || *m.PlanVersionID != pv.ID || m.EscalationID == nil || *m.EscalationID != esc.ID {
						t.Errorf("message %d: plan version %v escalation %v", m.ID, m.PlanVersionID, m.EscalationID)
					}
					cs := f.changes(m)
					if len(cs) == 0 || cs[len(cs)-1].ToStatus != models.MessageSent || !strings.Contains(cs[len(cs)-1].Detail, "fake") {
						t.Errorf("message %d change log = %+v", m.ID, cs)
					}
				}
			})
		})
	}
}

// TestCatchUp: an engine that was down for a while sends what is due when
// it comes back, once each, and keeps the plan's schedule.
func TestCatchUp(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, f *fixture) {
		f.person("alice")
		f.person("bob")
		f.plan("p", steps(step(user("alice", "low", 5, 2)), step(user("bob", "low", 5, 1))))
		inc := f.escalate("x", "p")
		f.tick()
		f.clock.Advance(17 * time.Minute) // down from 0 to 17
		f.tick()
		// alice's 5 and 10 and bob's 15 are all late; bob's 20 is not due.
		if got, want := len(f.vendor.accepted()), 4; got != want {
			t.Fatalf("%d pages after catching up, want %d", got, want)
		}
		esc := f.escalation(inc)
		if esc.Step != 1 || !esc.StepStartedAt.Equal(t0.Add(15*time.Minute)) || esc.NextCheckAt == nil || !esc.NextCheckAt.Equal(t0.Add(20*time.Minute)) {
			t.Fatalf("escalation after catch-up: step %d started %v next %v", esc.Step, esc.StepStartedAt, esc.NextCheckAt)
		}
		f.clock.Set(t0.Add(20 * time.Minute))
		f.tick()
		if got := len(f.vendor.accepted()); got != 5 {
			t.Fatalf("%d pages, want 5", got)
		}
	})
}

func TestClaimStopsAndNotifies(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, f *fixture) {
		alice, bob := f.person("alice"), f.person("bob")
		f.contact(bob, notifications.ModeSMS, "+15550100", true)
		f.plan("p", steps(
			step(user("alice", "low", 5, 2), user("bob", "high", 5, 2)),
			step(user("carol", "low", 5, 0))))
		f.person("carol")
		inc := f.escalate("api 500s", "p")

		f.tick() // 0: alice (slack) and bob (sms)
		f.clock.Advance(5 * time.Minute)
		if _, err := f.engine.EscalateDue(f.ctx); err != nil { // 5: planned, not sent yet
			t.Fatal(err)
		}
		if err := f.engine.Claim(f.ctx, inc.ID, "Dana"); err != nil {
			t.Fatal(err)
		}
		esc := f.escalation(inc)
		if esc.State != models.EscalationClaimed || esc.ClaimedBy != "Dana" || esc.ClaimedAt == nil || esc.NextCheckAt != nil {
			t.Fatalf("after claim: %+v", esc)
		}
		suppressed := 0
		for _, m := range f.messages(inc) {
			if m.Status == models.MessageSuppressed {
				suppressed++
				cs := f.changes(m)
				if len(cs) != 1 || cs[0].FromStatus != models.MessageQueued || cs[0].ToStatus != models.MessageSuppressed || !strings.Contains(cs[0].Detail, "Dana") {
					t.Errorf("suppressed message change log = %+v", cs)
				}
			}
		}
		if suppressed != 2 {
			t.Errorf("%d messages suppressed, want 2 (the 5-minute sends)", suppressed)
		}
		f.vendor.reset()
		f.runUntil(60 * time.Minute)

		got := f.vendor.accepted()
		if len(got) != 2 {
			t.Fatalf("after claim %d messages sent, want the 2 claim notes: %+v", len(got), got)
		}
		notes := map[string]string{}
		for _, s := range got {
			notes[s.Msg.Destination] = string(s.Msg.Mode)
			if !strings.Contains(s.Msg.Body, "claimed by Dana") || !strings.Contains(s.Msg.Subject, "claimed") || s.Msg.ClaimCode != "" {
				t.Errorf("claim note = %+v", s.Msg)
			}
		}
		// Notes are low priority: they go the person's low-priority way
		// (Slack by default), not by SMS or a phone call.
		if notes["U_ALICE"] != "slack" || notes["U_BOB"] != "slack" {
			t.Errorf("claim notes went to %v, want alice and bob by slack", notes)
		}
		for _, m := range f.messages(inc) {
			if m.OutOfBand {
				if m.Priority != "low" || !m.Optional || m.EscalationID != nil || m.Status != models.MessageSent {
					t.Errorf("note %+v", m)
				}
				if *m.PersonID != alice.ID && *m.PersonID != bob.ID {
					t.Errorf("note to %s", *m.PersonID)
				}
			}
		}
		if n := len(f.alerts.all()); n != 0 {
			t.Errorf("alerts after claim: %v", f.alerts.all())
		}
	})
}

func TestClaimUnclaimResolve(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, f *fixture) {
		f.person("alice")
		f.person("bob")
		f.plan("p", steps(step(user("alice", "low", 5, 2)), step(user("bob", "low", 5, 0))))
		inc := f.escalate("x", "p")
		f.tick() // alice@0
		f.clock.Set(t0.Add(7 * time.Minute))
		f.tick() // alice@5 was due at 5; sent at 7 (ticks every 7 here)
		if err := f.engine.Claim(f.ctx, inc.ID, "alice"); err != nil {
			t.Fatal(err)
		}
		if err := f.engine.Claim(f.ctx, inc.ID, "bob"); !errors.Is(err, models.ErrNoChange) {
			t.Fatalf("claiming a claimed escalation: %v, want ErrNoChange", err)
		}
		f.clock.Set(t0.Add(30 * time.Minute))
		f.tick()
		f.vendor.reset()

		// Unclaim at 30: step 1 resumes where it paused (7 minutes in),
		// the claimed time does not count.
		if err := f.engine.Unclaim(f.ctx, inc.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.engine.Unclaim(f.ctx, inc.ID); !errors.Is(err, models.ErrNoChange) {
			t.Fatalf("unclaiming an active escalation: %v, want ErrNoChange", err)
		}
		esc := f.escalation(inc)
		if esc.State != models.EscalationActive || esc.Step != 0 || esc.ClaimedBy != "" || esc.ClaimedAt != nil {
			t.Fatalf("after unclaim: %+v", esc)
		}
		for m := 30; m <= 45; m++ {
			f.clock.Set(t0.Add(time.Duration(m) * time.Minute))
			f.tick()
		}
		// The paused step started at 0+23 = 23: alice's third send (10) is
		// due at 33, the step ends at 38 and bob is paged then.
		if got, want := pages(f.vendor.accepted(), inc.ID), []string{"U_ALICE@33", "U_BOB@38"}; !sortedEqual(got, want) {
			t.Fatalf("after unclaim pages = %v, want %v", got, want)
		}

		if err := f.engine.Resolve(f.ctx, inc.ID, "carol"); err != nil {
			t.Fatal(err)
		}
		if st := f.escalation(inc).State; st != models.EscalationResolved {
			t.Fatalf("state %s after resolve", st)
		}
		for _, op := range []func() error{
			func() error { return f.engine.Resolve(f.ctx, inc.ID, "carol") },
			func() error { return f.engine.Claim(f.ctx, inc.ID, "carol") },
			func() error { return f.engine.Unclaim(f.ctx, inc.ID) },
		} {
			if err := op(); !errors.Is(err, models.ErrNoChange) {
				t.Errorf("op on a resolved escalation: %v, want ErrNoChange", err)
			}
		}
		f.vendor.reset()
		f.runUntil(120 * time.Minute)
		for _, s := range f.vendor.accepted() {
			if !strings.Contains(s.Msg.Body, "resolved by carol") {
				t.Errorf("after resolve: %+v", s.Msg)
			}
		}
	})
}

// TestUnclaimRequeuesSuppressed: sends suppressed by a claim go out when the
// escalation is unclaimed.
func TestUnclaimRequeuesSuppressed(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, f *fixture) {
		f.person("alice")
		f.plan("p", steps(step(user("alice", "low", 5, 2))))
		inc := f.escalate("x", "p")
		f.tick()
		f.clock.Advance(5 * time.Minute)
		if _, err := f.engine.EscalateDue(f.ctx); err != nil {
			t.Fatal(err)
		}
		if err := f.engine.Claim(f.ctx, inc.ID, "bob"); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(10 * time.Minute) // 15
		if err := f.engine.Unclaim(f.ctx, inc.ID); err != nil {
			t.Fatal(err)
		}
		f.vendor.reset()
		f.tick()
		if got, want := pages(f.vendor.accepted(), inc.ID), []string{"U_ALICE@15"}; !sortedEqual(got, want) {
			t.Fatalf("pages right after unclaim = %v, want %v", got, want)
		}
		f.runUntil(40 * time.Minute)
		if got, want := pages(f.vendor.accepted(), inc.ID), []string{"U_ALICE@15", "U_ALICE@20"}; !sortedEqual(got, want) {
			t.Fatalf("pages after unclaim = %v, want %v", got, want)
		}
		if st := f.escalation(inc).State; st != models.EscalationExhausted {
			t.Fatalf("state %s", st)
		}
	})
}

func TestStopNonActive(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, f *fixture) {
		f.person("alice")
		f.plan("p", steps(step(user("alice", "low", 0, 0))))
		type op struct {
			name string
			do   func(id int64) error
		}
		claim := op{"claim", func(id int64) error { return f.engine.Claim(f.ctx, id, "x") }}
		resolve := op{"resolve", func(id int64) error { return f.engine.Resolve(f.ctx, id, "x") }}
		unclaim := op{"unclaim", func(id int64) error { return f.engine.Unclaim(f.ctx, id) }}
		tests := []struct {
			name    string
			prepare []op
			then    op
			wantErr error
		}{
			{"claim a claimed", []op{claim}, claim, models.ErrNoChange},
			{"claim a resolved", []op{resolve}, claim, models.ErrNoChange},
			{"resolve a resolved", []op{resolve}, resolve, models.ErrNoChange},
			{"resolve a claimed", []op{claim}, resolve, nil},
			{"unclaim an active", nil, unclaim, models.ErrNoChange},
			{"unclaim a resolved", []op{claim, resolve}, unclaim, models.ErrNoChange},
		}
		for _, tt := range tests {
			inc := f.incident(tt.name)
			if err := f.engine.Escalate(f.ctx, inc.ID, "p"); err != nil {
				t.Fatal(err)
			}
			for _, p := range tt.prepare {
				if err := p.do(inc.ID); err != nil {
					t.Fatalf("%s: preparing %s: %v", tt.name, p.name, err)
				}
			}
			if err := tt.then.do(inc.ID); !errors.Is(err, tt.wantErr) && !(err == nil && tt.wantErr == nil) {
				t.Errorf("%s: %v, want %v", tt.name, err, tt.wantErr)
			}
		}

		// An exhausted plan: nobody claimed it, but it can still be resolved.
		inc := f.escalate("exhausted", "p")
		f.tick()
		if st := f.escalation(inc).State; st != models.EscalationExhausted {
			t.Fatalf("state %s, want exhausted", st)
		}
		if err := f.engine.Claim(f.ctx, inc.ID, "x"); !errors.Is(err, models.ErrNoChange) {
			t.Errorf("claiming an exhausted escalation: %v, want ErrNoChange", err)
		}
		if err := f.engine.Resolve(f.ctx, inc.ID, "x"); err != nil {
			t.Errorf("resolving an exhausted escalation: %v", err)
		}
		// No escalation at all.
		other := f.incident("no plan")
		if err := f.engine.Claim(f.ctx, other.ID, "x"); !models.IsNotFound(err) {
			t.Errorf("claiming an incident that does not escalate: %v, want not found", err)
		}
		if err := f.engine.Escalate(f.ctx, other.ID, "nope"); !errors.Is(err, notifications.ErrNoPlan) {
			t.Errorf("escalating with a missing plan: %v, want ErrNoPlan", err)
		}
		if err := f.engine.Escalate(f.ctx, inc.ID, "p"); !errors.Is(err, models.ErrEscalationExists) {
			t.Errorf("escalating twice: %v, want ErrEscalationExists", err)
		}
	})
}

func TestRoleResolvesToNobody(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		role     string
		target   string
		optional bool
		wantPage bool
	}{
		{"user", notifications.RoleUser, "alice", false, true},
		{"unknown user", notifications.RoleUser, "ghost", false, false},
		{"inactive user", notifications.RoleUser, "retired", false, false},
		{"unknown user, optional", notifications.RoleUser, "ghost", true, false},
		{"team", notifications.RoleTeam, "payments", false, true},
		{"empty team", notifications.RoleTeam, "empty", false, false},
		{"team of inactive people", notifications.RoleTeam, "gone", false, false},
		{"unknown team", notifications.RoleTeam, "nope", false, false},
		{"manager", notifications.RoleManager, "payments", false, true},
		{"no manager", notifications.RoleManager, "empty", false, false},
		{"inactive manager", notifications.RoleManager, "gone", false, false},
		{"oncall primary", notifications.RoleOncallPrimary, "payments", false, true},
		{"no oncall secondary", notifications.RoleOncallSecondary, "payments", false, false},
		{"no oncall secondary, optional", notifications.RoleOncallSecondary, "payments", true, false},
		{"inactive oncall", notifications.RoleOncallPrimary, "gone", false, false},
		{"unknown role", "wizard", "payments", false, false},
		{"unknown role, optional", "wizard", "payments", true, false},
	}
	forEachDialect(t, func(t *testing.T, f *fixture) {
		alice, retired := f.person("alice"), f.person("retired", inactive)
		bob := f.person("bob")
		f.person("zed")
		payments := f.team("payments", bob, alice)
		f.oncall(payments, "primary", alice)
		f.team("empty", nil)
		gone := f.team("gone", retired, retired)
		f.oncall(gone, "primary", retired)
		for i, tt := range tests {
			n := models.PlanNotification{Role: tt.role, Target: tt.target, Priority: "low", WaitMinutes: 5, Repeat: 2, Optional: tt.optional}
			plan := "plan" + string(rune('a'+i))
			f.plan(plan, steps(step(n), step(user("zed", "low", 0, 0))))
			f.alerts = &fakeAlerter{}
			vs := notifications.NewVendors()
			f.vendor = newFakeVendor("fake", f.clock)
			_ = vs.Register(f.vendor)
			f.engine = f.newEngine("e", vs, notifications.EngineOptions{})
			f.clock.Set(t0)
			inc := f.escalate(tt.name, plan)
			for m := 0; m <= 20; m++ {
				f.clock.Set(t0.Add(time.Duration(m) * time.Minute))
				f.tick()
			}
			got := pages(f.vendor.accepted(), inc.ID)
			wantPages := 1 // zed in step 2
			if tt.wantPage {
				wantPages += 3
			}
			if len(got) != wantPages {
				t.Errorf("%s: pages %v, want %d", tt.name, got, wantPages)
			}
			if len(got) == 0 || got[len(got)-1] != "U_ZED@15" { // sorted: zed last
				t.Errorf("%s: escalation did not move on to step 2 at 15: %v", tt.name, got)
			}
			nobody := f.alerts.count("should page")
			wantAlerts := 0
			if !tt.wantPage && !tt.optional {
				wantAlerts = 3 // one per planned send
			}
			if nobody != wantAlerts {
				t.Errorf("%s: %d 'nobody' alerts, want %d: %v", tt.name, nobody, wantAlerts, f.alerts.all())
			}
			for _, a := range f.alerts.all() {
				if a.IncidentID != inc.ID {
					t.Errorf("%s: alert for incident %d", tt.name, a.IncidentID)
				}
			}
			if st := f.escalation(inc).State; st != models.EscalationExhausted {
				t.Errorf("%s: state %s", tt.name, st)
			}
			// Each send that reached nobody is in the history, failed.
			nobodies := 0
			for _, m := range f.messages(inc) {
				if m.PersonID == nil {
					nobodies++
					if m.Status != models.MessageFailed || !strings.Contains(m.Error, "nobody") || m.Step != 0 {
						t.Errorf("%s: placeholder %+v", tt.name, m)
					}
				}
			}
			if want := map[bool]int{true: 0, false: 3}[tt.wantPage]; nobodies != want {
				t.Errorf("%s: %d sends to nobody recorded, want %d", tt.name, nobodies, want)
			}
		}
	})
}

func TestPriorityModes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		priority string
		pref     map[string]string // priority → modes of alice's own preference
		want     []string          // modes used
	}{
		{"default low", "low", nil, []string{"slack"}},
		{"default medium", "medium", nil, []string{"email", "slack"}},
		{"default high", "high", nil, []string{"sms"}},
		{"default urgent", "urgent", nil, []string{"call"}},
		{"own preference overrides", "high", map[string]string{"high": "slack"}, []string{"slack"}},
		{"several modes, one message each", "urgent", map[string]string{"urgent": "call, sms,slack"}, []string{"call", "sms", "slack"}},
		{"preference of another priority ignored", "low", map[string]string{"high": "call"}, []string{"slack"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			forEachDialect(t, func(t *testing.T, f *fixture) {
				alice := f.person("alice")
				f.contact(alice, notifications.ModeSMS, "+15550001", true)
				f.contact(alice, notifications.ModeCall, "+15550002", true)
				f.contact(alice, notifications.ModeEmail, "alice@example.com", false)
				for p, modes := range tt.pref {
					f.prefer(alice, p, modes)
				}
				f.plan("p", steps(step(user("alice", tt.priority, 0, 0))))
				inc := f.escalate("x", "p")
				f.tick()
				var got []string
				for _, s := range f.vendor.accepted() {
					got = append(got, string(s.Msg.Mode))
					want := map[notifications.Mode]string{"slack": "U_ALICE", "sms": "+15550001", "call": "+15550002", "email": "alice@example.com"}[s.Msg.Mode]
					if s.Msg.Destination != want {
						t.Errorf("%s went to %q, want %q", s.Msg.Mode, s.Msg.Destination, want)
					}
					if !strings.Contains(s.Msg.Subject, strings.ToUpper(tt.priority)) {
						t.Errorf("subject %q", s.Msg.Subject)
					}
				}
				if !sortedEqual(got, tt.want) {
					t.Errorf("modes %v, want %v", got, tt.want)
				}
				if n := len(f.messages(inc)); n != len(tt.want) {
					t.Errorf("%d messages stored, want %d", n, len(tt.want))
				}
			})
		})
	}
}

func TestDestinations(t *testing.T) {
	t.Parallel()
	type cm struct {
		mode     notifications.Mode
		dest     string
		verified bool
	}
	tests := []struct {
		name      string
		noSlackID bool
		contacts  []cm
		modes     string
		optional  bool
		wantDest  string // "" → failed with ErrNoDestination
		wantAlert bool
	}{
		{name: "slack uses the Slack user id", modes: "slack", wantDest: "U_ALICE"},
		{name: "slack without a Slack id uses a slack contact", noSlackID: true, contacts: []cm{{"slack", "U_OTHER", false}}, modes: "slack", wantDest: "U_OTHER"},
		{name: "slack without any", noSlackID: true, modes: "slack", wantAlert: true},
		{name: "verified sms", contacts: []cm{{"sms", "+1555", true}}, modes: "sms", wantDest: "+1555"},
		{name: "unverified sms", contacts: []cm{{"sms", "+1555", false}}, modes: "sms", wantAlert: true},
		{name: "unverified sms, optional", contacts: []cm{{"sms", "+1555", false}}, modes: "sms", optional: true},
		{name: "unverified call skipped for a verified one", contacts: []cm{{"call", "+1666", false}, {"call", "+1777", true}}, modes: "call", wantDest: "+1777"},
		{name: "no sms at all", modes: "sms", wantAlert: true},
		{name: "email needs no verification", contacts: []cm{{"email", "a@example.com", false}}, modes: "email", wantDest: "a@example.com"},
		{name: "sms number is not a call number", contacts: []cm{{"sms", "+1555", true}}, modes: "call", wantAlert: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			forEachDialect(t, func(t *testing.T, f *fixture) {
				var opts []personOpt
				if tt.noSlackID {
					opts = append(opts, noSlack)
				}
				alice := f.person("alice", opts...)
				for _, c := range tt.contacts {
					f.contact(alice, c.mode, c.dest, c.verified)
					f.clock.Advance(time.Second)
				}
				f.prefer(alice, "high", tt.modes)
				n := user("alice", "high", 0, 0)
				n.Optional = tt.optional
				f.plan("p", steps(step(n)))
				inc := f.escalate("x", "p")
				f.tick()
				msgs := f.messages(inc)
				if len(msgs) != 1 {
					t.Fatalf("%d messages", len(msgs))
				}
				m := msgs[0]
				got := f.vendor.attempts()
				if tt.wantDest != "" {
					if m.Status != models.MessageSent || len(got) != 1 || got[0].Msg.Destination != tt.wantDest {
						t.Fatalf("status %s, vendor calls %+v; want sent to %q", m.Status, got, tt.wantDest)
					}
				} else {
					if m.Status != models.MessageFailed || !strings.Contains(m.Error, notifications.ErrNoDestination.Error()) || len(got) != 0 {
						t.Fatalf("status %s error %q vendor calls %d; want failed at once with %v", m.Status, m.Error, len(got), notifications.ErrNoDestination)
					}
					if m.Attempts != 1 {
						t.Errorf("attempts %d: a missing destination is not retried", m.Attempts)
					}
				}
				if n := f.alerts.count("could not be delivered"); (n == 1) != tt.wantAlert || n > 1 {
					t.Errorf("%d delivery alerts, want alert %v: %v", n, tt.wantAlert, f.alerts.all())
				}
				for _, a := range f.alerts.all() {
					if strings.Contains(a.Text, "+1") || strings.Contains(a.Text, "U_") {
						t.Errorf("alert reveals a destination: %q", a.Text)
					}
				}
			})
		})
	}
}

func TestVendorFailover(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, f *fixture) {
		first := newFakeVendor("first", f.clock, notifications.ModeSMS)
		second := newFakeVendor("second", f.clock, notifications.ModeSMS)
		vs := notifications.NewVendors()
		for _, v := range []notifications.Vendor{first, second} {
			if err := vs.Register(v); err != nil {
				t.Fatal(err)
			}
		}
		if err := vs.Register(newFakeVendor("first", f.clock)); !errors.Is(err, notifications.ErrDuplicateVendor) {
			t.Fatalf("registering a name twice: %v", err)
		}
		f.engine = f.newEngine("a", vs, notifications.EngineOptions{VendorTimeout: 100 * time.Millisecond})
		alice := f.person("alice")
		f.contact(alice, notifications.ModeSMS, "+15550001", true)
		f.plan("p", steps(step(user("alice", "high", 0, 0))))

		// The first vendor refuses: the second takes it.
		first.setFail(errors.New("twilio is down"))
		inc := f.escalate("one", "p")
		f.tick()
		m := f.messages(inc)[0]
		if m.Status != models.MessageSent || m.Vendor != "second" || !strings.HasPrefix(m.VendorID, "second-") || len(first.attempts()) != 1 || len(second.accepted()) != 1 {
			t.Fatalf("failover: %+v; first %d calls, second %d", m, len(first.attempts()), len(second.accepted()))
		}

		// The first vendor hangs past the vendor timeout: the second takes it.
		first.setFail(nil)
		first.setDelay(10 * time.Second)
		inc = f.escalate("two", "p")
		f.tick()
		if m := f.messages(inc)[0]; m.Status != models.MessageSent || m.Vendor != "second" {
			t.Fatalf("slow vendor: %+v", m)
		}
		first.setDelay(0)

		// Every vendor fails: retried, then failed with an alert.
		first.reset()
		second.reset()
		first.setFail(errors.New("down"))
		second.setFail(errors.New("also down"))
		inc = f.escalate("three", "p")
		f.tick()
		m = f.messages(inc)[0]
		if m.Status != models.MessageQueued || m.Attempts != 1 || !m.NotBefore.After(f.clock.Now()) {
			t.Fatalf("after a failed attempt: %+v", m)
		}
		for i := 0; i < 10 && m.Status == models.MessageQueued; i++ {
			f.clock.Advance(time.Minute)
			f.tick()
			m = f.messages(inc)[0]
		}
		if m.Status != models.MessageFailed || m.Attempts != notifications.DefaultMaxAttempts || !strings.Contains(m.Error, "down") {
			t.Fatalf("after retries: status %s attempts %d error %q", m.Status, m.Attempts, m.Error)
		}
		if len(first.attempts()) != notifications.DefaultMaxAttempts || len(second.attempts()) != notifications.DefaultMaxAttempts {
			t.Errorf("vendor calls: first %d second %d, want %d each", len(first.attempts()), len(second.attempts()), notifications.DefaultMaxAttempts)
		}
		if n := f.alerts.count("could not be delivered"); n != 1 {
			t.Errorf("%d delivery alerts, want 1: %v", n, f.alerts.all())
		}
		var to []string
		for _, c := range f.changes(m) {
			to = append(to, c.FromStatus+">"+c.ToStatus)
		}
		want := append(slices.Repeat([]string{"sending>queued"}, notifications.DefaultMaxAttempts-1), "sending>failed")
		if strings.Join(to, " ") != strings.Join(want, " ") {
			t.Errorf("change log %v, want %v", to, want)
		}

		// No vendor for a mode at all: failed at once.
		f.prefer(alice, "low", "email")
		f.contact(alice, notifications.ModeEmail, "a@example.com", false)
		f.plan("q", steps(step(user("alice", "low", 0, 0))))
		inc = f.escalate("four", "q")
		f.tick()
		if m := f.messages(inc)[0]; m.Status != models.MessageFailed || !strings.Contains(m.Error, notifications.ErrNoVendor.Error()) {
			t.Fatalf("no vendor: %+v", m)
		}
	})
}

func TestPlanVersionKept(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, f *fixture) {
		for _, n := range []string{"alice", "bob", "carol", "dave"} {
			f.person(n)
		}
		v1 := f.plan("p", steps(step(user("alice", "low", 5, 0)), step(user("bob", "low", 5, 0))))
		old := f.escalate("old", "p")
		f.tick()
		v2 := f.publish("p", steps(step(user("carol", "low", 5, 0)), step(user("dave", "low", 5, 0))))
		if v2.Version != 2 {
			t.Fatalf("version %d", v2.Version)
		}
		active, err := f.store.ActivePlanVersion(f.ctx, "p")
		if err != nil || active.ID != v2.ID {
			t.Fatalf("active version %+v %v", active, err)
		}
		fresh := f.escalate("new", "p")
		f.runUntil(20 * time.Minute)
		if got, want := pages(f.vendor.accepted(), old.ID), []string{"U_ALICE@0", "U_BOB@5"}; !sortedEqual(got, want) {
			t.Errorf("old escalation pages %v, want %v (version 1)", got, want)
		}
		if got, want := pages(f.vendor.accepted(), fresh.ID), []string{"U_CAROL@0", "U_DAVE@5"}; !sortedEqual(got, want) {
			t.Errorf("new escalation pages %v, want %v (version 2)", got, want)
		}
		if e := f.escalation(old); e.PlanVersionID != v1.ID {
			t.Errorf("old escalation on version %d, want %d", e.PlanVersionID, v1.ID)
		}
		for _, m := range f.messages(old) {
			if *m.PlanVersionID != v1.ID {
				t.Errorf("old escalation message on version %d", *m.PlanVersionID)
			}
		}
	})
}

// TestAlertsOnlyAfterCommit: a check whose result is thrown away (the
// escalation was claimed meanwhile) neither plans nor alerts.
func TestStaleCheckChangesNothing(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, f *fixture) {
		f.person("alice")
		f.plan("p", steps(step(user("alice", "low", 5, 0))))
		inc := f.escalate("x", "p")
		due, err := f.store.LeaseDueEscalations(f.ctx, "engine-a", 10, time.Minute)
		if err != nil || len(due) != 1 {
			t.Fatalf("lease: %v %v", due, err)
		}
		if err := f.engine.Claim(f.ctx, inc.ID, "bob"); err != nil {
			t.Fatal(err)
		}
		now := f.clock.Now()
		n, err := f.store.FinishEscalationCheck(f.ctx, &due[0], models.EscalationUpdate{Step: 1, StepStartedAt: now, State: models.EscalationExhausted}, []models.Message{{
			IncidentID: &inc.ID, EscalationID: &due[0].ID, Mode: "slack", Priority: "low", Status: models.MessageQueued, NotBefore: now, CreatedAt: now,
		}})
		if err != nil && !errors.Is(err, models.ErrNoChange) {
			t.Fatal(err)
		}
		if n != 0 || len(f.messages(inc)) != 0 {
			t.Fatalf("stale check planned %d messages", n)
		}
		if e := f.escalation(inc); e.State != models.EscalationClaimed {
			t.Fatalf("state %s", e.State)
		}
	})
}

// TestHungVendorFailsOver: a hanging vendor is cut off at VendorTimeout
// and the next vendor of the mode takes the page.
func TestHungVendorFailsOver(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, f *fixture) {
		slow := newFakeVendor("slow", f.clock, notifications.ModeSlack)
		backup := newFakeVendor("backup", f.clock, notifications.ModeSlack)
		slow.setDelay(time.Minute)
		f.engine = f.newEngine("a", vendorsOf(slow, backup), notifications.EngineOptions{VendorTimeout: 200 * time.Millisecond})
		f.person("alice")
		f.plan("p", steps(step(user("alice", "low", 0, 0))))
		inc := f.escalate("x", "p")
		started := time.Now()
		f.tick()
		if took := time.Since(started); took > 10*time.Second {
			t.Fatalf("a send took %v with a 200ms vendor timeout", took)
		}
		if m := f.messages(inc)[0]; m.Status != models.MessageSent || m.Vendor != "backup" || m.Attempts != 1 {
			t.Fatalf("after a hung vendor: %+v", m)
		}
	})
}
