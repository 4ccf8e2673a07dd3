package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/internal/testlog"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
)

// planSink records what the engine's vendors were asked to send.
type planSink struct {
	mu   sync.Mutex
	sent []notifications.Message
}

func (s *planSink) Name() string { return "sink" }
func (s *planSink) Modes() []notifications.Mode {
	return []notifications.Mode{notifications.ModeSlack, notifications.ModeEmail, notifications.ModeSMS, notifications.ModeCall}
}
func (s *planSink) Send(_ context.Context, m notifications.Message) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, m)
	return fmt.Sprint("v", len(s.sent)), nil
}

// planFixture: people ann (payments, linked to the web users who test)
// and bob (payments' primary on-call), teams payments and search, plans
// pay (payments, v1 active, used by service checkout of payments), find
// (search), shared (payments, but used by service lookup of search) and
// orphan (no team, unused).
type planFixture struct {
	*harness
	engine   *notifications.Engine
	sink     *planSink
	ann, bob *models.Person
	payments *models.Team
	search   *models.Team
	plans    map[string]*models.Plan
}

func newPlanFixture(t *testing.T, dialect string) *planFixture {
	t.Helper()
	f := &planFixture{sink: &planSink{}, plans: map[string]*models.Plan{}}
	f.harness = newHarness(t, dialect, func(h *harness) []Page {
		vs := notifications.NewVendors()
		if err := vs.Register(f.sink); err != nil {
			t.Fatal(err)
		}
		f.engine = notifications.NewEngine(h.Store, vs, notifications.DirectoryRoles{Dir: h.Store}, nil, h.Clock, testlog.Logger(t), notifications.EngineOptions{Owner: "test"})
		return []Page{NewPlanPages(h.Store, f.engine)}
	})
	now := f.Clock.Now()
	f.ann = f.person("ann")
	f.bob = f.person("bob")
	f.payments = &models.Team{ID: uuid.NewString(), Name: "payments", CreatedAt: now, UpdatedAt: now}
	f.search = &models.Team{ID: uuid.NewString(), Name: "search", CreatedAt: now, UpdatedAt: now}
	f.create(f.payments)
	f.create(f.search)
	f.create(&models.TeamMember{TeamID: f.payments.ID, PersonID: f.ann.ID})
	f.create(&models.OncallAssignment{TeamID: f.payments.ID, Role: "primary", PersonID: f.bob.ID})
	for _, p := range []*models.Person{f.ann, f.bob} {
		f.create(&models.PriorityMode{PersonID: p.ID, Priority: "high", Modes: "slack,email"})
		f.create(&models.PriorityMode{PersonID: p.ID, Priority: "urgent", Modes: "call"})
	}
	f.create(&models.MessageTemplate{Name: "short", Definition: `{"slack":{"body":"hi"}}`, UpdatedAt: now})
	step := func(role, target, prio string) models.PlanStep {
		return models.PlanStep{Notifications: []models.PlanNotification{{Role: role, Target: target, Priority: prio, WaitMinutes: 5}}}
	}
	f.plan("pay", &f.payments.ID, step("oncall-primary", "payments", "high"), step("team", "payments", "urgent"))
	f.plan("find", &f.search.ID, step("user", "bob", "high"))
	f.plan("shared", &f.payments.ID, step("user", "bob", "high"))
	f.plan("orphan", nil, step("user", "bob", "high"))
	f.service("checkout", f.payments.ID, "pay")
	f.service("lookup", f.search.ID, "shared")
	return f
}

func (f *planFixture) create(v any) {
	f.t.Helper()
	if err := f.DB.Gorm.Create(v).Error; err != nil {
		f.t.Fatal(err)
	}
}

func (f *planFixture) person(name string) *models.Person {
	now := f.Clock.Now()
	slack := "U" + strings.ToUpper(name)
	p := &models.Person{ID: uuid.NewString(), Name: name, FullName: name, SlackUserID: &slack, Active: true, CreatedAt: now, UpdatedAt: now}
	f.create(p)
	return p
}

func (f *planFixture) plan(name string, team *string, steps ...models.PlanStep) {
	now := f.Clock.Now()
	p := &models.Plan{ID: uuid.NewString(), Name: name, TeamID: team, ActiveVersion: 1, CreatedAt: now, UpdatedAt: now}
	f.create(p)
	raw, err := json.Marshal(models.PlanDefinition{Steps: steps})
	if err != nil {
		f.t.Fatal(err)
	}
	f.create(&models.PlanVersion{PlanID: p.ID, Version: 1, Definition: string(raw), CreatedBy: "herald apply", CreatedAt: now})
	f.plans[name] = p
}

func (f *planFixture) service(name, teamID, plan string) {
	now := f.Clock.Now()
	f.create(&models.Service{ID: uuid.NewString(), Name: name, TeamID: &teamID, PlanID: &f.plans[plan].ID, DefaultSeverity: 3, CreatedAt: now, UpdatedAt: now})
}

