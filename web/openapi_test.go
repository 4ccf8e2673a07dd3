package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/handlers"
	"github.com/heraldhq/herald/internal/testlog"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/web"
)

// validateOpenAPIDoc checks what an OpenAPI 3.0 document must be: version and
// info, operations with unique ids and responses, path templates matching
// their path parameters, known security schemes, and every $ref resolving.
func validateOpenAPIDoc(doc map[string]any) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if v, _ := doc["openapi"].(string); !regexp.MustCompile(`^3\.0\.\d+$`).MatchString(v) {
		bad("openapi %q is not 3.0.x", v)
	}
	info, _ := doc["info"].(map[string]any)
	if t, _ := info["title"].(string); t == "" {
		bad("info.title is missing")
	}
	if v, _ := info["version"].(string); v == "" {
		bad("info.version is missing")
	}
	components, _ := doc["components"].(map[string]any)
	schemes, _ := components["securitySchemes"].(map[string]any)
	paths, ok := doc["paths"].(map[string]any)
	if !ok || len(paths) == 0 {
		bad("no paths")
	}
	ids := map[string]string{}
	param := regexp.MustCompile(`\{([^}]+)\}`)
	for path, rawItem := range paths {
		item, _ := rawItem.(map[string]any)
		if !strings.HasPrefix(path, "/") {
			bad("path %q does not start with /", path)
		}
		inPath := map[string]bool{}
		for _, m := range param.FindAllStringSubmatch(path, -1) {
			inPath[m[1]] = true
		}
		declared := func(op map[string]any) map[string]bool {
			out := map[string]bool{}
			for _, list := range []any{item["parameters"], op["parameters"]} {
				ps, _ := list.([]any)
				for _, p := range ps {
					pm, _ := p.(map[string]any)
					if pm["in"] == "path" {
						name, _ := pm["name"].(string)
						out[name] = true
						if pm["required"] != true {
							bad("%s: path parameter %s is not required", path, name)
						}
					}
					if pm["schema"] == nil {
						bad("%s: parameter %v has no schema", path, pm["name"])
					}
				}
			}
			return out
		}
		for method, rawOp := range item {
			if method == "parameters" || method == "summary" || method == "description" {
				continue
			}
			op, ok := rawOp.(map[string]any)
			if !ok || !inList([]string{"get", "put", "post", "delete", "patch", "head", "options", "trace"}, method) {
				bad("%s: %q is not an operation", path, method)
				continue
			}
			id, _ := op["operationId"].(string)
			if id == "" {
				bad("%s %s: no operationId", method, path)
			} else if other, dup := ids[id]; dup {
				bad("operationId %s of %s %s is also %s", id, method, path, other)
			}
			ids[id] = method + " " + path
			responses, _ := op["responses"].(map[string]any)
			if len(responses) == 0 {
				bad("%s %s: no responses", method, path)
			}
			for code := range responses {
				if !regexp.MustCompile(`^([1-5]\d\d|default)$`).MatchString(code) {
					bad("%s %s: response code %q", method, path, code)
				}
			}
			if got := declared(op); fmt.Sprint(sortedSet(got)) != fmt.Sprint(sortedSet(inPath)) {
				bad("%s %s: path parameters %v, template has %v", method, path, sortedSet(got), sortedSet(inPath))
			}
			sec, _ := op["security"].([]any)
			for _, req := range sec {
				for name := range req.(map[string]any) {
					if _, ok := schemes[name]; !ok {
						bad("%s %s: unknown security scheme %s", method, path, name)
					}
				}
			}
		}
	}
	var walk func(v any)
	walk = func(v any) {
		switch t := v.(type) {
		case map[string]any:
			if ref, ok := t["$ref"].(string); ok {
				if !refResolves(doc, ref) {
					bad("$ref %s does not resolve", ref)
				}
			}
			for _, c := range t {
				walk(c)
			}
		case []any:
			for _, c := range t {
				walk(c)
			}
		}
	}
	walk(doc)
	return problems
}

func refResolves(doc map[string]any, ref string) bool {
	rest, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return false
	}
	var cur any = doc
	for _, part := range strings.Split(rest, "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return false
		}
		if cur, ok = m[part]; !ok {
			return false
		}
	}
	return true
}

