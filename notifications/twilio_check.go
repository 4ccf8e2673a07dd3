package notifications

import (
	"context"
	"net/http"

	twclient "github.com/twilio/twilio-go/client"
	twapi "github.com/twilio/twilio-go/rest/api/v2010"
)

// TwilioAccount is what CheckAccount learnt about the configured account
// (for `herald doctor`). It holds no phone number.
type TwilioAccount struct {
	Status string // active, suspended or closed
	Type   string // Trial or Full
	// FromOwned reports whether the from number is one of the account's
	// phone numbers (Twilio refuses to send SMS from any other).
	FromOwned bool
	// FromSMSURL is the from number's "A message comes in" webhook.
	FromSMSURL string
}

// CheckAccount fetches the account the credentials belong to and looks
// the from number up among its phone numbers. Errors are explained as
// Send's are: a *TwilioError for Twilio's refusals, never a phone number.
func (t *Twilio) CheckAccount(ctx context.Context) (TwilioAccount, error) {
	svc, tr := t.service(ctx)
	acct, err := svc.FetchAccount(t.sid)
	if err != nil {
		return TwilioAccount{}, t.explain(ctx, tr, err)
	}
	out := TwilioAccount{Status: deref(acct.Status), Type: deref(acct.Type)}

	svc, tr = t.service(ctx) // a fresh transport: its status is the last answer's
	p := &twapi.ListIncomingPhoneNumberParams{}
	// The filter matches partial numbers too, hence the exact comparison.
	p.SetPhoneNumber(t.from).SetPageSize(20).SetLimit(20)
	numbers, err := svc.ListIncomingPhoneNumber(p)
	if err != nil {
		return out, t.explain(ctx, tr, err)
	}
	for _, n := range numbers {
		if deref(n.PhoneNumber) == t.from {
			out.FromOwned, out.FromSMSURL = true, deref(n.SmsUrl)
		}
	}
	return out, nil
}

// service is an SDK client bound to ctx and the configured API URL.
func (t *Twilio) service(ctx context.Context) (*twapi.ApiService, *twilioTransport) {
	tr := &twilioTransport{ctx: ctx, api: t.api, next: t.transport}
	c := &twclient.Client{
		Credentials: twclient.NewCredentials(t.sid, t.token),
		HTTPClient: &http.Client{Transport: tr, Timeout: t.timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
	}
	c.SetAccountSid(t.sid)
	return twapi.NewApiServiceWithClient(c), tr
}
