package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/bot"
	"github.com/heraldhq/herald/handlers"
	"github.com/heraldhq/herald/internal/slackfake"
	"github.com/heraldhq/herald/models"
)

// Slack's values in the fixtures.
const (
	fixtureUser      = "U2CERLKJA"  // slash command sender
	fixtureUserName  = "roadrunner" // slash command sender
	mentionUser      = "U061F7AUR"  // app_mention sender
	mentionChannel   = "C123ABC456"
	mentionTS        = "1515449522.000016"
	botMention       = "<@" + slackfake.BotUserID + ">"
	slackDocsSecret  = "8f742231b10e8888abcd99yyyzzz85a5"
	slackDocsTime    = 1531420618
	slackDocsSigning = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
)

// Slack's own example request, byte for byte, with exactly the headers
// Slack sends: the signature must verify (it is for a command Herald does
// not handle, so the answer says so and nothing is stored).
func TestSlackDocumentedSigningExample(t *testing.T) {
	body := readFixture(t, "slack/slash_command.slackdocs_signing_example.form")
	signedAt := time.Unix(slackDocsTime, 0)
	if got := bot.Sign(slackDocsSecret, signedAt, body).Get("X-Slack-Signature"); got != slackDocsSigning {
		t.Fatalf("bot.Sign = %s, Slack's documentation says %s", got, slackDocsSigning)
	}
	forEachDialect(t, func(t *testing.T, dialect string) {
		h := newHarness(t, dialect, withClockAt(signedAt), withSigningSecret(slackDocsSecret))
		slackHeaders := http.Header{
			"Content-Type":              {formType},
			"User-Agent":                {"Slackbot 1.0 (+https://api.slack.com/robots)"},
			"X-Slack-Request-Timestamp": {fmt.Sprint(slackDocsTime)},
			"X-Slack-Signature":         {slackDocsSigning},
		}
		for _, tc := range []struct {
			name       string
			receivedAt time.Duration // after signing
			want       int
		}{
			{"received at once", 0, http.StatusOK},
			{"received 4m59s later", 4*time.Minute + 59*time.Second, http.StatusOK},
			{"received 5m01s later", 5*time.Minute + time.Second, http.StatusUnauthorized},
		} {
			t.Run(tc.name, func(t *testing.T) {
				h.clock.Set(signedAt.Add(tc.receivedAt))
				r := h.do(h.node, "/slack/commands", slackHeaders, body)
				if r.Status != tc.want {
					t.Fatalf("answer %s, want %d", r, tc.want)
				}
				if tc.want != http.StatusOK {
					mustContain(t, "error", fmt.Sprint(r.JSON(t)["error"]), "5-minute window")
					return
				}
				reply := r.JSON(t)
				if reply["response_type"] != "ephemeral" {
					t.Errorf("response_type = %v", reply["response_type"])
				}
				mustContain(t, "reply", fmt.Sprint(reply["text"]), "does not handle /webhook-collect")
			})
		}
		h.assertNothingStored()
	})
}

