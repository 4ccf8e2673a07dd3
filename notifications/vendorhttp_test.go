package notifications_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald/notifications"
)

func TestHTTPOptionsTransport(t *testing.T) {
	cases := []struct {
		name                           string
		o                              notifications.HTTPOptions
		timeout, tls, header, idleTime time.Duration
		idle                           int
	}{
		{"defaults", notifications.HTTPOptions{}, notifications.DefaultHTTPTimeout, notifications.DefaultHTTPTLSHandshakeTimeout,
			notifications.DefaultHTTPResponseHeaderTimeout, notifications.DefaultHTTPIdleConnTimeout, notifications.DefaultHTTPMaxIdleConnsPerHost},
		{"set", notifications.HTTPOptions{Timeout: 7 * time.Second, TLSHandshakeTimeout: time.Second, ResponseHeaderTimeout: 2 * time.Second,
			IdleConnTimeout: time.Minute, MaxIdleConnsPerHost: 300}, 7 * time.Second, time.Second, 2 * time.Second, time.Minute, 300},
		{"negative means default", notifications.HTTPOptions{Timeout: -1, MaxIdleConnsPerHost: -5}, notifications.DefaultHTTPTimeout,
			notifications.DefaultHTTPTLSHandshakeTimeout, notifications.DefaultHTTPResponseHeaderTimeout, notifications.DefaultHTTPIdleConnTimeout,
			notifications.DefaultHTTPMaxIdleConnsPerHost},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tr := tc.o.NewTransport()
			if tc.o.RequestTimeout() != tc.timeout || tr.TLSHandshakeTimeout != tc.tls || tr.ResponseHeaderTimeout != tc.header ||
				tr.IdleConnTimeout != tc.idleTime || tr.MaxIdleConnsPerHost != tc.idle || tr.MaxIdleConns < tc.idle {
				t.Errorf("timeout %s, transport %+v", tc.o.RequestTimeout(), tr)
			}
			if tr.Proxy == nil || tr.DialContext == nil || !tr.ForceAttemptHTTP2 {
				t.Error("the transport lost the proxy setting, the dialer or HTTP/2")
			}
		})
	}
}

// burstServer answers like Twilio's Messages API (and accepts webhook
// posts), holding each request until wave requests are in flight, so a
// wave needs wave connections; it counts the connections opened.
type burstServer struct {
	srv   *httptest.Server
	wave  int
	conns atomic.Int64

	mu      sync.Mutex
	waiting int
	release chan struct{}
}

func newBurstServer(t *testing.T, wave int) *burstServer {
	b := &burstServer{wave: wave, release: make(chan struct{})}
	b.srv = httptest.NewUnstartedServer(http.HandlerFunc(b.serve))
	b.srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			b.conns.Add(1)
		}
	}
	b.srv.Start()
	t.Cleanup(b.srv.Close)
	return b
}

