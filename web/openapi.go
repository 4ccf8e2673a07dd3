package web

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/labstack/echo/v4"
)

// openAPIDocument describes /api/v1 (the incidents API and the admin API)
// in OpenAPI 3; a test keeps it and the routes in step.
//
//go:embed openapi.json
var openAPIDocument []byte

// OpenAPIDocument returns the OpenAPI 3 document of /api/v1.
func OpenAPIDocument() []byte { return append([]byte(nil), openAPIDocument...) }

// serveOpenAPI answers GET /api/v1/openapi.json, without authentication:
// the document holds no secrets and clients generate code from it.
func serveOpenAPI(c echo.Context) error {
	return c.Blob(http.StatusOK, "application/json", openAPIDocument)
}

// OpenAPIMismatches compares the document with the routes of e: every
// /api/v1 route must be documented, and every documented operation
// routed (the Iris-compatible /v0 routes are Iris's documented API and
// need not be here; if documented they must be routed). It lists each
// mismatch as "METHOD /path: why"; none means the document is true.
func OpenAPIMismatches(e *echo.Echo) ([]string, error) {
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		return nil, fmt.Errorf("openapi.json: %w", err)
	}
	documented := map[string]bool{}
	for path, item := range doc.Paths {
		for method := range item {
			if slices.Contains(openAPIMethods, method) {
				documented[strings.ToUpper(method)+" "+path] = true
			}
		}
	}
	routed := map[string]bool{}
	for _, r := range e.Routes() {
		if r.Method == echo.RouteNotFound || strings.Contains(r.Path, "*") {
			continue
		}
		path := openAPIPath(r.Path)
		if strings.HasPrefix(path, "/api/v1/") || strings.HasPrefix(path, "/v0/") {
			routed[r.Method+" "+path] = true
		}
	}
	var out []string
	for op := range routed {
		if strings.HasPrefix(op[strings.Index(op, " ")+1:], "/api/v1/") && !documented[op] {
			out = append(out, op+": routed but not in web/openapi.json")
		}
	}
	for op := range documented {
		if !routed[op] {
			out = append(out, op+": in web/openapi.json but not routed")
		}
	}
	sort.Strings(out)
	return out, nil
}

// openAPIMethods are the operations of an OpenAPI path item.
var openAPIMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// openAPIPath writes Echo's /incidents/:number as /incidents/{number}.
func openAPIPath(echoPath string) string {
	parts := strings.Split(echoPath, "/")
	for i, p := range parts {
		if name, ok := strings.CutPrefix(p, ":"); ok {
			parts[i] = "{" + name + "}"
		}
	}
	return strings.Join(parts, "/")
}
