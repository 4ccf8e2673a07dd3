package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/models"
)

const irisCreateBody = `{"plan":"db","context":{"title":"Disk full","notes":"97%","host":"db1"}}`

// TestIrisAuthentication: the HMAC as Iris computes it, in each accepted
// window and with each key of a rotation, is let in; everything else is a
// 401 with a reason, and nothing is created.
func TestIrisAuthentication(t *testing.T) {
	for _, dialect := range testdb.Dialects {
		t.Run(dialect, func(t *testing.T) {
			f := newIrisFixture(t, dialect)
			body := []byte(irisCreateBody)
			now := f.clock.Now().Unix()
			sign := func(key string, window int64, method, path string, b []byte) string {
				return irisSign("Autoalerts", key, window, method, path, b)
			}
			accepted := []struct {
				name string
				auth string
			}{
				{"current 5-second window", sign(f.key, now/5, "POST", "/v0/incidents", body)},
				{"previous 5-second window", sign(f.key, now/5-1, "POST", "/v0/incidents", body)},
				{"current 30-second window", sign(f.key, now/30, "POST", "/v0/incidents", body)},
				{"previous 30-second window", sign(f.key, now/30-1, "POST", "/v0/incidents", body)},
			}
			for _, c := range accepted {
				if r := f.raw("POST", "/v0/incidents", c.auth, body); r.status != http.StatusCreated {
					t.Fatalf("%s: %d %s", c.name, r.status, r.body)
				}
			}
			created := f.count("incidents")
			if created != int64(len(accepted)) {
				t.Fatalf("%d incidents, want %d", created, len(accepted))
			}

			other, _ := f.integration("Other", 0)
			revoked, revokedKey := f.integration("Gone", 0)
			check(t, f.store.RevokeIntegration(f.ctx, revoked.ID))
			rejected := []struct {
				name, path, auth string
				body             []byte
				contains         string
			}{
				{"no header", "/v0/incidents", "", body, "missing Authorization"},
				{"bearer key", "/v0/incidents", "Bearer " + f.key, body, "hmac"},
				{"malformed digest", "/v0/incidents", "hmac Autoalerts:abc", body, "base64"},
				{"unknown application", "/v0/incidents", irisSign("Nobody", f.key, now/5, "POST", "/v0/incidents", body), body, "unknown application"},
				{"revoked application", "/v0/incidents", irisSign("Gone", revokedKey, now/5, "POST", "/v0/incidents", body), body, "revoked"},
				{"wrong key", "/v0/incidents", sign("not-the-key", now/5, "POST", "/v0/incidents", body), body, "does not match"},
				{"another application's name", "/v0/incidents", irisSign(other.Name, f.key, now/5, "POST", "/v0/incidents", body), body, "does not match"},
				{"stale 5-second window", "/v0/incidents", sign(f.key, now/5-2, "POST", "/v0/incidents", body), body, "stale signature"},
				{"stale 30-second window", "/v0/incidents", sign(f.key, now/30-2, "POST", "/v0/incidents", body), body, "stale signature"},
				{"future window", "/v0/incidents", sign(f.key, now/5+2, "POST", "/v0/incidents", body), body, "ahead of"},
				{"an hour old", "/v0/incidents", sign(f.key, now/5-720, "POST", "/v0/incidents", body), body, "does not match"},
				{"tampered body", "/v0/incidents", sign(f.key, now/5, "POST", "/v0/incidents", body), []byte(strings.Replace(irisCreateBody, `"db"`, `"web"`, 1)), "does not match"},
				{"tampered query", "/v0/incidents?x=2", sign(f.key, now/5, "POST", "/v0/incidents?x=1", body), body, "does not match"},
				{"query dropped", "/v0/incidents", sign(f.key, now/5, "POST", "/v0/incidents?x=1", body), body, "does not match"},
				{"other method", "/v0/incidents", sign(f.key, now/5, "PUT", "/v0/incidents", body), body, "does not match"},
			}
			for _, c := range rejected {
				r := f.raw("POST", c.path, c.auth, c.body)
				wantError(t, r, http.StatusUnauthorized, "", c.contains)
				if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "hmac") {
					t.Fatalf("%s: WWW-Authenticate %q", c.name, r.header.Get("WWW-Authenticate"))
				}
			}
			if n := f.count("incidents"); n != created {
				t.Fatalf("rejected requests created %d incidents", n-created)
			}

			// Rotation: the previous key keeps working until it is dropped.
			oldKey := f.key
			newKey, err := f.store.MintIntegrationKey(f.ctx, f.app.ID, true)
			check(t, err)
			for _, k := range []string{oldKey, newKey} {
				if r := f.raw("POST", "/v0/incidents", sign(k, now/5, "POST", "/v0/incidents", body), body); r.status != http.StatusCreated {
					t.Fatalf("during rotation: %d %s", r.status, r.body)
				}
			}
			check(t, f.store.DropSecondaryKey(f.ctx, f.app.ID))
			wantError(t, f.raw("POST", "/v0/incidents", sign(oldKey, now/5, "POST", "/v0/incidents", body), body), http.StatusUnauthorized, "", "does not match")
			if r := f.raw("POST", "/v0/incidents", sign(newKey, now/5, "POST", "/v0/incidents", body), body); r.status != http.StatusCreated {
				t.Fatalf("new key after rotation: %d %s", r.status, r.body)
			}

			// The clock moves on: the same signature goes stale.
			auth := sign(newKey, f.window5(), "POST", "/v0/incidents", body)
			f.clock.Advance(61 * time.Second)
			wantError(t, f.raw("POST", "/v0/incidents", auth, body), http.StatusUnauthorized, "", "stale signature")
		})
	}
}