// Slack redelivers a view_submission it got no answer to, and a person may
// press Declare twice: the view id makes it one incident however the
// deliveries arrive.
func TestReplayedViewSubmissionDeclaresOnce(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dialect string) {
		h := newHarness(t, dialect)
		form := incidentForm{Title: "Database is on fire", Severity: models.SEV3}
		body := h.viewSubmission(h.declareModal(), reporter, form)
		hdr := h.signedHeaders(formType, body)

		// Delivered twice in a row, then five times at once.
		answers := []response{h.do(h.node, "/slack/actions", hdr, body), h.do(h.node, "/slack/actions", hdr, body)}
		var mu sync.Mutex
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range 5 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				r := h.do(h.node, "/slack/actions", hdr, body)
				mu.Lock()
				answers = append(answers, r)
				mu.Unlock()
			}()
		}
		close(start)
		wg.Wait()
		for i, r := range answers {
			if r.Status != http.StatusOK || len(r.Body) != 0 {
				t.Errorf("delivery %d: %s, want an empty 200 (the modal closes)", i, r)
			}
		}
		if n := h.count("incidents"); n != 1 {
			t.Errorf("%d incidents, want 1", n)
		}
		if n := h.count("jobs"); n != 2 {
			t.Errorf("%d jobs, want 2 (headline and confirmation)", n)
		}
		if n := h.count("timeline_events"); n != 1 {
			t.Errorf("%d timeline events, want 1", n)
		}

		// Another modal (new view id) is another incident.
		if inc := h.declare(form); inc.Number != 2 {
			t.Errorf("new view: incident #%d, want #2", inc.Number)
		}
		if ran := h.drain(h.node); ran != 4 {
			t.Errorf("drain ran %d jobs, want 4", ran)
		}
		if n := len(h.fake.Calls("chat.postMessage")); n != 2 {
			t.Errorf("%d headline posts, want one per incident", n)
		}
		if n := len(h.ephemerals(reporter.ID)); n != 2 {
			t.Errorf("%d confirmations, want one per incident", n)
		}
	})
}

func TestSlashCommandMistakesAreExplained(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dialect string) {
		h := newHarness(t, dialect)
		for _, tc := range []struct {
			name, command, text string
			mutate              func(url.Values)
			inject              func(f *slackfake.Fake)
			want                []string
		}{
			{name: "title too long", command: "/incident", text: strings.Repeat("x", models.MaxTitleLength+1), want: []string{"151 characters", "150"}},
			{name: "no trigger_id", command: "/incident", text: "Database is on fire", mutate: func(f url.Values) { f.Del("trigger_id") }, want: []string{"no trigger_id", "try again"}},
			{name: "trigger expired", command: "/incident", text: "Database is on fire", inject: func(f *slackfake.Fake) { f.FailNext("views.open", "expired_trigger_id") },
				want: []string{"could not do that just now", "Nothing was declared", "try again"}},
			{name: "unknown command", command: "/foo", text: "bar", want: []string{"does not handle /foo", "Request URL"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				form := h.slashForm(tc.command, tc.text)
				if tc.mutate != nil {
					tc.mutate(form)
				}
				if tc.inject != nil {
					tc.inject(h.fake)
				}
				r := h.postSigned("/slack/commands", formType, []byte(form.Encode()), nil)
				if r.Status != http.StatusOK {
					t.Fatalf("answer %s, want 200 (Slack shows only a 200's text)", r)
				}
				reply := r.JSON(t)
				if reply["response_type"] != "ephemeral" {
					t.Errorf("response_type = %v, want ephemeral", reply["response_type"])
				}
				mustContain(t, "reply", fmt.Sprint(reply["text"]), tc.want...)
			})
		}
		h.drain(h.node)
		if calls := h.fake.CallsExcept("auth.test", "views.open"); len(calls) != 0 {
			t.Errorf("Slack was called %d times besides views.open: first %s", len(calls), calls[0].Method)
		}
		if n := len(h.fake.Calls("views.open")); n != 1 {
			t.Errorf("views.open called %d times, want only the failed one", n)
		}
		h.fake.Reset()
		h.assertNothingStored()
	})
}

