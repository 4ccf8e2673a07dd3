package web

import (
	"context"
	"crypto/hmac"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/models"
)

// Iris signs each request with its application's key (Iris's api.py and
// irisclient):
//
//	Authorization: hmac <application>:<digest>
//	digest = urlsafe_b64encode(HMAC-SHA512(key, "<window> <METHOD> <path?query> <raw body>"))
//
// where window is Unix seconds // 5 (the current irisclient) or // 30 (an
// older client); Iris accepts the current and the previous window of
// each, and so does Herald.

// irisDigestLen is the length of a padded base64 SHA-512 digest.
var irisDigestLen = base64.URLEncoding.EncodedLen(sha512.Size)

// irisAuth is a parsed Authorization header.
type irisAuth struct {
	Application string
	Digest      string
}

// errIrisAuth explains why an Authorization header is not an Iris one.
var errIrisAuth = errors.New("malformed Iris authorization")

// parseIrisAuth parses "hmac <application>:<digest>". The application
// runs to the first colon (Iris application names may hold spaces); the
// digest must look like a padded URL-safe base64 SHA-512, so a client
// sending standard base64 or no padding hears why rather than "wrong".
func parseIrisAuth(header string) (irisAuth, error) {
	scheme, rest, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "hmac") {
		return irisAuth{}, fmt.Errorf("%w: want \"hmac <application>:<digest>\"", errIrisAuth)
	}
	app, digest, ok := strings.Cut(rest, ":")
	if !ok {
		return irisAuth{}, fmt.Errorf("%w: no ':' between the application and the digest", errIrisAuth)
	}
	if app == "" || strings.TrimSpace(app) != app {
		return irisAuth{}, fmt.Errorf("%w: empty application name, or spaces around it", errIrisAuth)
	}
	if len(digest) != irisDigestLen || !strings.HasSuffix(digest, "==") {
		return irisAuth{}, fmt.Errorf("%w: the digest must be %d characters of URL-safe base64 with '=' padding (HMAC-SHA512)", errIrisAuth, irisDigestLen)
	}
	if _, err := base64.URLEncoding.DecodeString(digest); err != nil {
		return irisAuth{}, fmt.Errorf("%w: the digest is not URL-safe base64 ('-' and '_', not '+' and '/')", errIrisAuth)
	}
	return irisAuth{Application: app, Digest: digest}, nil
}

// irisDigest is the digest an Iris client sends for a request.
func irisDigest(key []byte, window int64, method, pathQuery string, body []byte) string {
	m := hmac.New(sha512.New, key)
	m.Write([]byte(strconv.FormatInt(window, 10) + " " + method + " " + pathQuery + " "))
	m.Write(body)
	return base64.URLEncoding.EncodeToString(m.Sum(nil))
}