// TestIrisQuota: over the application's quota is a 429 with Retry-After
// and nothing created; the next minute lets it in again.
func TestIrisQuota(t *testing.T) {
	for _, dialect := range testdb.Dialects {
		t.Run(dialect, func(t *testing.T) {
			f := newIrisFixture(t, dialect)
			app, key := f.integration("Limited", 2)
			body := []byte(irisCreateBody)
			send := func() irisResp {
				return f.raw("POST", "/v0/incidents", irisSign(app.Name, key, f.window5(), "POST", "/v0/incidents", body), body)
			}
			for i := 0; i < 2; i++ {
				if r := send(); r.status != http.StatusCreated {
					t.Fatalf("request %d: %d %s", i, r.status, r.body)
				}
			}
			r := send()
			wantError(t, r, http.StatusTooManyRequests, "", "quota of 2")
			if ra := r.header.Get("Retry-After"); ra != "58" {
				t.Fatalf("Retry-After %q, want 58 (the minute ends in 58 s)", ra)
			}
			if n := f.count("incidents"); n != 2 {
				t.Fatalf("%d incidents, want 2", n)
			}
			f.clock.Advance(time.Minute)
			if r := send(); r.status != http.StatusCreated {
				t.Fatalf("next minute: %d %s", r.status, r.body)
			}
		})
	}
}

