package notifications_test

import (
	"errors"
	"net/url"
	"testing"

	"github.com/heraldhq/herald/notifications"
)

// Known answers for the default-port rule: each signature was computed
// outside Go (Python's hmac) over exactly the URL named, with Twilio's
// documented example parameters and auth token 12345.
var twilioDocForm = url.Values{"CallSid": {"CA1234567890ABCDE"}, "Caller": {"+12349013030"}, "Digits": {"1234"}, "From": {"+12349013030"}, "To": {"+18005551212"}}

const (
	sigHTTPS         = "0/KCTR6DLpKmkAf8muzZqo1nDgQ=" // https://mycompany.com/myapp.php?foo=1&bar=2 (Twilio's docs)
	sigHTTPS443      = "EpDEmp1PyjDYp77YxYU3GILBWzE=" // https://mycompany.com:443/myapp.php?foo=1&bar=2
	sigHTTP          = "FYMaGAU6nPbB9h2pncMl4aJ4vns=" // http://mycompany.com/myapp.php?foo=1&bar=2
	sigHTTP80        = "boT12oXXJ0BuzO2U/6iCqFdh2Do=" // http://mycompany.com:80/myapp.php?foo=1&bar=2
	sigHTTPS80       = "oVXXVazUk6j+gaOQvOLzPGJsTs0=" // https://mycompany.com:80/myapp.php?foo=1&bar=2
	sigHTTPS8443     = "SffuNP6bC3hHFCUbsco6GyaPyas=" // https://mycompany.com:8443/myapp.php?foo=1&bar=2
	sigHTTP443       = "7wdZCHV4N3saf3RBhzt1ek9Am+w=" // http://mycompany.com:443/myapp.php?foo=1&bar=2
	sigHTTPS0443     = "aRp/hfT6YREcHUNoHOLKTCmlAhQ=" // https://mycompany.com:0443/myapp.php?foo=1&bar=2
	sigTrailingSlash = "A0EkNEYFeaODb0mZ9TOlQo6l5MI=" // https://mycompany.com/myapp.php?foo=1&bar=2/
	sigUpperHost     = "iO867fP3RQOYRVmdDdWxHTsvx6U=" // https://MyCompany.com/myapp.php?foo=1&bar=2
	sigBare443       = "LLclhS+n3k4mminlp+bZhUzwbQE=" // https://mycompany.com:443
	sigBare          = "Z/tixElPQDfKJGKLeJT4Ndu2qn8=" // https://mycompany.com
	sigIPv6443       = "Fw/mV+kozO8n/0O984tbtLsLeRw=" // https://[2001:db8::1]:443/twilio/status?m=42
	sigIPv6          = "AZQ4nadPLtsbsBrjt8boEAAOA1A=" // https://[2001:db8::1]/twilio/status?m=42
	sigUserinfo443   = "KBLygcK1oPWX0hYPTs7rL7Qh3A4=" // https://twilio:pa:ss@mycompany.com:443/myapp.php
	sigUserinfo      = "4rYzHJFJ7g6h2h/h+zt+MjblIxs=" // https://twilio:pa:ss@mycompany.com/myapp.php
)

func TestTwilioSignatureKnownAnswers(t *testing.T) {
	for u, want := range map[string]string{
		"https://mycompany.com/myapp.php?foo=1&bar=2":      sigHTTPS,
		"https://mycompany.com:443/myapp.php?foo=1&bar=2":  sigHTTPS443,
		"http://mycompany.com:80/myapp.php?foo=1&bar=2":    sigHTTP80,
		"https://[2001:db8::1]:443/twilio/status?m=42":     sigIPv6443,
		"https://twilio:pa:ss@mycompany.com/myapp.php":     sigUserinfo,
		"https://mycompany.com:0443/myapp.php?foo=1&bar=2": sigHTTPS0443,
	} {
		if got := notifications.TwilioSignature("12345", u, twilioDocForm); got != want {
			t.Errorf("TwilioSignature(%s) = %s, want %s", u, got, want)
		}
	}
}

// Herald's URL (HERALD_BASE_URL + path) and the URL Twilio called and
// signed may differ by an explicit default port, and by nothing else.
func TestTwilioSignatureDefaultPort(t *testing.T) {
	const q = "/myapp.php?foo=1&bar=2"
	cases := []struct {
		name   string
		herald string // the URL Herald verifies against
		header string // Twilio's signature (over the URL it called)
		ok     bool
	}{
		{"same URL", "https://mycompany.com" + q, sigHTTPS, true},
		{"Twilio called :443", "https://mycompany.com" + q, sigHTTPS443, true},
		{"Herald has :443", "https://mycompany.com:443" + q, sigHTTPS, true},
		{"both :443", "https://mycompany.com:443" + q, sigHTTPS443, true},
		{"http, Twilio called :80", "http://mycompany.com" + q, sigHTTP80, true},
		{"http, Herald has :80", "http://mycompany.com:80" + q, sigHTTP, true},
		{"no path, Twilio called :443", "https://mycompany.com", sigBare443, true},
		{"no path, Herald has :443", "https://mycompany.com:443", sigBare, true},
		{"IPv6, Twilio called :443", "https://[2001:db8::1]/twilio/status?m=42", sigIPv6443, true},
		{"IPv6, Herald has :443", "https://[2001:db8::1]:443/twilio/status?m=42", sigIPv6, true},
		{"user info, Twilio called :443", "https://twilio:pa:ss@mycompany.com/myapp.php", sigUserinfo443, true},
		{"user info, Herald has :443", "https://twilio:pa:ss@mycompany.com:443/myapp.php", sigUserinfo, true},

		{"https with :80", "https://mycompany.com" + q, sigHTTPS80, false},
		{"http with :443", "http://mycompany.com" + q, sigHTTP443, false},
		{"another port", "https://mycompany.com" + q, sigHTTPS8443, false},
		{"another port on Herald's side", "https://mycompany.com:8443" + q, sigHTTPS, false},
		{"443 written 0443", "https://mycompany.com" + q, sigHTTPS0443, false},
		{"0443 on Herald's side", "https://mycompany.com:0443" + q, sigHTTPS, false},
		{"http against https", "http://mycompany.com" + q, sigHTTPS, false},
		{"http :80 against https", "http://mycompany.com:80" + q, sigHTTPS443, false},
		{"trailing slash", "https://mycompany.com" + q, sigTrailingSlash, false},
		{"host case", "https://mycompany.com" + q, sigUpperHost, false},
		{"IPv6 without the port against IPv4 host", "https://[2001:db8::1]/twilio/status?m=42", sigHTTPS, false},
		{"port in the query is not the host's", "https://mycompany.com/myapp.php?foo=1&bar=2:443", sigHTTPS, false},
		{"not http", "ftp://mycompany.com:443" + q, sigHTTPS, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := notifications.VerifyTwilioSignature("12345", tc.herald, twilioDocForm, tc.header)
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, notifications.ErrTwilioSignature) {
				t.Errorf("%v is not ErrTwilioSignature", err)
			}
		})
	}
}
