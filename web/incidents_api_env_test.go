package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/heraldhq/herald/handlers"
	"github.com/heraldhq/herald/internal/fakeclock"
	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/internal/testlog"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/web"
)

// apiEnv is the incidents API served over HTTP on a fresh database, with
// the real intake and a recording pager:
//
//	payments  escalates with plan payments-oncall
//	web       has no plan
//	billing   another team's
//
// and the integrations nagios (payments, web), grafana (billing) and
// limited (web, 2 requests a minute).
type apiEnv struct {
	t      *testing.T
	db     *testdb.DB
	clock  *fakeclock.Clock
	pager  *recordingPager
	intake *handlers.Intake
	srv    *httptest.Server
	keys   map[string]string
}

func newAPIEnv(t *testing.T, dialect string) *apiEnv {
	t.Helper()
	ctx := context.Background()
	env := &apiEnv{t: t, clock: fakeclock.New(docT0), pager: &recordingPager{}, keys: map[string]string{}}
	env.db = testdb.New(t, dialect, env.clock)
	plan := &models.Plan{ID: uuid.NewString(), Name: "payments-oncall", ActiveVersion: 1, CreatedAt: docT0, UpdatedAt: docT0}
	check(t, env.db.Gorm.Create(plan).Error)
	check(t, env.db.Gorm.Create(&models.PlanVersion{PlanID: plan.ID, Version: 1, Definition: `{"steps":[]}`, CreatedBy: "test", CreatedAt: docT0}).Error)
	for _, svc := range []*models.Service{
		{ID: uuid.NewString(), Name: "payments", PlanID: &plan.ID, DefaultSeverity: models.SEV3, CreatedAt: docT0, UpdatedAt: docT0},
		{ID: uuid.NewString(), Name: "web", DefaultSeverity: models.SEV3, CreatedAt: docT0, UpdatedAt: docT0},
		{ID: uuid.NewString(), Name: "billing", DefaultSeverity: models.SEV3, CreatedAt: docT0, UpdatedAt: docT0},
	} {
		check(t, env.db.Gorm.Create(svc).Error)
	}
	for _, in := range []models.NewIntegration{
		{Name: "nagios", Services: []string{"payments", "web"}},
		{Name: "grafana", Services: []string{"billing"}},
		{Name: "limited", Services: []string{"web"}, QuotaPerMinute: 2},
	} {
		_, key, err := env.db.Store.CreateIntegration(ctx, in)
		check(t, err)
		env.keys[in.Name] = key
	}
	log := testlog.Logger(t)
	env.intake = handlers.NewIntake(handlers.Deps{
		Store: env.db.Store, Intake: env.db.Store, Pager: env.pager, Clock: env.clock, Log: log,
		Settings: handlers.Settings{BaseURL: "https://herald.example", BotName: "incident"},
	})
	e := web.New(web.Options{Log: log, Clock: env.clock, Intake: env.intake, IntegrationAuth: env.db.Store, IntakeStore: env.db.Store})
	env.srv = httptest.NewServer(e)
	t.Cleanup(env.srv.Close)
	return env
}

// apiResponse is an answer of the API.
type apiResponse struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r apiResponse) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("answer %d %s is not a JSON object: %v", r.Status, r.Body, err)
	}
	return m
}

// call sends a request with an integration's key ("" for none; a key
// that is not a name is sent as it is).
func (env *apiEnv) call(method, path, key string, body []byte, header ...string) apiResponse {
	env.t.Helper()
	req, err := http.NewRequest(method, env.srv.URL+path, bytes.NewReader(body))
	check(env.t, err)
	if k, ok := env.keys[key]; ok {
		key = k
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	resp, err := env.srv.Client().Do(req)
	check(env.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	check(env.t, err)
	return apiResponse{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// put raises an incident with nagios's key.
func (env *apiEnv) put(body map[string]any, header ...string) apiResponse {
	env.t.Helper()
	b, err := json.Marshal(body)
	check(env.t, err)
	return env.call(http.MethodPut, "/api/v1/incidents", "nagios", b, header...)
}

// count counts a table's rows.
func (env *apiEnv) count(table string) int64 {
	env.t.Helper()
	var n int64
	check(env.t, env.db.Gorm.Table(table).Count(&n).Error)
	return n
}

// rows counts what a request may write, to check a refused one wrote
// nothing.
func (env *apiEnv) rows() map[string]int64 {
	out := map[string]int64{}
	for _, table := range []string{"incidents", "timeline_events", "jobs", "audit_log", "api_idempotency_keys", "integrations", "integration_services"} {
		out[table] = env.count(table)
	}
	var occ int64
	check(env.t, env.db.Gorm.Raw(`SELECT COALESCE(SUM(occurrences), 0) FROM incidents`).Scan(&occ).Error)
	out["occurrences"] = occ
	return out
}

// recordingPager records what the intake asks of the paging engine.
type recordingPager struct {
	mu       sync.Mutex
	claims   []int64
	unclaims []int64
	resolves []int64
}

// Escalate is never the intake's way to start a plan (it does so in the
// transaction that stores the incident); a call is a failure.
func (p *recordingPager) Escalate(context.Context, int64, string) error {
	return errors.New("the intake called Pager.Escalate instead of starting the plan with the incident")
}

func (p *recordingPager) PagePeople(context.Context, int64, string, string, string, string, string) (int, error) {
	return 0, nil
}

func (p *recordingPager) Claim(_ context.Context, id int64, _ string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.claims = append(p.claims, id)
	return nil
}

func (p *recordingPager) Unclaim(_ context.Context, id int64) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.unclaims = append(p.unclaims, id)
	return nil
}

func (p *recordingPager) Resolve(_ context.Context, id int64, _ string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.resolves = append(p.resolves, id)
	return nil
}

// escalated is each escalating incident's plan, as stored: the intake
// starts a plan in the transaction that stores its incident.
func (env *apiEnv) escalated() map[int64]string {
	env.t.Helper()
	var rows []struct {
		IncidentID int64
		Name       string
	}
	check(env.t, env.db.Gorm.Raw(`SELECT escalations.incident_id, plans.name FROM escalations
		JOIN plan_versions ON plan_versions.id = escalations.plan_version_id JOIN plans ON plans.id = plan_versions.plan_id`).Scan(&rows).Error)
	out := map[int64]string{}
	for _, r := range rows {
		out[r.IncidentID] = r.Name
	}
	return out
}