func sortedSet(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func inList(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestOpenAPIDocument: the document is valid OpenAPI 3.0, served without
// a key, and the validator catches what it should.
func TestOpenAPIDocument(t *testing.T) {
	t.Parallel()
	var doc map[string]any
	if err := json.Unmarshal(web.OpenAPIDocument(), &doc); err != nil {
		t.Fatalf("openapi.json is not JSON: %v", err)
	}
	if problems := validateOpenAPIDoc(doc); len(problems) > 0 {
		t.Fatalf("openapi.json:\n%s", strings.Join(problems, "\n"))
	}
	var broken map[string]any
	check(t, json.Unmarshal(web.OpenAPIDocument(), &broken))
	broken["openapi"] = "2.0"
	broken["paths"].(map[string]any)["/api/v1/incidents/{number}"].(map[string]any)["parameters"] = []any{}
	broken["paths"].(map[string]any)["/api/v1/incidents"].(map[string]any)["get"].(map[string]any)["responses"] = map[string]any{"200": map[string]any{"$ref": "#/components/responses/Nope"}}
	if problems := validateOpenAPIDoc(broken); len(problems) < 3 {
		t.Errorf("the validator missed problems: %v", problems)
	}

	env := newAPIEnv(t, models.DialectSQLite)
	r := env.call(http.MethodGet, "/api/v1/openapi.json", "", nil)
	if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") || string(r.Body) != string(web.OpenAPIDocument()) {
		t.Fatalf("GET /api/v1/openapi.json: %d %s", r.Status, r.Header.Get("Content-Type"))
	}
}

// TestOpenAPIMatchesRoutes: with the incidents and admin APIs served,
// every /api/v1 route is documented and every documented path routed; a
// route missing from the document is reported.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	t.Parallel()
	log := testlog.Logger(t)
	o := web.Options{Log: log, Admin: routesOnlyAdmin{}, AdminAPIKey: "k", Intake: handlers.NewIntake(handlers.Deps{}),
		IntegrationAuth: &models.Store{}, IntakeStore: &models.Store{}}
	e := web.New(o)
	mismatches := mismatchesHere(t, e)
	if len(mismatches) > 0 {
		t.Fatalf("web/openapi.json and the routes disagree:\n%s", strings.Join(mismatches, "\n"))
	}
	e.POST("/api/v1/incidents/:number/notes", func(echo.Context) error { return nil })
	e.GET("/v0/incidents/:id", func(echo.Context) error { return nil })
	mismatches = mismatchesHere(t, e)
	if len(mismatches) != 1 || !strings.HasPrefix(mismatches[0], "POST /api/v1/incidents/{number}/notes") {
		t.Fatalf("an undocumented route: %v", mismatches)
	}
	mismatches = mismatchesHere(t, web.New(web.Options{Log: log}))
	if len(mismatches) == 0 || !strings.Contains(strings.Join(mismatches, "\n"), "PUT /api/v1/incidents: in web/openapi.json but not routed") {
		t.Fatalf("documented operations with no route went unnoticed: %v", mismatches)
	}
}

// mismatchesHere are the mismatches of the APIs TestOpenAPIMatchesRoutes
// serves: the other APIs' options are not set here (cmd/herald's
// TestOpenAPIDocumentsEveryRoute checks the whole app).
func mismatchesHere(t *testing.T, e *echo.Echo) []string {
	t.Helper()
	mismatches, err := web.OpenAPIMismatches(e)
	check(t, err)
	return slices.DeleteFunc(mismatches, func(m string) bool {
		return strings.HasSuffix(m, "not routed") && !slices.ContainsFunc(servedHere, func(p string) bool { return strings.Contains(m, " "+p) })
	})
}

// servedHere are the /api/v1 paths TestOpenAPIMatchesRoutes serves.
var servedHere = []string{"/api/v1/incidents", "/api/v1/openapi.json", "/api/v1/integrations", "/api/v1/config", "/api/v1/notifications", "/api/v1/contacts/"}

// routesOnlyAdmin is an admin API for listing routes: never called.
type routesOnlyAdmin struct{ web.AdminAPI }

func (routesOnlyAdmin) CreateIntegration(context.Context, models.NewIntegration) (string, error) {
	return "", nil
}
func (routesOnlyAdmin) RotateIntegration(context.Context, string) (string, error) { return "", nil }
func (routesOnlyAdmin) FinishIntegrationRotation(context.Context, string) (bool, error) {
	return false, nil
}
func (routesOnlyAdmin) RevokeIntegration(context.Context, string) error { return nil }
func (routesOnlyAdmin) Integrations(context.Context) ([]models.IntegrationSummary, error) {
	return nil, nil
}
