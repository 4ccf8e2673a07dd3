package notifications

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"time"
)

// Claim links: an e-mailed page carries <base>/claim/<token>, where the
// token says which incident to claim, with which message's claim code,
// until when, and is signed so nobody can forge one for another incident
// or stretch its life. The token is the whole authorization (there is no
// session), so it is long, unguessable and single-use: the web side
// records each use (keyed on ClaimLink.UseKey) and refuses a second.
//
// Layout, before unpadded base64url:
//
//	version (1 byte, 1) | incident id (8, big-endian, > 0) |
//	expiry (8, Unix seconds, big-endian, > 0) | code length (1, 1..32) |
//	claim code (ASCII letters, digits, '-') | HMAC-SHA256 (32)
//
// The MAC covers claimLinkDomain and every byte before it.

// DefaultClaimLinkTTL is how long a claim link works.
const DefaultClaimLinkTTL = 24 * time.Hour

// MinClaimLinkSecret is the shortest secret NewClaimLinks accepts, in bytes.
const MinClaimLinkSecret = 32

const (
	claimLinkVersion = 1
	claimLinkDomain  = "herald claim link v1\x00"
	maxClaimCode     = 32
	claimHeaderLen   = 1 + 8 + 8 + 1
	claimMACLen      = sha256.Size
	// MaxClaimTokenLen bounds a token's text; longer input is rejected
	// before decoding.
	MaxClaimTokenLen = (claimHeaderLen + maxClaimCode + claimMACLen + 2) * 4 / 3
)

// Errors of ClaimLinks.Verify and ParseClaimToken.
var (
	// ErrClaimLinkInvalid: malformed, or not signed with this secret.
	ErrClaimLinkInvalid = errors.New("claim link invalid")
	// ErrClaimLinkExpired: correctly signed but past its expiry.
	ErrClaimLinkExpired = errors.New("claim link expired")
)

var claimEncoding = base64.RawURLEncoding.Strict()

// ClaimLink is what a verified token says.
type ClaimLink struct {
	IncidentID int64
	ClaimCode  string
	Expires    time.Time
	// UseKey identifies the link for one-time use: hex SHA-256 of its
	// MAC. Any two tokens that verify with the same fields share it, and
	// it is useless as a token itself, so it is safe to store.
	UseKey string
}

// ClaimToken is a structurally valid, not yet verified, token.
type ClaimToken struct {
	IncidentID int64
	ClaimCode  string
	Expires    time.Time
	signed     []byte // the bytes the MAC covers (after the domain)
	mac        []byte
}

// ClaimLinks issues and verifies claim-link tokens. It is safe for
// concurrent use.
type ClaimLinks struct {
	key []byte
	ttl time.Duration
}

// NewClaimLinks builds a signer with secret (at least
// MinClaimLinkSecret bytes) and links that live for ttl (0:
// DefaultClaimLinkTTL).
func NewClaimLinks(secret []byte, ttl time.Duration) (*ClaimLinks, error) {
	if len(secret) < MinClaimLinkSecret {
		return nil, fmt.Errorf("claim link secret: need at least %d bytes, have %d", MinClaimLinkSecret, len(secret))
	}
	if ttl < 0 {
		return nil, errors.New("claim link lifetime must be positive")
	}
	if ttl == 0 {
		ttl = DefaultClaimLinkTTL
	}
	return &ClaimLinks{key: append([]byte(nil), secret...), ttl: ttl}, nil
}

// TTL is how long an issued link works.
func (c *ClaimLinks) TTL() time.Duration { return c.ttl }

// String keeps the secret out of %v.
func (c *ClaimLinks) String() string { return "claim links" }

// Issue signs a token for claiming incidentID with claimCode, valid until
// now + TTL (whole seconds).
func (c *ClaimLinks) Issue(incidentID int64, claimCode string, now time.Time) (token string, expires time.Time, err error) {
	if incidentID <= 0 {
		return "", time.Time{}, fmt.Errorf("claim link: incident id %d is not positive", incidentID)
	}
	if !validClaimCode(claimCode) {
		return "", time.Time{}, errors.New("claim link: the claim code must be 1-32 letters, digits or dashes")
	}
	expires = now.Add(c.ttl).Truncate(time.Second).UTC()
	b := make([]byte, 0, claimHeaderLen+len(claimCode)+claimMACLen)
	b = append(b, claimLinkVersion)
	b = binary.BigEndian.AppendUint64(b, uint64(incidentID))
	b = binary.BigEndian.AppendUint64(b, uint64(expires.Unix()))
	b = append(b, byte(len(claimCode)))
	b = append(b, claimCode...)
	b = append(b, c.mac(b)...)
	return claimEncoding.EncodeToString(b), expires, nil
}

