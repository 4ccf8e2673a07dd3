package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
)

// The monitoring webhooks end to end: the real App over HTTP, on both
// stores, with Alertmanager's, Grafana's and generic bodies from
// web/testdata.

// webhookPaging pages olive, on call for the shop team, in Slack.
const webhookPaging = `
people:
  - name: olive
    full_name: Olive Oncall
    slack_id: U0OLIVE01
    priorities:
      high: [slack]
teams:
  - name: shop
    members: [olive]
    oncall: {primary: olive}
plans:
  - name: shop
    team: shop
    steps:
      - notifications:
          - {role: oncall-primary, target: shop, priority: high, wait: 5}
`

// The generic configuration of the "uptime" integration.
const uptimeGenericConfig = `{"title":"alert.name","severity":"alert.level","severity_map":{"p1":"CRIT"},"dedup_key":"alert.id","state":"alert.status","resolved_values":["ok","resolved"],"message":"alert.text"}`

// webhookSetup applies the paging configuration and makes the services
// checkout, storage and payments (paging with the shop plan) and other,
// and two integrations: prometheus (checkout, storage, payments) and
// uptime (payments, with a generic configuration). It returns their keys.
func webhookSetup(h *harness) (prometheusKey, uptimeKey string) {
	h.t.Helper()
	c, err := parseConfigFile("paging.yaml", []byte(webhookPaging))
	if err != nil {
		h.t.Fatal(err)
	}
	if err := applyCatalog(h.ctx, h.db.Store, "paging.yaml", c, notifications.ApplyOptions{}, io.Discard); err != nil {
		h.t.Fatal(err)
	}
	var plan models.Plan
	if err := h.db.Gorm.Where("name = ?", "shop").Take(&plan).Error; err != nil {
		h.t.Fatal(err)
	}
	now := h.now()
	services := map[string]*models.Service{}
	for _, name := range []string{"checkout", "storage", "payments", "other"} {
		svc := &models.Service{ID: models.NewIntegrationID(), Name: name, PlanID: &plan.ID, DefaultSeverity: models.SEV3, CreatedAt: now, UpdatedAt: now}
		if err := h.db.Gorm.Create(svc).Error; err != nil {
			h.t.Fatal(err)
		}
		services[name] = svc
	}
	integration := func(name, generic string, scope ...string) string {
		in := &models.Integration{ID: models.NewIntegrationID(), Name: name, GenericConfig: generic, CreatedAt: now, UpdatedAt: now}
		if err := h.db.Gorm.Create(in).Error; err != nil {
			h.t.Fatal(err)
		}
		for _, s := range scope {
			if err := h.db.Gorm.Create(&models.IntegrationService{IntegrationID: in.ID, ServiceID: services[s].ID}).Error; err != nil {
				h.t.Fatal(err)
			}
		}
		key, err := h.db.Store.MintIntegrationKey(h.ctx, in.ID, false)
		if err != nil {
			h.t.Fatal(err)
		}
		return key
	}
	return integration("prometheus", "", "checkout", "storage", "payments"), integration("uptime", uptimeGenericConfig, "payments")
}

