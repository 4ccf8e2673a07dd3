package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
)

// irisConfig pages Ann by Slack with a template that reads the alert's
// context, as an Iris plan's template read the application's variables.
const irisConfig = `
people:
  - name: ann
    full_name: Ann Oncall
    slack_id: U0ANN
    priorities:
      high: [slack]
templates:
  - name: autoalerts
    modes:
      slack:
        body: "{{.Context.notes}} (code {{.ClaimCode}})"
plans:
  - name: example-plan
    steps:
      - notifications:
          - {role: user, target: ann, priority: high, wait: 5, template: autoalerts}
`

// TestIrisEndToEnd drives the real App as the Iris client would (the
// guide's `iris.incident('example-plan', {'notes': …})`): the signed
// create raises an incident shown in Slack, the plan pages Ann by Slack
// with the context in the text, and a claim through /v0 stops it.
func TestIrisEndToEnd(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dialect string) {
		h := newHarness(t, dialect)
		c, err := parseConfigFile("iris.yaml", []byte(irisConfig))
		if err != nil {
			t.Fatal(err)
		}
		if err := applyCatalog(h.ctx, h.db.Store, "iris.yaml", c, notifications.ApplyOptions{}, io.Discard); err != nil {
			t.Fatal(err)
		}
		now := h.now()
		in := &models.Integration{ID: models.NewIntegrationID(), Name: "Autoalerts", CreatedAt: now, UpdatedAt: now}
		if err := h.db.Gorm.Create(in).Error; err != nil {
			t.Fatal(err)
		}
		key, err := h.db.Store.MintIntegrationKey(h.ctx, in.ID, false)
		if err != nil {
			t.Fatal(err)
		}
		send := func(path, body string) response {
			t.Helper()
			m := hmac.New(sha512.New, []byte(key))
			fmt.Fprintf(m, "%d POST %s %s", h.now().Unix()/5, path, body)
			req, err := http.NewRequest(http.MethodPost, h.srv.URL+path, bytes.NewReader([]byte(body)))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "hmac Autoalerts:"+base64.URLEncoding.EncodeToString(m.Sum(nil)))
			resp, err := h.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return response{Status: resp.StatusCode, Header: resp.Header, Body: b}
		}

		r := send("/v0/incidents", `{"plan": "example-plan", "context": {"notes": "This is a programmatic incident!"}}`)
		if r.Status != http.StatusCreated {
			t.Fatalf("create: %s", r)
		}
		var number int64
		if err := json.Unmarshal(r.Body, &number); err != nil {
			t.Fatalf("create answered %s: %v", r, err)
		}
		inc, err := h.db.Store.IncidentByNumber(h.ctx, number)
		if err != nil {
			t.Fatal(err)
		}
		h.drain(h.node)
		headline := false
		for _, call := range h.fake.Calls("chat.postMessage") {
			headline = headline || strings.Contains(call.Params.Get("blocks")+call.Params.Get("text"), "example-plan")
		}
		if !headline {
			t.Fatalf("no headline for the Iris incident in Slack: %+v", h.fake.Calls("chat.postMessage"))
		}
		h.runEngine()
		page := ""
		for _, call := range h.fake.Calls("chat.postMessage") {
			if call.Params.Get("channel") == "U0ANN" {
				page = call.Params.Get("text") + call.Params.Get("blocks")
			}
		}
		if !strings.Contains(page, "This is a programmatic incident! (code ") {
			t.Fatalf("Ann's Slack page %q does not carry the context", page)
		}

		if r := send(fmt.Sprintf("/v0/incidents/%d", number), `{"owner": "ann"}`); r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"active":false`) {
			t.Fatalf("claim: %s", r)
		}
		if got := h.escalationState(inc); got != models.EscalationClaimed {
			t.Fatalf("escalation %s after the Iris claim", got)
		}
		if r := send(fmt.Sprintf("/v0/incidents/%d/resolve", number), `{"resolved": true}`); r.Status != http.StatusOK {
			t.Fatalf("resolve: %s", r)
		}
		if h.incident(inc.ID).IsOpen() {
			t.Fatal("the Iris resolve did not resolve the incident")
		}
	})
}