// versions counts a plan's stored versions (every plan's for "").
func (f *planFixture) versions(plan string) int64 {
	f.t.Helper()
	q := f.DB.Gorm.Model(&models.PlanVersion{})
	if plan != "" {
		q = q.Where("plan_id = (SELECT id FROM plans WHERE name = ?)", plan)
	}
	var n int64
	if err := q.Count(&n).Error; err != nil {
		f.t.Fatal(err)
	}
	return n
}

func (f *planFixture) audits(action string) []models.AuditEntry {
	f.t.Helper()
	var out []models.AuditEntry
	if err := f.DB.Gorm.Where("action = ?", action).Order("id").Find(&out).Error; err != nil {
		f.t.Fatal(err)
	}
	return out
}

// planPost is the editor's form for one notification per step.
func planPost(action, team string, notes ...[6]string) url.Values {
	v := url.Values{"action": {action}, "team": {team}, "steps": {fmt.Sprint(len(notes))}}
	for i, n := range notes {
		k := fmt.Sprintf("s%d.n0.", i)
		v.Set(fmt.Sprintf("s%d.notes", i), "1")
		v.Set(k+"role", n[0])
		v.Set(k+"target", n[1])
		v.Set(k+"priority", n[2])
		v.Set(k+"wait", n[3])
		v.Set(k+"repeat", n[4])
		v.Set(k+"template", n[5])
	}
	return v
}

func TestPlanPagesRead(t *testing.T) {
	t.Parallel()
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			f := newPlanFixture(t, d)
			if rec := f.anonymous().get("/plans"); rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/login") {
				t.Fatalf("anonymous: %d %s", rec.Code, rec.Header().Get("Location"))
			}
			viewer := f.signIn("vera", models.WebRoleViewer, nil)
			expect(t, viewer.get("/plans"), http.StatusOK, `href="/plans/pay"`, "payments", "orphan", "search")
			rec := viewer.get("/plans/pay")
			expect(t, rec, http.StatusOK, "Version 1", "(active)", "Page the primary on-call of team payments at high priority, once, then wait 5 minutes.",
				"Page every member of team payments at urgent priority", "service checkout", planEditRule)
			if strings.Contains(rec.Body.String(), "/plans/pay/edit") || strings.Contains(rec.Body.String(), "Publish") {
				t.Fatal("a viewer is offered editing")
			}
			expect(t, viewer.get("/plans/nope"), http.StatusNotFound, "plan")
			expect(t, viewer.get("/plans/pay?version=9"), http.StatusNotFound)
			expect(t, viewer.get("/plans/new"), http.StatusForbidden)
			expect(t, viewer.get("/plans/pay/edit"), http.StatusForbidden)
		})
	}
}

func TestPlanWritesRefused(t *testing.T) {
	t.Parallel()
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			f := newPlanFixture(t, d)
			save := planPost("save", f.payments.ID, [6]string{"user", "ann", "urgent", "5", "0", ""})
			viewer := f.signIn("vera", models.WebRoleViewer, &f.ann.ID)
			searchAdmin := f.signIn("sam", models.WebRoleMember, &f.ann.ID, f.search.ID)
			payAdmin := f.signIn("pat", models.WebRoleMember, &f.ann.ID, f.payments.ID)
			member := f.signIn("mo", models.WebRoleMember, &f.ann.ID)
			cases := []struct {
				name string
				c    *client
				path string
				form url.Values
			}{
				{"viewer edits", viewer, "/plans/pay/edit", save},
				{"viewer creates", viewer, "/plans/new", planPost("save", "", [6]string{"user", "ann", "high", "5", "0", ""})},
				{"viewer publishes", viewer, "/plans/pay/publish", url.Values{"version": {"1"}}},
				{"viewer tests", viewer, "/plans/pay/test", url.Values{"version": {"1"}}},
				{"other team's admin edits", searchAdmin, "/plans/pay/edit", save},
				{"other team's admin publishes", searchAdmin, "/plans/pay/publish", url.Values{"version": {"1"}}},
				{"other team's admin tests", searchAdmin, "/plans/pay/test", url.Values{"version": {"1"}}},
				{"owner's admin, other team's service", payAdmin, "/plans/shared/edit", save},
				{"owner's admin edits another team's", payAdmin, "/plans/find/edit", save},
				{"plain member edits an unused plan", member, "/plans/orphan/edit", save},
				{"plain member creates", member, "/plans/new", planPost("save", "", [6]string{"user", "ann", "high", "5", "0", ""})},
			}
			for _, tc := range cases {
				form := url.Values{}
				for k, v := range tc.form {
					form[k] = append([]string(nil), v...)
				}
				if strings.HasSuffix(tc.path, "/new") {
					form.Set("name", "sneaky")
				}
				if rec := tc.c.post(tc.path, form); rec.Code != http.StatusForbidden {
					t.Errorf("%s: status %d, want 403", tc.name, rec.Code)
				}
			}
			if n := f.versions(""); n != 4 {
				t.Fatalf("%d versions stored, want the 4 seeded", n)
			}
			var msgs int64
			f.DB.Gorm.Model(&models.Message{}).Count(&msgs)
			if msgs != 0 || len(f.audits("plan.draft"))+len(f.audits("plan.publish"))+len(f.audits("plan.test")) != 0 {
				t.Fatalf("refused writes left %d messages or audit entries", msgs)
			}
			// A team admin may not hand their plan to another team either.
			rec := payAdmin.post("/plans/pay/edit", planPost("save", f.search.ID, [6]string{"user", "ann", "urgent", "5", "0", ""}))
			expect(t, rec, http.StatusUnprocessableEntity, "only to a team you administer")
			if n := f.versions("pay"); n != 1 {
				t.Fatalf("pay has %d versions", n)
			}
		})
	}
}