func TestUnverifiedRequestsAreRejected(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dialect string) {
		h := newHarness(t, dialect)
		actionPayload := url.Values{"payload": {string(readFixture(t, "slack/interactive_block_actions.json"))}}.Encode()
		endpoints := []struct {
			path, contentType string
			body              []byte
		}{
			{"/slack/commands", formType, []byte(h.slashForm("/incident", "Database is on fire").Encode())},
			{"/slack/events", "application/json", mentionEvent(t, "Ev0UNSIGNED", botMention+" help", nil)},
			{"/slack/actions", formType, []byte(actionPayload)},
			{"/slack/actions", formType, h.viewSubmission(h.declareModal(), reporter, incidentForm{Title: "Database is on fire", Severity: models.SEV1})},
		}
		sign := func(secret string, at time.Time, body []byte) http.Header { return bot.Sign(secret, at, body) }
		cases := []struct {
			name    string
			headers func(body []byte) (http.Header, []byte)
			reason  string
		}{
			{"bad signature", func(b []byte) (http.Header, []byte) { return sign("not-the-secret", h.now(), b), b }, "does not match"},
			{"stale timestamp", func(b []byte) (http.Header, []byte) {
				return sign(h.secret, h.now().Add(-bot.SignatureWindow-time.Second), b), b
			}, "5-minute window"},
			{"timestamp from the future", func(b []byte) (http.Header, []byte) {
				return sign(h.secret, h.now().Add(bot.SignatureWindow+time.Second), b), b
			}, "5-minute window"},
			{"missing headers", func(b []byte) (http.Header, []byte) { return http.Header{}, b }, "missing"},
			{"missing signature", func(b []byte) (http.Header, []byte) {
				hdr := sign(h.secret, h.now(), b)
				hdr.Del("X-Slack-Signature")
				return hdr, b
			}, "missing"},
			{"missing timestamp", func(b []byte) (http.Header, []byte) {
				hdr := sign(h.secret, h.now(), b)
				hdr.Del("X-Slack-Request-Timestamp")
				return hdr, b
			}, "missing"},
			{"timestamp not a number", func(b []byte) (http.Header, []byte) {
				hdr := sign(h.secret, h.now(), b)
				hdr.Set("X-Slack-Request-Timestamp", "yesterday")
				return hdr, b
			}, "not Unix seconds"},
			{"unknown signature version", func(b []byte) (http.Header, []byte) {
				hdr := sign(h.secret, h.now(), b)
				hdr.Set("X-Slack-Signature", strings.Replace(hdr.Get("X-Slack-Signature"), "v0=", "v1=", 1))
				return hdr, b
			}, "unsupported signature version"},
			{"body altered after signing", func(b []byte) (http.Header, []byte) {
				hdr := sign(h.secret, h.now(), b)
				altered := append([]byte(nil), b...)
				altered[len(altered)/2] ^= 0x01
				return hdr, altered
			}, "does not match"},
			{"signed for another timestamp", func(b []byte) (http.Header, []byte) {
				hdr := sign(h.secret, h.now(), b)
				hdr.Set("X-Slack-Request-Timestamp", fmt.Sprint(h.now().Unix()-1))
				return hdr, b
			}, "does not match"},
		}
		for i, ep := range endpoints {
			for _, tc := range cases {
				t.Run(fmt.Sprintf("%s#%d/%s", ep.path, i, tc.name), func(t *testing.T) {
					hdr, body := tc.headers(ep.body)
					hdr.Set("Content-Type", ep.contentType)
					r := h.do(h.node, ep.path, hdr, body)
					if r.Status != http.StatusUnauthorized {
						t.Fatalf("answer %s, want 401", r)
					}
					if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
						t.Errorf("Content-Type %q, want JSON", r.Header.Get("Content-Type"))
					}
					mustContain(t, "error", fmt.Sprint(r.JSON(t)["error"]), "invalid Slack signature", tc.reason)
				})
			}
		}
		if ran := h.drain(h.node); ran != 0 {
			t.Errorf("drain ran %d jobs after rejected requests", ran)
		}
		h.assertNothingStored()
	})
}

