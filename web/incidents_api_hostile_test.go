package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/models"
)

// Hostile requests to the incidents API get a 4xx naming what is wrong,
// quickly, and store nothing; accepted hostile text is stored verbatim.
func TestIncidentsAPIHostile(t *testing.T) {
	const valid = `"service":"payments","severity":"CRIT","title":"down"`
	deep := strings.Repeat("[", 10000) + strings.Repeat("]", 10000)
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			env := newAPIEnv(t, d)
			key := env.keys["nagios"]
			refused := []struct {
				name, auth, body string
				status           int
				field            string
			}{
				{"no Authorization", "", `{` + valid + `}`, 401, ""},
				{"scheme only", "Bearer", `{` + valid + `}`, 401, ""},
				{"scheme and spaces", "Bearer    ", `{` + valid + `}`, 401, ""},
				{"Basic scheme", "Basic " + key, `{` + valid + `}`, 401, ""},
				{"Token scheme", "Token " + key, `{` + valid + `}`, 401, ""},
				{"no scheme", key, `{` + valid + `}`, 401, ""},
				{"key cut short", "Bearer " + key[:len(key)-1], `{` + valid + `}`, 401, ""},
				{"key with a space inside", "Bearer " + key[:10] + " " + key[10:], `{` + valid + `}`, 401, ""},
				{"key upper-cased", "Bearer " + strings.ToUpper(key), `{` + valid + `}`, 401, ""},
				{"key twice", "Bearer " + key + key, `{` + valid + `}`, 401, ""},
				{"10,000 nested arrays in context", "Bearer " + key, `{` + valid + `,"context":{"x":` + deep + `}}`, 400, "context"},
				{"10,000 nested arrays as the body", "Bearer " + key, deep, 400, ""},
				{"invalid UTF-8 title", "Bearer " + key, "{\"service\":\"payments\",\"severity\":\"CRIT\",\"title\":\"bad \xff\xfe\"}", 400, "title"},
				{"invalid UTF-8 message", "Bearer " + key, "{" + valid + ",\"message\":\"\xc3\"}", 400, "message"},
				{"invalid UTF-8 in context", "Bearer " + key, "{" + valid + ",\"context\":{\"x\":\"\xff\"}}", 400, "context"},
				{"invalid UTF-8 context key", "Bearer " + key, "{" + valid + ",\"context\":{\"\xff\":1}}", 400, "context"},
				{"escaped control character title", "Bearer " + key, `{"service":"payments","severity":"CRIT","title":"bell\u0007"}`, 400, "title"},
				{"NUL in title", "Bearer " + key, `{"service":"payments","severity":"CRIT","title":"nul\u0000"}`, 400, "title"},
				{"oversized body", "Bearer " + key, `{` + valid + `,"message":"` + strings.Repeat("m", 1<<20) + `"}`, 413, ""},
			}
			before := env.rows()
			for _, c := range refused {
				start := time.Now()
				r := env.call(http.MethodPut, "/api/v1/incidents", "", []byte(c.body), "Authorization", c.auth)
				if took := time.Since(start); took > 5*time.Second {
					t.Errorf("%s: took %v", c.name, took)
				}
				if r.Status != c.status {
					t.Errorf("%s: %d %s, want %d", c.name, r.Status, r.Body, c.status)
					continue
				}
				m := r.json(t)
				if field, _ := m["field"].(string); field != c.field {
					t.Errorf("%s: field %q, want %q (%s)", c.name, field, c.field, r.Body)
				}
				if strings.Contains(string(r.Body), key) {
					t.Errorf("%s: the answer echoes the key", c.name)
				}
			}
			if after := env.rows(); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("refused requests changed rows: %v → %v", before, after)
			}

			// Accepted variants of the header: the scheme is
			// case-insensitive, spaces around the key do not matter.
			for i, auth := range []string{"bearer " + key, "BEARER " + key, "Bearer   " + key + "  "} {
				body := fmt.Sprintf(`{"service":"payments","severity":"CRIT","title":"variant %d"}`, i)
				if r := env.call(http.MethodPut, "/api/v1/incidents", "", []byte(body), "Authorization", auth); r.Status/100 != 2 {
					t.Errorf("Authorization %q: %d %s", strings.Replace(auth, key, "<key>", 1), r.Status, r.Body)
				}
			}

			// Markup and SQL are text: stored as sent.
			hostile := `'); DROP TABLE incidents;-- <script>alert(1)</script> <!channel> <@U123> *bold* <https://evil|click>`
			r := env.put(map[string]any{"service": "payments", "severity": "CRIT", "title": hostile, "dedup_key": "hostile"})
			if r.Status/100 != 2 {
				t.Fatalf("hostile title: %d %s", r.Status, r.Body)
			}
			var inc models.Incident
			check(t, env.db.Gorm.Where("title = ?", hostile).First(&inc).Error)
		})
	}
}
