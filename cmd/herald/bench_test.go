package main

import (
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/testdb"
)

// BenchmarkSlashAck measures how long Slack waits for Herald's answer to a
// signed `/incident <title>`: the real server over HTTP, signature check,
// incident, timeline entry and headline job written to the database. The
// worker does not run, so jobs pile up as they would behind a busy Slack.
// Reports ns/op and the p50 and p99 of the per-request latencies.
//
//	make bench-ack
func BenchmarkSlashAck(b *testing.B) {
	for _, dialect := range testdb.Dialects {
		b.Run(dialect, func(b *testing.B) {
			h := newHarness(b, dialect, withSystemClock(), withQuietLogs())
			// Warm up connections and caches outside the timed loop.
			if r := h.slash("warm-up"); r.Status != http.StatusOK {
				b.Fatalf("warm-up: %s", r)
			}
			var took []time.Duration
			for i := 0; b.Loop(); i++ {
				body := []byte(h.slashForm("/incident", fmt.Sprintf("Database is on fire %d", i)).Encode())
				hdr := h.signedHeaders(formType, body)
				start := time.Now()
				r := h.do(h.node, "/slack/commands", hdr, body)
				took = append(took, time.Since(start))
				if r.Status != http.StatusOK || !strings.Contains(string(r.Body), "declared") {
					b.Fatalf("request %d: %s", i, r)
				}
			}
			b.StopTimer()
			if n := h.count("incidents"); n != int64(len(took))+1 {
				b.Fatalf("%d incidents stored for %d requests", n, len(took)+1)
			}
			if n := h.count("jobs", "done_at IS NULL"); n != int64(len(took))+1 {
				b.Fatalf("%d pending jobs for %d requests: the worker ran", n, len(took)+1)
			}
			slices.Sort(took)
			b.ReportMetric(ms(percentile(took, 0.50)), "p50-ms")
			b.ReportMetric(ms(percentile(took, 0.99)), "p99-ms")
		})
	}
}

// percentile is the nearest-rank percentile of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(float64(len(sorted))*p)) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
