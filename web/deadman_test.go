package web_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/testlog"
	"github.com/heraldhq/herald/notifications"
	"github.com/heraldhq/herald/web"
)

type fakeDeadMan struct {
	st  notifications.DeadManStatus
	err error
}

func (f fakeDeadMan) Status(context.Context) (notifications.DeadManStatus, error) { return f.st, f.err }

func TestDeadManEndpoint(t *testing.T) {
	t.Parallel()
	const key = "admin-key-for-dead-man-tests-0123456789"
	success := time.Date(2026, 3, 1, 12, 0, 1, 0, time.UTC)
	st := notifications.DeadManStatus{Enabled: true, SelfTest: &notifications.DeadManSelfTestStatus{Route: "user:alice", Schedule: "@every 1h",
		LastSuccessAt: &success, NextRunAt: success.Add(time.Hour)}, Engine: &notifications.DeadManHealth{Healthy: true}}
	log := testlog.Logger(t)
	tests := []struct {
		name   string
		dm     fakeDeadMan
		auth   string
		status int
		want   string // a JSON field that must be there
	}{
		{"no key", fakeDeadMan{st: st}, "", http.StatusUnauthorized, "error"},
		{"wrong key", fakeDeadMan{st: st}, "Bearer nope", http.StatusUnauthorized, "error"},
		{"status", fakeDeadMan{st: st}, "Bearer " + key, http.StatusOK, "self_test"},
		{"off", fakeDeadMan{}, "Bearer " + key, http.StatusOK, "enabled"},
		{"database down", fakeDeadMan{err: errors.New("database is gone")}, "Bearer " + key, http.StatusInternalServerError, "error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := web.New(web.Options{Log: log, AdminAPIKey: key, DeadMan: tt.dm})
			req := httptest.NewRequest(http.MethodGet, "/api/v1/deadman", nil)
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			var body map[string]any
			if rec.Code != tt.status || json.Unmarshal(rec.Body.Bytes(), &body) != nil || body[tt.want] == nil {
				t.Fatalf("%d %s, want %d with %q", rec.Code, rec.Body, tt.status, tt.want)
			}
			if tt.status == http.StatusInternalServerError && body["error"] == "database is gone" {
				t.Errorf("the internal error leaked: %s", rec.Body)
			}
			if tt.name == "status" {
				self, _ := body["self_test"].(map[string]any)
				if self["last_success_at"] != "2026-03-01T12:00:01Z" || self["route"] != "user:alice" {
					t.Errorf("self_test = %v", self)
				}
			}
		})
	}
	rec := httptest.NewRecorder()
	web.New(web.Options{Log: log, DeadMan: fakeDeadMan{st: st}}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/deadman", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("without an admin key the route exists: %d", rec.Code)
	}
}
