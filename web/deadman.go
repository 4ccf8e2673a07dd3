package web

import (
	"context"
	"crypto/sha256"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/notifications"
)

// DeadManReporter reports the dead-man switch; *notifications.DeadMan
// implements it.
type DeadManReporter interface {
	Status(ctx context.Context) (notifications.DeadManStatus, error)
}

// registerDeadMan serves GET /api/v1/deadman (the admin key): the
// dead-man switch's route, schedule, last test page and last success, and
// this replica's engine health and pings.
func registerDeadMan(e *echo.Echo, o Options) {
	auth := (&adminAPI{keyHash: sha256.Sum256([]byte(o.AdminAPIKey))}).authenticate
	e.GET("/api/v1/deadman", func(c echo.Context) error {
		ctx, cancel := context.WithTimeout(c.Request().Context(), 5*time.Second)
		defer cancel()
		st, err := o.DeadMan.Status(ctx)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, st)
	}, auth)
}