func TestPlanCreateEditPublish(t *testing.T) {
	t.Parallel()
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			f := newPlanFixture(t, d)
			ctx := context.Background()
			admin := f.signIn("ada", models.WebRoleAdmin, nil)
			expect(t, admin.get("/plans/new"), http.StatusOK, `name="s0.n0.role"`, `for="s0-n0-target"`, "(no team)")
			form := planPost("save", "", [6]string{"oncall-primary", "payments", "high", "10", "2", "short"}, [6]string{"manager", "payments", "urgent", "0", "0", ""})
			form.Set("name", "db")
			rec := admin.post("/plans/new", form)
			if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/plans/db?version=1" {
				t.Fatalf("create: %d %s\n%s", rec.Code, rec.Header().Get("Location"), rec.Body.String())
			}
			if _, err := f.Store.ActivePlanVersion(ctx, "db"); !models.IsNotFound(err) {
				t.Fatalf("a draft is active: %v", err)
			}
			expect(t, admin.get("/plans/db?version=1"), http.StatusOK, "(draft)", "Publish version 1",
				"Page the primary on-call of team payments at high priority, 3 times, 10 minutes apart, then wait 10 minutes; template short.")
			audits := f.audits("plan.draft")
			if len(audits) != 1 || audits[0].Actor != "web:ada" || audits[0].Subject != "plan db" || !strings.Contains(audits[0].After, "version 1 (draft)") {
				t.Fatalf("audit %+v", audits)
			}

			rec = admin.post("/plans/db/publish", url.Values{"version": {"1"}})
			expect(t, rec, http.StatusSeeOther)
			pv, err := f.Store.ActivePlanVersion(ctx, "db")
			if err != nil || pv.Version != 1 || pv.Draft {
				t.Fatalf("active after publish: %+v, %v", pv, err)
			}

			// A team admin of payments edits pay: a draft v2, v1 stays active
			// until v2 is published; then the engine's lookup sees v2.
			pat := f.signIn("pat", models.WebRoleMember, nil, f.payments.ID)
			expect(t, pat.get("/plans/pay/edit"), http.StatusOK, `value="oncall-primary" selected`)
			rec = pat.post("/plans/pay/edit", planPost("save", f.payments.ID, [6]string{"oncall-primary", "payments", "urgent", "5", "0", ""}))
			if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/plans/pay?version=2" {
				t.Fatalf("edit: %d %s\n%s", rec.Code, rec.Header().Get("Location"), rec.Body.String())
			}
			if pv, _ := f.Store.ActivePlanVersion(ctx, "pay"); pv.Version != 1 {
				t.Fatalf("draft became active: v%d", pv.Version)
			}
			expect(t, pat.post("/plans/pay/publish", url.Values{"version": {"2"}}), http.StatusSeeOther)
			pv, err = f.Store.ActivePlanVersion(ctx, "pay")
			if err != nil || pv.Version != 2 || !strings.Contains(pv.Definition, `"urgent"`) {
				t.Fatalf("active after publish: %+v, %v", pv, err)
			}
			pub := f.audits("plan.publish")
			if len(pub) != 2 || !strings.HasPrefix(pub[1].Before, "version 1\n") || !strings.HasPrefix(pub[1].After, "version 2\n") || pub[1].Actor != "web:pat" {
				t.Fatalf("publish audit %+v", pub)
			}
			// Saving what the newest version holds stores nothing.
			rec = pat.post("/plans/pay/edit", planPost("save", f.payments.ID, [6]string{"oncall-primary", "payments", "urgent", "5", "0", ""}))
			expect(t, rec, http.StatusSeeOther)
			if n := f.versions("pay"); n != 2 {
				t.Fatalf("an unchanged save stored a version: %d", n)
			}
			// The list shows it.
			expect(t, pat.get("/plans"), http.StatusOK, `href="/plans/db"`)
			// A team admin edits an unused plan without a team (and must give
			// it one of theirs).
			expect(t, pat.post("/plans/orphan/edit", planPost("save", f.payments.ID, [6]string{"user", "ann", "high", "5", "0", ""})), http.StatusSeeOther)
			if p, _ := f.Store.PlanByName(ctx, "orphan"); p.TeamID == nil || *p.TeamID != f.payments.ID {
				t.Fatalf("orphan's team: %v", p.TeamID)
			}
		})
	}
}

