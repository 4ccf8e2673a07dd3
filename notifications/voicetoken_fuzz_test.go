package notifications_test

import (
	"errors"
	"testing"
	"time"

	"github.com/heraldhq/herald/notifications"
)

// FuzzVoiceToken: the m= parameter of Twilio's voice callbacks. Any string
// is refused with ErrVoiceToken unless it is a token Herald signed; a
// signed token parses back to what was signed, and altering any byte of it
// is refused.
func FuzzVoiceToken(f *testing.F) {
	v := notifications.NewVoiceTokens("auth-token")
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	f.Add(v.Sign(notifications.VoiceToken{IncidentID: 9, ClaimCode: "123456", IssuedAt: now}), int64(9), "123456", 3)
	f.Add("1.2.3.x", int64(1), "c", 0)
	f.Add("", int64(-1), "", 0)
	f.Fuzz(func(t *testing.T, token string, id int64, code string, flip int) {
		if tok, err := v.Parse(token, now); err != nil {
			if !errors.Is(err, notifications.ErrVoiceToken) {
				t.Fatalf("%q: %v, want ErrVoiceToken", token, err)
			}
		} else if v.Sign(tok) != token {
			t.Fatalf("%q accepted as %+v, which signs differently", token, tok)
		}
		want := notifications.VoiceToken{IncidentID: id, ClaimCode: code, IssuedAt: now}
		signed := v.Sign(want)
		got, err := v.Parse(signed, now.Add(time.Minute))
		if err != nil {
			return // ids ≤ 0, empty or dotted codes, over-long tokens: refused, fine
		}
		if got != want {
			t.Fatalf("%+v round-trips to %+v", want, got)
		}
		if len(signed) > 0 {
			b := []byte(signed)
			i := (flip%len(b) + len(b)) % len(b)
			b[i] ^= 1
			if _, err := v.Parse(string(b), now); err == nil {
				t.Fatalf("%q altered at %d to %q still parses", signed, i, b)
			}
		}
	})
}