func TestMalformedRequests(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dialect string) {
		h := newHarness(t, dialect)
		without := func(fields ...string) []byte {
			form := h.slashForm("/incident", "Database is on fire")
			for _, f := range fields {
				form.Del(f)
			}
			return []byte(form.Encode())
		}
		oversized := []byte(h.slashForm("/incident", strings.Repeat("x", 1<<20)).Encode())
		oversizedView := h.viewSubmission(h.declareModal(), reporter, incidentForm{Title: "Database is on fire", Summary: strings.Repeat("x", 1<<20)})
		badState := url.Values{"payload": {`{"type":"view_submission","user":{"id":"W111"},"view":{"id":"V1","callback_id":"declare_incident","state":"nope"}}`}}.Encode()
		for _, tc := range []struct {
			name, path, contentType string
			body                    []byte
			status                  int
			want                    []string
		}{
			{"slash without command", "/slack/commands", formType, without("command"), http.StatusBadRequest, []string{"missing command"}},
			{"slash without user_id", "/slack/commands", formType, without("user_id"), http.StatusBadRequest, []string{"missing user_id"}},
			{"slash without both", "/slack/commands", formType, without("command", "user_id"), http.StatusBadRequest, []string{"command, user_id"}},
			{"slash without channel_id", "/slack/commands", formType, without("channel_id"), http.StatusBadRequest, []string{"missing channel_id"}},
			{"slash not form-encoded", "/slack/commands", formType, []byte("command=%zz"), http.StatusBadRequest, []string{"not form-encoded"}},
			{"slash over 1 MiB", "/slack/commands", formType, oversized, http.StatusRequestEntityTooLarge, []string{"larger than 1048576 bytes"}},
			{"event not JSON", "/slack/events", "application/json", []byte("{not json"), http.StatusBadRequest, []string{"malformed Slack payload"}},
			{"event callback without event_id", "/slack/events", "application/json", mentionEvent(t, "", botMention+" help", nil), http.StatusBadRequest, []string{"event_id"}},
			{"action without payload", "/slack/actions", formType, []byte("foo=bar"), http.StatusBadRequest, []string{"payload"}},
			{"action payload not JSON", "/slack/actions", formType, []byte("payload=%7Bnope"), http.StatusBadRequest, []string{"malformed Slack payload"}},
			{"view submission state not an object", "/slack/actions", formType, []byte(badState), http.StatusBadRequest, []string{"malformed Slack payload"}},
			{"view submission over 1 MiB", "/slack/actions", formType, oversizedView, http.StatusRequestEntityTooLarge, []string{"larger than 1048576 bytes"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := h.postSigned(tc.path, tc.contentType, tc.body, nil)
				if r.Status != tc.status {
					t.Fatalf("answer %s, want %d", r, tc.status)
				}
				mustContain(t, "error", fmt.Sprint(r.JSON(t)["error"]), tc.want...)
			})
		}
		h.drain(h.node)
		h.assertNothingStored()
	})
}

func TestURLVerification(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dialect string) {
		h := newHarness(t, dialect)
		body := readFixture(t, "slack/events_url_verification.json")
		var fixture struct{ Challenge string }
		if err := json.Unmarshal(body, &fixture); err != nil {
			t.Fatal(err)
		}
		r := h.event(h.node, body, nil)
		if r.Status != http.StatusOK || r.JSON(t)["challenge"] != fixture.Challenge {
			t.Fatalf("answer %s, want the challenge %s", r, fixture.Challenge)
		}
		h.assertNothingStored()
	})
}

