package web

import (
	"encoding/json"
	"testing"
)

func FuzzParseHeartbeatRequest(f *testing.F) {
	for _, s := range [][2]string{
		{"", ""}, {"", "checkout"}, {`{"service": "checkout"}`, ""}, {`{"service": "a"}`, "b"}, {`{"service": 7}`, ""},
		{`{"x": 1}`, ""}, {`[1]`, ""}, {`{} {}`, ""}, {`{"service": null}`, "q"}, {"\xff", ""},
	} {
		f.Add([]byte(s[0]), s[1])
	}
	f.Fuzz(func(t *testing.T, body []byte, query string) {
		service, field, err := parseHeartbeatRequest(body, query)
		if err != nil {
			if service != "" || (field != "" && field != "service") {
				t.Fatalf("error %v with service %q, field %q", err, service, field)
			}
			return
		}
		if field != "" || len(service) > 64 {
			t.Fatalf("service %q, field %q without an error", service, field)
		}
		// The service named is the query's or the body's.
		var req struct{ Service *string }
		if service != query && (json.Unmarshal(body, &req) != nil || req.Service == nil || *req.Service != service) {
			t.Fatalf("service %q is neither the query %q nor the body's %s", service, query, body)
		}
	})
}

func FuzzParseMaintenanceRequest(f *testing.F) {
	for _, s := range []string{
		"", "{}", `{"name": "w", "created_by": "a", "match": {"a": "b"}, "weekly": {"weekdays": ["mon"]}}`,
		`{"cancel_pending": "yes"}`, `{"weekly": {"start": 1}}`, `{"colour": 1}`, `{} []`, `null`, `{"match": {"a": 1}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, _, err := parseMaintenanceRequest(body)
		if (err == nil) == (req == nil) {
			t.Fatalf("request %+v with error %v", req, err)
		}
	})
}
