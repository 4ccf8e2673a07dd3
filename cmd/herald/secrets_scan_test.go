package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/heraldhq/herald/internal/testlog"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
)

// The whole app driven through a broad scenario with distinctive secrets,
// phone numbers and e-mail addresses: no log line (debug level up) and no
// HTTP answer may hold one, and no database column may hold one in plain.

const (
	scanBotToken   = "xoxb-scan-secret-bot-4242"
	scanAppToken   = "xapp-1-scan-secret-app-4242"
	scanSigning    = "scan-secret-signing-7f3a9c"
	scanAdminKey   = "scan-secret-admin-key-0123456789abcdef"
	scanWebhookKey = "scan-secret-webhook-0123456789abcdef"
	scanSMTPPass   = "scan-secret-smtp-password"
	scanClaimKey   = "scan-secret-claim-link-0123456789abcdef"
	scanPhone      = "+15550123456" // Sam: SMS, calls, e-mail
	scanEmail      = "sam.scan@secrets.test"
	scanIrisName   = "Autoalerts"
	strangerPhone  = "+15550198765" // texts Herald, known to nobody
)

const scanConfig = `
people:
  - name: sam
    full_name: Sam Scan
    slack_id: U0SAMSCAN
    contacts:
      - {mode: sms, destination: "` + scanPhone + `", verified: true}
      - {mode: call, destination: "` + scanPhone + `", verified: true}
      - {mode: email, destination: "` + scanEmail + `", verified: true}
    priorities:
      high: [sms, email, slack, call]
  - name: quinn
    full_name: Quinn Typo
    contacts:
      - {mode: sms, destination: "` + badPhone + `", verified: true}
      - {mode: call, destination: "` + badPhone + `", verified: true}
    priorities:
      high: [sms, call]
teams:
  - name: payments
    members: [sam]
    oncall: {primary: sam}
  - name: billing
    members: [quinn]
    oncall: {primary: quinn}
plans:
  - name: payments
    team: payments
    steps:
      - notifications:
          - {role: oncall-primary, target: payments, priority: high, wait: 5}
  - name: billing
    team: billing
    steps:
      - notifications:
          - {role: oncall-primary, target: billing, priority: high, wait: 5}
`

// phoneForms are the ways a number is commonly written.
func phoneForms(e164 string) []string {
	d := strings.TrimPrefix(e164, "+1")
	return []string{e164, "1" + d, d, fmt.Sprintf("(%s) %s-%s", d[:3], d[3:6], d[6:]), fmt.Sprintf("%s-%s-%s", d[:3], d[3:6], d[6:])}
}

// bodyLog keeps every answer the server gave.
type bodyLog struct {
	mu     sync.Mutex
	where  []string // method, path and status of each answer
	bodies []string
}

func (b *bodyLog) add(c echo.Context, _, res []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.where = append(b.where, fmt.Sprintf("%s %s -> %d", c.Request().Method, c.Request().URL.Path, c.Response().Status))
	b.bodies = append(b.bodies, string(res))
}