func TestMentionCommands(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dialect string) {
		h := newHarness(t, dialect)
		for i, tc := range []struct {
			name      string
			text      string
			inner     map[string]any
			ephemeral []string // nil: no answer at all
			reaction  string
		}{
			{name: "help", text: botMention + " help", ephemeral: []string{"`help`", "list the commands"}},
			{name: "bare mention is help", text: botMention, ephemeral: []string{"`help`"}},
			{name: "command is case-insensitive", text: botMention + " HELP", ephemeral: []string{"`help`"}},
			{name: "unknown command", text: botMention + " frobnicate the database", ephemeral: []string{"don't know", "`frobnicate`", "@incident help"}, reaction: "question"},
			{name: "from a bot", text: botMention + " help", inner: map[string]any{"bot_id": "B0OTHERBOT"}},
			{name: "from Herald itself", text: botMention + " help", inner: map[string]any{"user": slackfake.BotUserID}},
			{name: "mentions someone else", text: "<@U0SOMEONE> help"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				h.fake.Reset()
				r := h.event(h.node, mentionEvent(t, fmt.Sprintf("Ev0MENTION%02d", i), tc.text, tc.inner), nil)
				if r.Status != http.StatusOK || len(r.Body) != 0 {
					t.Fatalf("answer %s, want an empty 200", r)
				}
				if calls := h.fake.Calls(""); len(calls) != 0 {
					t.Fatalf("Slack called before the jobs ran: %s", calls[0].Method)
				}
				if ran := h.drain(h.node); ran != 1 {
					t.Fatalf("drain ran %d jobs, want 1", ran)
				}
				eph := h.fake.Calls("chat.postEphemeral")
				if tc.ephemeral == nil {
					if calls := h.fake.Calls(""); len(calls) != 0 {
						t.Fatalf("Slack called %d times (first %s), want no answer", len(calls), calls[0].Method)
					}
					return
				}
				if len(eph) != 1 {
					t.Fatalf("%d ephemeral answers, want 1", len(eph))
				}
				if eph[0].Param("channel") != mentionChannel || eph[0].Param("user") != mentionUser || !eph[0].OK() {
					t.Errorf("ephemeral to %s/%s (ok %v), want %s/%s", eph[0].Param("channel"), eph[0].Param("user"), eph[0].OK(), mentionChannel, mentionUser)
				}
				mustContain(t, "ephemeral", eph[0].AllText(), tc.ephemeral...)
				reactions := h.fake.Calls("reactions.add")
				if tc.reaction == "" {
					if len(reactions) != 0 {
						t.Errorf("reacted %d times, want none", len(reactions))
					}
					return
				}
				if len(reactions) != 1 || reactions[0].Param("name") != tc.reaction || reactions[0].Param("channel") != mentionChannel || reactions[0].Param("timestamp") != mentionTS {
					t.Errorf("reactions.add calls %+v, want :%s: on %s/%s", reactions, tc.reaction, mentionChannel, mentionTS)
				}
			})
		}
		// Every mention was a job that is done now.
		for _, j := range h.jobs() {
			if j.DoneAt == nil || j.FailedAt != nil {
				t.Errorf("job %s (%s) not done: %+v", j.ID, j.Kind, j)
			}
		}
	})
}

func TestRetriedEventIsHandledOnce(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dialect string) {
		h := newHarness(t, dialect)
		body := mentionEvent(t, "Ev0RETRIED", botMention+" help", nil)
		if r := h.event(h.node, body, nil); r.Status != http.StatusOK {
			t.Fatalf("first delivery: %s", r)
		}
		retry := http.Header{"X-Slack-Retry-Num": {"1"}, "X-Slack-Retry-Reason": {"http_timeout"}}
		if r := h.event(h.node, body, retry); r.Status != http.StatusOK {
			t.Fatalf("retry: %s", r)
		}
		h.drain(h.node)
		// A late retry, after the work is done.
		retry.Set("X-Slack-Retry-Num", "2")
		if r := h.event(h.node, body, retry); r.Status != http.StatusOK {
			t.Fatalf("second retry: %s", r)
		}
		h.drain(h.node)
		if n := len(h.fake.Calls("chat.postEphemeral")); n != 1 {
			t.Errorf("%d ephemeral answers, want 1", n)
		}
		if r, j := h.count("slack_event_receipts"), h.count("jobs"); r != 1 || j != 1 {
			t.Errorf("%d receipts and %d jobs, want 1 and 1", r, j)
		}
		mustContain(t, "metrics", string(h.get("/metrics").Body), "herald_slack_duplicate_events_total 2")
	})
}

