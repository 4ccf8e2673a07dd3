package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/handlers"
	"github.com/heraldhq/herald/internal/fakeclock"
	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/internal/testlog"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
	"github.com/heraldhq/herald/web"
)

const noiseAdminKey = "admin-key-for-noise-tests"

var noiseT0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

const noiseWebConfig = `
services:
  - {name: checkout}
  - {name: search}
integrations:
  - {name: prometheus, services: [checkout, search]}
  - {name: nagios, services: [search]}
heartbeats:
  - {integration: prometheus, service: checkout, interval: 5m}
  - {integration: prometheus, service: search, interval: 10m}
maintenance:
  - {name: from-file, starts_at: "2026-03-01T00:00:00Z", ends_at: "2026-03-01T01:00:00Z", reason: In the file}
`

// noiseEnv serves the maintenance and heartbeat endpoints on a fresh
// database holding the configuration above.
type noiseEnv struct {
	t     *testing.T
	db    *testdb.DB
	clock *fakeclock.Clock
	srv   *httptest.Server
	keys  map[string]string
}

func newNoiseEnv(t *testing.T, dialect string) *noiseEnv {
	t.Helper()
	ctx := context.Background()
	env := &noiseEnv{t: t, clock: fakeclock.New(noiseT0), keys: map[string]string{}}
	env.db = testdb.New(t, dialect, env.clock)
	c, err := notifications.ParseCatalog([]byte(noiseWebConfig))
	noiseMust(t, err)
	_, err = notifications.Apply(ctx, env.db.Store, c, notifications.ApplyOptions{})
	noiseMust(t, err)
	for _, name := range []string{"prometheus", "nagios"} {
		in, err := env.db.Store.IntegrationByName(ctx, name)
		noiseMust(t, err)
		env.keys[name], err = env.db.Store.MintIntegrationKey(ctx, in.ID, false)
		noiseMust(t, err)
	}
	log := testlog.Logger(t)
	deps := handlers.Deps{Store: env.db.Store, Intake: env.db.Store, Clock: env.clock, Log: log, Settings: handlers.Settings{BotName: "incident"}}
	intake := handlers.NewIntake(deps)
	m := handlers.NewMaintenance(deps, env.db.Store)
	intake.Suppressor = m
	e := web.New(web.Options{Log: log, Clock: env.clock, AdminAPIKey: noiseAdminKey, IntegrationAuth: env.db.Store,
		Maintenance: m, Heartbeats: handlers.NewHeartbeats(deps, env.db.Store, intake)})
	env.srv = httptest.NewServer(e)
	t.Cleanup(env.srv.Close)
	return env
}

