package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
)

const testAdminKey = "0123456789abcdef0123456789abcdef-admin"

func (h *harness) admin(method, path, key string, body []byte) response {
	h.t.Helper()
	req, err := http.NewRequestWithContext(h.ctx, method, h.node.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := h.node.client.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b.Bytes()}
}

func TestAdminAPIConfigAsCode(t *testing.T) {
	demo, err := os.ReadFile("../../examples/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	forEachDialect(t, func(t *testing.T, dialect string) {
		h := newHarness(t, dialect, withEnv("HERALD_ADMIN_API_KEY", testAdminKey))

		for _, key := range []string{"", "wrong", testAdminKey + "x"} {
			if r := h.admin(http.MethodGet, "/api/v1/config", key, nil); r.Status != http.StatusUnauthorized {
				t.Fatalf("GET config with key %q: %s, want 401", key, r)
			}
		}
		r := h.admin(http.MethodPut, "/api/v1/config", testAdminKey, demo)
		if r.Status != http.StatusOK {
			t.Fatalf("PUT demo config: %s", r)
		}
		var report struct{ Changes []any }
		if err := json.Unmarshal(r.Body, &report); err != nil || len(report.Changes) == 0 {
			t.Fatalf("first apply reported no changes: %s (%v)", r, err)
		}
		if r := h.admin(http.MethodPut, "/api/v1/config", testAdminKey, demo); r.Status != http.StatusOK || strings.Contains(string(r.Body), `"Changes":[{`) {
			t.Fatalf("second apply is not a no-op: %s", r)
		}
		bad := []byte("plans:\n  - name: p\n    steps:\n      - notifications:\n          - {role: oncal-primary, target: demo, priority: high, wait: 5, repeat: 1}\n")
		r = h.admin(http.MethodPut, "/api/v1/config", testAdminKey, bad)
		if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), `plans[0].steps[0].notifications[0].role`) {
			t.Fatalf("invalid config: %s, want 400 naming the path", r)
		}
		if r := h.admin(http.MethodPut, "/api/v1/config?prune=maybe", testAdminKey, demo); r.Status != http.StatusBadRequest {
			t.Fatalf("bad prune flag: %s, want 400", r)
		}
		if r := h.admin(http.MethodPut, "/api/v1/config", testAdminKey, []byte("people: [")); r.Status != http.StatusBadRequest {
			t.Fatalf("unparseable YAML: %s, want 400", r)
		}
		r = h.admin(http.MethodGet, "/api/v1/config", testAdminKey, nil)
		if r.Status != http.StatusOK || !strings.Contains(string(r.Body), "<redacted>") || strings.Contains(string(r.Body), "+447700900001") {
			t.Fatalf("export: %s, want destinations redacted", r)
		}
		if strings.Contains(h.logs.String(), "+447700900001") || strings.Contains(h.logs.String(), testAdminKey) {
			t.Fatalf("a phone number or the admin key reached the log")
		}
	})
}

func TestAdminAPIOutOfBandNotification(t *testing.T) {
	demo, err := os.ReadFile("../../examples/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	forEachDialect(t, func(t *testing.T, dialect string) {
		h := newHarness(t, dialect, withEnv("HERALD_ADMIN_API_KEY", testAdminKey))
		if r := h.admin(http.MethodPut, "/api/v1/config", testAdminKey, demo); r.Status != http.StatusOK {
			t.Fatalf("PUT demo config: %s", r)
		}
		r := h.admin(http.MethodPost, "/api/v1/notifications", testAdminKey,
			[]byte(`{"role":"oncall-primary","target":"demo","mode":"slack","subject":"Deploy freeze","body":"Deploy freeze from 18:00"}`))
		if r.Status != http.StatusAccepted || !strings.Contains(string(r.Body), `"queued":1`) {
			t.Fatalf("notify: %s", r)
		}
		if _, err := h.node.app.Engine.SendDue(h.ctx); err != nil {
			t.Fatal(err)
		}
		var found bool
		for _, c := range h.fake.Calls("chat.postMessage") {
			if c.Param("channel") == "U0DEMOUSER" && strings.Contains(c.AllText(), "Deploy freeze from 18:00") {
				found = true
				if strings.Contains(c.Param("blocks"), "page.claim") {
					t.Errorf("an out-of-band message carries a Claim button")
				}
			}
		}
		if !found {
			t.Fatalf("no Slack DM to the demo on-call with the message")
		}
		for _, c := range []struct{ body, want string }{
			{`{"role":"oncal","target":"demo","priority":"low","body":"x"}`, "unknown role"},
			{`{"role":"team","target":"demo","body":"x"}`, "priority or a mode"},
			{`{"role":"team","target":"nobody-team","priority":"low","body":"x"}`, "resolves to nobody"},
			{`{"role":"team","target":"demo","priority":"low","body":"x","extra":1}`, "unknown field"},
			{`not json`, "JSON object"},
		} {
			r := h.admin(http.MethodPost, "/api/v1/notifications", testAdminKey, []byte(c.body))
			if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), c.want) {
				t.Errorf("notify %s: %s, want 400 with %q", c.body, r, c.want)
			}
		}
	})
}