func TestReplicasShareOneEvent(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dialect string) {
		h := newHarness(t, dialect)
		replicas := []*node{h.node, h.startNode()}
		const events = 5
		start := make(chan struct{})
		var wg sync.WaitGroup
		answers := make(chan response, events*len(replicas))
		for e := range events {
			body := mentionEvent(t, fmt.Sprintf("Ev0SHARED%02d", e), botMention+" help", nil)
			for _, n := range replicas {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					answers <- h.event(n, body, nil)
				}()
			}
		}
		close(start)
		wg.Wait()
		close(answers)
		for r := range answers {
			if r.Status != http.StatusOK {
				t.Errorf("delivery answered %s", r)
			}
		}
		ran := make([]int, len(replicas))
		for i, n := range replicas {
			wg.Add(1)
			go func() { defer wg.Done(); ran[i] = h.drain(n) }()
		}
		wg.Wait()
		if ran[0]+ran[1] != events {
			t.Errorf("replicas ran %v jobs, want %d in all", ran, events)
		}
		if n := len(h.fake.Calls("chat.postEphemeral")); n != events {
			t.Errorf("%d ephemeral answers for %d events", n, events)
		}
		if n := h.count("slack_event_receipts"); n != events {
			t.Errorf("%d receipts, want %d", n, events)
		}
	})
}

// The headline job meets Slack's failures: permanent ones are not retried
// (and say so in the log), a rate limit waits exactly Retry-After without
// spending an attempt, a 5xx backs off.
// Slack retries a view_submission against whichever replica the load
// balancer picks: both replicas answer, one incident exists, and the two
// workers post its headline and confirmation once.
func TestReplicasShareOneDeclaration(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dialect string) {
		h := newHarness(t, dialect)
		replicas := []*node{h.node, h.startNode()}
		body := h.viewSubmission(h.declareModal(), reporter, incidentForm{Title: "Database is on fire", Severity: models.SEV1, Lead: leadID})
		hdr := h.signedHeaders(formType, body)
		start := make(chan struct{})
		var wg sync.WaitGroup
		answers := make(chan response, 2*len(replicas))
		for _, n := range replicas {
			for range 2 {
				wg.Add(1)
				go func() { defer wg.Done(); <-start; answers <- h.do(n, "/slack/actions", hdr, body) }()
			}
		}
		close(start)
		wg.Wait()
		close(answers)
		for r := range answers {
			if r.Status != http.StatusOK || len(r.Body) != 0 {
				t.Errorf("delivery answered %s, want an empty 200", r)
			}
		}
		if n := h.count("incidents"); n != 1 {
			t.Fatalf("%d incidents, want 1", n)
		}
		// Both replicas work until nothing is left (a busy headline lease
		// puts a job back for a second or so).
		for range 5 {
			ran := make([]int, len(replicas))
			for i, n := range replicas {
				wg.Add(1)
				go func() { defer wg.Done(); ran[i] = h.drain(n) }()
			}
			wg.Wait()
			if pending, _ := h.db.Store.PendingJobs(h.ctx); pending == 0 {
				break
			}
			h.clock.Advance(5 * time.Second)
		}
		if pending, _ := h.db.Store.PendingJobs(h.ctx); pending != 0 {
			t.Errorf("%d jobs still pending", pending)
		}
		if n := len(h.fake.Calls("chat.postMessage")) - len(h.fake.Messages(h.commsChannelID(1))); n != 1 {
			t.Errorf("%d headline posts, want 1", n)
		}
		if n := len(h.fake.Calls("conversations.create")); n != 1 {
			t.Errorf("%d comms channels created, want 1", n)
		}
		if n := len(h.ephemerals(reporter.ID)); n != 1 {
			t.Errorf("%d confirmations, want 1", n)
		}
	})
}

