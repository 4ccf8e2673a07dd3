package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/handlers"
	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/models"
)

// TestIncidentsAPICreate: a new incident answers 201 with its number and
// starts its service's plan; a service without a plan says so and pages
// nobody; GET shows every field.
func TestIncidentsAPICreate(t *testing.T) {
	t.Parallel()
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			env := newAPIEnv(t, d)
			r := env.put(map[string]any{
				"service": "payments", "severity": "CRIT", "title": "5xx error rate above 5%", "message": "checkout is failing",
				"detected_at": "2026-11-22T14:00:00+01:00", "source": "prometheus", "dedup_key": "checkout-5xx",
				"context": map[string]any{"labels": map[string]any{"env": "prod"}, "value": 7.5},
			})
			if r.Status != http.StatusCreated {
				t.Fatalf("create: %d %s", r.Status, r.Body)
			}
			got := r.json(t)
			number := int64(got["number"].(float64))
			if got["created"] != true || got["state"] != "OPEN" || got["paging"] != handlers.PagingStarted+"payments-oncall" ||
				got["url"] != fmt.Sprintf("https://herald.example/incidents/%d", number) || got["occurrences"] != float64(1) {
				t.Errorf("create answer %s", r.Body)
			}
			if esc := env.escalated(); len(esc) != 1 || esc[int64(got["id"].(float64))] != "payments-oncall" {
				t.Errorf("escalations %v, want the incident on payments-oncall", esc)
			}

			r = env.call(http.MethodGet, fmt.Sprintf("/api/v1/incidents/%d", number), "nagios", nil)
			if r.Status != http.StatusOK {
				t.Fatalf("get: %d %s", r.Status, r.Body)
			}
			inc := r.json(t)
			want := map[string]any{
				"number": float64(number), "title": "5xx error rate above 5%", "message": "checkout is failing", "severity": "CRIT",
				"state": "OPEN", "service": "payments", "source": "prometheus", "application": "nagios", "dedup_key": "checkout-5xx",
				"occurrences": float64(1), "detected_at": "2026-11-22T13:00:00Z", "created_at": docT0.Format(time.RFC3339),
				"last_seen_at": docT0.Format(time.RFC3339), "acknowledged_at": nil, "resolved_at": nil,
				"url": fmt.Sprintf("https://herald.example/incidents/%d", number),
			}
			for k, v := range want {
				if inc[k] != v {
					t.Errorf("incident %s = %#v, want %#v", k, inc[k], v)
				}
			}
			if ctx, _ := json.Marshal(inc["context"]); string(ctx) != `{"labels":{"env":"prod"},"value":7.5}` {
				t.Errorf("context = %s", ctx)
			}

			r = env.put(map[string]any{"service": "web", "severity": "WARN", "title": "disk 90% full"})
			if r.Status != http.StatusCreated || r.json(t)["paging"] != handlers.PagingNoPlan {
				t.Fatalf("service without a plan: %d %s", r.Status, r.Body)
			}
			if esc := env.escalated(); len(esc) != 1 {
				t.Errorf("a service without a plan escalated: %v", esc)
			}
			var notes int64
			check(t, env.db.Gorm.Table("timeline_events").Where("incident_id = ? AND text LIKE ?", int64(r.json(t)["id"].(float64)), "%no escalation plan%").Count(&notes).Error)
			if notes != 1 {
				t.Errorf("the timeline of the unplanned incident does not say nobody is paged")
			}
			r = env.call(http.MethodGet, fmt.Sprintf("/api/v1/incidents/%d", int64(r.json(t)["number"].(float64))), "nagios", nil)
			if m := r.json(t); m["severity"] != "WARN" || m["source"] != "api" || m["dedup_key"] != nil || m["detected_at"] != nil || string(asJSON(t, m["context"])) != "{}" {
				t.Errorf("minimal incident %s", r.Body)
			}
		})
	}
}

func asJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	check(t, err)
	return b
}

