package web_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// docT0 is when the pages' fake clocks start.
var docT0 = time.Date(2026, 11, 22, 14, 5, 0, 0, time.UTC)

func get(h http.Handler, target string, header ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func check(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// wantHTML checks the status, the content type and that every want is in
// the body.
func wantHTML(t *testing.T, w *httptest.ResponseRecorder, code int, want ...string) string {
	t.Helper()
	body := w.Body.String()
	if w.Code != code {
		t.Fatalf("status = %d, want %d; body:\n%s", w.Code, code, body)
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type = %q, want text/html", ct)
	}
	for _, s := range want {
		if !strings.Contains(body, s) {
			t.Errorf("body lacks %q; body:\n%s", s, body)
		}
	}
	return body
}

func wantAbsent(t *testing.T, body string, unwanted ...string) {
	t.Helper()
	for _, s := range unwanted {
		if strings.Contains(body, s) {
			t.Errorf("body contains %q, which it must not", s)
		}
	}
}