func TestSlackAPIFailures(t *testing.T) {
	for _, tc := range []struct {
		name   string
		inject func(f *slackfake.Fake)
		// permanent failures are not retried; others come back after
		// between minWait and maxWait.
		permanent        bool
		minWait, maxWait time.Duration
		attempts         int // recorded after the failure
		lastError        string
		logged           []string
	}{
		{name: "channel not found", inject: func(f *slackfake.Fake) { f.FailNext("chat.postMessage", "channel_not_found") },
			permanent: true, attempts: 1, lastError: "channel_not_found", logged: []string{"job failed for good", "channel_not_found"}},
		{name: "token revoked", inject: func(f *slackfake.Fake) { f.FailNext("chat.postMessage", "token_revoked") },
			permanent: true, attempts: 1, lastError: "token_revoked", logged: []string{"job failed for good", "token_revoked"}},
		{name: "rate limited", inject: func(f *slackfake.Fake) { f.RateLimitNext("chat.postMessage", 2*time.Second) },
			minWait: 2 * time.Second, maxWait: 2 * time.Second, attempts: 0, lastError: "rate limit", logged: []string{"Slack rate limit; job deferred"}},
		{name: "Slack unavailable", inject: func(f *slackfake.Fake) { f.HTTPErrorNext("chat.postMessage", http.StatusServiceUnavailable) },
			minWait: 500 * time.Millisecond, maxWait: time.Second, attempts: 1, lastError: "503", logged: []string{"will retry", "503"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			forEachDialect(t, func(t *testing.T, dialect string) {
				h := newHarness(t, dialect)
				tc.inject(h.fake)
				inc := h.declare(incidentForm{Title: "Database is on fire", Severity: models.SEV3})
				failedAt := h.now()
				if ran := h.drain(h.node); ran != 2 {
					t.Fatalf("drain ran %d jobs, want 2 (headline and confirmation)", ran)
				}
				job := h.jobOfKind(handlers.JobHeadline)
				if job.Attempts != tc.attempts || job.DoneAt != nil || !strings.Contains(job.LastError, tc.lastError) {
					t.Errorf("headline job after the failure: attempts %d (want %d), done %v, last error %q (want %q)", job.Attempts, tc.attempts, job.DoneAt, job.LastError, tc.lastError)
				}
				mustContain(t, "log", h.logs.String(), tc.logged...)
				if confirm := h.jobOfKind(handlers.JobDeclareConfirm); confirm.DoneAt == nil {
					t.Errorf("the confirmation waited for the headline: %+v", confirm)
				}

				if tc.permanent {
					if job.FailedAt == nil {
						t.Fatalf("job not marked failed: %+v", job)
					}
					h.clock.Advance(time.Hour)
					if ran := h.drain(h.node); ran != 0 {
						t.Errorf("a permanently failed job ran again (%d)", ran)
					}
					if posts, _ := h.headlineCalls(); posts != 1 {
						t.Errorf("headline posted %d times, want 1 (no retry)", posts)
					}
					if hp, err := h.db.Store.HeadlinePostFor(h.ctx, inc.ID); err == nil && (hp.Posted() || hp.PostingUntil != nil) {
						t.Errorf("headline row after the failure: %+v, want not posted and not leased", hp)
					}
					return
				}

				if job.FailedAt != nil {
					t.Fatalf("retryable failure marked failed: %+v", job)
				}
				wait := job.RunAt.Sub(failedAt)
				if wait < tc.minWait || wait > tc.maxWait {
					t.Errorf("retry scheduled %v after the failure, want %v..%v", wait, tc.minWait, tc.maxWait)
				}
				if ran := h.drain(h.node); ran != 0 {
					t.Errorf("job retried before it was due (%d)", ran)
				}
				h.clock.Advance(wait - time.Millisecond)
				if ran := h.drain(h.node); ran != 0 {
					t.Errorf("job retried a millisecond early (%d)", ran)
				}
				h.clock.Advance(time.Millisecond)
				if ran := h.drain(h.node); ran != 1 {
					t.Fatalf("due retry: drain ran %d jobs, want 1", ran)
				}
				var posts []slackfake.Call
				for _, c := range h.fake.Calls("chat.postMessage") {
					if c.Param("channel") == "#incidents" {
						posts = append(posts, c)
					}
				}
				if len(posts) != 2 || posts[0].OK() || !posts[1].OK() {
					t.Fatalf("chat.postMessage calls: %d, want a failed one then a good one", len(posts))
				}
				hp, err := h.db.Store.HeadlinePostFor(h.ctx, inc.ID)
				if err != nil || hp.MessageTS != posts[1].ResponseField("ts") || hp.RenderedVersion != inc.Version {
					t.Errorf("headline post %+v (%v), want ts %s at version %d", hp, err, posts[1].ResponseField("ts"), inc.Version)
				}
				if job := h.jobOfKind(handlers.JobHeadline); job.DoneAt == nil || job.Attempts != tc.attempts+1 {
					t.Errorf("job after the retry: %+v", job)
				}
			})
		})
	}
}