// TestIrisCreate: an incident raised with a plan pages with it, the
// context reaching the plan's template; bad requests are 4xx naming the
// field and create nothing.
func TestIrisCreate(t *testing.T) {
	for _, dialect := range testdb.Dialects {
		t.Run(dialect, func(t *testing.T) {
			f := newIrisFixture(t, dialect)
			r := f.do("POST", "/v0/incidents", `{"plan":"db","context":{"title":"Disk full","notes":"97%","host":"db1"},
				"dynamic_targets":[{"role":"team","target":"dba"}]}`)
			if r.status != http.StatusCreated {
				t.Fatalf("%d %s", r.status, r.body)
			}
			var id int64
			if err := json.Unmarshal(r.body, &id); err != nil {
				t.Fatalf("body %s is not a bare number: %v", r.body, err)
			}
			if loc := r.header.Get("Location"); loc != fmt.Sprintf("/v0/incidents/%d", id) {
				t.Fatalf("Location %q", loc)
			}
			inc := f.incident(id)
			if inc.Title != "Disk full" || inc.Summary != "97%" || inc.Source != "iris" || inc.Application != "Autoalerts" ||
				inc.ServiceID != nil || inc.Context != `{"title":"Disk full","notes":"97%","host":"db1"}` {
				t.Fatalf("incident %+v", inc)
			}
			esc, err := f.store.EscalationOf(f.ctx, inc.ID)
			check(t, err)
			if esc.State != models.EscalationActive {
				t.Fatalf("escalation %s", esc.State)
			}
			f.tick()
			var toAnn string
			for _, m := range f.sink.messages() {
				if m.IncidentID == inc.ID && m.Destination == "UANN" {
					toAnn = m.Body
				}
			}
			if !strings.HasPrefix(toAnn, "97% on db1 (code ") {
				t.Fatalf("ann's page (plan template with .Context) = %q; sent %+v", toAnn, f.sink.messages())
			}
			// The dynamic target is paged once, at once, at high priority,
			// outside the plan's escalation (bob has no number for SMS:
			// what matters is the page planned).
			ms, err := f.store.MessagesOf(f.ctx, inc.ID)
			check(t, err)
			dynamic := 0
			for _, m := range ms {
				if m.Role == "team" && m.Target == "dba" {
					dynamic++
					if m.Priority != "high" || m.EscalationID != nil || !strings.Contains(m.Body, "Disk full") {
						t.Fatalf("dynamic page %+v", m)
					}
				}
			}
			if dynamic != 1 {
				t.Fatalf("%d pages to the dynamic target, want 1 (messages %+v)", dynamic, ms)
			}

			before := f.count("incidents")
			other, otherKey := f.integration("Scoped", 0)
			f.scope(other, "website", "web")
			scoped := func(body string) irisResp {
				return f.raw("POST", "/v0/incidents", irisSign(other.Name, otherKey, f.window5(), "POST", "/v0/incidents", []byte(body)), []byte(body))
			}
			errs := []struct {
				name, body  string
				status      int
				field, text string
				send        func(string) irisResp
			}{
				{"unknown plan", `{"plan":"nope","context":{}}`, 404, "plan", `no published escalation plan named "nope"`, nil},
				{"plan outside the scope", `{"plan":"db","context":{}}`, 403, "plan", "scoped to services website", scoped},
				{"no plan", `{"context":{}}`, 400, "plan", "required", nil},
				{"no context", `{"plan":"db"}`, 400, "context", "required", nil},
				{"not JSON", `plan=db`, 400, "", "JSON object", nil},
				{"as another application", `{"plan":"db","context":{},"application":"Other"}`, 403, "application", "may not raise", nil},
				{"unknown dynamic target", `{"plan":"db","context":{},"dynamic_targets":[{"role":"user","target":"zed"}]}`, 400, "dynamic_targets[0].target", "no person", nil},
				{"inactive dynamic target", `{"plan":"db","context":{},"dynamic_targets":[{"role":"user","target":"cat"}]}`, 400, "dynamic_targets[0].target", "not active", nil},
				{"unknown team", `{"plan":"db","context":{},"dynamic_targets":[{"role":"oncall","target":"ops"}]}`, 400, "dynamic_targets[0].target", "no team", nil},
			}
			for _, c := range errs {
				send := c.send
				if send == nil {
					send = func(b string) irisResp { return f.do("POST", "/v0/incidents", b) }
				}
				wantError(t, send(c.body), c.status, c.field, c.text)
			}
			if n := f.count("incidents"); n != before {
				t.Fatalf("bad requests created %d incidents", n-before)
			}
			if r := scoped(`{"plan":"web","context":{"summary":"5xx"}}`); r.status != http.StatusCreated {
				t.Fatalf("scoped application, its service's plan: %d %s", r.status, r.body)
			}
		})
	}
}

