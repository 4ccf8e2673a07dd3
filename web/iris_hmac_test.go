package web

import (
	"crypto/hmac"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// The application key of the Autoalerts application in Iris's demo data
// (the developer's guide in docs/reference); public, test use only.
const irisDemoKey = "a7a9d7657ac8837cd7dfed0b93f4b8b864007724d7fa21422c24f4ff0adb2e49"

// TestIrisDigestKnownAnswer checks irisDigest against values computed once
// with Python, exactly as irisclient signs:
//
//	python3 -c 'import hmac,hashlib,base64; key=b"a7a9…2e49"; body=b"{…}";
//	  print(base64.urlsafe_b64encode(hmac.new(key, b"%d %s %s %s" % (1700000000//5,
//	  b"POST", b"/v0/incidents", body), hashlib.sha512).digest()))'
//
// and against an independent computation here with crypto/hmac.
func TestIrisDigestKnownAnswer(t *testing.T) {
	body := `{"plan": "Example plan", "context": {"notes": "This is a programmatic incident!"}}`
	cases := []struct {
		name, method, path, body string
		window                   int64
		want                     string
	}{
		{"5-second window, POST with body", "POST", "/v0/incidents", body, 1700000000 / 5,
			"G9wBO_pU2gaAtE9O-mvou9efJ_kIYu0LOv0mwH279ekXg77m0_-2-IKq-q82ToOWVKQEOrhploasW6xyav4nuQ=="},
		{"30-second window, GET with a query and no body", "GET", "/v0/incidents/7?fields=owner", "", 1700000000 / 30,
			"wb3tdFqXwOfsvh3YVTfXnjcuJvQ9iyDwrHBDpQqXn_bYDu_VHhe2l2nFLCWXzp-nmtibIKZ828saHjFb2Mw-HA=="},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := irisDigest([]byte(irisDemoKey), c.window, c.method, c.path, []byte(c.body))
			if got != c.want {
				t.Fatalf("irisDigest = %s, want (Python) %s", got, c.want)
			}
			// The same by hand: "%s %s %s %s" % (window, method, path, body).
			m := hmac.New(sha512.New, []byte(irisDemoKey))
			fmt.Fprintf(m, "%d %s %s %s", c.window, c.method, c.path, c.body)
			if hand := base64.URLEncoding.EncodeToString(m.Sum(nil)); hand != got {
				t.Fatalf("by hand %s, irisDigest %s", hand, got)
			}
			header := "hmac Autoalerts:" + got
			a, err := parseIrisAuth(header)
			if err != nil || a.Application != "Autoalerts" || a.Digest != c.want {
				t.Fatalf("parseIrisAuth(%q) = %+v, %v", header, a, err)
			}
		})
	}
}

func TestParseIrisAuth(t *testing.T) {
	digest := irisDigest([]byte("k"), 1, "GET", "/", nil)
	std := strings.NewReplacer("-", "+", "_", "/").Replace(digest)
	cases := []struct {
		name, header, app, err string
	}{
		{"ok", "hmac app:" + digest, "app", ""},
		{"application with spaces, as Iris allows", "hmac Alert manager:" + digest, "Alert manager", ""},
		{"scheme is case-insensitive", "HMAC app:" + digest, "app", ""},
		{"bearer", "Bearer hrld_x", "", "want \"hmac"},
		{"no space", "hmac", "", "want \"hmac"},
		{"no colon", "hmac app" + digest, "", "no ':'"},
		{"empty application", "hmac :" + digest, "", "empty application"},
		{"space before the application", "hmac  app:" + digest, "", "empty application"},
		{"no digest", "hmac app:", "", "characters of URL-safe base64"},
		{"unpadded", "hmac app:" + strings.TrimRight(digest, "="), "", "'=' padding"},
		{"standard base64", "hmac app:" + std, "", "URL-safe"},
		{"too long", "hmac app:" + digest + "AAAA", "", "characters"},
		{"junk of the right length", "hmac app:" + strings.Repeat("!", len(digest)-2) + "==", "", "URL-safe"},
	}
	if std == digest {
		t.Fatal("the test digest has no '-' or '_': pick another key")
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, err := parseIrisAuth(c.header)
			if c.err != "" {
				if !errors.Is(err, errIrisAuth) || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err = %v, want errIrisAuth containing %q", err, c.err)
				}
				return
			}
			if err != nil || a.Application != c.app || a.Digest != digest {
				t.Fatalf("got %+v, %v; want app %q", a, err, c.app)
			}
		})
	}
}

