package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/heraldhq/herald/handlers"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/web"
)

// addService stores a service, escalating with plan ("" for none).
func (h *harness) addService(name, plan string) {
	h.t.Helper()
	svc := &models.Service{ID: uuid.NewString(), Name: name, DefaultSeverity: models.SEV3, CreatedAt: h.now(), UpdatedAt: h.now()}
	if plan != "" {
		p, err := h.node.app.Store.PlanByName(h.ctx, plan)
		if err != nil {
			h.t.Fatal(err)
		}
		svc.PlanID = &p.ID
	}
	if err := h.db.Gorm.Create(svc).Error; err != nil {
		h.t.Fatal(err)
	}
}

// api sends an incidents API request with an integration key.
func (h *harness) api(method, path, key, body string) response {
	h.t.Helper()
	return h.admin(method, path, key, []byte(body))
}

// keyOf reads the key out of an admin answer.
func keyOf(t *testing.T, r response) string {
	t.Helper()
	key, _ := r.JSON(t)["key"].(string)
	if !strings.HasPrefix(key, "hrld_") {
		t.Fatalf("no key in %s", r)
	}
	return key
}

// TestIncidentsAPIWithTheEngine: the whole app. An administrator creates an
// integration (key shown once); an incident for a service with a plan
// starts a real escalation, one for a service without a plan has none and
// says so; claiming over the API stops the escalation; rotation keeps the
// old key until it is finished; revocation stops every key.
func TestIncidentsAPIWithTheEngine(t *testing.T) {
	demo, err := os.ReadFile("../../examples/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	forEachDialect(t, func(t *testing.T, dialect string) {
		h := newHarness(t, dialect, withEnv("HERALD_ADMIN_API_KEY", testAdminKey))
		if r := h.admin(http.MethodPut, "/api/v1/config", testAdminKey, demo); r.Status != http.StatusOK {
			t.Fatalf("PUT demo config: %s", r)
		}
		h.addService("pay-api", "demo")
		h.addService("batch-api", "")

		create := `{"name":"prometheus","services":["pay-api","batch-api"],"quota_per_minute":100}`
		integrationsBefore := h.count("integrations") // the demo's
		for _, bad := range []struct {
			key, body string
			status    int
			field     string
		}{
			{"wrong", create, 401, ""},
			{testAdminKey, `{"services":["pay-api"]}`, 400, "name"},
			{testAdminKey, `{"name":"has space","services":["pay-api"]}`, 400, "name"},
			{testAdminKey, `{"name":"p","services":[]}`, 400, "services"},
			{testAdminKey, `{"name":"p","services":["pay-api"],"quota_per_minute":-5}`, 400, "quota_per_minute"},
			{testAdminKey, `{"name":"p","services":["pay-api"],"scope":"all"}`, 400, "scope"},
			{testAdminKey, `{"name":"p","services":["pay-api","nope"]}`, 404, "services"},
		} {
			r := h.admin(http.MethodPost, "/api/v1/integrations", bad.key, []byte(bad.body))
			if field, _ := r.JSON(t)["field"].(string); r.Status != bad.status || field != bad.field {
				t.Errorf("create %s: %s, want %d naming %q", bad.body, r, bad.status, bad.field)
			}
		}
		if n := h.count("integrations"); n != integrationsBefore {
			t.Fatalf("refused creates stored %d integrations", n)
		}
		r := h.admin(http.MethodPost, "/api/v1/integrations", testAdminKey, []byte(create))
		if r.Status != http.StatusCreated || r.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("create: %s", r)
		}
		key := keyOf(t, r)
		if r := h.admin(http.MethodPost, "/api/v1/integrations", testAdminKey, []byte(create)); r.Status != http.StatusConflict {
			t.Errorf("create again: %s, want 409", r)
		}

		r = h.api(http.MethodPut, "/api/v1/incidents", key, `{"service":"pay-api","severity":"CRIT","title":"checkout down","source":"prometheus"}`)
		if r.Status != http.StatusCreated || r.JSON(t)["paging"] != handlers.PagingStarted+"demo" {
			t.Fatalf("raise for checkout: %s", r)
		}
		paged := int64(r.JSON(t)["id"].(float64))
		if n := h.count("escalations", "incident_id = ? AND state = ?", paged, "active"); n != 1 {
			t.Fatalf("%d active escalations of the checkout incident, want 1", n)
		}
		r = h.api(http.MethodPut, "/api/v1/incidents", key, `{"service":"batch-api","severity":"WARN","title":"batch late"}`)
		if r.Status != http.StatusCreated || r.JSON(t)["paging"] != handlers.PagingNoPlan {
			t.Fatalf("raise for batch: %s", r)
		}
		if n := h.count("escalations", "incident_id = ?", int64(r.JSON(t)["id"].(float64))); n != 0 {
			t.Fatalf("the incident of a service without a plan has %d escalations", n)
		}
		number := int64(h.incident(paged).Number)
		r = h.api(http.MethodPost, fmt.Sprintf("/api/v1/incidents/%d", number), key, `{"state":"CLAIMED","by":"sam"}`)
		if r.Status != http.StatusOK || r.JSON(t)["state"] != "CLAIMED" {
			t.Fatalf("claim: %s", r)
		}
		if n := h.count("escalations", "incident_id = ? AND state = ?", paged, "claimed"); n != 1 {
			t.Errorf("claiming over the API left the escalation unclaimed")
		}

		// Rotation: both keys work until it is finished.
		r = h.admin(http.MethodPost, "/api/v1/integrations/prometheus/rotate", testAdminKey, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("rotate: %s", r)
		}
		newKey := keyOf(t, r)
		for _, k := range []string{key, newKey} {
			if r := h.api(http.MethodGet, "/api/v1/incidents", k, ""); r.Status != http.StatusOK || len(r.JSON(t)["incidents"].([]any)) != 2 {
				t.Errorf("list during the rotation: %s", r)
			}
		}
		list := h.admin(http.MethodGet, "/api/v1/integrations", testAdminKey, nil)
		if list.Status != http.StatusOK || strings.Contains(string(list.Body), "hrld_") || !strings.Contains(string(list.Body), `"has_secondary_key":true`) {
			t.Errorf("integrations listing: %s", list)
		}
		for i, want := range []bool{true, false} {
			r = h.admin(http.MethodPost, "/api/v1/integrations/prometheus/finish-rotation", testAdminKey, nil)
			if r.Status != http.StatusOK || r.JSON(t)["secondary_dropped"] != want {
				t.Errorf("finish-rotation %d: %s, want secondary_dropped %v", i, r, want)
			}
		}
		if r := h.api(http.MethodGet, "/api/v1/incidents", key, ""); r.Status != http.StatusUnauthorized {
			t.Errorf("old key after the rotation: %s", r)
		}
		if r := h.admin(http.MethodPost, "/api/v1/integrations/prometheus/revoke", testAdminKey, nil); r.Status != http.StatusOK {
			t.Fatalf("revoke: %s", r)
		}
		if r := h.api(http.MethodGet, "/api/v1/incidents", newKey, ""); r.Status != http.StatusUnauthorized {
			t.Errorf("revoked key: %s", r)
		}
		for _, path := range []string{"rotate", "finish-rotation", "revoke"} {
			if r := h.admin(http.MethodPost, "/api/v1/integrations/nope/"+path, testAdminKey, nil); r.Status != http.StatusNotFound {
				t.Errorf("%s an unknown integration: %s", path, r)
			}
		}
		for _, k := range []string{key, newKey} {
			if strings.Contains(h.logs.String(), k) {
				t.Fatal("an integration key reached the log")
			}
		}
	})
}

// TestOpenAPIDocumentsEveryRoute: the whole app's /api/v1 routes and
// web/openapi.json agree (see web.OpenAPIMismatches).
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	h := newHarness(t, models.DialectSQLite, withEnv("HERALD_ADMIN_API_KEY", testAdminKey))
	mismatches, err := web.OpenAPIMismatches(h.node.app.Echo)
	if err != nil {
		t.Fatal(err)
	}
	if len(mismatches) > 0 {
		t.Fatalf("document these routes in web/openapi.json (or route what it documents):\n%s", strings.Join(mismatches, "\n"))
	}
	r := h.get("/api/v1/openapi.json")
	var doc map[string]any
	if r.Status != http.StatusOK || json.Unmarshal(r.Body, &doc) != nil || doc["openapi"] == nil {
		t.Fatalf("GET /api/v1/openapi.json: %d", r.Status)
	}
}
