package main

import (
	"fmt"
	"math"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/models"
)

// BenchmarkSlashAck measures how long Slack waits for Herald's answer to a
// signed `/incident <title>`: the real server over HTTP, the signature
// check, and the views.open call that shows the declare modal. That call to
// the (local, fake) Slack Web API is part of every measured answer: the
// trigger_id lasts 3 seconds, so Herald opens the modal before it answers,
// and in production the figure includes a round trip to Slack. Nothing is
// stored. Reports ns/op and the p50 and p99 of the per-request latencies.
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
				if r.Status != http.StatusOK || len(r.Body) != 0 {
					b.Fatalf("request %d: %s", i, r)
				}
			}
			b.StopTimer()
			if n := len(h.fake.Calls("views.open")); n != len(took)+1 {
				b.Fatalf("%d modals opened for %d requests", n, len(took)+1)
			}
			if n := h.count("incidents"); n != 0 {
				b.Fatalf("%d incidents stored by opening modals", n)
			}
			reportPercentiles(b, took)
		})
	}
}

// BenchmarkDeclareAck measures how long Slack waits for Herald's answer to
// the declare modal's view_submission: signature check, form parsing, the
// reporter and lead upserted, and the incident, its timeline entry,
// reminders and jobs written in one transaction. Slack closes the modal on
// the empty 200; no Slack call is made before it. The worker does not run,
// so jobs pile up as they would behind a busy Slack.
func BenchmarkDeclareAck(b *testing.B) {
	for _, dialect := range testdb.Dialects {
		b.Run(dialect, func(b *testing.B) {
			h := newHarness(b, dialect, withSystemClock(), withQuietLogs())
			form := incidentForm{Title: "Database is on fire", Summary: "Primary at 100% CPU.\nReplicas lag.", Severity: models.SEV3, Lead: leadID, Services: "checkout"}
			if r := h.submit(h.declareModal(), reporter, form); r.Status != http.StatusOK || len(r.Body) != 0 {
				b.Fatalf("warm-up: %s", r)
			}
			var took []time.Duration
			for i := 0; b.Loop(); i++ {
				form.Title = fmt.Sprintf("Database is on fire %d", i)
				body := h.viewSubmission(h.declareModal(), reporter, form)
				hdr := h.signedHeaders(formType, body)
				start := time.Now()
				r := h.do(h.node, "/slack/actions", hdr, body)
				took = append(took, time.Since(start))
				if r.Status != http.StatusOK || len(r.Body) != 0 {
					b.Fatalf("request %d: %s", i, r)
				}
			}
			b.StopTimer()
			if n := h.count("incidents"); n != int64(len(took))+1 {
				b.Fatalf("%d incidents stored for %d submissions", n, len(took)+1)
			}
			if n := h.count("jobs", "done_at IS NULL"); n != 2*(int64(len(took))+1) {
				b.Fatalf("%d pending jobs for %d submissions: the worker ran", n, len(took)+1)
			}
			if calls := h.fake.CallsExcept("auth.test"); len(calls) != 0 {
				b.Fatalf("Slack called %d times while declaring", len(calls))
			}
			reportPercentiles(b, took)
		})
	}
}

func reportPercentiles(b *testing.B, took []time.Duration) {
	slices.Sort(took)
	b.ReportMetric(ms(percentile(took, 0.50)), "p50-ms")
	b.ReportMetric(ms(percentile(took, 0.99)), "p99-ms")
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
