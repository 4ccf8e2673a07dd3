package notifications

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	twclient "github.com/twilio/twilio-go/client"
	twapi "github.com/twilio/twilio-go/rest/api/v2010"
)

// DefaultTwilioAPIURL is Twilio's REST API.
const DefaultTwilioAPIURL = "https://api.twilio.com"

// Vendor names of the Twilio vendors (also stored on their messages, so
// delivery reports find them).
const (
	TwilioSMSVendor  = "twilio-sms"
	TwilioCallVendor = "twilio-call"
)

// Herald's Twilio endpoints, relative to its public base URL.
const (
	TwilioSMSPath    = "/twilio/sms"
	TwilioVoicePath  = "/twilio/voice"
	TwilioGatherPath = "/twilio/voice/gather"
	TwilioStatusPath = "/twilio/status"
	// TwilioMessageParam is the query parameter of a status callback URL
	// that holds the stored message's id.
	TwilioMessageParam = "m"
)

// maxSMSBody is Twilio's limit on a message body.
const maxSMSBody = 1600

// TwilioConfig configures the Twilio vendors.
type TwilioConfig struct {
	AccountSID string
	AuthToken  string
	From       string // E.164 number the pages come from
	// APIURL is Twilio's REST API base (default DefaultTwilioAPIURL); tests
	// point it at a fake.
	APIURL string
	// BaseURL is Herald's public URL: Twilio fetches call TwiML and posts
	// delivery reports under it.
	BaseURL string
	// Transport sends the HTTP requests (default: one built from HTTP,
	// kept for the vendor's life so its connections are reused). Tests
	// inject their own.
	Transport http.RoundTripper
	// HTTP tunes the default transport's limits and timeouts, and bounds
	// each request (HTTP.Timeout, also with an injected Transport).
	HTTP HTTPOptions
	// Log gets one line per send (never a phone number). Default
	// slog.Default().
	Log *slog.Logger
	// Now is the clock voice tokens are issued by (default time.Now).
	Now func() time.Time
}

// Twilio pages by SMS (mode sms) or by phone call (mode call) through
// Twilio's REST API, with the official SDK (twilio-go). Build one per mode
// with NewTwilioSMS and NewTwilioVoice. It is safe for concurrent use.
//
// twilio-go has no setting for its API host (https://api.twilio.com is
// fixed inside each service) and sends without a context. So every Send
// builds a small SDK client whose http.Client has a transport that (1)
// binds the request to Send's context, so the engine's deadline cancels
// it, and (2) when APIURL is not Twilio's, rewrites the request's scheme
// and host (and prefixes APIURL's path) to APIURL. With the default
// APIURL nothing is rewritten, so TWILIO_EDGE and TWILIO_REGION, which
// the SDK reads, keep working.
type Twilio struct {
	mode      Mode
	name      string
	sid       string
	token     string
	from      string
	api       *url.URL // nil: Twilio's own
	base      string
	transport http.RoundTripper
	timeout   time.Duration // per request
	log       *slog.Logger
	tokens    VoiceTokens
	now       func() time.Time
}

// NewTwilioSMS builds the SMS vendor.
func NewTwilioSMS(c TwilioConfig) (*Twilio, error) { return newTwilio(c, ModeSMS, TwilioSMSVendor) }

// NewTwilioVoice builds the voice-call vendor.
func NewTwilioVoice(c TwilioConfig) (*Twilio, error) { return newTwilio(c, ModeCall, TwilioCallVendor) }

