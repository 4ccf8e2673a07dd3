package notifications

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Webhook headers.
const (
	// WebhookSignatureHeader is "sha256=" + hex(HMAC-SHA256(secret,
	// timestamp + "." + body)).
	WebhookSignatureHeader = "X-Herald-Signature"
	// WebhookTimestampHeader is the Unix time (seconds) the request was
	// signed at.
	WebhookTimestampHeader = "X-Herald-Timestamp"
	// WebhookIdempotencyHeader carries the payload id on every POST and
	// status lookup: the same on every retry and resend of a message.
	WebhookIdempotencyHeader = "Idempotency-Key"
)

const webhookSignaturePrefix = "sha256="

// Webhook defaults.
const (
	DefaultWebhookMaxAttempts = 4
	DefaultWebhookBackoff     = 250 * time.Millisecond
	DefaultWebhookMaxWait     = 5 * time.Second
)

// maxWebhookResponse bounds how much of a response is read (and thrown
// away) so the connection can be reused.
const maxWebhookResponse = 64 << 10

// Errors of VerifyWebhookSignature.
var (
	ErrWebhookSignature = errors.New("webhook signature invalid")
	ErrWebhookTimestamp = errors.New("webhook timestamp invalid or outside the window")
)

// WebhookPayload is the JSON body a Webhook posts.
type WebhookPayload struct {
	// ID is unique per message and the same on every retry of it: a
	// receiver can de-duplicate on it.
	ID          string    `json:"id"`
	Mode        Mode      `json:"mode"`
	Destination string    `json:"destination,omitempty"`
	Subject     string    `json:"subject"`
	Body        string    `json:"body"`
	IncidentID  int64     `json:"incident_id"` // 0 for out-of-band messages
	ClaimCode   string    `json:"claim_code"`
	SentAt      time.Time `json:"sent_at"`
}

// WebhookConfig configures a Webhook.
type WebhookConfig struct {
	Name   string // the vendor name; unique among vendors
	URL    string // http or https
	Secret string // HMAC key; required
	// StatusURL, when set, is asked before a message taken over from a
	// dead sender is sent again: GET StatusURL/<payload id>, signed like
	// a POST (see FindSent). Empty: taken-over messages are re-sent.
	StatusURL string
	// StatusTimeout bounds one status lookup (default 3 s): it comes out
	// of the send's own time.
	StatusTimeout time.Duration
	// Modes the webhook serves; empty means every mode.
	Modes []Mode
	// HTTPClient sends the requests. The default, built from HTTP, keeps
	// connections for reuse, bounds each request (the context's deadline
	// normally comes first) and does not follow redirects: a signed page
	// is not re-sent to wherever a 3xx points. Tests inject their own.
	HTTPClient *http.Client
	// HTTP tunes the default client's limits and timeouts.
	HTTP HTTPOptions
	// Log gets one line per retried attempt (never the destination).
	// Default slog.Default().
	Log *slog.Logger
	// MaxAttempts per Send, first included (default 4).
	MaxAttempts int
	// Backoff is the wait before the first retry, doubled for each next
	// one, with jitter (default 250 ms).
	Backoff time.Duration
	// MaxWait caps every wait. A Retry-After longer than this ends the
	// Send with an error rather than waiting (default 5 s).
	MaxWait time.Duration
}

// Webhook delivers messages by POSTing signed JSON (WebhookPayload) to a
// URL. It retries network errors, 5xx and 429 (honouring Retry-After up
// to MaxWait) with bounded backoff inside the context's deadline, and
// fails at once on any other status. It is safe for concurrent use.
type Webhook struct {
	name        string
	url         string
	safeURL     string   // scheme://host, for errors: the path may hold a token
	statusURL   *url.URL // nil: no lookup
	statusSafe  string
	statusWait  time.Duration
	secret      []byte
	modes       []Mode
	client      *http.Client
	log         *slog.Logger
	maxAttempts int
	backoff     time.Duration
	maxWait     time.Duration

	// Test seams.
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
}

