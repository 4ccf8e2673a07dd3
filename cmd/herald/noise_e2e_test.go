package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/handlers"
)

const noiseE2EConfig = `
people:
  - {name: alice, slack_id: U0ALICE}
teams:
  - {name: shop, members: [alice], oncall: {primary: alice}}
plans:
  - name: shop
    team: shop
    steps:
      - notifications:
          - {role: oncall-primary, target: shop, priority: high, wait: 5, repeat: 2}
services:
  - {name: checkout, team: shop, plan: shop}
integrations:
  - {name: prometheus, services: [checkout]}
heartbeats:
  - {integration: prometheus, service: checkout, interval: 5m}
`

// TestNoiseControlEndToEnd: the whole app over HTTP. A maintenance window
// made over the admin API holds a matching Alertmanager alert (recorded,
// nobody paged) but not an API alert it does not match; a cancel_pending
// window that starts stops the running escalation (the periodic check);
// a missed heartbeat opens an incident and the check-in resolves it.
func TestNoiseControlEndToEnd(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dialect string) {
		h := newHarness(t, dialect, withEnv("HERALD_ADMIN_API_KEY", testAdminKey))
		r := h.admin(http.MethodPut, "/api/v1/config", testAdminKey, []byte(noiseE2EConfig))
		if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"KeysToMint":["prometheus"]`) {
			t.Fatalf("PUT config: %s", r)
		}
		key := keyOf(t, h.admin(http.MethodPost, "/api/v1/integrations/prometheus/rotate", testAdminKey, nil))
		at := func(d time.Duration) string { return h.now().Add(d).UTC().Format(time.RFC3339) }

		window := fmt.Sprintf(`{"name":"error-spike","service":"checkout","match":{"alertname":"HighErrorRate"},"starts_at":%q,"ends_at":%q,"reason":"Known error spike","created_by":"alice"}`,
			at(-time.Minute), at(time.Hour))
		if r := h.admin(http.MethodPost, "/api/v1/maintenance", testAdminKey, []byte(window)); r.Status != http.StatusCreated || r.JSON(t)["active"] != true {
			t.Fatalf("POST maintenance: %s", r)
		}
		a := h.postWebhookOK("/api/v1/webhooks/alertmanager?service=checkout", key, webhookBody(t, "alertmanager/firing.json"), http.StatusCreated)
		if !strings.HasPrefix(a.Paging, handlers.PagingSuppressed+`maintenance window "error-spike" (Known error spike)`) {
			t.Fatalf("alert in the window: %+v", a)
		}
		inc, err := h.db.Store.IncidentByNumber(h.ctx, a.Incident)
		if err != nil {
			t.Fatal(err)
		}
		if n := h.count("escalations", "incident_id = ?", inc.ID); n != 0 {
			t.Errorf("the held alert escalates (%d)", n)
		}
		if !slicesContain(h.timelineTexts(inc.ID), `Not paged: maintenance window "error-spike"`) {
			t.Errorf("timeline: %v", h.timelineTexts(inc.ID))
		}

		r = h.api(http.MethodPut, "/api/v1/incidents", key, `{"service":"checkout","severity":"CRIT","title":"checkout down"}`)
		if r.Status != http.StatusCreated || r.JSON(t)["paging"] != handlers.PagingStarted+"shop" {
			t.Fatalf("an alert the window does not match: %s", r)
		}
		paged := int64(r.JSON(t)["id"].(float64))

		freeze := fmt.Sprintf(`{"name":"freeze","service":"checkout","starts_at":%q,"ends_at":%q,"reason":"Release freeze","cancel_pending":true,"created_by":"alice"}`,
			at(10*time.Minute), at(2*time.Hour))
		if r := h.admin(http.MethodPost, "/api/v1/maintenance", testAdminKey, []byte(freeze)); r.Status != http.StatusCreated || r.JSON(t)["active"] != false {
			t.Fatalf("POST freeze: %s", r)
		}
		h.clock.Advance(10 * time.Minute)
		if ran, err := h.node.app.noise.Tick(h.ctx); err != nil || !ran {
			t.Fatalf("Tick = %v, %v", ran, err)
		}
		if n := h.count("escalations", "incident_id = ? AND state = ? AND claimed_by = ?", paged, "claimed", `maintenance window "freeze"`); n != 1 {
			t.Errorf("the freeze did not stop the running escalation")
		}
		if !h.incident(paged).IsOpen() {
			t.Error("the stopped incident was closed")
		}

		// The heartbeat, due 5 minutes after the configuration, was
		// missed: its incident is recorded (in the freeze, nobody paged).
		var beat struct {
			ID     int64
			Number int64
		}
		if err := h.db.Gorm.Table("incidents").Select("id, number").Where("source = ?", "heartbeat").Take(&beat).Error; err != nil {
			t.Fatalf("no heartbeat incident: %v", err)
		}
		if title := h.incident(beat.ID).Title; title != "Heartbeat missed: prometheus has not checked in for 10 minutes" {
			t.Errorf("heartbeat incident %q", title)
		}
		r = h.admin(http.MethodPost, "/api/v1/heartbeat", key, nil)
		checked, _ := r.JSON(t)["checked_in"].([]any)
		if r.Status != http.StatusOK || len(checked) != 1 || checked[0].(map[string]any)["resolved_incident"] != float64(beat.Number) {
			t.Fatalf("check-in: %s", r)
		}
		if h.incident(beat.ID).IsOpen() {
			t.Error("the check-in left the heartbeat incident open")
		}

		if r := h.admin(http.MethodDelete, "/api/v1/maintenance/freeze", testAdminKey, nil); r.Status != http.StatusNoContent {
			t.Errorf("DELETE freeze: %s", r)
		}
	})
}

func slicesContain(texts []string, sub string) bool {
	for _, s := range texts {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
