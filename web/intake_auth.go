package web

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/internal/ttlcache"
	"github.com/heraldhq/herald/models"
)

// IntegrationAuth authenticates monitoring integrations by their keys and
// spends their request quotas; *models.Store implements it.
type IntegrationAuth interface {
	AuthenticateKey(ctx context.Context, key string) (*models.Integration, error)
	TakeQuota(ctx context.Context, integrationID string, perMinute int) (bool, time.Duration, error)
}

// APIError is the JSON error of the public API: what is wrong and, for a
// bad field, which (a JSON path such as "context.labels").
type APIError struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
}

// apiError answers with an APIError.
func apiError(c echo.Context, status int, field, format string, args ...any) error {
	return c.JSON(status, APIError{Error: fmt.Sprintf(format, args...), Field: field})
}

// integrationKey is the echo.Context key of the authenticated integration.
const integrationKey = "herald.integration"

// integrationOf is the integration requireIntegration authenticated.
func integrationOf(c echo.Context) *models.Integration {
	in, _ := c.Get(integrationKey).(*models.Integration)
	return in
}

// requireIntegration authenticates "Authorization: Bearer <key>" before
// anything of the body is read (401, nothing stored), then spends one
// request of the integration's quota (429 with Retry-After, nothing
// stored).
func requireIntegration(auth IntegrationAuth) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			ctx := c.Request().Context()
			token, ok := bearerToken(c.Request().Header.Get("Authorization"))
			if !ok {
				c.Response().Header().Set("WWW-Authenticate", `Bearer realm="herald"`)
				return apiError(c, http.StatusUnauthorized, "", "missing integration key: send Authorization: Bearer <key>")
			}
			in, err := auth.AuthenticateKey(ctx, token)
			if errors.Is(err, models.ErrBadKey) {
				c.Response().Header().Set("WWW-Authenticate", `Bearer realm="herald", error="invalid_token"`)
				return apiError(c, http.StatusUnauthorized, "", "integration key not accepted (unknown, revoked or wrong)")
			}
			if err != nil {
				return err
			}
			ok, wait, err := auth.TakeQuota(ctx, in.ID, in.QuotaPerMinute)
			if err != nil {
				return err
			}
			if !ok {
				c.Response().Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
				return apiError(c, http.StatusTooManyRequests, "", "integration %s is over its quota of %d requests a minute; retry after the Retry-After seconds", in.Name, in.QuotaPerMinute)
			}
			c.Set(integrationKey, in)
			return next(c)
		}
	}
}

// readAPIBody reads a request body of at most max bytes. Its errors are
// *echo.HTTPError (413 beyond max, 400 unreadable), which the server's
// error handler answers as {"error": …}: return them as they are.
func readAPIBody(c echo.Context, max int64) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, max))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, echo.NewHTTPError(http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is larger than %d bytes", max))
	}
	if err != nil {
		return nil, echo.NewHTTPError(http.StatusBadRequest, "could not read the request body")
	}
	return body, nil
}

// KeyCache remembers accepted integration keys for a second, so an alert
// storm does not read the same integration row thousands of times. A key
// revoked or rotated out elsewhere (the CLI, another replica) stops
// working within that second; the admin API of this replica calls Forget.
// Unknown and wrong keys are never cached (each is checked against the
// database). Entries are keyed by the key's SHA-256: the cache holds no
// key.
type KeyCache struct {
	IntegrationAuth
	keys *ttlcache.Cache[[sha256.Size]byte, models.Integration]
}

// NewKeyCache caches auth's accepted keys.
func NewKeyCache(auth IntegrationAuth, clock models.Clock) *KeyCache {
	return &KeyCache{IntegrationAuth: auth, keys: ttlcache.New[[sha256.Size]byte, models.Integration](time.Second, 10_000, clock.Now)}
}

// AuthenticateKey implements IntegrationAuth.
func (c *KeyCache) AuthenticateKey(ctx context.Context, key string) (*models.Integration, error) {
	h := sha256.Sum256([]byte(key))
	if in, ok := c.keys.Get(h); ok {
		return &in, nil
	}
	in, err := c.IntegrationAuth.AuthenticateKey(ctx, key)
	if err != nil {
		return nil, err
	}
	c.keys.Put(h, *in)
	return in, nil
}

// Forget drops every cached key (after a rotation or revocation).
func (c *KeyCache) Forget() { c.keys.Clear() }