// NewWebhook validates c and builds a webhook vendor.
func NewWebhook(c WebhookConfig) (*Webhook, error) {
	if c.Name == "" {
		return nil, errors.New("webhook: a name is required")
	}
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("webhook %q: the URL must be an absolute http(s) URL", c.Name)
	}
	if c.Secret == "" {
		return nil, fmt.Errorf("webhook %q: a secret is required", c.Name)
	}
	var (
		statusURL  *url.URL
		statusSafe string
	)
	if c.StatusURL != "" {
		su, err := url.Parse(c.StatusURL)
		if err != nil || (su.Scheme != "http" && su.Scheme != "https") || su.Host == "" {
			return nil, fmt.Errorf("webhook %q: the status URL must be an absolute http(s) URL", c.Name)
		}
		statusURL, statusSafe = su, su.Scheme+"://"+su.Host
	}
	modes := slices.Clone(c.Modes)
	if len(modes) == 0 {
		modes = []Mode{ModeSlack, ModeEmail, ModeSMS, ModeCall}
	}
	for _, m := range modes {
		switch m {
		case ModeSlack, ModeEmail, ModeSMS, ModeCall:
		default:
			return nil, fmt.Errorf("webhook %q: unknown mode %q", c.Name, m)
		}
	}
	slices.Sort(modes)
	modes = slices.Compact(modes)
	w := &Webhook{
		name: c.Name, url: c.URL, safeURL: u.Scheme + "://" + u.Host, secret: []byte(c.Secret), modes: modes,
		client: c.HTTPClient, log: c.Log, maxAttempts: c.MaxAttempts, backoff: c.Backoff, maxWait: c.MaxWait,
		statusURL: statusURL, statusSafe: statusSafe, statusWait: c.StatusTimeout,
		now: time.Now, sleep: sleepCtx,
	}
	if w.statusWait <= 0 {
		w.statusWait = DefaultWebhookStatusTimeout
	}
	if w.client == nil {
		w.client = &http.Client{
			Transport:     c.HTTP.RoundTripper(),
			Timeout:       c.HTTP.RequestTimeout(),
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if w.log == nil {
		w.log = slog.Default()
	}
	if w.maxAttempts <= 0 {
		w.maxAttempts = DefaultWebhookMaxAttempts
	}
	if w.backoff <= 0 {
		w.backoff = DefaultWebhookBackoff
	}
	if w.maxWait <= 0 {
		w.maxWait = DefaultWebhookMaxWait
	}
	return w, nil
}

// Name implements Vendor.
func (w *Webhook) Name() string { return w.name }

// Modes implements Vendor.
func (w *Webhook) Modes() []Mode { return slices.Clone(w.modes) }

// String keeps the secret out of %v.
func (w *Webhook) String() string { return "webhook " + strconv.Quote(w.name) }

// WebhookStatusError is a webhook's answer other than 2xx.
type WebhookStatusError struct {
	Status     int
	RetryAfter time.Duration // from a 429 or 503's Retry-After, else 0
}

func (e *WebhookStatusError) Error() string {
	return fmt.Sprintf("HTTP %d %s", e.Status, http.StatusText(e.Status))
}

// Send implements Vendor: it posts m and returns the payload id. Errors
// name the vendor and the last failure; they never hold the destination,
// the URL's path or the answer's body (which might echo the destination).
func (w *Webhook) Send(ctx context.Context, m Message) (string, error) {
	if !slices.Contains(w.modes, m.Mode) {
		return "", fmt.Errorf("webhook %q: does not serve mode %q", w.name, m.Mode)
	}
	p := WebhookPayload{
		ID: webhookID(m), Mode: m.Mode, Destination: m.Destination, Subject: m.Subject, Body: m.Body,
		IncidentID: m.IncidentID, ClaimCode: m.ClaimCode, SentAt: w.now().UTC(),
	}
	body, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("webhook %q: encoding: %w", w.name, err)
	}
	for attempt := 1; ; attempt++ {
		retryAfter, retry, err := w.post(ctx, p.ID, body)
		if err == nil {
			return p.ID, nil
		}
		if !retry {
			return "", fmt.Errorf("webhook %q: %w", w.name, err)
		}
		if attempt >= w.maxAttempts {
			return "", fmt.Errorf("webhook %q: giving up after %d attempts: %w", w.name, attempt, err)
		}
		if retryAfter > w.maxWait {
			return "", fmt.Errorf("webhook %q: asked to retry after %s, more than the %s this vendor waits: %w", w.name, retryAfter, w.maxWait, err)
		}
		wait := max(w.backoffFor(attempt), retryAfter)
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
			return "", fmt.Errorf("webhook %q: no time left to retry after attempt %d: %w", w.name, attempt, err)
		}
		w.log.WarnContext(ctx, "webhook attempt failed; retrying", "vendor", w.name, "mode", m.Mode,
			"incident_id", m.IncidentID, "webhook_id", p.ID, "attempt", attempt, "wait", wait, "err", err)
		if serr := w.sleep(ctx, wait); serr != nil {
			return "", fmt.Errorf("webhook %q: %w (after attempt %d: %w)", w.name, serr, attempt, err)
		}
	}
}

