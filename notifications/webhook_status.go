package notifications

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DefaultWebhookStatusTimeout bounds one status lookup.
const DefaultWebhookStatusTimeout = 3 * time.Second

// maxWebhookStatusBody bounds the lookup answer read: {"received":true}.
const maxWebhookStatusBody = 4 << 10

// ErrWebhookStatus is a status lookup answer that is neither "received"
// nor "not received": the message is sent again (at least once).
var ErrWebhookStatus = errors.New("webhook status lookup: unusable answer")

// webhookStatus is the JSON a receiver's status endpoint answers with.
type webhookStatus struct {
	Received *bool `json:"received"`
}

// FindSent implements SentChecker when a status URL is configured: it
// asks GET <status URL>/<payload id>, signed like a POST with the payload
// id standing for the body (X-Herald-Signature = "sha256=" +
// hex(HMAC-SHA256(secret, timestamp + "." + id))). 200 {"received":true}
// means the receiver has the message (found); 404, or 200
// {"received":false}, that it has not. Anything else is an error, so the
// engine sends the message again: a page twice beats no page.
//
// The engine asks only for a message taken over from a sender whose
// lease ran out, with the payload id that sender used (the stored message
// id), so since is not needed.
func (w *Webhook) FindSent(ctx context.Context, m Message, _ time.Time) (string, bool, error) {
	if w.statusURL == nil || m.ID == 0 {
		return "", false, nil // no lookup configured, or no stable id to ask for
	}
	id := webhookID(m)
	ctx, cancel := context.WithTimeout(ctx, w.statusWait)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, w.statusLookupURL(id), nil)
	if err != nil {
		return "", false, fmt.Errorf("webhook %q: building status lookup: %w", w.name, err)
	}
	ts := strconv.FormatInt(w.now().Unix(), 10)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "herald")
	req.Header.Set(WebhookTimestampHeader, ts)
	req.Header.Set(WebhookSignatureHeader, webhookSignature(w.secret, ts, []byte(id)))
	req.Header.Set(WebhookIdempotencyHeader, id)
	resp, err := w.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its message repeats the full URL
		}
		return "", false, fmt.Errorf("webhook %q: status lookup GET %s: %w", w.name, w.statusSafe, err)
	}
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, maxWebhookStatusBody+1))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxWebhookResponse))
	_ = resp.Body.Close()
	if rerr != nil {
		return "", false, fmt.Errorf("webhook %q: status lookup GET %s: reading: %w", w.name, w.statusSafe, rerr)
	}
	found, err := parseWebhookStatus(resp.StatusCode, body)
	if err != nil {
		return "", false, fmt.Errorf("webhook %q: status lookup GET %s: %w", w.name, w.statusSafe, err)
	}
	if !found {
		return "", false, nil
	}
	return id, true, nil
}

// statusLookupURL is the status URL with "/" + id added to its path (its
// query, if any, kept).
func (w *Webhook) statusLookupURL(id string) string {
	u := *w.statusURL
	u.Path = strings.TrimRight(u.Path, "/") + "/" + id
	u.RawPath, u.Fragment, u.RawFragment = "", "", ""
	return u.String()
}

// parseWebhookStatus reads a status lookup's answer: found for 200
// {"received":true}, not found for 404 (any body) or 200
// {"received":false}; any other status or body is ErrWebhookStatus.
func parseWebhookStatus(status int, body []byte) (found bool, err error) {
	switch status {
	case http.StatusNotFound:
		return false, nil
	case http.StatusOK:
	default:
		return false, fmt.Errorf("%w: %w", ErrWebhookStatus, &WebhookStatusError{Status: status})
	}
	if len(body) > maxWebhookStatusBody {
		return false, fmt.Errorf("%w: body over %d bytes", ErrWebhookStatus, maxWebhookStatusBody)
	}
	var s webhookStatus
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&s); err != nil {
		return false, fmt.Errorf("%w: body is not a JSON object", ErrWebhookStatus)
	}
	if dec.More() {
		return false, fmt.Errorf("%w: trailing data after the JSON object", ErrWebhookStatus)
	}
	if s.Received == nil {
		return false, fmt.Errorf("%w: no \"received\" boolean", ErrWebhookStatus)
	}
	return *s.Received, nil
}
