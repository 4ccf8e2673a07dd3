package bot

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/models"
)

// Signature errors; all mean "not from Slack" and get a 401.
var (
	ErrMissingSignature = errors.New("missing X-Slack-Signature or X-Slack-Request-Timestamp header")
	ErrStaleTimestamp   = errors.New("request timestamp is outside the 5-minute window (replayed, or the server clock is wrong)")
	ErrBadSignature     = errors.New("signature does not match the request body and signing secret")
)

// SignatureWindow is how far a request's timestamp may be from now.
const SignatureWindow = 5 * time.Minute

// Verifier checks Slack's v0 request signatures: HMAC-SHA256 over
// "v0:{timestamp}:{raw body}" keyed with the app's signing secret.
type Verifier struct {
	secret []byte
	clock  models.Clock
}

// NewVerifier builds a Verifier for one signing secret.
func NewVerifier(signingSecret string, clock models.Clock) *Verifier {
	return &Verifier{secret: []byte(signingSecret), clock: clock}
}

// Verify checks the signature headers against the raw body. It must run
// before anything parses the body.
func (v *Verifier) Verify(h http.Header, body []byte) error {
	ts := strings.TrimSpace(h.Get("X-Slack-Request-Timestamp"))
	sig := strings.TrimSpace(h.Get("X-Slack-Signature"))
	if ts == "" || sig == "" {
		return ErrMissingSignature
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: timestamp %q is not Unix seconds", ErrBadSignature, ts)
	}
	if d := v.clock.Now().Sub(time.Unix(sec, 0)); d > SignatureWindow || d < -SignatureWindow {
		return ErrStaleTimestamp
	}
	got, ok := strings.CutPrefix(sig, "v0=")
	if !ok {
		return fmt.Errorf("%w: unsupported signature version", ErrBadSignature)
	}
	gotMAC, err := hex.DecodeString(got)
	if err != nil {
		return fmt.Errorf("%w: signature is not hex", ErrBadSignature)
	}
	if !hmac.Equal(gotMAC, v.mac(ts, body)) {
		return ErrBadSignature
	}
	return nil
}

func (v *Verifier) mac(ts string, body []byte) []byte {
	m := hmac.New(sha256.New, v.secret)
	m.Write([]byte("v0:" + ts + ":"))
	m.Write(body)
	return m.Sum(nil)
}

// Sign returns the headers Slack would send with body at time t; used by
// `herald slack-sim`, the load harness and tests.
func Sign(signingSecret string, t time.Time, body []byte) http.Header {
	ts := strconv.FormatInt(t.Unix(), 10)
	v := Verifier{secret: []byte(signingSecret)}
	h := http.Header{}
	h.Set("X-Slack-Request-Timestamp", ts)
	h.Set("X-Slack-Signature", "v0="+hex.EncodeToString(v.mac(ts, body)))
	return h
}
