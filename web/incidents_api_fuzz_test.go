package web

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/heraldhq/herald/models"
)

var fuzzNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// FuzzParseCreateRequest: any body either parses into a request that
// honours every limit, or is refused naming a known field (or none).
func FuzzParseCreateRequest(f *testing.F) {
	for _, seed := range []string{
		`{"service":"payments","severity":"CRIT","title":"5xx above 5%"}`,
		`{"service":"payments","severity":"warn","title":"t","message":"m","detected_at":"2026-03-01T11:00:00+01:00","source":"nagios","dedup_key":"k","context":{"labels":{"a":"b"},"n":[1,2.5,null]}}`,
		`{"service":"p","severity":"ERR","title":"t","context":null,"source":null}`,
		`{"service":"p","severity":"ERR","title":"t","context":[]}`,
		`{"service":"p","severity":"ERR","title":"t","title":"u"}`,
		`{"service":"p","severity":"ERR","title":"t"} trailing`,
		`{"service":1}`, `{"x":1}`, `[]`, `"str"`, ``, `{`, `{"service":"\u0000"}`, `{"title":"a\nb"}`,
		`{"service":"p","severity":"ERR","title":"t","detected_at":"3026-01-01T00:00:00Z"}`,
		`{"service":"p","severity":"ERR","title":"\xff\xfe"}`,
	} {
		f.Add([]byte(seed))
	}
	fields := []string{"", "service", "severity", "title", "message", "detected_at", "source", "dedup_key", "context"}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, ferr := parseCreateRequest(body, fuzzNow)
		if ferr != nil {
			if ferr.Error() == "" {
				t.Fatal("an error without a message")
			}
			var obj map[string]json.RawMessage
			if !slices.Contains(fields, ferr.Field) && json.Unmarshal(body, &obj) == nil {
				if _, given := obj[ferr.Field]; !given {
					t.Fatalf("error names field %q, which the body does not have", ferr.Field)
				}
			}
			return
		}
		if r.Service == "" || r.Title == "" || utf8.RuneCountInString(r.Title) > models.MaxTitleLength || strings.ContainsAny(r.Title, "\n\r") {
			t.Fatalf("accepted a bad service or title: %+v", r)
		}
		if r.Severity != models.SEV1 && r.Severity != models.SEV2 && r.Severity != models.SEV3 {
			t.Fatalf("accepted severity %v", r.Severity)
		}
		if r.DetectedAt != nil && r.DetectedAt.After(fuzzNow.Add(maxDetectedSkew)) {
			t.Fatalf("accepted detected_at %v", r.DetectedAt)
		}
		if len(r.DedupKey) > maxDedupKeyBytes || len(r.Source) > maxSourceChars {
			t.Fatalf("accepted long dedup_key or source: %+v", r)
		}
		if r.Context != "" {
			var obj map[string]any
			if len(r.Context) > maxContextBytes || json.Unmarshal([]byte(r.Context), &obj) != nil {
				t.Fatalf("accepted context %q", r.Context)
			}
		}
		if !json.Valid(body) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
	})
}

// FuzzParseStateRequest: a state change is one of the three states, or
// refused.
func FuzzParseStateRequest(f *testing.F) {
	for _, seed := range []string{`{"state":"CLAIMED","by":"alice"}`, `{"state":"resolved"}`, `{"state":"OPEN","by":null}`,
		`{"state":"DONE"}`, `{"by":"<!channel>","state":"OPEN"}`, `{"state":1}`, `{}`, `null`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, ferr := parseStateRequest(body)
		if ferr != nil {
			return
		}
		if _, ok := apiIncidentStates[r.State]; !ok {
			t.Fatalf("accepted state %q", r.State)
		}
		if strings.ContainsAny(r.By, "<>\n") || utf8.RuneCountInString(r.By) > maxByChars {
			t.Fatalf("accepted by %q", r.By)
		}
	})
}

// FuzzParseListQuery: a listing query parses within the limits, and a
// cursor round-trips.
func FuzzParseListQuery(f *testing.F) {
	for _, seed := range []string{"", "service=payments&state=OPEN&since=2026-03-01T00:00:00Z&limit=10",
		"limit=0", "limit=200", "cursor=" + encodeIncidentCursor(42), "cursor=YmVmb3JlOi0x", "page=1", "state=a&state=b", "%zz"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		r, ferr := parseListQuery(q)
		if ferr != nil {
			return
		}
		if r.Limit < 1 || r.Limit > maxIncidentPage || r.Before < 0 {
			t.Fatalf("accepted %+v", r)
		}
		if r.Before > 0 {
			if n, ok := decodeIncidentCursor(encodeIncidentCursor(r.Before)); !ok || n != r.Before {
				t.Fatalf("cursor %d does not round-trip", r.Before)
			}
		}
	})
}

// FuzzParseNewIntegration: an accepted integration has a valid name, at
// least one service and a quota in range.
func FuzzParseNewIntegration(f *testing.F) {
	for _, seed := range []string{`{"name":"nagios","services":["payments"],"quota_per_minute":60}`,
		`{"name":"a b","services":["x"]}`, `{"name":"n","services":[]}`, `{"name":"n","services":"x"}`,
		`{"name":"n","services":["x"],"quota_per_minute":-1}`, `{"name":"n","services":["x"],"quota_per_minute":1.5}`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		n, ferr := parseNewIntegration(body)
		if ferr != nil {
			return
		}
		if models.ValidIntegrationName(n.Name) != nil || len(n.Services) == 0 || n.QuotaPerMinute < 0 || n.QuotaPerMinute > models.MaxIntegrationQuota {
			t.Fatalf("accepted %+v", n)
		}
	})
}