func TestPlanDiffPage(t *testing.T) {
	t.Parallel()
	f := newPlanFixture(t, models.DialectPostgres)
	admin := f.signIn("ada", models.WebRoleAdmin, nil)
	rec := admin.post("/plans/pay/edit", planPost("save", f.payments.ID,
		[6]string{"oncall-primary", "payments", "urgent", "5", "0", ""}, [6]string{"team", "payments", "urgent", "5", "0", ""}, [6]string{"user", "ann", "low", "5", "0", ""}))
	expect(t, rec, http.StatusSeeOther)
	viewer := f.signIn("vera", models.WebRoleViewer, nil)
	rec = viewer.get("/plans/pay/diff?from=1&to=2")
	expect(t, rec, http.StatusOK, "version 1 → 2", `class="diff plan-diff"`,
		`<li class="del"><span class="visually-hidden">removed: </span>    priority: high</li>`,
		`<li class="add"><span class="visually-hidden">added: </span>    priority: urgent</li>`,
		`<li class="add"><span class="visually-hidden">added: </span>Step 3</li>`,
		"2 changes")
	expect(t, viewer.get("/plans/pay/diff"), http.StatusOK, "version 1 → 2")
	expect(t, viewer.get("/plans/pay/diff?from=2&to=2"), http.StatusOK, "The two versions are the same.")
	expect(t, viewer.get("/plans/pay/diff?from=x&to=2"), http.StatusBadRequest, "not a version number")
	expect(t, viewer.get("/plans/pay/diff?from=1&to=7"), http.StatusNotFound)
	expect(t, viewer.get("/plans/pay?version=2"), http.StatusOK, "(draft)", `/plans/pay/diff?from=1&amp;to=2`)
}

func TestPlanTestPagesOnlyTheEditor(t *testing.T) {
	t.Parallel()
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			f := newPlanFixture(t, d)
			ctx := context.Background()
			unlinked := f.signIn("una", models.WebRoleAdmin, nil)
			expect(t, unlinked.post("/plans/pay/test", url.Values{"version": {"1"}}), http.StatusConflict, "not linked to a person")

			pat := f.signIn("pat", models.WebRoleMember, &f.ann.ID, f.payments.ID)
			expect(t, pat.post("/plans/pay/test", url.Values{"version": {"9"}}), http.StatusBadRequest, "no version")
			rec := pat.post("/plans/pay/test", url.Values{"version": {"1"}})
			if rec.Code != http.StatusSeeOther {
				t.Fatalf("test: %d\n%s", rec.Code, rec.Body.String())
			}
			var msgs []models.Message
			if err := f.DB.Gorm.Order("id").Find(&msgs).Error; err != nil {
				t.Fatal(err)
			}
			// Step 1 at high (slack, email), step 2 at urgent (call): ann's
			// preferences; bob, the on-call, gets nothing.
			var got []string
			for _, m := range msgs {
				if m.PersonID == nil || *m.PersonID != f.ann.ID || !m.OutOfBand {
					t.Fatalf("message to someone else or in band: %+v", m)
				}
				got = append(got, m.Priority+"/"+m.Mode)
			}
			if strings.Join(got, " ") != "high/slack high/email urgent/call" {
				t.Fatalf("queued %v", got)
			}
			if !strings.Contains(msgs[0].Subject, "TEST: plan pay v1, step 1") {
				t.Fatalf("subject %q", msgs[0].Subject)
			}
			if _, err := f.engine.SendDue(ctx); err != nil {
				t.Fatal(err)
			}
			// Only the Slack page can go (nobody has an e-mail or a phone):
			// to ann's Slack user.
			f.sink.mu.Lock()
			if len(f.sink.sent) == 0 {
				t.Error("the vendor was asked to send nothing")
			}
			for _, m := range f.sink.sent {
				if m.Destination != "UANN" {
					t.Errorf("vendor asked to page %q", m.Destination)
				}
			}
			f.sink.mu.Unlock()
			if a := f.audits("plan.test"); len(a) != 1 || !strings.Contains(a[0].After, "3 test messages to ann") {
				t.Fatalf("audit %+v", a)
			}
		})
	}
}