// TestIncidentsAPIDedupConcurrent: 20 identical alerts at once make one
// incident with 20 occurrences, paged once.
func TestIncidentsAPIDedupConcurrent(t *testing.T) {
	t.Parallel()
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			env := newAPIEnv(t, d)
			body := map[string]any{"service": "payments", "severity": "ERR", "title": "queue backlog", "dedup_key": "queue-backlog"}
			const n = 20
			answers := make([]apiResponse, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() { defer wg.Done(); answers[i] = env.put(body) }()
			}
			wg.Wait()
			created, numbers := 0, map[any]int{}
			for _, r := range answers {
				switch r.Status {
				case http.StatusCreated:
					created++
				case http.StatusOK:
					if m := r.json(t); m["created"] != false || m["paging"] != handlers.PagingRepeat {
						t.Errorf("repeat answer %s", r.Body)
					}
				default:
					t.Fatalf("answer %d %s", r.Status, r.Body)
				}
				numbers[r.json(t)["number"]]++
			}
			if created != 1 || len(numbers) != 1 {
				t.Fatalf("%d created, numbers %v; want one incident", created, numbers)
			}
			var inc models.Incident
			check(t, env.db.Gorm.Take(&inc).Error)
			if env.count("incidents") != 1 || inc.Occurrences != n {
				t.Errorf("%d incidents, %d occurrences; want 1, %d", env.count("incidents"), inc.Occurrences, n)
			}
			if esc := env.escalated(); len(esc) != 1 {
				t.Errorf("escalations %v, want one", esc)
			}
		})
	}
}

// TestIncidentsAPIIdempotencyKey: a retried create returns the first
// answer byte for byte and stores nothing more, also when the first was a
// repeat; keys are per integration.
func TestIncidentsAPIIdempotencyKey(t *testing.T) {
	t.Parallel()
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			env := newAPIEnv(t, d)
			body := map[string]any{"service": "payments", "severity": "CRIT", "title": "db down", "dedup_key": "db"}
			first := env.put(body, "Idempotency-Key", "req-1")
			if first.Status != http.StatusCreated {
				t.Fatalf("first: %d %s", first.Status, first.Body)
			}
			before := env.rows()
			env.clock.Advance(time.Minute)
			retry := env.put(body, "Idempotency-Key", "req-1")
			if retry.Status != http.StatusCreated || string(retry.Body) != string(first.Body) || retry.Header.Get("Idempotent-Replayed") != "true" {
				t.Fatalf("retry: %d %s (replayed %q), want the first answer %s", retry.Status, retry.Body, retry.Header.Get("Idempotent-Replayed"), first.Body)
			}
			if after := env.rows(); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("the retry changed rows: %v → %v", before, after)
			}

			// A new request (another key) is a repeat: counted once, and its
			// retry replays "repeat" without counting again.
			repeat := env.put(body, "Idempotency-Key", "req-2")
			if repeat.Status != http.StatusOK || repeat.json(t)["occurrences"] != float64(2) {
				t.Fatalf("repeat: %d %s", repeat.Status, repeat.Body)
			}
			again := env.put(body, "Idempotency-Key", "req-2")
			if again.Status != http.StatusOK || string(again.Body) != string(repeat.Body) {
				t.Fatalf("retried repeat: %d %s", again.Status, again.Body)
			}
			if occ := env.rows()["occurrences"]; occ != 2 || env.count("incidents") != 1 {
				t.Errorf("occurrences %d, incidents %d; want 2, 1", occ, env.count("incidents"))
			}
			if esc := env.escalated(); len(esc) != 1 {
				t.Errorf("escalations %v, want one", esc)
			}

			// The same key from another integration is another request.
			other := env.call(http.MethodPut, "/api/v1/incidents", "grafana", []byte(`{"service":"billing","severity":"WARN","title":"slow"}`), "Idempotency-Key", "req-1")
			if other.Status != http.StatusCreated || other.json(t)["number"] == first.json(t)["number"] {
				t.Fatalf("another integration's key: %d %s", other.Status, other.Body)
			}
		})
	}
}