func (b *burstServer) serve(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	b.mu.Lock()
	b.waiting++
	release := b.release
	if b.waiting == b.wave {
		close(b.release)
		b.waiting, b.release = 0, make(chan struct{})
	}
	b.mu.Unlock()
	select {
	case <-release:
	case <-time.After(5 * time.Second):
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(map[string]any{"sid": fmt.Sprintf("SM%032d", time.Now().UnixNano()), "status": "queued"})
}

// A burst of pages reuses the connections of the previous one: Go's
// default transport keeps two per host and would open most again.
func TestVendorsReuseConnections(t *testing.T) {
	const wave = 20
	vendors := map[string]func(api string) notifications.Vendor{
		"twilio": func(api string) notifications.Vendor {
			sms, err := notifications.NewTwilioSMS(notifications.TwilioConfig{AccountSID: twSID, AuthToken: twToken, From: twFrom, APIURL: api,
				BaseURL: "https://herald.example.com", Log: quiet(t)})
			if err != nil {
				t.Fatal(err)
			}
			return sms
		},
		"webhook": func(api string) notifications.Vendor {
			w, err := notifications.NewWebhook(notifications.WebhookConfig{Name: "hook", URL: api + "/hook", Secret: "s", Log: quiet(t), MaxAttempts: 1})
			if err != nil {
				t.Fatal(err)
			}
			return w
		},
	}
	for name, build := range vendors {
		t.Run(name, func(t *testing.T) {
			b := newBurstServer(t, wave)
			v := build(b.srv.URL)
			for round := range 3 {
				var wg sync.WaitGroup
				for i := range wave {
					wg.Add(1)
					go func() {
						defer wg.Done()
						m := notifications.Message{ID: int64(round*wave + i + 1), Mode: notifications.ModeSMS, Destination: twTo, Body: "page"}
						if _, err := v.Send(context.Background(), m); err != nil {
							t.Error(err)
						}
					}()
				}
				wg.Wait()
			}
			// A connection goes back to the pool just after its answer is
			// read, so a next wave may rarely open one more: allow a few.
			if n := b.conns.Load(); n < wave || n > wave+wave/4 {
				t.Errorf("%d connections for 3 waves of %d pages, want %d (Go's default transport opens about %d)", n, wave, wave, 3*wave-4)
			}
		})
	}
}

func TestVendorHTTPTimeouts(t *testing.T) {
	slowHeaders := func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // so the server notices the client leave
		select {
		case <-r.Context().Done():
		case <-time.After(2 * time.Second):
		}
	}
	slowBody := func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"sid": "SM1",`)
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-time.After(2 * time.Second):
		}
	}
	// A listener that accepts and never speaks TLS.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = silent.Close() })
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				_ = c.Close()
			}
		}()
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	cases := []struct {
		name    string
		handler http.HandlerFunc // nil: the silent TLS listener
		o       notifications.HTTPOptions
		want    string
	}{
		{"response headers", slowHeaders, notifications.HTTPOptions{ResponseHeaderTimeout: 100 * time.Millisecond}, "timeout awaiting response headers"},
		{"whole request", slowBody, notifications.HTTPOptions{Timeout: 200 * time.Millisecond}, "Client.Timeout"},
		{"TLS handshake", nil, notifications.HTTPOptions{TLSHandshakeTimeout: 100 * time.Millisecond}, "TLS handshake timeout"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			api := "https://" + silent.Addr().String()
			if tc.handler != nil {
				srv := httptest.NewServer(tc.handler)
				t.Cleanup(srv.Close)
				api = srv.URL
			}
			sms, err := notifications.NewTwilioSMS(notifications.TwilioConfig{AccountSID: twSID, AuthToken: twToken, From: twFrom, APIURL: api,
				BaseURL: "https://herald.example.com", Log: quiet(t), HTTP: tc.o})
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			_, err = sms.Send(context.Background(), notifications.Message{ID: 1, Mode: notifications.ModeSMS, Destination: twTo, Body: "page"})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if took := time.Since(start); took > time.Second {
				t.Errorf("gave up after %s", took)
			}
			if strings.Contains(err.Error(), strings.TrimPrefix(twTo, "+")) {
				t.Errorf("the error holds the number: %v", err)
			}
		})
	}
}

// The status callback Twilio gets names the stored message, so its
// report finds the message before Twilio's id for it is recorded.
func TestTwilioStatusCallbackNamesTheMessage(t *testing.T) {
	fake := newFakeTwilio(t)
	sms, voice := twilioVendors(t, fake.srv.URL, quiet(t))
	cases := []struct {
		name string
		v    *notifications.Twilio
		msg  notifications.Message
		want string
	}{
		{"sms page", sms, notifications.Message{ID: 42, Mode: notifications.ModeSMS, Body: "b"}, "https://herald.example.com/twilio/status?m=42"},
		{"call page", voice, notifications.Message{ID: 43, Mode: notifications.ModeCall, Body: "b", IncidentID: 7, ClaimCode: "123456"}, "https://herald.example.com/twilio/status?m=43"},
		{"verification code (not stored)", sms, notifications.Message{Mode: notifications.ModeSMS, Body: "code", OutOfBand: true}, "https://herald.example.com/twilio/status"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.msg.Destination = twTo
			if _, err := tc.v.Send(context.Background(), tc.msg); err != nil {
				t.Fatal(err)
			}
			reqs := fake.requests()
			got := reqs[len(reqs)-1].Form.Get("StatusCallback")
			if len(reqs) != i+1 || got != tc.want {
				t.Fatalf("StatusCallback %q, want %q", got, tc.want)
			}
		})
	}
}