// TestIrisClientFlow is an Iris client's life of an incident: create,
// read, claim (paging stops), unclaim (it resumes), claim in bulk,
// resolve; and the errors of each call.
func TestIrisClientFlow(t *testing.T) {
	for _, dialect := range testdb.Dialects {
		t.Run(dialect, func(t *testing.T) {
			f := newIrisFixture(t, dialect)
			id := f.raise("db", `{"title":"Disk full","host":"db1"}`)
			f.tick()

			got := f.do("GET", fmt.Sprintf("/v0/incidents/%d", id), "").json(t)
			want := map[string]any{"id": float64(id), "plan": "db", "owner": nil, "active": float64(1), "resolved": float64(0),
				"application": "Autoalerts", "current_step": float64(1), "title": "Disk full",
				"created": float64(irisT0.Unix()), "context": map[string]any{"title": "Disk full", "host": "db1"}}
			for k, v := range want {
				if fmt.Sprint(got[k]) != fmt.Sprint(v) {
					t.Fatalf("GET %s = %v, want %v (all: %v)", k, got[k], v, got)
				}
			}

			claim := f.do("POST", fmt.Sprintf("/v0/incidents/%d", id), `{"owner":"ann"}`).json(t)
			if claim["incident_id"] != float64(id) || claim["owner"] != "ann" || claim["active"] != false {
				t.Fatalf("claim answered %v", claim)
			}
			inc := f.incident(id)
			esc, err := f.store.EscalationOf(f.ctx, inc.ID)
			check(t, err)
			if inc.AcknowledgedAt == nil || esc.State != models.EscalationClaimed || esc.ClaimedBy != "ann" {
				t.Fatalf("after claim: ack %v, escalation %s by %q", inc.AcknowledgedAt, esc.State, esc.ClaimedBy)
			}
			if g := f.do("GET", fmt.Sprintf("/v0/incidents/%d", id), "").json(t); g["owner"] != "ann" || g["active"] != float64(0) {
				t.Fatalf("GET after claim: %v", g)
			}
			// A second claimer does not take it over (as a second Slack click).
			if c := f.do("POST", fmt.Sprintf("/v0/incidents/%d", id), `{"owner":"bob"}`).json(t); c["owner"] != "ann" || c["active"] != false {
				t.Fatalf("second claim answered %v", c)
			}

			unclaim := f.do("POST", fmt.Sprintf("/v0/incidents/%d", id), `{"owner":null}`).json(t)
			if unclaim["owner"] != nil || unclaim["active"] != true {
				t.Fatalf("unclaim answered %v", unclaim)
			}
			if esc, _ = f.store.EscalationOf(f.ctx, inc.ID); esc.State != models.EscalationActive {
				t.Fatalf("after unclaim escalation is %s", esc.State)
			}

			second := f.raise("web", `{"summary":"5xx"}`)
			bulk := f.do("POST", "/v0/incidents/claim", fmt.Sprintf(`{"owner":"bob","incident_ids":[%d,"%d"]}`, id, second)).json(t)
			if bulk["owner"] != "bob" || fmt.Sprint(bulk["claimed"]) != fmt.Sprintf("[%d %d]", id, second) || fmt.Sprint(bulk["unclaimed"]) != "[]" {
				t.Fatalf("bulk claim answered %v", bulk)
			}
			bulk = f.do("POST", "/v0/incidents/claim", fmt.Sprintf(`{"owner":null,"incident_ids":[%d]}`, second)).json(t)
			if fmt.Sprint(bulk["claimed"]) != "[]" || fmt.Sprint(bulk["unclaimed"]) != fmt.Sprintf("[%d]", second) {
				t.Fatalf("bulk unclaim answered %v", bulk)
			}

			res := f.do("POST", fmt.Sprintf("/v0/incidents/%d/resolve", id), `{"resolved":true}`).json(t)
			if res["incident_id"] != float64(id) || res["resolved"] != true {
				t.Fatalf("resolve answered %v", res)
			}
			if inc = f.incident(id); inc.IsOpen() {
				t.Fatal("not resolved")
			}
			if g := f.do("GET", fmt.Sprintf("/v0/incidents/%d", id), "").json(t); g["resolved"] != float64(1) || g["active"] != float64(0) || g["owner"] != "bob" {
				t.Fatalf("GET after resolve: %v", g)
			}
			if r := f.do("POST", fmt.Sprintf("/v0/incidents/%d/resolve", second), ""); r.status != http.StatusOK || f.incident(second).IsOpen() {
				t.Fatalf("resolve with an empty body: %d %s", r.status, r.body)
			}
			if r := f.do("POST", fmt.Sprintf("/v0/incidents/%d/resolve", second), `{"resolved":false}`); r.status != http.StatusOK || !f.incident(second).IsOpen() {
				t.Fatalf("un-resolve: %d %s", r.status, r.body)
			}

			// Errors change nothing.
			foreign, _, err := f.store.CreateIncident(f.ctx, models.NewIncident{Title: "from Slack"})
			check(t, err)
			open := f.incident(second)
			errs := []struct {
				method, path, body string
				status             int
				field, text        string
			}{
				{"GET", "/v0/incidents/999", "", 404, "id", "no incident 999"},
				{"GET", "/v0/incidents/abc", "", 400, "id", "positive integer"},
				{"GET", fmt.Sprintf("/v0/incidents/%d", foreign.Number), "", 403, "id", "not raised by application Autoalerts"},
				{"POST", fmt.Sprintf("/v0/incidents/%d", second), `{}`, 400, "owner", "required"},
				{"POST", fmt.Sprintf("/v0/incidents/%d", second), `{"owner":"zed"}`, 400, "owner", `no active person named "zed"`},
				{"POST", fmt.Sprintf("/v0/incidents/%d", second), `{"owner":"cat"}`, 400, "owner", "no active person"},
				{"POST", "/v0/incidents/999", `{"owner":"ann"}`, 404, "id", "no incident"},
				{"POST", fmt.Sprintf("/v0/incidents/%d", foreign.Number), `{"owner":"ann"}`, 403, "id", "not raised"},
				{"POST", "/v0/incidents/claim", fmt.Sprintf(`{"owner":"ann","incident_ids":[%d,999]}`, second), 404, "incident_ids[1]", "no incident 999"},
				{"POST", "/v0/incidents/claim", fmt.Sprintf(`{"owner":"ann","incident_ids":[%d,%d]}`, second, foreign.Number), 403, "incident_ids[1]", "not raised"},
				{"POST", "/v0/incidents/claim", `{"owner":"ann"}`, 400, "incident_ids", "required"},
				{"POST", "/v0/incidents/claim", fmt.Sprintf(`{"owner":"zed","incident_ids":[%d]}`, second), 400, "owner", "no active person"},
				{"POST", fmt.Sprintf("/v0/incidents/%d/resolve", second), `{"resolved":"yes"}`, 400, "resolved", "true or false"},
				{"POST", fmt.Sprintf("/v0/incidents/%d/resolve", foreign.Number), `{"resolved":true}`, 403, "id", "not raised"},
			}
			for _, c := range errs {
				wantError(t, f.do(c.method, c.path, c.body), c.status, c.field, c.text)
			}
			if after := f.incident(second); after.AcknowledgedAt != nil || !after.IsOpen() || after.Version != open.Version {
				t.Fatalf("a failed request changed incident %d: %+v", second, after)
			}
			if after := f.incident(foreign.Number); after.AcknowledgedAt != nil || !after.IsOpen() {
				t.Fatal("another application's incident was changed")
			}
		})
	}
}