func TestNoSecretsInLogsBodiesOrColumns(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dialect string) {
		api := newFakeTwilioAPI(t)
		var logs syncBuffer
		// Every level: a secret in a debug line leaks as well.
		log := slog.New(testlog.Wrap(t, slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
		failing := newFailingReceiver(t)
		h := newHarness(t, dialect, withSigningSecret(scanSigning), withQuietLogs(),
			withEnv("SLACK_BOT_TOKEN", scanBotToken), withEnv("SLACK_APP_TOKEN", scanAppToken),
			withEnv("HERALD_ADMIN_API_KEY", scanAdminKey), withEnv("HERALD_CLAIM_LINK_SECRET", scanClaimKey),
			withEnv("TWILIO_ACCOUNT_SID", e2eTwilioSID), withEnv("TWILIO_AUTH_TOKEN", e2eTwilioToken),
			withEnv("TWILIO_FROM_NUMBER", e2eTwilioFrom), withEnv("TWILIO_API_URL", api.srv.URL),
			withEnv("SMTP_HOST", "127.0.0.1"), withEnv("SMTP_PORT", "1"), withEnv("SMTP_FROM", "pager@herald.example"),
			withEnv("SMTP_USERNAME", "herald"), withEnv("SMTP_PASSWORD", scanSMTPPass), withEnv("SMTP_TLS", "none"),
			withEnv("HERALD_WEBHOOK_URL", failing.URL+"/page?token=scan-secret-url-token"), withEnv("HERALD_WEBHOOK_SECRET", scanWebhookKey),
			withEnv("HERALD_WEBHOOK_MODES", "call"))
		// The harness's node logs to io.Discard; run a node logging
		// everything instead.
		h.log = log
		h.node.crash()
		h.node = h.startNode()
		var bodies bodyLog
		h.app.Echo.Use(middleware.BodyDump(bodies.add))

		c, err := parseConfigFile("scan.yaml", []byte(scanConfig))
		if err != nil {
			t.Fatal(err)
		}
		if err := applyCatalog(h.ctx, h.db.Store, "scan.yaml", c, notifications.ApplyOptions{}, io.Discard); err != nil {
			t.Fatal(err)
		}
		secrets := h.scanScenario(api, &bodies)
		secrets = append(secrets, scanBotToken, scanAppToken, scanSigning, scanAdminKey, scanWebhookKey, scanSMTPPass, scanClaimKey,
			e2eTwilioToken, h.db.Keyset, "scan-secret-url-token", scanEmail)
		secrets = append(secrets, phoneForms(scanPhone)...)
		secrets = append(secrets, phoneForms(badPhone)...)
		secrets = append(secrets, phoneForms(strangerPhone)...)

		for i, line := range strings.Split(logs.String(), "\n") {
			for _, s := range secrets {
				if s != "" && strings.Contains(line, s) {
					t.Errorf("log line %d holds %q: %s", i+1, s, line)
				}
			}
		}
		bodies.mu.Lock()
		for i, b := range bodies.bodies {
			for _, s := range secrets {
				if s != "" && strings.Contains(b, s) {
					t.Errorf("the answer to %s holds %q: %.300s", bodies.where[i], s, b)
				}
			}
		}
		bodies.mu.Unlock()
		h.assertNoPlaintextColumns(secrets)
		// The scenario reached what it means to test.
		all := strings.Join(bodies.where, "\n")
		for _, want := range []string{"POST /twilio/status -> 204", "POST /twilio/sms -> 403", "PUT /api/v1/incidents -> 201", "PUT /api/v1/incidents -> 401",
			"POST /v0/incidents -> 401", "POST /api/v1/integrations -> 401", "POST /slack/commands -> 401", ".ics -> 200", ".ics -> 404"} {
			if !strings.Contains(all, want) {
				t.Errorf("no answer %q in:\n%s", want, all)
			}
		}
		if failing.hits.Load() == 0 {
			t.Error("the failing webhook vendor was never tried")
		}
		if !strings.Contains(logs.String(), "21211") {
			t.Errorf("the log does not mention Twilio refusing a number:\n%s", logs.String())
		}
		if testing.Verbose() {
			t.Logf("%d log lines, %d answers scanned:\n%s", strings.Count(logs.String(), "\n"), len(bodies.bodies), strings.Join(bodies.where, "\n"))
		}
	})
}