// webhookBody reads a body from web/testdata.
func webhookBody(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "web", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// postWebhook posts a notification to a webhook with a key ("" sends none).
func (h *harness) postWebhook(path, key string, body []byte) response {
	h.t.Helper()
	hdr := http.Header{"Content-Type": {"application/json"}}
	if key != "" {
		hdr.Set("Authorization", "Bearer "+key)
	}
	return h.do(h.node, path, hdr, body)
}

// hookAnswer is a webhook's JSON answer.
type hookAnswer struct {
	Incident int64    `json:"incident"`
	Action   string   `json:"action"`
	State    string   `json:"state"`
	Paging   string   `json:"paging"`
	Changes  int      `json:"changes"`
	Reason   string   `json:"reason"`
	Warnings []string `json:"warnings"`
	Error    string   `json:"error"`
	Field    string   `json:"field"`
}

func (h *harness) postWebhookOK(path, key string, body []byte, status int) hookAnswer {
	h.t.Helper()
	r := h.postWebhook(path, key, body)
	var a hookAnswer
	if err := json.Unmarshal(r.Body, &a); err != nil || r.Status != status {
		h.t.Fatalf("POST %s: %s, want %d (%v)", path, r, status, err)
	}
	return a
}

func countContaining(texts []string, sub string) int {
	n := 0
	for _, s := range texts {
		if strings.Contains(s, sub) {
			n++
		}
	}
	return n
}

func (h *harness) webhookIncident(number int64) *models.Incident {
	h.t.Helper()
	inc, err := h.db.Store.IncidentByNumber(h.ctx, number)
	if err != nil {
		h.t.Fatal(err)
	}
	return inc
}

// TestAlertmanagerWebhookEndToEnd: Alertmanager's firing → new alert in
// the group → resolved sequence. The first notification opens an incident
// and pages once; a second alert joining updates it (timeline, comms
// notice) without paging again; the resolved group resolves it. Every
// replay changes nothing; a re-fire (new start) opens a new incident.
func TestAlertmanagerWebhookEndToEnd(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dialect string) {
		h := newHarness(t, dialect)
		key, _ := webhookSetup(h)
		const path = "/api/v1/webhooks/alertmanager"

		a := h.postWebhookOK(path, key, webhookBody(t, "alertmanager/firing.json"), http.StatusCreated)
		if a.Action != "opened" || a.State != "OPEN" || a.Paging != "paging with plan shop" || a.Changes != 1 {
			t.Fatalf("firing: %+v", a)
		}
		inc := h.webhookIncident(a.Incident)
		if inc.Title != "HighErrorRate on checkout (web-1)" || inc.Severity != models.SEV1 || inc.Source != "alertmanager" ||
			inc.Summary != "5xx ratio above 5% for 5m on web-1" || inc.Application != "prometheus" || inc.DetectedAt == nil {
			t.Errorf("incident %+v", inc)
		}
		if !strings.Contains(inc.Context, `"runbook_url":"https://runbooks.example.com/HighErrorRate"`) || !strings.Contains(inc.Context, `"instance":"web-1"`) {
			t.Errorf("context %s", inc.Context)
		}
		h.drain(h.node)
		h.runEngine()
		pages := h.count("messages")
		if h.count("escalations") != 1 || pages == 0 {
			t.Fatalf("%d escalations, %d messages after the first notification", h.count("escalations"), pages)
		}
		tl := h.timelineTexts(inc.ID)
		if countContaining(tl, "Alert firing: HighErrorRate") != 1 || countContaining(tl, "Runbook: <https://runbooks.example.com/HighErrorRate>") != 1 {
			t.Errorf("timeline %q", tl)
		}

		// Alertmanager re-sends the group (repeat_interval): nothing new.
		if a := h.postWebhookOK(path, key, webhookBody(t, "alertmanager/firing.json"), http.StatusOK); a.Action != "unchanged" || a.Incident != inc.Number || a.Changes != 0 {
			t.Errorf("replayed firing: %+v", a)
		}
		if got := h.timelineTexts(inc.ID); len(got) != len(tl) {
			t.Errorf("a replay added timeline entries: %q", got[len(tl):])
		}

		// web-2 joins the group: recorded, no new page.
		notices := h.jobsOfKind("comms.notice")
		a = h.postWebhookOK(path, key, webhookBody(t, "alertmanager/firing_two.json"), http.StatusOK)
		if a.Action != "updated" || a.Incident != inc.Number || a.Changes != 1 || a.Paging != "" {
			t.Fatalf("second alert: %+v", a)
		}
		h.runEngine()
		if h.count("escalations") != 1 || h.count("messages") != pages || h.count("incidents") != 1 {
			t.Errorf("the joining alert paged: %d escalations, %d messages (was %d), %d incidents", h.count("escalations"), h.count("messages"), pages, h.count("incidents"))
		}
		if h.count("incident_alerts", "incident_id = ? AND status = ?", inc.ID, "firing") != 2 || h.jobsOfKind("comms.notice") != notices+1 {
			t.Errorf("alerts %d firing, %d comms notices (was %d)", h.count("incident_alerts", "incident_id = ? AND status = ?", inc.ID, "firing"), h.jobsOfKind("comms.notice"), notices)
		}
		tl = h.timelineTexts(inc.ID)
		if countContaining(tl, "Alert firing: HighErrorRate (instance=web-2)") != 1 || countContaining(tl, "Runbook:") != 1 {
			t.Errorf("timeline after the second alert %q", tl)
		}
		if a := h.postWebhookOK(path, key, webhookBody(t, "alertmanager/firing_two.json"), http.StatusOK); a.Action != "unchanged" || len(h.timelineTexts(inc.ID)) != len(tl) {
			t.Errorf("replayed second notification: %+v", a)
		}

		// Both resolve: the incident does, and paging stops.
		a = h.postWebhookOK(path, key, webhookBody(t, "alertmanager/resolved_two.json"), http.StatusOK)
		if a.Action != "resolved" || a.State != "RESOLVED" || a.Changes != 2 {
			t.Fatalf("resolved: %+v", a)
		}
		inc = h.incident(inc.ID)
		tl = h.timelineTexts(inc.ID)
		if inc.IsOpen() || countContaining(tl, "Alert resolved:") != 2 || countContaining(tl, "Resolved by Alertmanager") != 1 || h.escalationState(inc) == "active" {
			t.Errorf("after resolution: status %s, escalation %s, timeline %q", inc.Status, h.escalationState(inc), tl)
		}

		// Replays of any of the three, and the real single-alert resolved
		// body, change nothing.
		for _, name := range []string{"resolved_two.json", "firing_two.json", "firing.json", "resolved.json"} {
			a := h.postWebhookOK(path, key, webhookBody(t, "alertmanager/"+name), http.StatusOK)
			if a.Action != "ignored" || a.Reason == "" {
				t.Errorf("replayed %s after resolution: %+v", name, a)
			}
		}
		if h.count("incidents") != 1 || len(h.timelineTexts(inc.ID)) != len(tl) {
			t.Errorf("replays after resolution: %d incidents, timeline %q", h.count("incidents"), h.timelineTexts(inc.ID))
		}

		// The incident page shows the alerts and the runbook.
		page := h.getSignedIn("/incidents/" + strconv.FormatInt(inc.Number, 10))
		if page.Status != http.StatusOK || !bytes.Contains(page.Body, []byte("Runbook: https://runbooks.example.com/HighErrorRate")) ||
			!bytes.Contains(page.Body, []byte("Alert firing: HighErrorRate (instance=web-2)")) {
			t.Errorf("incident page %d lacks the runbook or the alerts", page.Status)
		}

		// The alert fires again (a new start): a new incident, paged.
		refire := bytes.Replace(webhookBody(t, "alertmanager/firing.json"), []byte(`"startsAt":"2026-11-21T22:23:43Z"`), []byte(`"startsAt":"2026-11-21T23:40:01Z"`), 1)
		a = h.postWebhookOK(path, key, refire, http.StatusCreated)
		if a.Action != "opened" || a.Incident == inc.Number || h.count("escalations") != 2 {
			t.Errorf("re-fire: %+v, %d escalations", a, h.count("escalations"))
		}
	})
}

