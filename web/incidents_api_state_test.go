package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/models"
)

// raise creates an incident with nagios's key and returns its number.
func (env *apiEnv) raise(service, title string) int64 {
	env.t.Helper()
	r := env.put(map[string]any{"service": service, "severity": "ERR", "title": title})
	if r.Status != http.StatusCreated {
		env.t.Fatalf("raise %s: %d %s", title, r.Status, r.Body)
	}
	return int64(r.json(env.t)["number"].(float64))
}

// TestIncidentsAPIStateChanges: CLAIMED acknowledges (and stops paging),
// RESOLVED resolves, OPEN re-opens; the same state again is changed=false;
// refusals name the field and change nothing.
func TestIncidentsAPIStateChanges(t *testing.T) {
	t.Parallel()
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			env := newAPIEnv(t, d)
			n := env.raise("payments", "api down")
			path := fmt.Sprintf("/api/v1/incidents/%d", n)
			steps := []struct {
				body, state string
				changed     bool
			}{
				{`{"state":"CLAIMED","by":"alice"}`, "CLAIMED", true},
				{`{"state":"CLAIMED","by":"alice"}`, "CLAIMED", false},
				{`{"state":"OPEN"}`, "OPEN", true},
				{`{"state":"resolved","by":"bob"}`, "RESOLVED", true},
				{`{"state":"RESOLVED"}`, "RESOLVED", false},
				{`{"state":"OPEN","by":"carol"}`, "OPEN", true},
			}
			for i, s := range steps {
				env.clock.Advance(time.Minute)
				r := env.call(http.MethodPost, path, "nagios", []byte(s.body))
				if r.Status != http.StatusOK {
					t.Fatalf("step %d %s: %d %s", i, s.body, r.Status, r.Body)
				}
				m := r.json(t)
				if m["state"] != s.state || m["changed"] != s.changed || m["number"] != float64(n) {
					t.Errorf("step %d %s: %s, want state %s changed %v", i, s.body, r.Body, s.state, s.changed)
				}
				if (s.state == "CLAIMED") != (m["acknowledged_at"] != nil) || (s.state == "RESOLVED") != (m["resolved_at"] != nil) {
					t.Errorf("step %d: times %s", i, r.Body)
				}
			}
			inc := env.incident(n)
			if len(env.pager.claims) != 1 || env.pager.claims[0] != inc.ID || len(env.pager.unclaims) != 1 || len(env.pager.resolves) != 1 {
				t.Errorf("pager claims %v unclaims %v resolves %v", env.pager.claims, env.pager.unclaims, env.pager.resolves)
			}
			var acked int64
			check(t, env.db.Gorm.Table("timeline_events").Where("incident_id = ? AND text = ?", inc.ID, "Acknowledged by alice via nagios (API)").Count(&acked).Error)
			if acked != 1 {
				t.Errorf("the timeline does not say who acknowledged")
			}

			other := env.raise("web", "other")
			declared, _, err := env.db.Store.CreateIncident(t.Context(), models.NewIncident{Title: "declared in Slack", Source: "slack"})
			check(t, err)
			grafana := env.call(http.MethodPut, "/api/v1/incidents", "grafana", []byte(`{"service":"billing","severity":"WARN","title":"billing slow"}`))
			billing := int64(grafana.json(t)["number"].(float64))
			before, version := env.rows(), env.incident(other).Version
			refusals := []struct {
				name, path, key, body string
				status                int
				field                 string
			}{
				{"no key", fmt.Sprintf("/api/v1/incidents/%d", other), "", `{"state":"CLAIMED"}`, 401, ""},
				{"not a number", "/api/v1/incidents/abc", "nagios", `{"state":"CLAIMED"}`, 400, "number"},
				{"unknown state", fmt.Sprintf("/api/v1/incidents/%d", other), "nagios", `{"state":"DONE"}`, 400, "state"},
				{"state missing", fmt.Sprintf("/api/v1/incidents/%d", other), "nagios", `{"by":"x"}`, 400, "state"},
				{"state a number", fmt.Sprintf("/api/v1/incidents/%d", other), "nagios", `{"state":1}`, 400, "state"},
				{"unknown field", fmt.Sprintf("/api/v1/incidents/%d", other), "nagios", `{"state":"CLAIMED","who":"x"}`, 400, "who"},
				{"Slack markup in by", fmt.Sprintf("/api/v1/incidents/%d", other), "nagios", `{"state":"CLAIMED","by":"<!channel>"}`, 400, "by"},
				{"unknown incident", "/api/v1/incidents/99999", "nagios", `{"state":"CLAIMED"}`, 404, "number"},
				{"another team's incident", fmt.Sprintf("/api/v1/incidents/%d", billing), "nagios", `{"state":"CLAIMED"}`, 403, "number"},
				{"an incident of no service", fmt.Sprintf("/api/v1/incidents/%d", declared.Number), "nagios", `{"state":"CLAIMED"}`, 403, "number"},
			}
			for _, rf := range refusals {
				r := env.call(http.MethodPost, rf.path, rf.key, []byte(rf.body))
				if r.Status != rf.status || r.json(t)["field"] != nilIfEmpty(rf.field) {
					t.Errorf("%s: %d %s, want %d naming %q", rf.name, r.Status, r.Body, rf.status, rf.field)
				}
			}
			for _, g := range []struct {
				path, key string
				status    int
			}{
				{fmt.Sprintf("/api/v1/incidents/%d", other), "", 401},
				{"/api/v1/incidents/0", "nagios", 400},
				{"/api/v1/incidents/99999", "nagios", 404},
				{fmt.Sprintf("/api/v1/incidents/%d", billing), "nagios", 403},
				{fmt.Sprintf("/api/v1/incidents/%d", billing), "grafana", 200},
			} {
				if r := env.call(http.MethodGet, g.path, g.key, nil); r.Status != g.status {
					t.Errorf("GET %s with %q: %d %s, want %d", g.path, g.key, r.Status, r.Body, g.status)
				}
			}
			if after := env.rows(); fmt.Sprint(after) != fmt.Sprint(before) || env.incident(other).Version != version {
				t.Errorf("refused changes changed rows: %v → %v", before, after)
			}
		})
	}
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (env *apiEnv) incident(number int64) *models.Incident {
	env.t.Helper()
	inc, err := env.db.Store.IncidentByNumber(env.t.Context(), number)
	check(env.t, err)
	return inc
}

