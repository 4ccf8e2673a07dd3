package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
)

// registerVerification adds contact verification to the admin API:
// POST /api/v1/contacts/{id}/verification sends a code to the contact,
// POST /api/v1/contacts/{id}/verification/confirm {"code":"123456"}
// checks it.
func (a *adminAPI) registerVerification(g *echo.Group) {
	g.POST("/contacts/:id/verification", a.sendVerification)
	g.POST("/contacts/:id/verification/confirm", a.confirmVerification)
}

func (a *adminAPI) sendVerification(c echo.Context) error {
	err := a.api.SendVerification(c.Request().Context(), c.Param("id"))
	switch {
	case err == nil:
		return c.JSON(http.StatusAccepted, map[string]any{"sent": true, "expires_in_seconds": int(models.VerificationCodeTTL.Seconds())})
	case models.IsNotFound(err):
		return echo.NewHTTPError(http.StatusNotFound, "no such contact method")
	case errors.Is(err, notifications.ErrNoDestination), errors.Is(err, notifications.ErrNoVendor):
		return echo.NewHTTPError(http.StatusUnprocessableEntity, err.Error())
	default:
		return err
	}
}

// confirmRequest is the JSON body of .../verification/confirm.
type confirmRequest struct {
	Code string `json:"code"`
}

func (a *adminAPI) confirmVerification(c echo.Context) error {
	body, err := a.readBody(c)
	if err != nil {
		return err
	}
	var req confirmRequest
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || strings.TrimSpace(req.Code) == "" {
		return echo.NewHTTPError(http.StatusBadRequest, `body must be a JSON object {"code":"123456"}`)
	}
	err = a.api.VerifyContact(c.Request().Context(), c.Param("id"), strings.TrimSpace(req.Code))
	switch {
	case err == nil:
		return c.JSON(http.StatusOK, map[string]bool{"verified": true})
	case models.IsNotFound(err):
		return echo.NewHTTPError(http.StatusNotFound, "no such contact method")
	case errors.Is(err, models.ErrVerificationWrongCode):
		return echo.NewHTTPError(http.StatusBadRequest, "wrong code")
	// The sentinels' own words, not err's: a code that no longer decrypts
	// wraps key details the caller has no use for.
	case errors.Is(err, models.ErrVerificationExpired):
		return echo.NewHTTPError(http.StatusGone, models.ErrVerificationExpired.Error()+"; send a new code")
	case errors.Is(err, models.ErrVerificationNotPending):
		return echo.NewHTTPError(http.StatusGone, models.ErrVerificationNotPending.Error()+"; send a new code")
	case errors.Is(err, models.ErrVerificationTooManyTries):
		return echo.NewHTTPError(http.StatusTooManyRequests, models.ErrVerificationTooManyTries.Error()+"; send a new code")
	default:
		return err
	}
}