// TestGrafanaWebhookEndToEnd: Grafana's firing notification opens an
// incident for the service in its labels (warning: SEV3); resolved
// resolves it.
func TestGrafanaWebhookEndToEnd(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dialect string) {
		h := newHarness(t, dialect)
		key, _ := webhookSetup(h)
		const path = "/api/v1/webhooks/grafana"
		a := h.postWebhookOK(path, key, webhookBody(t, "grafana/firing.json"), http.StatusCreated)
		inc := h.webhookIncident(a.Incident)
		if a.Action != "opened" || inc.Title != "Disk almost full on db-1" || inc.Severity != models.SEV3 || inc.Source != "grafana" ||
			!strings.HasPrefix(*inc.DedupKey, "grafana:") {
			t.Fatalf("firing: %+v, incident %+v", a, inc)
		}
		if a := h.postWebhookOK(path, key, webhookBody(t, "grafana/firing.json"), http.StatusOK); a.Action != "unchanged" {
			t.Errorf("replay: %+v", a)
		}
		a = h.postWebhookOK(path, key, webhookBody(t, "grafana/resolved.json"), http.StatusOK)
		if a.Action != "resolved" || a.State != "RESOLVED" || h.incident(inc.ID).IsOpen() {
			t.Errorf("resolved: %+v", a)
		}
		if countContaining(h.timelineTexts(inc.ID), "Resolved by Grafana") != 1 {
			t.Errorf("timeline %q", h.timelineTexts(inc.ID))
		}
	})
}