func newTwilio(c TwilioConfig, mode Mode, name string) (*Twilio, error) {
	if c.AccountSID == "" || c.AuthToken == "" || c.From == "" {
		return nil, errors.New("twilio: account SID, auth token and from number are all required")
	}
	base, err := url.Parse(c.BaseURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, errors.New("twilio: Herald's base URL must be an absolute http(s) URL")
	}
	t := &Twilio{mode: mode, name: name, sid: c.AccountSID, token: c.AuthToken, from: c.From,
		base: strings.TrimSuffix(c.BaseURL, "/"), transport: c.Transport, timeout: c.HTTP.RequestTimeout(), log: c.Log,
		tokens: NewVoiceTokens(c.AuthToken), now: c.Now}
	if c.APIURL != "" && strings.TrimSuffix(c.APIURL, "/") != DefaultTwilioAPIURL {
		u, err := url.Parse(c.APIURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, errors.New("twilio: the API URL must be an absolute http(s) URL")
		}
		u.Path = strings.TrimSuffix(u.Path, "/")
		t.api = u
	}
	if t.transport == nil {
		t.transport = c.HTTP.RoundTripper()
	}
	if t.log == nil {
		t.log = slog.Default()
	}
	if t.now == nil {
		t.now = time.Now
	}
	return t, nil
}

// Name implements Vendor.
func (t *Twilio) Name() string { return t.name }

// Modes implements Vendor.
func (t *Twilio) Modes() []Mode { return []Mode{t.mode} }

// String keeps the auth token out of %v.
func (t *Twilio) String() string { return "twilio " + string(t.mode) }

// TwilioError is an error answer of Twilio's API.
type TwilioError struct {
	Status  int    // HTTP status
	Code    int    // Twilio error code, 0 when the body had none
	Message string // Twilio's message, phone numbers removed
}

func (e *TwilioError) Error() string {
	var b strings.Builder
	if e.Code != 0 {
		fmt.Fprintf(&b, "Twilio error %d", e.Code)
		if d, ok := twilioCodes[e.Code]; ok {
			b.WriteString(" (" + d + ")")
		}
	} else {
		b.WriteString("Twilio error")
	}
	fmt.Fprintf(&b, ", HTTP %d", e.Status)
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	return b.String()
}

// Temporary reports whether trying again later may work (5xx, 429): the
// engine retries every failed send and fails over to the next vendor, so
// this is for callers and logs.
func (e *TwilioError) Temporary() bool {
	return e.Status >= 500 || e.Status == http.StatusTooManyRequests
}

// Rejected reports whether Twilio refused the message itself (an invalid
// or unreachable number, a number that texted STOP): sending it again
// cannot work, so the engine fails the page at once and alerts.
func (e *TwilioError) Rejected() bool {
	if e.Status < 400 || e.Status >= 500 || e.Status == http.StatusTooManyRequests {
		return false
	}
	switch e.Code {
	case 21211, 21217, 21401, 21610, 21614:
		return true
	}
	return false
}

// twilioCodes explains the codes a pager hits most.
var twilioCodes = map[int]string{
	20003: "authentication failed: check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN",
	20429: "too many requests",
	21211: "invalid 'To' phone number",
	21408: "permission to send to this region is not enabled",
	21606: "the 'From' number cannot send this",
	21610: "the recipient replied STOP: unsubscribed",
	21612: "cannot route to this number",
	21614: "the 'To' number is not a mobile number",
	21215: "geo permission for this number is not enabled",
}

// phoneLike matches what could be a phone number in Twilio's messages
// (they echo the To number).
var phoneLike = regexp.MustCompile(`\+?\d[\d \-().]{5,}\d`)

func scrubPhones(s string) string { return phoneLike.ReplaceAllString(s, "[number]") }

