package config

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
)

// Tracing is OpenTelemetry tracing (HERALD_OTEL_*), off unless Endpoint is
// set: spans of HTTP requests, escalation checks and vendor attempts go to
// an OTLP/HTTP collector.
type Tracing struct {
	Endpoint    string            // HERALD_OTEL_ENDPOINT: collector URL, e.g. http://collector:4318; empty: off
	ServiceName string            // HERALD_OTEL_SERVICE_NAME, default "herald"
	SampleRatio float64           // HERALD_OTEL_SAMPLE_RATIO: 0..1 of new traces, default 1
	Headers     map[string]string // HERALD_OTEL_HEADERS: k=v,k2=v2 sent with each export; never logged
}

// DefaultOTelServiceName is HERALD_OTEL_SERVICE_NAME's default.
const DefaultOTelServiceName = "herald"

// Enabled reports whether spans are exported.
func (t Tracing) Enabled() bool { return t.Endpoint != "" }

func (p *parser) tracing() Tracing {
	t := Tracing{
		Endpoint:    p.url("HERALD_OTEL_ENDPOINT", ""),
		ServiceName: p.str("HERALD_OTEL_SERVICE_NAME", DefaultOTelServiceName),
		SampleRatio: 1,
	}
	if v, ok := p.raw("HERALD_OTEL_SAMPLE_RATIO"); ok {
		r, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(r) || r < 0 || r > 1 {
			p.failValue("HERALD_OTEL_SAMPLE_RATIO", v, "a number from 0 to 1, e.g. 0.1 to keep one trace in ten")
		} else {
			t.SampleRatio = r
		}
	}
	if v, ok := p.raw("HERALD_OTEL_HEADERS"); ok {
		h, err := ParseOTelHeaders(v)
		if err != nil {
			// The value is never echoed: it holds the collector's key.
			p.fail("HERALD_OTEL_HEADERS", "name=value pairs separated by commas, values URL-encoded (e.g. x-api-key=abc123): "+err.Error())
		}
		t.Headers = h
	}
	return t
}

// ErrOTelHeaders means HERALD_OTEL_HEADERS is malformed.
var ErrOTelHeaders = errors.New("malformed header list")

// ParseOTelHeaders reads "name=value,name2=value2" as OTEL_EXPORTER_OTLP_HEADERS
// does: values are URL-encoded (%2C for a comma), blanks around names and
// values are dropped. Errors name the pair's position, never its value.
func ParseOTelHeaders(s string) (map[string]string, error) {
	out := map[string]string{}
	for i, pair := range strings.Split(s, ",") {
		if strings.TrimSpace(pair) == "" {
			continue
		}
		name, value, ok := strings.Cut(pair, "=")
		name = strings.TrimSpace(name)
		if !ok || !isToken(name) {
			return nil, fmt.Errorf("%w: pair %d needs a header name, = and a value", ErrOTelHeaders, i+1)
		}
		v, err := url.PathUnescape(strings.TrimSpace(value))
		if err != nil || !isHeaderValue(v) {
			return nil, fmt.Errorf("%w: the value of %s is not a valid URL-encoded header value", ErrOTelHeaders, name)
		}
		out[name] = v
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no header", ErrOTelHeaders)
	}
	return out, nil
}

// isToken reports whether s is an HTTP header name (RFC 9110 token).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune("!#$%&'*+-.^_`|~", r):
		default:
			return false
		}
	}
	return true
}

// isHeaderValue refuses control characters (CR and LF above all).
func isHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}