// TestGenericWebhookEndToEnd: with a generic configuration, any JSON
// raises and resolves incidents; without one the answer says how to
// configure it.
func TestGenericWebhookEndToEnd(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dialect string) {
		h := newHarness(t, dialect)
		promKey, uptimeKey := webhookSetup(h)
		const path = "/api/v1/webhooks/generic?service=payments"
		a := h.postWebhookOK(path, uptimeKey, webhookBody(t, "generic/firing.json"), http.StatusCreated)
		inc := h.webhookIncident(a.Incident)
		if a.Action != "opened" || inc.Title != "Payment gateway latency over 2s" || inc.Severity != models.SEV1 ||
			inc.Summary != "p95 latency 2.4s for 10 minutes" || *inc.DedupKey != "generic:chk-4711" {
			t.Fatalf("firing: %+v, incident %+v", a, inc)
		}
		if a := h.postWebhookOK(path, uptimeKey, webhookBody(t, "generic/firing.json"), http.StatusOK); a.Action != "unchanged" || a.Incident != inc.Number {
			t.Errorf("repeat: %+v", a)
		}
		a = h.postWebhookOK(path, uptimeKey, webhookBody(t, "generic/resolved.json"), http.StatusOK)
		if a.Action != "resolved" || h.incident(inc.ID).IsOpen() {
			t.Errorf("resolved: %+v", a)
		}
		a = h.postWebhookOK(path, promKey, webhookBody(t, "generic/firing.json"), http.StatusBadRequest)
		if a.Field != "generic_config" || !strings.Contains(a.Error, `"title":"alert.name"`) {
			t.Errorf("no configuration: %+v", a)
		}
		if h.count("incidents") != 1 {
			t.Errorf("%d incidents", h.count("incidents"))
		}
	})
}