// TestIncidentsAPIQuota: over the quota is 429 with Retry-After and
// nothing stored; the next minute works again.
func TestIncidentsAPIQuota(t *testing.T) {
	t.Parallel()
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			env := newAPIEnv(t, d)
			body := []byte(`{"service":"web","severity":"WARN","title":"slow pages"}`)
			for i := range 2 {
				if r := env.call(http.MethodPut, "/api/v1/incidents", "limited", body); r.Status != http.StatusCreated {
					t.Fatalf("request %d within quota: %d %s", i+1, r.Status, r.Body)
				}
			}
			before := env.rows()
			r := env.call(http.MethodPut, "/api/v1/incidents", "limited", body)
			if r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") != "60" {
				t.Fatalf("over quota: %d %s Retry-After %q", r.Status, r.Body, r.Header.Get("Retry-After"))
			}
			if after := env.rows(); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("a refused request changed rows: %v → %v", before, after)
			}
			env.clock.Advance(time.Minute)
			if r := env.call(http.MethodPut, "/api/v1/incidents", "limited", body); r.Status != http.StatusCreated {
				t.Fatalf("next minute: %d %s", r.Status, r.Body)
			}
		})
	}
}

// TestIncidentsAPIRefusals: every malformed request is refused naming
// what is wrong, with the right status, and changes nothing.
func TestIncidentsAPIRefusals(t *testing.T) {
	t.Parallel()
	valid := `"service":"payments","severity":"CRIT","title":"down"`
	tests := []struct {
		name, key, body string
		header          []string
		status          int
		field           string
	}{
		{"no key", "", `{` + valid + `}`, nil, 401, ""},
		{"wrong key", "hrld_0123456789abcdef0123456789abcdef_nope", `{` + valid + `}`, nil, 401, ""},
		{"not a Herald key", "secret", `{` + valid + `}`, nil, 401, ""},
		{"empty body", "nagios", ``, nil, 400, ""},
		{"not an object", "nagios", `[1]`, nil, 400, ""},
		{"broken JSON", "nagios", `{"service":`, nil, 400, ""},
		{"data after the object", "nagios", `{` + valid + `} {}`, nil, 400, ""},
		{"unknown field", "nagios", `{` + valid + `,"sevrity":"x"}`, nil, 400, "sevrity"},
		{"field twice", "nagios", `{` + valid + `,"title":"again"}`, nil, 400, "title"},
		{"service missing", "nagios", `{"severity":"CRIT","title":"down"}`, nil, 400, "service"},
		{"service a number", "nagios", `{"service":7,"severity":"CRIT","title":"down"}`, nil, 400, "service"},
		{"severity missing", "nagios", `{"service":"payments","title":"down"}`, nil, 400, "severity"},
		{"severity unknown", "nagios", `{"service":"payments","severity":"HIGH","title":"down"}`, nil, 400, "severity"},
		{"title missing", "nagios", `{"service":"payments","severity":"CRIT"}`, nil, 400, "title"},
		{"title blank", "nagios", `{"service":"payments","severity":"CRIT","title":"  "}`, nil, 400, "title"},
		{"title too long", "nagios", `{"service":"payments","severity":"CRIT","title":"` + strings.Repeat("é", 151) + `"}`, nil, 400, "title"},
		{"title two lines", "nagios", `{"service":"payments","severity":"CRIT","title":"a\nb"}`, nil, 400, "title"},
		{"message a boolean", "nagios", `{` + valid + `,"message":true}`, nil, 400, "message"},
		{"detected_at not RFC 3339", "nagios", `{` + valid + `,"detected_at":"yesterday"}`, nil, 400, "detected_at"},
		{"detected_at in the future", "nagios", `{` + valid + `,"detected_at":"` + docT0.Add(time.Hour).Format(time.RFC3339) + `"}`, nil, 400, "detected_at"},
		{"source with spaces", "nagios", `{` + valid + `,"source":"my monitor"}`, nil, 400, "source"},
		{"dedup_key too long", "nagios", `{` + valid + `,"dedup_key":"` + strings.Repeat("k", 256) + `"}`, nil, 400, "dedup_key"},
		{"context an array", "nagios", `{` + valid + `,"context":[1]}`, nil, 400, "context"},
		{"context a string", "nagios", `{` + valid + `,"context":"{}"}`, nil, 400, "context"},
		{"context too large", "nagios", `{` + valid + `,"context":{"x":"` + strings.Repeat("x", 16<<10) + `"}}`, nil, 400, "context"},
		{"bad Idempotency-Key", "nagios", `{` + valid + `}`, []string{"Idempotency-Key", "has space"}, 400, "Idempotency-Key"},
		{"body too large", "nagios", `{` + valid + `,"message":"` + strings.Repeat("m", 64<<10) + `"}`, nil, 413, ""},
		{"unknown service", "nagios", `{"service":"nope","severity":"CRIT","title":"down"}`, nil, 404, "service"},
		{"another team's service", "nagios", `{"service":"billing","severity":"CRIT","title":"down"}`, nil, 403, "service"},
	}
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			env := newAPIEnv(t, d)
			before := env.rows()
			for _, tt := range tests {
				r := env.call(http.MethodPut, "/api/v1/incidents", tt.key, []byte(tt.body), tt.header...)
				if r.Status != tt.status {
					t.Errorf("%s: %d %s, want %d", tt.name, r.Status, r.Body, tt.status)
					continue
				}
				m := r.json(t)
				if msg, _ := m["error"].(string); msg == "" {
					t.Errorf("%s: no error message in %s", tt.name, r.Body)
				}
				if field, _ := m["field"].(string); field != tt.field {
					t.Errorf("%s: field %q, want %q (%s)", tt.name, field, tt.field, r.Body)
				}
			}
			if after := env.rows(); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("refused requests changed rows: %v → %v", before, after)
			}
			if esc := env.escalated(); len(esc) != 0 {
				t.Errorf("refused requests paged: %v", esc)
			}
			// A revoked key is refused like a wrong one.
			in, err := env.db.Store.IntegrationByName(t.Context(), "nagios")
			check(t, err)
			check(t, env.db.Store.RevokeIntegration(t.Context(), in.ID))
			if r := env.put(map[string]any{"service": "payments", "severity": "CRIT", "title": "down"}); r.Status != http.StatusUnauthorized {
				t.Errorf("revoked key: %d %s", r.Status, r.Body)
			}
		})
	}
}