func noiseMust(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

type noiseAnswer struct {
	Status int
	Header http.Header
	Body   map[string]any
}

// call sends a request with a key: an integration's name, the admin key,
// or "" for none.
func (env *noiseEnv) call(method, path, key, body string) noiseAnswer {
	env.t.Helper()
	req, err := http.NewRequest(method, env.srv.URL+path, strings.NewReader(body))
	noiseMust(env.t, err)
	if k, ok := env.keys[key]; ok {
		key = k
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := env.srv.Client().Do(req)
	noiseMust(env.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	noiseMust(env.t, err)
	out := noiseAnswer{Status: resp.StatusCode, Header: resp.Header}
	if len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, &out.Body); err != nil {
			env.t.Fatalf("%s %s: %d %s is not a JSON object", method, path, resp.StatusCode, raw)
		}
	}
	return out
}

func (env *noiseEnv) windows() int64 {
	var n int64
	noiseMust(env.t, env.db.Gorm.Table("maintenance_windows").Count(&n).Error)
	return n
}

const goodWindow = `{"name": "db-upgrade", "service": "checkout", "match": {"env": "prod"}, "starts_at": "2026-03-01T09:30:00Z",
	"ends_at": "2026-03-01T11:00:00Z", "reason": "Postgres 17", "cancel_pending": true, "created_by": "alice"}`

// TestMaintenanceAPI: the admin key is required; a window is created,
// listed (active now, until its end) and deleted; every bad field is
// named and changes nothing; the file's windows are not the API's to
// delete.
func TestMaintenanceAPI(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			env := newNoiseEnv(t, d)
			for _, key := range []string{"", "wrong", "prometheus"} {
				if r := env.call(http.MethodPost, "/api/v1/maintenance", key, goodWindow); r.Status != http.StatusUnauthorized {
					t.Errorf("POST with key %q: %d", key, r.Status)
				}
			}
			r := env.call(http.MethodPost, "/api/v1/maintenance", noiseAdminKey, goodWindow)
			if r.Status != http.StatusCreated || r.Body["name"] != "db-upgrade" || r.Body["service"] != "checkout" || r.Body["active"] != true ||
				r.Body["until"] != "2026-03-01T11:00:00Z" || r.Body["created_by"] != "alice" || r.Body["managed_by"] != "api" || r.Body["cancel_pending"] != true {
				t.Fatalf("POST: %d %v", r.Status, r.Body)
			}
			if r := env.call(http.MethodPost, "/api/v1/maintenance", noiseAdminKey, goodWindow); r.Status != http.StatusConflict || r.Body["field"] != "name" {
				t.Errorf("POST again: %d %v", r.Status, r.Body)
			}

			before := env.windows()
			bad := []struct {
				name, body, field, text string
			}{
				{"empty", ``, "", "JSON object"},
				{"not JSON", `{"name":`, "", "not a valid window"},
				{"two objects", `{} {}`, "", "nothing after it"},
				{"unknown field", `{"name": "w", "colour": "red"}`, "colour", "unknown field"},
				{"wrong type", `{"name": "w", "cancel_pending": "yes"}`, "cancel_pending", "cancel_pending must be true or false"},
				{"missing fields", `{"name": "w"}`, "reason", "starts_at: required"},
				{"unknown service", `{"name": "w", "service": "nope", "starts_at": "2026-03-01T00:00:00Z", "ends_at": "2026-03-01T01:00:00Z", "reason": "r", "created_by": "a"}`, "service", `unknown service "nope"`},
				{"no author", `{"name": "w", "starts_at": "2026-03-01T00:00:00Z", "ends_at": "2026-03-01T01:00:00Z", "reason": "r"}`, "created_by", "created_by: required"},
				{"bad weekly", `{"name": "w", "starts_at": "2026-03-01T00:00:00Z", "reason": "r", "created_by": "a", "weekly": {"weekdays": ["someday"], "start": "2am", "duration": "2h", "time_zone": "UTC"}}`,
					"weekly.weekdays[0]", "weekly.start"},
			}
			for _, tt := range bad {
				r := env.call(http.MethodPost, "/api/v1/maintenance", noiseAdminKey, tt.body)
				if r.Status != http.StatusBadRequest || r.Body["field"] != tt.field && tt.field != "" || !strings.Contains(r.Body["error"].(string), tt.text) {
					t.Errorf("%s: %d %v; want 400 naming %q, saying %q", tt.name, r.Status, r.Body, tt.field, tt.text)
				}
			}
			if big := env.call(http.MethodPost, "/api/v1/maintenance", noiseAdminKey, `{"reason": "`+strings.Repeat("x", 70<<10)+`"}`); big.Status != http.StatusRequestEntityTooLarge {
				t.Errorf("oversized: %d", big.Status)
			}
			if n := env.windows(); n != before {
				t.Errorf("refused requests stored windows: %d, was %d", n, before)
			}

			r = env.call(http.MethodGet, "/api/v1/maintenance", noiseAdminKey, "")
			ws, _ := r.Body["windows"].([]any)
			if r.Status != http.StatusOK || len(ws) != 2 {
				t.Fatalf("GET: %d %v", r.Status, r.Body)
			}
			if w := ws[1].(map[string]any); w["name"] != "from-file" || w["managed_by"] != "config" || w["active"] != false || w["until"] != nil {
				t.Errorf("the file's window = %v", w)
			}
			if r := env.call(http.MethodDelete, "/api/v1/maintenance/from-file", noiseAdminKey, ""); r.Status != http.StatusConflict || r.Body["field"] != "name" {
				t.Errorf("DELETE the file's window: %d %v", r.Status, r.Body)
			}
			if r := env.call(http.MethodDelete, "/api/v1/maintenance/nope", noiseAdminKey, ""); r.Status != http.StatusNotFound {
				t.Errorf("DELETE an unknown window: %d %v", r.Status, r.Body)
			}
			if r := env.call(http.MethodDelete, "/api/v1/maintenance/db-upgrade", "", ""); r.Status != http.StatusUnauthorized {
				t.Errorf("DELETE without the key: %d", r.Status)
			}
			if r := env.call(http.MethodDelete, "/api/v1/maintenance/db-upgrade", noiseAdminKey, ""); r.Status != http.StatusNoContent || env.windows() != 1 {
				t.Errorf("DELETE: %d, %d windows left", r.Status, env.windows())
			}
		})
	}
}

