package config

import (
	"errors"
	"maps"
	"net/http"
	"strings"
	"testing"
)

func TestTracingConfig(t *testing.T) {
	base := map[string]string{"SLACK_SIGNING_SECRET": "s"}
	for _, tc := range []struct {
		name string
		env  map[string]string
		want Tracing
		bad  string // the variable an error names
	}{
		{name: "off by default", want: Tracing{ServiceName: "herald", SampleRatio: 1}},
		{name: "on", env: map[string]string{"HERALD_OTEL_ENDPOINT": "http://collector:4318", "HERALD_OTEL_SERVICE_NAME": "herald-eu", "HERALD_OTEL_SAMPLE_RATIO": "0.25", "HERALD_OTEL_HEADERS": "x-api-key=abc%2C1, Authorization=Basic dXNlcjpw+w=="},
			want: Tracing{Endpoint: "http://collector:4318", ServiceName: "herald-eu", SampleRatio: 0.25, Headers: map[string]string{"x-api-key": "abc,1", "Authorization": "Basic dXNlcjpw+w=="}}},
		{name: "ratio 0", env: map[string]string{"HERALD_OTEL_SAMPLE_RATIO": "0"}, want: Tracing{ServiceName: "herald", SampleRatio: 0}},
		{name: "not a URL", env: map[string]string{"HERALD_OTEL_ENDPOINT": "collector:4318"}, bad: "HERALD_OTEL_ENDPOINT"},
		{name: "ratio above 1", env: map[string]string{"HERALD_OTEL_SAMPLE_RATIO": "1.5"}, bad: "HERALD_OTEL_SAMPLE_RATIO"},
		{name: "ratio NaN", env: map[string]string{"HERALD_OTEL_SAMPLE_RATIO": "NaN"}, bad: "HERALD_OTEL_SAMPLE_RATIO"},
		{name: "bad headers", env: map[string]string{"HERALD_OTEL_HEADERS": "secretvalue"}, bad: "HERALD_OTEL_HEADERS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := maps.Clone(base)
			maps.Copy(env, tc.env)
			c, err := Load(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
			if tc.bad != "" {
				var ie *InvalidError
				if !errors.As(err, &ie) || !strings.Contains(err.Error(), tc.bad) {
					t.Fatalf("err %v, want one naming %s", err, tc.bad)
				}
				if strings.Contains(err.Error(), "secretvalue") {
					t.Fatal("the headers reached the error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Tracing.Endpoint != tc.want.Endpoint || c.Tracing.ServiceName != tc.want.ServiceName || c.Tracing.SampleRatio != tc.want.SampleRatio || !maps.Equal(c.Tracing.Headers, tc.want.Headers) {
				t.Fatalf("got %+v, want %+v", c.Tracing, tc.want)
			}
			if c.Tracing.Enabled() != (tc.want.Endpoint != "") {
				t.Error("Enabled disagrees with the endpoint")
			}
		})
	}
}

func TestParseOTelHeaders(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want map[string]string
	}{
		{"a=1", map[string]string{"a": "1"}},
		{" a = 1 ,, b=x%3Dy ", map[string]string{"a": "1", "b": "x=y"}},
		{"a=", map[string]string{"a": ""}},
		{"", nil},
		{",", nil},
		{"=1", nil},
		{"a b=1", nil},
		{"a=%0d%0aX-Evil: 1", nil},
		{"a=%zz", nil},
		{"novalue", nil},
	} {
		got, err := ParseOTelHeaders(tc.in)
		if tc.want == nil {
			if !errors.Is(err, ErrOTelHeaders) {
				t.Errorf("%q: %v, %v; want ErrOTelHeaders", tc.in, got, err)
			}
			continue
		}
		if err != nil || !maps.Equal(got, tc.want) {
			t.Errorf("%q: %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

// FuzzParseOTelHeaders: whatever the variable holds, parsing never
// panics, and every header it yields is one net/http would send.
func FuzzParseOTelHeaders(f *testing.F) {
	for _, s := range []string{"a=1", "x-api-key=abc%2C1,Authorization=Basic%20x", "=", "a=%0a", " , ,b=2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := ParseOTelHeaders(s)
		if err != nil {
			return
		}
		if len(h) == 0 {
			t.Fatal("no error and no header")
		}
		for k, v := range h {
			if !isToken(k) || strings.ContainsAny(v, "\r\n") {
				t.Fatalf("header %q: %q", k, v)
			}
			http.Header{}.Set(k, v)
		}
	})
}
