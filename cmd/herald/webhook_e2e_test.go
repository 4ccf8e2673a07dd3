package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
)

// TestWebhookVendorEndToEnd: with HERALD_WEBHOOK_* set (and no Twilio),
// SMS pages go to the webhook, signed so the receiver can verify them,
// carrying the stored message's id and its claim code.
func TestWebhookVendorEndToEnd(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dialect string) {
		secret := strings.Repeat("w", 40)
		var (
			mu       sync.Mutex
			payloads []notifications.WebhookPayload
		)
		receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			err := notifications.VerifyWebhookSignature(secret, r.Header.Get(notifications.WebhookTimestampHeader), body,
				r.Header.Get(notifications.WebhookSignatureHeader), time.Now(), 5*time.Minute)
			if err != nil {
				http.Error(w, err.Error(), http.StatusUnauthorized)
				return
			}
			var p notifications.WebhookPayload
			if err := json.Unmarshal(body, &p); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			mu.Lock()
			payloads = append(payloads, p)
			mu.Unlock()
			w.WriteHeader(http.StatusAccepted)
		}))
		t.Cleanup(receiver.Close)
		h := newHarness(t, dialect, withEnv("HERALD_WEBHOOK_URL", receiver.URL+"/page?token=t0p"), withEnv("HERALD_WEBHOOK_SECRET", secret),
			withEnv("HERALD_WEBHOOK_MODES", "sms"))
		c, err := parseConfigFile("twilio.yaml", []byte(twilioConfig))
		if err != nil {
			t.Fatal(err)
		}
		if err := applyCatalog(h.ctx, h.db.Store, "twilio.yaml", c, notifications.ApplyOptions{}, io.Discard); err != nil {
			t.Fatal(err)
		}
		inc := h.pageTeam("Checkout down", "payments")
		page := h.smsPage(inc)
		mu.Lock()
		got := append([]notifications.WebhookPayload(nil), payloads...)
		mu.Unlock()
		if len(got) != 1 || got[0].Mode != notifications.ModeSMS || got[0].Destination != patPhone || got[0].ClaimCode != page.ClaimCode || got[0].IncidentID != inc.ID {
			t.Fatalf("webhook payloads %+v, want Pat's SMS page with code %s", got, page.ClaimCode)
		}
		if page.Status != models.MessageSent || page.Vendor != "webhook" {
			t.Errorf("stored page %s by %q, want sent by webhook", page.Status, page.Vendor)
		}
		if strings.Contains(h.logs.String(), "t0p") || strings.Contains(h.logs.String(), patPhone) {
			t.Errorf("the log holds the webhook URL's token or the number")
		}
	})
}