// irisWindows are the windows accepted at now: the current and previous
// 5-second windows, and the current and previous 30-second ones.
func irisWindows(now time.Time) []int64 {
	s := now.Unix()
	return []int64{floorDiv(s, 5), floorDiv(s, 5) - 1, floorDiv(s, 30), floorDiv(s, 30) - 1}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// irisSigned reports whether digest signs the request with one of keys in
// an accepted window. Every candidate is computed and compared in
// constant time, so timing tells nothing about which key or window.
func irisSigned(keys []string, digest string, now time.Time, method string, paths []string, body []byte) bool {
	ok := 0
	for _, k := range keys {
		for _, w := range irisWindows(now) {
			for _, p := range paths {
				ok |= subtle.ConstantTimeCompare([]byte(digest), []byte(irisDigest([]byte(k), w, method, p, body)))
			}
		}
	}
	return ok == 1
}

// irisStaleLimit bounds the bodies whose signatures Herald re-checks
// against older and newer windows to explain a rejection: the search
// costs an HMAC per window, and must not become a cheap way to burn CPU.
const irisStaleLimit = 16 << 10

// irisSkew looks for the window a rejected digest was made in (5-second
// windows up to two minutes either way, 30-second ones up to five): a
// match means the key is right and the client's clock (or a replay) is
// off by about the returned amount (positive: behind).
func irisSkew(keys []string, digest string, now time.Time, method string, paths []string, body []byte) (time.Duration, bool) {
	if len(body) > irisStaleLimit {
		return 0, false
	}
	s := now.Unix()
	for _, size := range []int64{5, 30} {
		cur, reach := floorDiv(s, size), max(120, 10*size)
		for d := int64(2); d*size <= reach; d++ {
			for _, w := range []int64{cur - d, cur + d - 1} {
				for _, k := range keys {
					for _, p := range paths {
						if subtle.ConstantTimeCompare([]byte(digest), []byte(irisDigest([]byte(k), w, method, p, body))) == 1 {
							return time.Duration(s-w*size) * time.Second, true
						}
					}
				}
			}
		}
	}
	return 0, false
}

// irisPaths are the "<path?query>" forms a client may have signed: the
// request target as sent (irisclient signs requests' path_url), and, when
// it differs, the decoded path (what Iris itself read from PATH_INFO).
func irisPaths(r *http.Request) []string {
	sent := r.RequestURI
	if sent == "" || !strings.HasPrefix(sent, "/") {
		sent = r.URL.RequestURI()
	}
	decoded := r.URL.Path
	if r.URL.RawQuery != "" {
		decoded += "?" + r.URL.RawQuery
	}
	if decoded == sent {
		return []string{sent}
	}
	return []string{sent, decoded}
}

// IrisKeys finds an application's raw keys and spends its quota;
// *models.Store implements it.
type IrisKeys interface {
	IntegrationKeys(ctx context.Context, name string) (*models.Integration, []string, error)
	TakeQuota(ctx context.Context, integrationID string, perMinute int) (bool, time.Duration, error)
}

// irisBodyKey is the echo.Context key of the verified raw body.
const irisBodyKey = "herald.iris.body"

// irisBody is the raw body requireIris verified.
func irisBody(c echo.Context) []byte {
	b, _ := c.Get(irisBodyKey).([]byte)
	return b
}

// requireIris authenticates an Iris request: the header and application
// first (401 before any of the body is read), then the digest over the
// raw body as received (401, nothing parsed), then one request of the
// integration's quota (429 with Retry-After). Handlers read the verified
// body with irisBody and the integration with integrationOf.
func requireIris(keys IrisKeys, clock models.Clock, maxBody int64) echo.MiddlewareFunc {
	unauthorized := func(c echo.Context, format string, args ...any) error {
		c.Response().Header().Set("WWW-Authenticate", `hmac realm="herald"`)
		return apiError(c, http.StatusUnauthorized, "", format, args...)
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			ctx := c.Request().Context()
			header := c.Request().Header.Get("Authorization")
			if header == "" {
				return unauthorized(c, "missing Authorization header: send \"hmac <application>:<digest>\" as Iris clients do")
			}
			auth, err := parseIrisAuth(header)
			if err != nil {
				return unauthorized(c, "%v", err)
			}
			in, secrets, err := keys.IntegrationKeys(ctx, auth.Application)
			switch {
			case models.IsNotFound(err):
				return unauthorized(c, "unknown application %q: the application is a Herald integration's name", auth.Application)
			case errors.Is(err, models.ErrRevoked):
				return unauthorized(c, "application %q is revoked: mint it a new key", auth.Application)
			case err != nil:
				return err
			case len(secrets) == 0:
				return unauthorized(c, "application %q has no key yet: mint one", auth.Application)
			}
			body, err := readAPIBody(c, maxBody)
			if err != nil {
				return err
			}
			now, method, paths := clock.Now(), c.Request().Method, irisPaths(c.Request())
			if !irisSigned(secrets, auth.Digest, now, method, paths, body) {
				if skew, ok := irisSkew(secrets, auth.Digest, now, method, paths, body); ok {
					return unauthorized(c, "stale signature: it was made in a window %s Herald's clock; the current and previous 5- and 30-second windows are accepted: check the client's clock", skewText(skew))
				}
				return unauthorized(c, "signature does not match for application %q: wrong key, or the method, path, query or body changed after signing (or the client's clock is more than 5 minutes off)", auth.Application)
			}
			ok, wait, err := keys.TakeQuota(ctx, in.ID, in.QuotaPerMinute)
			if err != nil {
				return err
			}
			if !ok {
				c.Response().Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
				return apiError(c, http.StatusTooManyRequests, "", "application %s is over its quota of %d requests a minute; retry after the Retry-After seconds", in.Name, in.QuotaPerMinute)
			}
			c.Set(integrationKey, in)
			c.Set(irisBodyKey, body)
			return next(c)
		}
	}
}

func skewText(d time.Duration) string {
	if d < 0 {
		return (-d).String() + " ahead of"
	}
	return d.String() + " behind"
}