func TestJobsSurviveACrash(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dialect string) {
		t.Run("before the jobs ran", func(t *testing.T) {
			h := newHarness(t, dialect)
			h.declare(incidentForm{Title: "Database is on fire"})
			h.node.crash()
			restarted := h.startNode()
			if ran := h.drain(restarted); ran != 2 {
				t.Fatalf("restarted replica ran %d jobs, want 2", ran)
			}
			h.drain(restarted)
			if n := len(h.fake.Calls("chat.postMessage")); n != 1 {
				t.Errorf("headline posted %d times, want once", n)
			}
			if n := h.count("headline_posts"); n != 1 {
				t.Errorf("%d headline posts saved, want 1", n)
			}
		})
		t.Run("while the jobs ran", func(t *testing.T) {
			h := newHarness(t, dialect)
			h.declare(incidentForm{Title: "Database is on fire"})
			// A replica takes the jobs and dies before finishing them.
			leased, err := h.db.Store.LeaseJobs(h.ctx, "replica-that-dies", 10, h.cfg.JobLease)
			if err != nil || len(leased) != 2 {
				t.Fatalf("leasing: %d jobs, %v", len(leased), err)
			}
			h.node.crash()
			restarted := h.startNode()
			if ran := h.drain(restarted); ran != 0 {
				t.Fatalf("took over a job whose lease still runs (%d)", ran)
			}
			h.clock.Advance(h.cfg.JobLease + time.Second)
			if ran := h.drain(restarted); ran != 2 {
				t.Fatalf("after the lease ran out: drain ran %d jobs, want 2", ran)
			}
			if n := len(h.fake.Calls("chat.postMessage")); n != 1 {
				t.Errorf("headline posted %d times, want once", n)
			}
			for _, job := range h.jobs() {
				if job.DoneAt == nil || job.Attempts != 2 {
					t.Errorf("job after the takeover: %+v", job)
				}
			}
		})
	})
}

func TestOperationalEndpoints(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dialect string) {
		h := newHarness(t, dialect)
		if r := h.get("/healthz"); r.Status != http.StatusOK {
			t.Errorf("/healthz: %s", r)
		}
		if r := h.get("/readyz"); r.Status != http.StatusOK || !strings.Contains(string(r.Body), "ready") {
			t.Errorf("/readyz: %s", r)
		}
		h.slash("Database is on fire")
		h.do(h.node, "/slack/commands", http.Header{"Content-Type": {formType}}, []byte("command=%2Fincident"))
		h.declare(incidentForm{Title: "Database is on fire"})
		h.drain(h.node)
		r := h.get("/metrics")
		if r.Status != http.StatusOK {
			t.Fatalf("/metrics: %d", r.Status)
		}
		mustContain(t, "/metrics", string(r.Body),
			"# TYPE herald_slack_requests_total counter",
			`herald_slack_requests_total{endpoint="commands",outcome="ok"} 1`,
			`herald_slack_requests_total{endpoint="commands",outcome="unauthorized"} 1`,
			`herald_slack_ack_seconds_count{endpoint="commands"}`,
			`herald_slack_requests_total{endpoint="actions",outcome="ok"} 1`,
			`herald_jobs_total{kind="headline.refresh",outcome="done"} 1`,
		)
	})
}
