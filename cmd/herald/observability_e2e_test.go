package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/heraldhq/herald/models"
)

// TestObservabilityWired: the assembled app serves Herald's series on
// /metrics (the database gauges included) and the dead-man switch's state
// on /api/v1/deadman.
func TestObservabilityWired(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		opts    []harnessOption
		enabled bool
	}{
		{"dead-man switch off", nil, false},
		{"dead-man switch on", []harnessOption{withEnv("HERALD_DEADMAN_TARGET", "slack-channel:C0DEADMAN"), withEnv("HERALD_DEADMAN_SCHEDULE", "@every 30m")}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, models.DialectSQLite, append(tt.opts, withEnv("HERALD_ADMIN_API_KEY", testAdminKey), withQuietLogs())...)
			h.declare(incidentForm{Title: "Checkout is down", Severity: models.SEV2})
			r := h.get("/metrics")
			if r.Status != http.StatusOK {
				t.Fatalf("GET /metrics: %s", r)
			}
			body := string(r.Body)
			for _, want := range []string{`herald_incidents{status="investigating"} 1`, "herald_engine_queue_depth 0", "herald_engine_queue_lag_seconds 0",
				`herald_engine_last_pass_timestamp_seconds{loop="send"}`, "herald_incident_ack_seconds_count 0", "herald_send_takeovers_total 0"} {
				if !strings.Contains(body, want) {
					t.Errorf("/metrics lacks %q", want)
				}
			}
			if got := strings.Contains(body, "herald_deadman_last_success_timestamp_seconds"); got != tt.enabled {
				t.Errorf("dead-man gauge present: %v, want %v", got, tt.enabled)
			}

			r = h.admin(http.MethodGet, "/api/v1/deadman", testAdminKey, nil)
			var st struct {
				Enabled  bool `json:"enabled"`
				SelfTest *struct {
					Route    string `json:"route"`
					Schedule string `json:"schedule"`
				} `json:"self_test"`
			}
			if r.Status != http.StatusOK || json.Unmarshal(r.Body, &st) != nil || st.Enabled != tt.enabled {
				t.Fatalf("GET /api/v1/deadman: %s", r)
			}
			if tt.enabled && (st.SelfTest == nil || st.SelfTest.Route != "slack-channel:C0DEADMAN" || st.SelfTest.Schedule != "@every 30m") {
				t.Errorf("self_test = %+v", st.SelfTest)
			}
		})
	}
}
