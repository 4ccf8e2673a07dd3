package bot_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/bot"
	"github.com/heraldhq/herald/internal/fakeclock"
)

// Each fuzz target runs its seed corpus (the fixtures) as a normal test;
// `go test -fuzz FuzzX ./bot` explores from there.

// FuzzVerify: arbitrary headers and bodies never panic, and never verify
// unless the signature is the right MAC of exactly that timestamp and body.
func FuzzVerify(f *testing.F) {
	body := fixture(f, docsFixture)
	f.Add(docsTimestamp, docsSignature, body)
	f.Add(docsTimestamp, strings.ToUpper(docsSignature), body)
	f.Add(docsTimestamp, docsSignature, append(body, '&'))
	f.Add("", docsSignature, body)
	f.Add(docsTimestamp, "", body)
	f.Add("1531420618.0", "v0=", []byte{})
	f.Add("-1", "v1=00", []byte("{}"))
	f.Add(" 1531420618 ", " "+docsSignature+" ", body)
	f.Add("99999999999999999999", "v0=zz", []byte("\x00\xff"))
	f.Add("+1531420618", docsSignature, body)
	f.Add("01531420618", docsSignature, body)

	v := bot.NewVerifier(docsSecret, fakeclock.New(docsTime))
	f.Fuzz(func(t *testing.T, ts, sig string, body []byte) {
		h := http.Header{}
		h.Set("X-Slack-Request-Timestamp", ts)
		h.Set("X-Slack-Signature", sig)
		err := v.Verify(h, body)
		if err != nil {
			if !errors.Is(err, bot.ErrMissingSignature) && !errors.Is(err, bot.ErrStaleTimestamp) && !errors.Is(err, bot.ErrBadSignature) {
				t.Fatalf("Verify = %v: not one of the three signature errors", err)
			}
			return
		}
		// It verified: the signature must be the MAC of this very
		// timestamp and body under the secret, computed independently.
		m := hmac.New(sha256.New, []byte(docsSecret))
		m.Write([]byte("v0:" + strings.TrimSpace(ts) + ":"))
		m.Write(body)
		got, ok := strings.CutPrefix(strings.TrimSpace(sig), "v0=")
		gotMAC, decErr := hex.DecodeString(got)
		if !ok || decErr != nil || !hmac.Equal(gotMAC, m.Sum(nil)) {
			t.Fatalf("Verify accepted ts=%q sig=%q body=%q, which is not the right MAC", ts, sig, body)
		}
		// …and any other body fails.
		if err := v.Verify(h, append(append([]byte{}, body...), 'x')); !errors.Is(err, bot.ErrBadSignature) {
			t.Fatalf("Verify accepted the signature for a longer body: %v", err)
		}
		// A signature from Sign at the verifier's time verifies the body.
		if err := v.Verify(bot.Sign(docsSecret, docsTime, body), body); err != nil {
			t.Fatalf("Verify(Sign(body)) = %v", err)
		}
	})
}

// eventSeeds are the Events API fixtures and some near misses.
func eventSeeds(f *testing.F) [][]byte {
	return [][]byte{
		fixture(f, "events_url_verification.json"),
		fixture(f, "events_app_mention.slackdocs.json"),
		fixture(f, "events_pin_added.json"),
		[]byte(`{"type":"event_callback","event_id":"Ev1","event":{"type":"brand_new_event"}}`),
		[]byte(`{"type":"event_callback","event_id":"Ev1","event":{"type":"app_mention","text":42}}`),
		[]byte(`{"type":"event_callback","event_id":"Ev1","event":null}`),
		[]byte(`{"type":"event_callback","event_id":"Ev1","event":[]}`),
		[]byte(`{"type":"event_callback","event":{"type":"message","subtype":"message_changed","message":{}}}`),
		[]byte(`{"type":"url_verification","challenge":""}`),
		[]byte(`{"type":"app_rate_limited","minute_rate_limited":"x"}`),
		[]byte(`null`),
		[]byte(`"event_callback"`),
		[]byte(``),
	}
}

// FuzzDispatcherEvent: any body yields a challenge, nil, or an error
// wrapping ErrBadPayload (the fake queue never fails); never a panic. Stored
// jobs always run without panicking.
func FuzzDispatcherEvent(f *testing.F) {
	for _, s := range eventSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		e := newDispatcherEnv(t, mentionHandlers)
		challenge, err := e.d.Event(context.Background(), body)
		if err != nil {
			if !errors.Is(err, bot.ErrBadPayload) {
				t.Fatalf("Event = %v: not ErrBadPayload", err)
			}
			if challenge != "" || len(e.queue.events) != 0 {
				t.Fatalf("Event failed but returned a challenge or stored something")
			}
			return
		}
		if challenge != "" && len(e.queue.events) != 0 {
			t.Fatal("url_verification stored an event")
		}
		for _, j := range jobsOf(e.queue.events) {
			if !strings.HasPrefix(j.DedupKey, "event:") {
				t.Fatalf("dedup key %q", j.DedupKey)
			}
			// Handlers here always succeed, so a job either runs one or
			// fails permanently: retrying a stored body cannot help.
			if err := runStoredJob(t, e.reg, j); err != nil && !errors.Is(err, bot.ErrPermanent) {
				t.Fatalf("event job = %v: retryable failure of a stored body", err)
			}
		}
	})
}

// FuzzDispatcherInteraction: any payload yields a response or an error
// wrapping ErrBadPayload; never a panic; stored action jobs run.
func FuzzDispatcherInteraction(f *testing.F) {
	f.Add(fixture(f, "interactive_block_actions.json"))
	f.Add(fixture(f, "interactive_view_submission.json"))
	f.Add([]byte(`{"type":"block_actions","user":{"id":"U1"},"actions":[{"action_id":"a","action_ts":"1"},{"action_id":"inline"},{"action_id":"nobody"}]}`))
	f.Add([]byte(`{"type":"block_actions","actions":[{"action_id":"a","type":"static_select","selected_option":{"value":"1"}}]}`))
	f.Add([]byte(`{"type":"block_actions","actions":"a"}`))
	f.Add([]byte(`{"type":"shortcut","callback_id":"declare"}`))
	f.Add([]byte(`{"type":"view_closed"}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		e := newDispatcherEnv(t, func(reg *bot.Registries, rec *recorder) error {
			if err := reg.Actions.Register(bot.Action{ID: "a", Run: rec.action("a")}); err != nil {
				return err
			}
			return reg.Actions.Register(bot.Action{ID: "inline", Inline: true, Run: rec.action("inline")})
		})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err := e.d.Interaction(ctx, payload)
		if err != nil {
			if !errors.Is(err, bot.ErrBadPayload) {
				t.Fatalf("Interaction = %v: not ErrBadPayload", err)
			}
			if len(e.queue.enqueued) != 0 || len(e.rec.names) != 0 {
				t.Fatal("Interaction failed but ran or stored an action")
			}
			return
		}
		for _, j := range e.queue.enqueued {
			if j.Kind != bot.JobSlackAction {
				t.Fatalf("job kind %q", j.Kind)
			}
			if err := runStoredJob(t, e.reg, j); err != nil {
				t.Fatalf("action job = %v: a stored, accepted action must run", err)
			}
		}
	})
}
