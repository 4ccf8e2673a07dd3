package main

import (
	"net/http"
	"strings"
	"time"

	"github.com/heraldhq/herald/notifications"
)

// statusPath is where the bench sink serves the webhook status lookup:
// GET statusPath + "/<payload id>".
const statusPath = "/herald/status"

// benchWebhookSecret signs the bench workers' webhook requests.
const benchWebhookSecret = "bench"

// sinkLookups counts the status lookups the sink answered.
type sinkLookups struct {
	Received    int // 200 {"received":true}: the resend is suppressed
	NotReceived int // 404: the page is sent again
	Rejected    int // bad signature or path: the worker sends anyway
}

// serveStatus implements the receiver side of the webhook status lookup
// (docs/operations.md, "Webhook vendor"): a signed GET for a payload id,
// answered from the ids recorded on receipt.
func (s *benchSink) serveStatus(w http.ResponseWriter, r *http.Request) {
	id, ok := strings.CutPrefix(r.URL.Path, statusPath+"/")
	if ok && (id == "" || strings.Contains(id, "/")) {
		ok = false
	}
	if ok {
		err := notifications.VerifyWebhookSignature(benchWebhookSecret, r.Header.Get(notifications.WebhookTimestampHeader),
			[]byte(id), r.Header.Get(notifications.WebhookSignatureHeader), time.Now(), 5*time.Minute)
		ok = err == nil
	}
	s.mu.Lock()
	n := s.ids[id]
	switch {
	case !ok:
		s.lookup.Rejected++
	case n > 0:
		s.lookup.Received++
	default:
		s.lookup.NotReceived++
	}
	s.mu.Unlock()
	code, body := http.StatusNotFound, `{"received":false}`
	switch {
	case !ok:
		code, body = http.StatusUnauthorized, `{"error":"bad signature or path"}`
	case n > 0:
		code, body = http.StatusOK, `{"received":true}`
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(body))
}

// idStats are the lookups answered and how many payload ids arrived more
// than once (each extra POST of an id is a duplicate at the sink).
func (s *benchSink) idStats() (l sinkLookups, dupIDs int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.ids {
		dupIDs += n - 1
	}
	return s.lookup, dupIDs
}