// scanScenario drives the app through paging, callbacks, APIs and bad
// requests; it returns the secrets it minted (integration key, calendar
// token, claim codes are not secret).
func (h *harness) scanScenario(api *fakeTwilioAPI, bodies *bodyLog) []string {
	t := h.t
	// Paging by SMS, call (Twilio), e-mail (an SMTP server that is down)
	// and Slack, declared and paged over signed Slack requests.
	inc := h.pageTeam("Checkout down", "payments")
	h.drain(h.node)
	sent := api.messages()
	if len(sent) == 0 {
		t.Fatalf("Twilio got nothing")
	}
	// Twilio callbacks: valid, then forged.
	for _, s := range sent {
		if s.Kind != "Messages" {
			continue
		}
		path := strings.TrimPrefix(s.Form.Get("StatusCallback"), "http://herald.test")
		h.twilioPost(path, smsStatus(s.SID, "delivered", ""), "")
		h.twilioPost(path, smsStatus(s.SID, "failed", "30003"), "forged")
	}
	h.twilioPost("/twilio/sms", inboundSMS(scanPhone, "claim"), "forged")
	h.twilioPost("/twilio/sms", inboundSMS(scanPhone, "help"), "")
	h.twilioPost("/twilio/sms", inboundSMS(scanPhone, "claim"), "")
	h.twilioPost("/twilio/sms", inboundSMS(strangerPhone, "claim"), "") // nobody's number
	h.twilioPost("/twilio/sms", inboundSMS(scanPhone, "STOP"), "")
	h.do(h.node, "/twilio/sms", http.Header{"Content-Type": {formType}}, []byte("%%%not a form"))
	_ = inc

	// A number Twilio refuses, naming it in its error; calls then fall
	// back to a webhook that fails naming it too.
	h.pageTeam("Billing down", "billing")
	for range 4 {
		h.clock.Advance(time.Minute)
		h.runEngine()
		h.drain(h.node)
	}

	// A Slack API error while paging again.
	h.fake.FailNext("chat.postMessage", "invalid_auth")
	h.fake.FailNext("conversations.open", "invalid_auth")
	h.pageTeam("Search down", "payments")
	h.drain(h.node)

	// Admin API: wrong key, malformed body, then an integration.
	h.admin(http.MethodPost, "/api/v1/integrations", "scan-secret-wrong-admin", []byte(`{"name":"x","services":["pay"]}`))
	h.admin(http.MethodPut, "/api/v1/config", scanAdminKey, []byte("people: [oops"))
	h.addService("pay", "payments")
	r := h.admin(http.MethodPost, "/api/v1/integrations", scanAdminKey, []byte(`{"name":"prometheus","services":["pay"]}`))
	key := keyOf(t.(*testing.T), r)
	bodies.mu.Lock()
	// The one answer that shows the key.
	bodies.where, bodies.bodies = bodies.where[:len(bodies.where)-1], bodies.bodies[:len(bodies.bodies)-1]
	bodies.mu.Unlock()

	// Incidents API and webhooks: right key, wrong keys, bad bodies.
	h.api(http.MethodPut, "/api/v1/incidents", key, `{"service":"pay","severity":"CRIT","title":"api down"}`)
	h.api(http.MethodPut, "/api/v1/incidents", key+"x", `{"service":"pay","severity":"CRIT","title":"api down"}`)
	h.api(http.MethodPut, "/api/v1/incidents", "hrld_scansecretwrongkey0123456789", `{"service":"pay"}`)
	h.api(http.MethodPut, "/api/v1/incidents", key, `{"service":`)
	h.postWebhook("/api/v1/webhooks/alertmanager", key+"y", []byte(`{}`))
	h.postWebhook("/api/v1/webhooks/alertmanager", key, []byte(`not json`))

	// Iris: a key, a wrong HMAC, a name that does not exist.
	now := h.now()
	in := &models.Integration{ID: models.NewIntegrationID(), Name: scanIrisName, CreatedAt: now, UpdatedAt: now}
	if err := h.db.Gorm.Create(in).Error; err != nil {
		t.Fatal(err)
	}
	irisKey, err := h.db.Store.MintIntegrationKey(h.ctx, in.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	body := `{"plan": "payments", "context": {"notes": "x"}}`
	for _, auth := range []string{"hmac " + scanIrisName + ":" + irisSign(h, irisKey+"wrong", body), "hmac Nobody:" + irisSign(h, irisKey, body), "hmac " + irisKey, "Bearer " + irisKey} {
		req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/v0/incidents", bytes.NewReader([]byte(body)))
		req.Header.Set("Authorization", auth)
		if resp, err := h.client.Do(req); err == nil {
			resp.Body.Close()
		}
	}

	// Calendar feeds: the right token and a wrong one.
	p, err := h.db.Store.PersonByName(h.ctx, "sam")
	if err != nil {
		t.Fatal(err)
	}
	calToken, _, err := h.db.Store.IssueCalendarToken(h.ctx, models.CalendarTokenPerson, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	h.get("/calendars/people/" + calToken + ".ics")
	h.get("/calendars/people/" + calToken + "x.ics")

	// Slack: a bad signature, a malformed signed body.
	h.do(h.node, "/slack/commands", http.Header{"Content-Type": {formType}, "X-Slack-Signature": {"v0=00"}, "X-Slack-Request-Timestamp": {"1"}}, []byte("text=x"))
	h.postSigned("/slack/actions", formType, []byte("payload=%7Bnot+json"), nil)
	h.postSigned("/slack/events", "application/json", []byte(`{"type":`), nil)
	return []string{key, irisKey, calToken}
}

// irisSign is the Iris client's HMAC of a POST to /v0/incidents.
func irisSign(h *harness, key, body string) string {
	m := hmac.New(sha512.New, []byte(key))
	fmt.Fprintf(m, "%d POST %s %s", h.now().Unix()/5, "/v0/incidents", body)
	return base64.URLEncoding.EncodeToString(m.Sum(nil))
}

// newFailingReceiver is a webhook receiver that fails naming what it got.
type failingReceiver struct {
	*httptest.Server
	hits atomic.Int64
}

func newFailingReceiver(t *testing.T) *failingReceiver {
	t.Helper()
	srv := &failingReceiver{}
	srv.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		srv.hits.Add(1)
		b, _ := io.ReadAll(r.Body)
		http.Error(w, "cannot page: "+string(b)+" "+r.URL.RawQuery, http.StatusBadGateway)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// assertNoPlaintextColumns reads every column of every table as raw bytes
// and fails on any holding a secret in plain.
func (h *harness) assertNoPlaintextColumns(secrets []string) {
	h.t.Helper()
	tables, err := h.db.Gorm.Migrator().GetTables()
	if err != nil {
		h.t.Fatal(err)
	}
	checked := 0
	for _, table := range tables {
		if table == "goose_db_version" {
			continue
		}
		rows, err := h.db.Gorm.WithContext(h.ctx).Raw("SELECT * FROM " + table).Rows()
		if err != nil {
			h.t.Fatalf("reading %s: %v", table, err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				h.t.Fatalf("scanning %s: %v", table, err)
			}
			for i, v := range vals {
				var s string
				switch v := v.(type) {
				case []byte:
					s = string(v)
				case string:
					s = v
				default:
					continue
				}
				checked++
				for _, sec := range secrets {
					if sec != "" && strings.Contains(s, sec) {
						h.t.Errorf("%s.%s holds %q in plain: %.200s", table, cols[i], sec, s)
					}
				}
			}
		}
		rows.Close()
	}
	if checked == 0 {
		h.t.Error("no column was read")
	}
}
