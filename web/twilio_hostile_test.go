package web_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/heraldhq/herald/models"
)

// More X-Twilio-Signature variants: a body changed after signing, a
// parameter added, a signature cut or re-padded, a wrong scheme prefix are
// refused with 403 and change nothing. (Twilio signs no timestamp, so a
// replay of a whole signed request cannot be told apart; claims are
// idempotent.)
func TestTwilioSignatureHostile(t *testing.T) {
	forEachTwDialect(t, func(t *testing.T, f *twFixture) {
		inc := f.escalate("db down", "p")
		page := f.lastPage(inc, "sms")
		claim := url.Values{"From": {annPhone}, "Body": {page.ClaimCode + " claim"}}
		good := sign(twToken, twBase+"/twilio/sms", claim)
		send := func(header, value string, form url.Values) int {
			r := httptest.NewRequest(http.MethodPost, "/twilio/sms", strings.NewReader(form.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.Header[header] = []string{value} // as given, like a client on the wire
			w := httptest.NewRecorder()
			f.app.ServeHTTP(w, r)
			return w.Code
		}
		altered := url.Values{"From": {annPhone}, "Body": {page.ClaimCode + " resolve"}}
		added := url.Values{"From": {annPhone}, "Body": claim["Body"], "Extra": {"1"}}
		for _, c := range []struct {
			name, header, value string
			form                url.Values
		}{
			{"body altered after signing", "X-Twilio-Signature", good, altered},
			{"parameter added after signing", "X-Twilio-Signature", good, added},
			{"signature cut", "X-Twilio-Signature", good[:len(good)-4], claim},
			{"padding dropped", "X-Twilio-Signature", strings.TrimRight(good, "="), claim},
			{"scheme prefix", "X-Twilio-Signature", "sha1=" + good, claim},
			{"space inside", "X-Twilio-Signature", good[:6] + " " + good[6:], claim},
			{"another header", "X-Twilio-Signature-V2", good, claim},
			{"empty", "X-Twilio-Signature", "", claim},
		} {
			if got := send(c.header, c.value, c.form); got != http.StatusForbidden {
				t.Errorf("%s: %d, want 403", c.name, got)
			}
		}
		if s := f.state(inc); s != models.EscalationActive {
			t.Fatalf("escalation %s after refused requests", s)
		}
		// The same request, signed as it is: accepted (the refusals above
		// were for their signatures, nothing else).
		if got := send("X-Twilio-Signature", good, claim); got != http.StatusOK {
			t.Errorf("signed: %d, want 200", got)
		}
		if s := f.state(inc); s != models.EscalationClaimed {
			t.Errorf("escalation %s after a signed claim", s)
		}
	})
}