// TestIncidentsAPIList: only the key's services, newest first, filtered
// by service, state and time, paged with the cursor; bad parameters are
// named.
func TestIncidentsAPIList(t *testing.T) {
	t.Parallel()
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			env := newAPIEnv(t, d)
			var all []int64 // newest first
			for i := range 5 {
				service := []string{"payments", "web"}[i%2]
				all = append([]int64{env.raise(service, fmt.Sprintf("alert %d", i))}, all...)
				env.clock.Advance(time.Minute)
			}
			env.call(http.MethodPut, "/api/v1/incidents", "grafana", []byte(`{"service":"billing","severity":"WARN","title":"not nagios's"}`))
			claim := env.call(http.MethodPost, fmt.Sprintf("/api/v1/incidents/%d", all[1]), "nagios", []byte(`{"state":"CLAIMED"}`))
			resolve := env.call(http.MethodPost, fmt.Sprintf("/api/v1/incidents/%d", all[2]), "nagios", []byte(`{"state":"RESOLVED"}`))
			if claim.Status != 200 || resolve.Status != 200 {
				t.Fatalf("claim %s, resolve %s", claim.Body, resolve.Body)
			}
			list := func(query string) (int, []int64, string) {
				r := env.call(http.MethodGet, "/api/v1/incidents"+query, "nagios", nil)
				m := r.json(t)
				var numbers []int64
				if incs, ok := m["incidents"].([]any); ok {
					for _, inc := range incs {
						numbers = append(numbers, int64(inc.(map[string]any)["number"].(float64)))
					}
				}
				cursor, _ := m["next_cursor"].(string)
				return r.Status, numbers, cursor
			}
			since := url.QueryEscape(docT0.Add(3 * time.Minute).Format(time.RFC3339))
			for _, tt := range []struct {
				query string
				want  []int64
			}{
				{"", all},
				{"?service=payments", []int64{all[0], all[2], all[4]}},
				{"?state=OPEN", []int64{all[0], all[3], all[4]}},
				{"?state=claimed", []int64{all[1]}},
				{"?state=RESOLVED&service=payments", []int64{all[2]}},
				{"?since=" + since, all[:2]},
			} {
				status, got, cursor := list(tt.query)
				if status != 200 || fmt.Sprint(got) != fmt.Sprint(tt.want) || cursor != "" {
					t.Errorf("list %q: %d %v cursor %q, want %v", tt.query, status, got, cursor, tt.want)
				}
			}
			var paged []int64
			query := "?limit=2"
			for pages := 0; ; pages++ {
				status, got, cursor := list(query)
				if status != 200 || len(got) > 2 || pages > 3 {
					t.Fatalf("page %d: %d %v", pages, status, got)
				}
				paged = append(paged, got...)
				if cursor == "" {
					break
				}
				query = "?limit=2&cursor=" + url.QueryEscape(cursor)
			}
			if fmt.Sprint(paged) != fmt.Sprint(all) {
				t.Errorf("paged %v, want %v", paged, all)
			}
			for _, bad := range []struct {
				query  string
				status int
				field  string
			}{
				{"?service=billing", 403, "service"},
				{"?service=nope", 404, "service"},
				{"?state=DONE", 400, "state"},
				{"?since=today", 400, "since"},
				{"?limit=0", 400, "limit"},
				{"?limit=201", 400, "limit"},
				{"?limit=ten", 400, "limit"},
				{"?cursor=garbage", 400, "cursor"},
				{"?page=2", 400, "page"},
				{"?state=OPEN&state=CLAIMED", 400, "state"},
			} {
				r := env.call(http.MethodGet, "/api/v1/incidents"+bad.query, "nagios", nil)
				if r.Status != bad.status || r.json(t)["field"] != bad.field {
					t.Errorf("list %q: %d %s, want %d naming %s", bad.query, r.Status, r.Body, bad.status, bad.field)
				}
			}
			if r := env.call(http.MethodGet, "/api/v1/incidents", "", nil); r.Status != 401 {
				t.Errorf("list without a key: %d", r.Status)
			}
		})
	}
}