// TestWebhookErrors: every error class, and none stores anything: 401
// before the body is read, 413 over 1 MiB, 400 naming the field, 404 for
// an unknown service, 403 for a service outside the key's scope.
func TestWebhookErrors(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dialect string) {
		h := newHarness(t, dialect)
		key, _ := webhookSetup(h)
		firing := webhookBody(t, "alertmanager/firing.json")
		huge := append(bytes.Repeat([]byte(" "), 1<<20), firing...)
		cases := []struct {
			name, path, key string
			body            []byte
			status          int
			field, msg      string
		}{
			{"no key, bad body", "/api/v1/webhooks/alertmanager", "", []byte("{nope"), http.StatusUnauthorized, "", "missing integration key"},
			{"no key, huge body", "/api/v1/webhooks/grafana", "", huge, http.StatusUnauthorized, "", "missing integration key"},
			{"wrong key", "/api/v1/webhooks/generic", key[:len(key)-2] + "xx", firing, http.StatusUnauthorized, "", "not accepted"},
			{"over 1 MiB", "/api/v1/webhooks/alertmanager", key, huge, http.StatusRequestEntityTooLarge, "", "larger than"},
			{"malformed JSON", "/api/v1/webhooks/alertmanager", key, firing[:100], http.StatusBadRequest, "", "malformed JSON"},
			{"version 3", "/api/v1/webhooks/alertmanager", key, bytes.Replace(firing, []byte(`"version":"4"`), []byte(`"version":"3"`), 1), http.StatusBadRequest, "version", `"4"`},
			{"no groupKey", "/api/v1/webhooks/alertmanager", key, bytes.Replace(firing, []byte(`"groupKey"`), []byte(`"groupkey_"`), 1), http.StatusBadRequest, "groupKey", "required"},
			{"grafana without groupKey", "/api/v1/webhooks/grafana", key, bytes.Replace(webhookBody(t, "grafana/firing.json"), []byte(`"groupKey"`), []byte(`"group"`), 1), http.StatusBadRequest, "groupKey", "required"},
			{"unknown service", "/api/v1/webhooks/alertmanager?service=nope", key, firing, http.StatusNotFound, "service", "nope"},
			{"service not in scope", "/api/v1/webhooks/alertmanager?service=other", key, firing, http.StatusForbidden, "service", "prometheus may not"},
		}
		tables := []string{"incidents", "incident_alerts", "timeline_events", "escalations", "jobs"}
		before := map[string]int64{}
		for _, table := range tables {
			before[table] = h.count(table)
		}
		for _, c := range cases {
			r := h.postWebhook(c.path, c.key, c.body)
			var a hookAnswer
			_ = json.Unmarshal(r.Body, &a)
			if r.Status != c.status || a.Field != c.field || !strings.Contains(a.Error, c.msg) {
				t.Errorf("%s: %s, want %d field %q with %q", c.name, r, c.status, c.field, c.msg)
			}
		}
		for _, table := range tables {
			if n := h.count(table); n != before[table] {
				t.Errorf("%s has %d rows after refused requests, had %d", table, n, before[table])
			}
		}
	})
}

// TestAlertmanagerWebhookConcurrentDuplicates: 20 identical first
// notifications at once (Alertmanager HA peers each send the group) open
// one incident, page once and write the alert's entry once.
func TestAlertmanagerWebhookConcurrentDuplicates(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dialect string) {
		h := newHarness(t, dialect)
		key, _ := webhookSetup(h)
		body := webhookBody(t, "alertmanager/firing.json")
		statuses := make(chan int, 20)
		var wg sync.WaitGroup
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, err := http.NewRequestWithContext(h.ctx, http.MethodPost, h.srv.URL+"/api/v1/webhooks/alertmanager", bytes.NewReader(body))
				if err != nil {
					t.Error(err)
					return
				}
				req.Header.Set("Authorization", "Bearer "+key)
				resp, err := h.client.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				_ = resp.Body.Close()
				statuses <- resp.StatusCode
			}()
		}
		wg.Wait()
		close(statuses)
		created := 0
		for s := range statuses {
			if s == http.StatusCreated {
				created++
			} else if s != http.StatusOK {
				t.Errorf("status %d", s)
			}
		}
		if created != 1 || h.count("incidents") != 1 || h.count("escalations") != 1 || h.count("incident_alerts") != 1 {
			t.Fatalf("%d created, %d incidents, %d escalations, %d alerts", created, h.count("incidents"), h.count("escalations"), h.count("incident_alerts"))
		}
		var inc models.Incident
		if err := h.db.Gorm.Take(&inc).Error; err != nil {
			t.Fatal(err)
		}
		tl := h.timelineTexts(inc.ID)
		if countContaining(tl, "Alert firing:") != 1 || countContaining(tl, "Runbook:") != 1 || countContaining(tl, "declared") != 1 {
			t.Errorf("timeline %q", tl)
		}
	})
}
