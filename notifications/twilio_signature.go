package notifications

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// TwilioSignatureHeader carries Twilio's signature of a webhook request.
const TwilioSignatureHeader = "X-Twilio-Signature"

// ErrTwilioSignature means a request's X-Twilio-Signature is missing or
// does not match.
var ErrTwilioSignature = errors.New("twilio signature invalid")

// TwilioSignature is what Twilio puts in X-Twilio-Signature for a request
// to fullURL (scheme, host, path and query, exactly as Twilio called it)
// with a form-encoded body of params: base64(HMAC-SHA1(authToken, fullURL
// followed by every parameter's name and value, sorted by name, with no
// separators)). Repeated names are taken in value order.
func TwilioSignature(authToken, fullURL string, params url.Values) string {
	return base64.StdEncoding.EncodeToString(twilioMAC(authToken, fullURL, params))
}

func twilioMAC(authToken, fullURL string, params url.Values) []byte {
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(fullURL))
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		vs := slices.Clone(params[k])
		slices.Sort(vs)
		for _, v := range vs {
			mac.Write([]byte(k))
			mac.Write([]byte(v))
		}
	}
	return mac.Sum(nil)
}

// VerifyTwilioSignature checks header (the request's X-Twilio-Signature)
// against the signature of fullURL and params, in constant time.
//
// Twilio signs the URL as it called it. Behind a proxy, Herald's public
// URL (HERALD_BASE_URL) and the URL Twilio called may differ by an
// explicit default port alone (https://h:443/… against https://h/…), so a
// signature over fullURL with that port written out or left out is
// accepted too. No other variation is.
func VerifyTwilioSignature(authToken, fullURL string, params url.Values, header string) error {
	if authToken == "" {
		return fmt.Errorf("%w: no auth token to verify with", ErrTwilioSignature)
	}
	if header == "" {
		return fmt.Errorf("%w: the %s header is missing", ErrTwilioSignature, TwilioSignatureHeader)
	}
	got, err := base64.StdEncoding.DecodeString(header)
	if err != nil || len(got) != sha1.Size {
		return fmt.Errorf("%w: malformed %s header", ErrTwilioSignature, TwilioSignatureHeader)
	}
	// Every form is computed and compared, so the time taken does not
	// say which one matched.
	match := 0
	for _, u := range defaultPortForms(fullURL) {
		match |= subtle.ConstantTimeCompare(got, twilioMAC(authToken, u, params))
	}
	if match != 1 {
		return ErrTwilioSignature
	}
	return nil
}

// defaultPortForms is fullURL, and, when its scheme is http or https,
// the same URL with the scheme's default port (80, 443) written out if
// fullURL leaves it out, or left out if fullURL writes it out. Nothing
// else of the URL changes.
func defaultPortForms(fullURL string) []string {
	scheme, rest, ok := strings.Cut(fullURL, "://")
	if !ok {
		return []string{fullURL}
	}
	var port string
	switch strings.ToLower(scheme) {
	case "https":
		port = "443"
	case "http":
		port = "80"
	default:
		return []string{fullURL}
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority, tail := rest[:end], rest[end:]
	// The port follows the host, after any user info and an IPv6
	// address's brackets.
	hostStart := strings.LastIndexByte(authority, '@') + 1
	host := authority[hostStart:]
	if host == "" {
		return []string{fullURL}
	}
	colon := strings.LastIndexByte(host, ':')
	if colon >= 0 && colon < strings.LastIndexByte(host, ']') {
		colon = -1 // a colon inside [IPv6]
	}
	prefix := scheme + "://" + authority[:hostStart]
	switch {
	case colon < 0:
		return []string{fullURL, prefix + host + ":" + port + tail}
	case host[colon+1:] == port && colon > 0:
		return []string{fullURL, prefix + host[:colon] + tail}
	default:
		return []string{fullURL}
	}
}

// VoiceTokenTTL is how long a call's TwiML link stays valid.
const VoiceTokenTTL = 24 * time.Hour

// ErrVoiceToken means a call link's token is malformed, forged or expired.
var ErrVoiceToken = errors.New("voice token invalid")

// VoiceToken is what a call's TwiML URL (…/twilio/voice?m=<token>)
// identifies: the page's incident and claim code (which finds the
// message, its text and its recipient), signed so that nobody can make
// Herald claim or escalate an incident by forging one.
type VoiceToken struct {
	IncidentID int64
	ClaimCode  string
	IssuedAt   time.Time
}

// VoiceTokens signs and checks voice tokens with a key derived from the
// Twilio auth token (so there is no extra secret to configure, and
// rotating the auth token invalidates every outstanding link).
type VoiceTokens struct{ key []byte }

// NewVoiceTokens derives the signing key from authToken.
func NewVoiceTokens(authToken string) VoiceTokens {
	mac := hmac.New(sha256.New, []byte(authToken))
	mac.Write([]byte("herald twilio voice token v1"))
	return VoiceTokens{key: mac.Sum(nil)}
}

// Sign makes the token: "<incident>.<code>.<unix time>.<signature>", all
// URL-safe.
func (v VoiceTokens) Sign(t VoiceToken) string {
	payload := fmt.Sprintf("%d.%s.%d", t.IncidentID, t.ClaimCode, t.IssuedAt.Unix())
	return payload + "." + v.mac(payload)
}

// Parse checks a token's signature (constant time) and age.
func (v VoiceTokens) Parse(token string, now time.Time) (VoiceToken, error) {
	if len(v.key) == 0 {
		return VoiceToken{}, fmt.Errorf("%w: no key", ErrVoiceToken)
	}
	i := strings.LastIndexByte(token, '.')
	if i < 0 || len(token) > 200 {
		return VoiceToken{}, fmt.Errorf("%w: malformed", ErrVoiceToken)
	}
	payload, sig := token[:i], token[i+1:]
	if !hmac.Equal([]byte(sig), []byte(v.mac(payload))) {
		return VoiceToken{}, fmt.Errorf("%w: bad signature", ErrVoiceToken)
	}
	parts := strings.Split(payload, ".")
	if len(parts) != 3 {
		return VoiceToken{}, fmt.Errorf("%w: malformed", ErrVoiceToken)
	}
	id, err1 := strconv.ParseInt(parts[0], 10, 64)
	issued, err2 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil || id <= 0 || parts[1] == "" {
		return VoiceToken{}, fmt.Errorf("%w: malformed", ErrVoiceToken)
	}
	t := VoiceToken{IncidentID: id, ClaimCode: parts[1], IssuedAt: time.Unix(issued, 0).UTC()}
	if age := now.Sub(t.IssuedAt); age > VoiceTokenTTL || age < -5*time.Minute {
		return VoiceToken{}, fmt.Errorf("%w: expired", ErrVoiceToken)
	}
	return t, nil
}

func (v VoiceTokens) mac(payload string) string {
	m := hmac.New(sha256.New, v.key)
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