// Verify checks a token's form, signature and expiry, in that order: a
// tampered token is ErrClaimLinkInvalid even when also past its expiry;
// ErrClaimLinkExpired means the link was genuine. It does not check
// one-time use; the caller records UseKey.
func (c *ClaimLinks) Verify(token string, now time.Time) (ClaimLink, error) {
	t, err := ParseClaimToken(token)
	if err != nil {
		return ClaimLink{}, err
	}
	if !hmac.Equal(t.mac, c.mac(t.signed)) {
		return ClaimLink{}, fmt.Errorf("%w: bad signature", ErrClaimLinkInvalid)
	}
	sum := sha256.Sum256(t.mac)
	link := ClaimLink{IncidentID: t.IncidentID, ClaimCode: t.ClaimCode, Expires: t.Expires, UseKey: hex.EncodeToString(sum[:])}
	if !now.Before(t.Expires) {
		return link, fmt.Errorf("%w at %s", ErrClaimLinkExpired, t.Expires.Format(time.RFC3339))
	}
	return link, nil
}

func (c *ClaimLinks) mac(b []byte) []byte {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte(claimLinkDomain))
	m.Write(b)
	return m.Sum(nil)
}

// ParseClaimToken decodes a token's structure without checking its
// signature. Every error is ErrClaimLinkInvalid. Only the canonical
// encoding of a token parses, so one signed payload has one spelling.
func ParseClaimToken(token string) (ClaimToken, error) {
	if len(token) == 0 || len(token) > MaxClaimTokenLen {
		return ClaimToken{}, fmt.Errorf("%w: wrong length", ErrClaimLinkInvalid)
	}
	// The decoder skips CR and LF: refuse anything outside the alphabet
	// first, so a token has exactly one spelling.
	for i := 0; i < len(token); i++ {
		c := token[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '-' || c == '_') {
			return ClaimToken{}, fmt.Errorf("%w: not base64url", ErrClaimLinkInvalid)
		}
	}
	b, err := claimEncoding.DecodeString(token)
	if err != nil {
		return ClaimToken{}, fmt.Errorf("%w: not base64url", ErrClaimLinkInvalid)
	}
	if len(b) < claimHeaderLen+1+claimMACLen {
		return ClaimToken{}, fmt.Errorf("%w: too short", ErrClaimLinkInvalid)
	}
	if b[0] != claimLinkVersion {
		return ClaimToken{}, fmt.Errorf("%w: unknown version %d", ErrClaimLinkInvalid, b[0])
	}
	id := binary.BigEndian.Uint64(b[1:9])
	exp := binary.BigEndian.Uint64(b[9:17])
	n := int(b[17])
	if id == 0 || id > math.MaxInt64 {
		return ClaimToken{}, fmt.Errorf("%w: bad incident id", ErrClaimLinkInvalid)
	}
	// Up to year 9999: time.Unix and formatting stay sane.
	if exp == 0 || exp > 253402300799 {
		return ClaimToken{}, fmt.Errorf("%w: bad expiry", ErrClaimLinkInvalid)
	}
	if n < 1 || n > maxClaimCode || len(b) != claimHeaderLen+n+claimMACLen {
		return ClaimToken{}, fmt.Errorf("%w: bad length", ErrClaimLinkInvalid)
	}
	code := string(b[claimHeaderLen : claimHeaderLen+n])
	if !validClaimCode(code) {
		return ClaimToken{}, fmt.Errorf("%w: bad claim code", ErrClaimLinkInvalid)
	}
	signedLen := claimHeaderLen + n
	return ClaimToken{
		IncidentID: int64(id), ClaimCode: code, Expires: time.Unix(int64(exp), 0).UTC(),
		signed: b[:signedLen:signedLen], mac: b[signedLen:],
	}, nil
}

func validClaimCode(s string) bool {
	if len(s) == 0 || len(s) > maxClaimCode {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '-') {
			return false
		}
	}
	return true
}
