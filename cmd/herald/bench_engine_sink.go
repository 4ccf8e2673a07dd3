package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/heraldhq/herald/notifications"
)

// benchSink is the benchmark's "vendor": a local HTTP server that takes
// the webhook vendor's POSTs and answers like Twilio's Messages API (201
// with a message resource) after a fixed delay. It notes every request
// as it arrives (a receiver that has the page delivers it even if the
// caller dies before the answer), so lost and duplicated pages can be
// counted. It also serves the webhook status lookup (statusPath).
type benchSink struct {
	delay     time.Duration
	srv       *http.Server
	url       string
	statusURL string

	mu     sync.Mutex
	hits   []sinkHit
	first  map[int64]int // incident → index of its first page in hits
	keys   map[string]int
	ids    map[string]int // payload id → POSTs received
	lookup sinkLookups
}

// sinkHit is one request the sink answered.
type sinkHit struct {
	Incident int64
	// Key identifies one stored message: the incident and the claim code
	// it carries (a resend of the same message carries the same code).
	// Close-the-loop notes carry no claim code.
	Key      string
	Note     bool
	Arrived  time.Time // the vendor call
	Answered time.Time // accepted
}

func startBenchSink(delay time.Duration) (*benchSink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &benchSink{delay: delay, first: map[int64]int{}, keys: map[string]int{}, ids: map[string]int{}}
	s.url = "http://" + ln.Addr().String() + "/2010-04-01/Accounts/ACbench/Messages.json"
	s.statusURL = "http://" + ln.Addr().String() + statusPath
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

func (s *benchSink) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = s.srv.Shutdown(ctx)
}

func (s *benchSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet {
		s.serveStatus(w, r)
		return
	}
	arrived := time.Now()
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var p notifications.WebhookPayload
	if err == nil {
		err = json.Unmarshal(body, &p)
	}
	if err != nil {
		http.Error(w, `{"code":21602,"message":"bad request"}`, http.StatusBadRequest)
		return
	}
	h := sinkHit{Incident: p.IncidentID, Arrived: arrived, Note: p.ClaimCode == ""}
	if h.Note {
		h.Key = fmt.Sprintf("%d/note/%s/%s", p.IncidentID, p.Destination, p.Subject)
	} else {
		h.Key = fmt.Sprintf("%d/%s", p.IncidentID, p.ClaimCode)
	}
	// Recorded on receipt, before the slow part, as the status lookup's
	// contract asks: a lookup must never miss a page already in hand.
	s.mu.Lock()
	s.hits = append(s.hits, h)
	at := len(s.hits) - 1
	if _, ok := s.first[h.Incident]; !ok && !h.Note {
		s.first[h.Incident] = at
	}
	s.keys[h.Key]++
	s.ids[p.ID]++
	s.mu.Unlock()
	if s.delay > 0 {
		t := time.NewTimer(s.delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop() // the caller died: the page was received all the same
		}
	}
	answered := time.Now()
	s.mu.Lock()
	s.hits[at].Answered = answered
	s.mu.Unlock()
	sid := make([]byte, 16)
	_, _ = rand.Read(sid)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_, _ = fmt.Fprintf(w, `{"sid":"SM%s","status":"queued","date_created":%s}`, hex.EncodeToString(sid), strconv.Quote(answered.UTC().Format(time.RFC1123Z)))
}

// paged is how many incidents got at least one page.
func (s *benchSink) paged() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.first)
}

// snapshot copies what the sink saw.
func (s *benchSink) snapshot() (hits []sinkHit, first map[int64]sinkHit, dups int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	hits = append([]sinkHit(nil), s.hits...)
	first = make(map[int64]sinkHit, len(s.first))
	for inc, i := range s.first {
		first[inc] = s.hits[i]
	}
	for _, n := range s.keys {
		dups += n - 1
	}
	return hits, first, dups
}

// waitPaged waits until want incidents were paged, or timeout.
func (s *benchSink) waitPaged(ctx context.Context, want int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for s.paged() < want {
		if time.Now().After(deadline) {
			return fmt.Errorf("only %d of %d incidents paged after %s", s.paged(), want, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	return nil
}
