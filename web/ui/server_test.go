package ui

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/heraldhq/herald/models"
)

// TestAssets: the bundled stylesheet and scripts, with revalidation; an
// unknown or escaping path is a 404.
func TestAssets(t *testing.T) {
	h := newHarness(t, models.DialectSQLite, nil)
	for path, kind := range map[string]string{"/assets/ui.css": "text/css", "/assets/ui.js": "text/javascript", "/assets/htmx.min.js": "text/javascript"} {
		rec := h.anonymous().get(path)
		if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), kind) {
			t.Fatalf("GET %s: %d %q", path, rec.Code, rec.Header().Get("Content-Type"))
		}
		etag := rec.Header().Get("ETag")
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("If-None-Match", etag)
		if rec := h.anonymous().do(req); etag == "" || rec.Code != http.StatusNotModified {
			t.Errorf("revalidating %s (ETag %q): %d, want 304", path, etag, rec.Code)
		}
	}
	for _, path := range []string{"/assets/nope.css", "/assets/", "/assets/../server.go", "/assets/%2e%2e/server.go", "/assets/VERSIONS/x"} {
		if rec := h.anonymous().get(path); rec.Code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", path, rec.Code)
		}
	}
}