// TestHeartbeatEndpoint: the integration's key is required; a check-in
// covers every monitor of the integration or the one named; naming a
// service without a monitor, or a malformed body, is refused naming it.
func TestHeartbeatEndpoint(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			env := newNoiseEnv(t, d)
			for _, key := range []string{"", noiseAdminKey, "hrld_0123"} {
				if r := env.call(http.MethodPost, "/api/v1/heartbeat", key, ""); r.Status != http.StatusUnauthorized {
					t.Errorf("check-in with key %q: %d", key, r.Status)
				}
			}
			env.clock.Advance(time.Minute)
			r := env.call(http.MethodPost, "/api/v1/heartbeat", "prometheus", "")
			got, _ := r.Body["checked_in"].([]any)
			if r.Status != http.StatusOK || r.Body["integration"] != "prometheus" || len(got) != 2 {
				t.Fatalf("check-in: %d %v", r.Status, r.Body)
			}
			services := map[string]string{}
			for _, c := range got {
				c := c.(map[string]any)
				services[c["service"].(string)] = c["next_due_at"].(string)
			}
			if services["checkout"] != "2026-03-01T10:06:00Z" || services["search"] != "2026-03-01T10:11:00Z" {
				t.Errorf("checked in = %v", services)
			}
			for _, req := range []struct{ path, body string }{
				{"/api/v1/heartbeat?service=search", ""},
				{"/api/v1/heartbeat", `{"service": "search"}`},
				{"/api/v1/heartbeat?service=search", `{"service": "search"}`},
			} {
				r := env.call(http.MethodPost, req.path, "prometheus", req.body)
				if got, _ := r.Body["checked_in"].([]any); r.Status != http.StatusOK || len(got) != 1 {
					t.Errorf("%s %s: %d %v", req.path, req.body, r.Status, r.Body)
				}
			}
			env.clock.Advance(time.Minute) // refused check-ins must not move last_seen_at
			refused := []struct {
				key, path, body string
				status          int
				field           string
			}{
				{"nagios", "/api/v1/heartbeat", "", http.StatusNotFound, ""},
				{"prometheus", "/api/v1/heartbeat?service=billing", "", http.StatusNotFound, "service"},
				{"prometheus", "/api/v1/heartbeat", `{"service": 7}`, http.StatusBadRequest, "service"},
				{"prometheus", "/api/v1/heartbeat", `{"service": "x", "extra": 1}`, http.StatusBadRequest, ""},
				{"prometheus", "/api/v1/heartbeat?service=checkout", `{"service": "search"}`, http.StatusBadRequest, "service"},
				{"prometheus", "/api/v1/heartbeat", `[1]`, http.StatusBadRequest, ""},
				{"prometheus", "/api/v1/heartbeat", strings.Repeat(" ", 5<<10), http.StatusRequestEntityTooLarge, ""},
			}
			for _, tt := range refused {
				r := env.call(http.MethodPost, tt.path, tt.key, tt.body)
				if r.Status != tt.status || (tt.field != "" && r.Body["field"] != tt.field) || r.Body["error"] == nil {
					t.Errorf("%s %s %.40q: %d %v; want %d naming %q", tt.key, tt.path, tt.body, r.Status, r.Body, tt.status, tt.field)
				}
			}
			var seen []models.Heartbeat
			noiseMust(t, env.db.Gorm.Order("service_id").Find(&seen).Error)
			for _, h := range seen {
				if h.LastSeenAt == nil || !h.LastSeenAt.Equal(noiseT0.Add(time.Minute)) {
					t.Errorf("heartbeat %+v: refused check-ins must not count", h)
				}
			}
		})
	}
}

// TestAppliedGenericConfigIsValid: what `herald apply` stores for an
// integration's generic: is what the generic webhook reads.
func TestAppliedGenericConfigIsValid(t *testing.T) {
	db := testdb.New(t, models.DialectSQLite, fakeclock.New(noiseT0))
	c, err := notifications.ParseCatalog([]byte(`
services: [{name: checkout}]
integrations:
  - name: uptime
    services: [checkout]
    generic:
      title: alert.name
      severity: alert.level
      severity_map: {p1: CRIT, p2: 2, p3: minor, "a.b": SEV4}
      dedup_key: alert.id
      state: alert.status
      resolved_values: [ok]
      message: alert.text
      service: alert.service
`))
	noiseMust(t, err)
	_, err = notifications.Apply(context.Background(), db.Store, c, notifications.ApplyOptions{})
	noiseMust(t, err)
	in, err := db.Store.IntegrationByName(context.Background(), "uptime")
	noiseMust(t, err)
	if err := web.ValidateGenericConfig(in.GenericConfig); err != nil {
		t.Errorf("the generic webhook refuses %s: %v", in.GenericConfig, err)
	}
	want := `{"title":"alert.name","severity":"alert.level","severity_map":{"a.b":4,"p1":1,"p2":2,"p3":3},"dedup_key":"alert.id","state":"alert.status","resolved_values":["ok"],"message":"alert.text","service":"alert.service"}`
	if in.GenericConfig != want {
		t.Errorf("generic_config = %s\nwant %s", in.GenericConfig, want)
	}
}