// TestIrisNotifications: out-of-band messages by priority or mode, with a
// body or a template rendered with the context, sent on the
// application's behalf; bad requests name their field and send nothing.
func TestIrisNotifications(t *testing.T) {
	for _, dialect := range testdb.Dialects {
		t.Run(dialect, func(t *testing.T) {
			f := newIrisFixture(t, dialect)
			oob := func() []models.Message {
				var ms []models.Message
				check(t, f.db.Gorm.Where("out_of_band = ?", true).Order("id").Find(&ms).Error)
				return ms
			}
			r := f.do("POST", "/v0/notifications", `{"role":"user","target":"ann","subject":"deploy","body":"freeze at 18:00","priority":"low"}`)
			if r.status != http.StatusOK || string(r.body) != "[]" || r.header.Get("X-Herald-Queued") != "1" {
				t.Fatalf("%d %s queued %s", r.status, r.body, r.header.Get("X-Herald-Queued"))
			}
			ms := oob()
			if len(ms) != 1 || ms[0].Application != "Autoalerts" || ms[0].Mode != "slack" || ms[0].Subject != "deploy" || ms[0].Body != "freeze at 18:00" {
				t.Fatalf("messages %+v", ms)
			}
			r = f.do("POST", "/v0/notifications", `{"role":"team","target":"dba","subject":"s","template":"iris","context":{"host":"db2","notes":"vacuum"},"mode":"email"}`)
			if r.status != http.StatusOK {
				t.Fatalf("template: %d %s", r.status, r.body)
			}
			ms = oob()
			if last := ms[len(ms)-1]; last.Mode != "email" || last.Subject != "Autoalerts: db2" || last.Body != "mail vacuum" {
				t.Fatalf("templated message %+v", last)
			}
			r = f.do("POST", "/v0/notifications", `{"target_list":[{"role":"user","target":"ann"},{"role":"user","target":"zed"}],"subject":"s","body":"b","mode":"email"}`)
			if r.status != http.StatusOK || r.header.Get("X-Herald-Queued") != "1" {
				t.Fatalf("target list (one unknown, skipped): %d %s queued %s", r.status, r.body, r.header.Get("X-Herald-Queued"))
			}
			sent := len(oob())
			errs := []struct{ body, field, text string }{
				{`{"role":"user","target":"ann","body":"b","priority":"low"}`, "subject", "required"},
				{`{"role":"user","target":"ann","subject":"s","priority":"low"}`, "body", "body or a template"},
				{`{"role":"user","target":"ann","subject":"s","body":"b"}`, "priority", "priority or a mode"},
				{`{"role":"literal_target","target":"#ops","subject":"s","body":"b","mode":"slack"}`, "role", "not supported"},
				{`{"role":"user","target":"ann","subject":"s","template":"none","priority":"low"}`, "template", `no template named "none"`},
				{`{"role":"user","target":"zed","subject":"s","body":"b","priority":"low"}`, "", "resolves to nobody"},
			}
			for _, c := range errs {
				wantError(t, f.do("POST", "/v0/notifications", c.body), http.StatusBadRequest, c.field, c.text)
			}
			if n := len(oob()); n != sent {
				t.Fatalf("bad requests queued %d messages", n-sent)
			}
			wantError(t, f.raw("POST", "/v0/notifications", "", []byte(`{}`)), http.StatusUnauthorized, "", "missing Authorization")
		})
	}
}
