package notifications

import (
	"net"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// Defaults of HTTPOptions.
const (
	DefaultHTTPTimeout               = 30 * time.Second
	DefaultHTTPDialTimeout           = 5 * time.Second
	DefaultHTTPTLSHandshakeTimeout   = 5 * time.Second
	DefaultHTTPResponseHeaderTimeout = 15 * time.Second
	DefaultHTTPMaxIdleConnsPerHost   = 100
	DefaultHTTPIdleConnTimeout       = 90 * time.Second
)

// HTTPOptions tune the HTTP client of a vendor that calls an HTTP API
// (Twilio, webhooks). Zero fields take the defaults.
type HTTPOptions struct {
	// Timeout bounds one request, answer body included (default 30 s).
	// The engine's per-vendor deadline usually ends a send first.
	Timeout time.Duration
	// DialTimeout bounds opening a TCP connection (default 5 s).
	DialTimeout time.Duration
	// TLSHandshakeTimeout bounds the TLS handshake (default 5 s).
	TLSHandshakeTimeout time.Duration
	// ResponseHeaderTimeout bounds the wait for the answer's headers once
	// the request is written (default 15 s).
	ResponseHeaderTimeout time.Duration
	// MaxIdleConnsPerHost is how many kept-alive connections to one host
	// wait for reuse (default 100; Go's default is 2, so a burst of pages
	// would open, and throw away, a connection per page).
	MaxIdleConnsPerHost int
	// IdleConnTimeout closes a kept-alive connection unused this long
	// (default 90 s).
	IdleConnTimeout time.Duration
	// Tracer makes each request a client span (RoundTripper); nil: none.
	Tracer trace.TracerProvider
}

func (o HTTPOptions) withDefaults() HTTPOptions {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.Timeout, DefaultHTTPTimeout)
	def(&o.DialTimeout, DefaultHTTPDialTimeout)
	def(&o.TLSHandshakeTimeout, DefaultHTTPTLSHandshakeTimeout)
	def(&o.ResponseHeaderTimeout, DefaultHTTPResponseHeaderTimeout)
	def(&o.IdleConnTimeout, DefaultHTTPIdleConnTimeout)
	if o.MaxIdleConnsPerHost <= 0 {
		o.MaxIdleConnsPerHost = DefaultHTTPMaxIdleConnsPerHost
	}
	return o
}

// RequestTimeout is Timeout, or its default.
func (o HTTPOptions) RequestTimeout() time.Duration { return o.withDefaults().Timeout }

// NewTransport builds a transport with these limits. Like Go's default
// transport it takes proxies from the environment and speaks HTTP/2.
// Build one per vendor and keep it: its connections are reused.
func (o HTTPOptions) NewTransport() *http.Transport {
	o = o.withDefaults()
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: o.DialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   o.TLSHandshakeTimeout,
		ResponseHeaderTimeout: o.ResponseHeaderTimeout,
		ExpectContinueTimeout: time.Second,
		MaxIdleConns:          max(100, o.MaxIdleConnsPerHost),
		MaxIdleConnsPerHost:   o.MaxIdleConnsPerHost,
		IdleConnTimeout:       o.IdleConnTimeout,
	}
}