// TestIrisWindows: the current and previous 5- and 30-second windows are
// accepted, nothing older or newer; each key of a rotation signs.
func TestIrisWindows(t *testing.T) {
	now := time.Unix(1700000017, 0) // 5-s window 340000003, 30-s 56666667
	keys := []string{"primary", "secondary"}
	paths := []string{"/v0/incidents"}
	body := []byte(`{"plan":"p","context":{}}`)
	cases := []struct {
		name   string
		key    string
		window int64
		ok     bool
		skew   time.Duration // for a rejected digest: found how far off
	}{
		{"current 5-s", "primary", 340000003, true, 0},
		{"previous 5-s", "primary", 340000002, true, 0},
		{"current 30-s", "primary", 56666667, true, 0},
		{"previous 30-s", "primary", 56666666, true, 0},
		{"secondary key", "secondary", 340000003, true, 0},
		{"two 5-s windows old", "primary", 340000001, false, 12 * time.Second},
		{"next 5-s window", "primary", 340000004, false, -3 * time.Second},
		{"a minute old", "primary", 340000003 - 12, false, 62 * time.Second},
		{"two 30-s windows old", "primary", 56666665, false, 67 * time.Second},
		{"an hour old", "primary", 340000003 - 720, false, 0},
		{"other key", "other", 340000003, false, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := irisDigest([]byte(c.key), c.window, "POST", paths[0], body)
			if got := irisSigned(keys, d, now, "POST", paths, body); got != c.ok {
				t.Fatalf("irisSigned = %v, want %v", got, c.ok)
			}
			if c.ok {
				return
			}
			skew, found := irisSkew(keys, d, now, "POST", paths, body)
			if found != (c.skew != 0) || skew != c.skew {
				t.Fatalf("irisSkew = %v, %v; want %v", skew, found, c.skew)
			}
		})
	}
	if irisSigned(keys, irisDigest([]byte("primary"), 340000003, "POST", paths[0], body), now, "PUT", paths, body) {
		t.Fatal("a signature for POST passed for PUT")
	}
	big := []byte(strings.Repeat("x", irisStaleLimit+1))
	old := irisDigest([]byte("primary"), 340000001, "POST", paths[0], big)
	if _, found := irisSkew(keys, old, now, "POST", paths, big); found {
		t.Fatal("irisSkew searched a body over irisStaleLimit")
	}
}

func TestIrisPaths(t *testing.T) {
	cases := []struct{ target, want string }{
		{"/v0/incidents", "/v0/incidents"},
		{"/v0/incidents/7?fields=owner&x=a%20b", "/v0/incidents/7?fields=owner&x=a%20b"},
		{"/v0/incidents/%37", "/v0/incidents/%37|/v0/incidents/7"},
	}
	for _, c := range cases {
		r := httptest.NewRequest("GET", c.target, nil)
		if got := strings.Join(irisPaths(r), "|"); got != c.want {
			t.Errorf("irisPaths(%q) = %q, want %q", c.target, got, c.want)
		}
	}
}

// FuzzParseIrisAuth: any header is parsed or refused with errIrisAuth,
// never a panic; what parses has the shape the verifier relies on.
func FuzzParseIrisAuth(f *testing.F) {
	for _, s := range []string{
		"hmac Autoalerts:G9wBO_pU2gaAtE9O-mvou9efJ_kIYu0LOv0mwH279ekXg77m0_-2-IKq-q82ToOWVKQEOrhploasW6xyav4nuQ==",
		"hmac a:b", "hmac :", "hmac", "Bearer x", "", "hmac a b c:d:e", "HMAC x:" + strings.Repeat("A", 86) + "==",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		a, err := parseIrisAuth(header)
		if err != nil {
			if !errors.Is(err, errIrisAuth) {
				t.Fatalf("error %v is not errIrisAuth", err)
			}
			return
		}
		if a.Application == "" || strings.Contains(a.Application, ":") || len(a.Digest) != irisDigestLen {
			t.Fatalf("parsed %q into %+v", header, a)
		}
		if _, err := base64.URLEncoding.DecodeString(a.Digest); err != nil {
			t.Fatalf("digest %q does not decode: %v", a.Digest, err)
		}
	})
}
