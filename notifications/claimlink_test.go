package notifications_test

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/notifications"
)

var linkT0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func newLinks(t testing.TB, secret string) *notifications.ClaimLinks {
	t.Helper()
	l, err := notifications.NewClaimLinks([]byte(secret), 0)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

const (
	linkSecret  = "0123456789abcdef0123456789abcdef"
	otherSecret = "fedcba9876543210fedcba9876543210"
)

func TestClaimLinkRoundTrip(t *testing.T) {
	l := newLinks(t, linkSecret)
	tok, exp, err := l.Issue(42, "123456", linkT0)
	if err != nil {
		t.Fatal(err)
	}
	if !exp.Equal(linkT0.Add(notifications.DefaultClaimLinkTTL)) {
		t.Errorf("expires %v, want %v", exp, linkT0.Add(24*time.Hour))
	}
	if len(tok) > notifications.MaxClaimTokenLen || strings.ContainsAny(tok, "+/=") {
		t.Errorf("token %q is not short unpadded base64url", tok)
	}
	got, err := l.Verify(tok, linkT0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if got.IncidentID != 42 || got.ClaimCode != "123456" || !got.Expires.Equal(exp) || len(got.UseKey) != 64 {
		t.Errorf("verified %+v", got)
	}
	if strings.Contains(tok, got.UseKey) {
		t.Error("the use key must not be part of the token")
	}
	// Same fields, same use key: a link is one-time however often issued.
	tok2, _, _ := l.Issue(42, "123456", linkT0)
	got2, err := l.Verify(tok2, linkT0)
	if err != nil || got2.UseKey != got.UseKey {
		t.Errorf("reissued: %+v, %v", got2, err)
	}
	// Other fields, other key.
	tok3, _, _ := l.Issue(42, "654321", linkT0)
	if got3, _ := l.Verify(tok3, linkT0); got3.UseKey == got.UseKey {
		t.Error("different claim codes share a use key")
	}
}

func TestClaimLinkVerify(t *testing.T) {
	l := newLinks(t, linkSecret)
	tok, exp, err := l.Issue(7, "100200", linkT0)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) string {
		b := append([]byte(nil), raw...)
		b[i] ^= 0x01
		return base64.RawURLEncoding.EncodeToString(b)
	}
	otherTok, _, _ := newLinks(t, otherSecret).Issue(7, "100200", linkT0)
	expiredLong, _, _ := l.Issue(7, "100200", linkT0.Add(-48*time.Hour))

	tests := []struct {
		name  string
		token string
		now   time.Time
		want  error
	}{
		{"valid", tok, linkT0, nil},
		{"valid one second before expiry", tok, exp.Add(-time.Second), nil},
		{"expired at expiry", tok, exp, notifications.ErrClaimLinkExpired},
		{"expired long ago", expiredLong, linkT0, notifications.ErrClaimLinkExpired},
		{"empty", "", linkT0, notifications.ErrClaimLinkInvalid},
		{"other secret", otherTok, linkT0, notifications.ErrClaimLinkInvalid},
		{"incident id tampered", flip(8), linkT0, notifications.ErrClaimLinkInvalid},
		{"expiry tampered", flip(16), linkT0, notifications.ErrClaimLinkInvalid},
		{"code tampered", flip(18), linkT0, notifications.ErrClaimLinkInvalid},
		{"mac tampered", flip(len(raw) - 1), linkT0, notifications.ErrClaimLinkInvalid},
		{"version", flip(0), linkT0, notifications.ErrClaimLinkInvalid},
		{"truncated", tok[:len(tok)-4], linkT0, notifications.ErrClaimLinkInvalid},
		{"extended", tok + "AAAA", linkT0, notifications.ErrClaimLinkInvalid},
		{"padded", base64.URLEncoding.EncodeToString(raw), linkT0, notifications.ErrClaimLinkInvalid},
		{"std alphabet", strings.NewReplacer("-", "+", "_", "/").Replace(tok) + "+", linkT0, notifications.ErrClaimLinkInvalid},
		{"line break inside", tok[:10] + "\n" + tok[10:], linkT0, notifications.ErrClaimLinkInvalid},
		{"too long", strings.Repeat("A", notifications.MaxClaimTokenLen+1), linkT0, notifications.ErrClaimLinkInvalid},
		{"tampered and expired is invalid", flip(len(raw) - 1), exp.Add(time.Hour), notifications.ErrClaimLinkInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := l.Verify(tc.token, tc.now)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify: %v, want %v", err, tc.want)
			}
		})
	}
}

func TestClaimLinkIssueAndNew(t *testing.T) {
	if _, err := notifications.NewClaimLinks([]byte("short"), 0); err == nil {
		t.Error("a short secret was accepted")
	}
	if _, err := notifications.NewClaimLinks([]byte(linkSecret), -time.Second); err == nil {
		t.Error("a negative lifetime was accepted")
	}
	l := newLinks(t, linkSecret)
	for _, tc := range []struct {
		id   int64
		code string
	}{{0, "123456"}, {-1, "123456"}, {1, ""}, {1, "12 34"}, {1, "ü"}, {1, strings.Repeat("1", 33)}} {
		if _, _, err := l.Issue(tc.id, tc.code, linkT0); err == nil {
			t.Errorf("Issue(%d, %q) succeeded", tc.id, tc.code)
		}
	}
	if s := l.String(); strings.Contains(s, linkSecret) {
		t.Errorf("String() = %q holds the secret", s)
	}
}

// FuzzParseClaimToken: the parser never panics, accepts only what it
// would itself produce, and anything it accepts that verifies re-encodes
// to the same token.
func FuzzParseClaimToken(f *testing.F) {
	l := newLinks(f, linkSecret)
	for _, code := range []string{"123456", "a", strings.Repeat("Z", 32)} {
		tok, _, err := l.Issue(1<<40, code, linkT0)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(tok)
	}
	f.Add("")
	f.Add("AQ")
	f.Add(strings.Repeat("_", 200))
	f.Fuzz(func(t *testing.T, token string) {
		p, err := notifications.ParseClaimToken(token)
		if err != nil {
			if !errors.Is(err, notifications.ErrClaimLinkInvalid) {
				t.Fatalf("error %v is not ErrClaimLinkInvalid", err)
			}
			return
		}
		if p.IncidentID <= 0 || p.ClaimCode == "" || len(p.ClaimCode) > 32 || p.Expires.Unix() <= 0 {
			t.Fatalf("parsed nonsense %+v", p)
		}
		link, err := l.Verify(token, p.Expires.Add(-time.Second))
		if err != nil {
			return // unsigned: fine
		}
		again, _, err := l.Issue(link.IncidentID, link.ClaimCode, link.Expires.Add(-notifications.DefaultClaimLinkTTL))
		if err != nil || again != token {
			t.Fatalf("verified token %q re-issues as %q (%v)", token, again, err)
		}
	})
}