// post makes one attempt. retry reports whether a failure is transient.
func (w *Webhook) post(ctx context.Context, id string, body []byte) (retryAfter time.Duration, retry bool, err error) {
	if err := ctx.Err(); err != nil {
		return 0, false, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return 0, false, fmt.Errorf("building request: %w", err)
	}
	ts := strconv.FormatInt(w.now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "herald")
	req.Header.Set(WebhookTimestampHeader, ts)
	req.Header.Set(WebhookSignatureHeader, webhookSignature(w.secret, ts, body))
	req.Header.Set(WebhookIdempotencyHeader, id)
	resp, err := w.client.Do(req)
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return 0, false, fmt.Errorf("POST %s: %w", w.safeURL, cerr)
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its message repeats the full URL
		}
		return 0, true, fmt.Errorf("POST %s: %w", w.safeURL, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxWebhookResponse))
	_ = resp.Body.Close()
	switch s := resp.StatusCode; {
	case s >= 200 && s < 300:
		return 0, false, nil
	case s == http.StatusTooManyRequests || s == http.StatusServiceUnavailable:
		ra := parseRetryAfter(resp.Header.Get("Retry-After"), w.now())
		return ra, true, &WebhookStatusError{Status: s, RetryAfter: ra}
	case s >= 500:
		return 0, true, &WebhookStatusError{Status: s}
	default: // 1xx, 3xx (redirects are not followed), 4xx
		return 0, false, &WebhookStatusError{Status: s}
	}
}

// backoffFor is the wait after a failed attempt (1-based): Backoff
// doubled per attempt, capped at MaxWait, with jitter in [d/2, d].
func (w *Webhook) backoffFor(attempt int) time.Duration {
	d := w.backoff
	for i := 1; i < attempt && d < w.maxWait; i++ {
		d *= 2
	}
	d = min(d, w.maxWait)
	if half := d / 2; half > 0 {
		d = half + rand.N(half+1)
	}
	return d
}

// parseRetryAfter reads a Retry-After header: delay seconds or an HTTP
// date. Anything else (or a time past) is 0.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		if secs > int64(24*time.Hour/time.Second) {
			return 24 * time.Hour
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// webhookSignature is the X-Herald-Signature value of a request.
func webhookSignature(secret []byte, ts string, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(ts))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return webhookSignaturePrefix + hex.EncodeToString(mac.Sum(nil))
}

// VerifyWebhookSignature checks a Herald webhook request: header is its
// X-Herald-Signature, ts its X-Herald-Timestamp, body the raw body. It
// fails with ErrWebhookTimestamp unless ts is a Unix time in seconds
// within window of now (either side), and with ErrWebhookSignature unless
// header is "sha256=" + the hex HMAC-SHA256 of ts + "." + body under
// secret (compared in constant time).
func VerifyWebhookSignature(secret string, ts string, body []byte, header string, now time.Time, window time.Duration) error {
	if secret == "" {
		return fmt.Errorf("%w: no secret to verify with", ErrWebhookSignature)
	}
	if window <= 0 {
		return fmt.Errorf("%w: the window must be positive", ErrWebhookTimestamp)
	}
	sent, ok := parseUnixSeconds(ts)
	if !ok {
		return fmt.Errorf("%w: malformed timestamp", ErrWebhookTimestamp)
	}
	hexSig, found := strings.CutPrefix(header, webhookSignaturePrefix)
	if !found || len(hexSig) != 2*sha256.Size {
		return fmt.Errorf("%w: malformed header", ErrWebhookSignature)
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return fmt.Errorf("%w: malformed header", ErrWebhookSignature)
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts))
	mac.Write([]byte{'.'})
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return ErrWebhookSignature
	}
	skew := now.Unix() - sent // sent ≥ 0, so no overflow
	if skew < 0 {
		skew = -skew
	}
	if skew > int64(window/time.Second) {
		return fmt.Errorf("%w: signed %ds away from now", ErrWebhookTimestamp, now.Unix()-sent)
	}
	return nil
}

// parseUnixSeconds accepts 1 to 18 ASCII digits (no sign, no spaces).
func parseUnixSeconds(s string) (int64, bool) {
	if len(s) == 0 || len(s) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// webhookID identifies a message to the receiver: "herald-msg-<id>" for a
// stored message, so every attempt of it (including a resend after a
// replica died) carries the same id and duplicates can be dropped.
func webhookID(m Message) string {
	if m.ID != 0 {
		return fmt.Sprintf("herald-msg-%d", m.ID)
	}
	return uuid.NewString()
}