// TestIncidentsAPIIdempotencyTwins: retries racing each other make one
// incident and all get the first answer or a 409 to retry; a request that
// created its incident but died before answering is told to retry while it
// may still be running, then gets an answer saying so, kept for retries.
func TestIncidentsAPIIdempotencyTwins(t *testing.T) {
	t.Parallel()
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			env := newAPIEnv(t, d)
			body := map[string]any{"service": "web", "severity": "ERR", "title": "twins"}
			const n = 10
			answers := make([]apiResponse, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() { defer wg.Done(); answers[i] = env.put(body, "Idempotency-Key", "twin") }()
			}
			wg.Wait()
			var first string
			for _, r := range answers {
				switch r.Status {
				case http.StatusCreated:
					if first == "" {
						first = string(r.Body)
					}
					if string(r.Body) != first {
						t.Errorf("twins answered differently: %s and %s", first, r.Body)
					}
				case http.StatusConflict:
					if r.Header.Get("Retry-After") == "" {
						t.Errorf("409 without Retry-After")
					}
				default:
					t.Errorf("twin: %d %s", r.Status, r.Body)
				}
			}
			if env.count("incidents") != 1 || env.rows()["occurrences"] != 1 {
				t.Fatalf("%d incidents, %d occurrences; want 1, 1", env.count("incidents"), env.rows()["occurrences"])
			}

			nagios, err := env.db.Store.IntegrationByName(t.Context(), "nagios")
			check(t, err)
			res, err := env.intake.Open(t.Context(), handlers.NewAlert{Integration: nagios, Service: "web", Title: "died", IdempotencyKey: "crashed"})
			check(t, err)
			crashed := map[string]any{"service": "web", "severity": "ERR", "title": "died"}
			if r := env.put(crashed, "Idempotency-Key", "crashed"); r.Status != http.StatusConflict || r.Header.Get("Retry-After") != "1" {
				t.Fatalf("retry while the first may run: %d %s", r.Status, r.Body)
			}
			env.clock.Advance(31 * time.Second)
			r := env.put(crashed, "Idempotency-Key", "crashed")
			if m := r.json(t); r.Status != http.StatusCreated || m["number"] != float64(res.Incident.Number) || m["created"] != true || !strings.HasPrefix(m["paging"].(string), "unknown") {
				t.Fatalf("retry after the first died: %d %s", r.Status, r.Body)
			}
			if again := env.put(crashed, "Idempotency-Key", "crashed"); string(again.Body) != string(r.Body) || env.count("incidents") != 2 {
				t.Fatalf("its retry: %d %s", again.Status, again.Body)
			}
		})
	}
}
