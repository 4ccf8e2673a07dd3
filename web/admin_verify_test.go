package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
)

const verifyTestKey = "0123456789abcdef0123456789abcdef-admin"

// verifyAPI answers by code: each code maps to what VerifyContact returns.
type verifyAPI struct {
	AdminAPI
	sent    []string
	sendErr error
}

func (v *verifyAPI) SendVerification(_ context.Context, id string) error {
	v.sent = append(v.sent, id)
	return v.sendErr
}

func (v *verifyAPI) VerifyContact(_ context.Context, id, code string) error {
	if id == "missing" {
		return models.ErrVerificationNotPending
	}
	return map[string]error{
		"123456": nil, "000000": models.ErrVerificationWrongCode, "111111": models.ErrVerificationExpired,
		"222222": models.ErrVerificationTooManyTries, "333333": errors.New("db down"),
		"444444": fmt.Errorf("%w: %w", models.ErrVerificationNotPending, models.ErrDecrypt),
	}[code]
}

func TestAdminVerificationRoutes(t *testing.T) {
	api := &verifyAPI{}
	e := echo.New()
	registerAdmin(e, api, verifyTestKey, 1<<16)
	do := func(path, key, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		return rec
	}
	if r := do("/api/v1/contacts/c1/verification", "wrong", ""); r.Code != http.StatusUnauthorized || len(api.sent) != 0 {
		t.Fatalf("without the key: %d, sent %v", r.Code, api.sent)
	}
	if r := do("/api/v1/contacts/c1/verification", verifyTestKey, ""); r.Code != http.StatusAccepted || len(api.sent) != 1 || api.sent[0] != "c1" {
		t.Fatalf("send: %d %s, sent %v", r.Code, r.Body, api.sent)
	}
	for err, want := range map[error]int{
		errors.New("db down"): http.StatusInternalServerError,
		fmt.Errorf("loading contact method: %w", gorm.ErrRecordNotFound): http.StatusNotFound,
		notifications.ErrNoDestination:                                   http.StatusUnprocessableEntity,
		notifications.ErrNoVendor:                                        http.StatusUnprocessableEntity,
	} {
		api.sendErr = err
		if r := do("/api/v1/contacts/c1/verification", verifyTestKey, ""); r.Code != want {
			t.Errorf("send failing with %v: %d, want %d", err, r.Code, want)
		}
	}
	for body, want := range map[string]int{
		`{"code":"123456"}`: http.StatusOK,
		`{"code":"000000"}`: http.StatusBadRequest,
		`{"code":"111111"}`: http.StatusGone,
		`{"code":"222222"}`: http.StatusTooManyRequests,
		`{"code":"333333"}`: http.StatusInternalServerError,
		`{"code":""}`:       http.StatusBadRequest,
		`{"cod":"123456"}`:  http.StatusBadRequest,
		`not json`:          http.StatusBadRequest,
	} {
		if r := do("/api/v1/contacts/c1/verification/confirm", verifyTestKey, body); r.Code != want {
			t.Errorf("confirm %s: %d %s, want %d", body, r.Code, r.Body, want)
		}
	}
	if r := do("/api/v1/contacts/missing/verification/confirm", verifyTestKey, `{"code":"123456"}`); r.Code != http.StatusGone {
		t.Errorf("no code pending: %d, want 410", r.Code)
	}
	// A stored code that no longer decrypts: send a new one, without the
	// key details.
	r := do("/api/v1/contacts/c1/verification/confirm", verifyTestKey, `{"code":"444444"}`)
	if r.Code != http.StatusGone || strings.Contains(r.Body.String(), "ENCRYPTED_FIELD_KEY") || !strings.Contains(r.Body.String(), "send a new code") {
		t.Errorf("undecryptable code: %d %s; want 410 asking for a new code, no key details", r.Code, r.Body)
	}
}