// Send implements Vendor: it creates the message or the call and returns
// Twilio's SID for it. Errors never hold the destination.
func (t *Twilio) Send(ctx context.Context, m Message) (string, error) {
	if m.Mode != t.mode {
		return "", fmt.Errorf("%s: does not serve mode %q", t.name, m.Mode)
	}
	if strings.TrimSpace(m.Destination) == "" {
		return "", fmt.Errorf("%s: %w: empty phone number", t.name, ErrNoDestination)
	}
	svc, tr := t.service(ctx)
	status := t.statusCallback(m.ID)

	var sid, state *string
	var err error
	if t.mode == ModeSMS {
		p := &twapi.CreateMessageParams{}
		p.SetTo(m.Destination).SetFrom(t.from).SetBody(truncate(smsText(m), maxSMSBody)).SetStatusCallback(status)
		var resp *twapi.ApiV2010Message
		if resp, err = svc.CreateMessage(p); resp != nil {
			sid, state = resp.Sid, resp.Status
		}
	} else {
		p := &twapi.CreateCallParams{}
		p.SetTo(m.Destination).SetFrom(t.from).SetStatusCallback(status).SetStatusCallbackMethod(http.MethodPost)
		if m.IncidentID != 0 && m.ClaimCode != "" && !m.OutOfBand {
			tok := t.tokens.Sign(VoiceToken{IncidentID: m.IncidentID, ClaimCode: m.ClaimCode, IssuedAt: t.now()})
			p.SetUrl(t.base + TwilioVoicePath + "?m=" + url.QueryEscape(tok)).SetMethod(http.MethodPost)
		} else {
			// A note with nothing to press: the TwiML goes with the call.
			p.SetTwiml(SayTwiML(smsText(m)))
		}
		var resp *twapi.ApiV2010Call
		if resp, err = svc.CreateCall(p); resp != nil {
			sid, state = resp.Sid, resp.Status
		}
	}
	if err != nil {
		err = t.explain(ctx, tr, err)
		t.log.WarnContext(ctx, "twilio send failed", "vendor", t.name, "incident_id", m.IncidentID, "err", err)
		return "", err
	}
	if sid == nil || *sid == "" {
		return "", fmt.Errorf("%s: Twilio answered without a sid", t.name)
	}
	if state != nil && (*state == "failed" || *state == "undelivered") {
		return "", fmt.Errorf("%s: Twilio reports %s %s at once", t.name, *sid, *state)
	}
	t.log.InfoContext(ctx, "twilio accepted page", "vendor", t.name, "incident_id", m.IncidentID, "sid", *sid)
	return *sid, nil
}

// statusCallback is where Twilio reports the send's delivery: with the
// stored message's id, so the report finds its message even when it
// arrives before the send (and Twilio's id for it) was recorded. Twilio
// signs the URL with its query, so the id cannot be forged.
func (t *Twilio) statusCallback(messageID int64) string {
	if messageID == 0 {
		return t.base + TwilioStatusPath // not a stored message: a verification code
	}
	return t.base + TwilioStatusPath + "?" + TwilioMessageParam + "=" + strconv.FormatInt(messageID, 10)
}

// explain turns what the SDK returned into an error that names Twilio's
// code and never a phone number.
func (t *Twilio) explain(ctx context.Context, tr *twilioTransport, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("%s: %w", t.name, cerr)
	}
	var rest *twclient.TwilioRestError
	if errors.As(err, &rest) {
		status := rest.Status
		if tr.status != 0 {
			status = tr.status
		}
		return fmt.Errorf("%s: %w", t.name, &TwilioError{Status: status, Code: rest.Code, Message: scrubPhones(rest.Message)})
	}
	if tr.status != 0 {
		// An error status with a body that is not Twilio's JSON (a proxy's
		// 502 page, say).
		return fmt.Errorf("%s: %w", t.name, &TwilioError{Status: tr.status})
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // its message repeats the URL
	}
	return fmt.Errorf("%s: calling Twilio: %s", t.name, scrubPhones(err.Error()))
}

func smsText(m Message) string {
	if strings.TrimSpace(m.Body) != "" {
		return m.Body
	}
	return m.Subject
}

// twilioTransport binds the SDK's requests to a context, sends them to
// the configured API URL, and remembers the last answer's status.
type twilioTransport struct {
	ctx    context.Context
	api    *url.URL
	next   http.RoundTripper
	status int
}

func (t *twilioTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(t.ctx)
	if t.api != nil {
		r.URL.Scheme, r.URL.Host = t.api.Scheme, t.api.Host
		r.URL.Path, r.URL.RawPath = t.api.Path+r.URL.Path, ""
		r.Host = ""
	}
	resp, err := t.next.RoundTrip(r)
	if err == nil && (resp.StatusCode < 200 || resp.StatusCode >= 400) {
		t.status = resp.StatusCode
	}
	return resp, err
}

// SayTwiML is TwiML that says text once and hangs up.
func SayTwiML(text string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><Response><Say>`)
	_ = xml.EscapeText(&b, []byte(text))
	b.WriteString(`</Say></Response>`)
	return b.String()
}
