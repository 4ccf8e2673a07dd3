package bot_test

import (
	"bytes"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/bot"
	"github.com/heraldhq/herald/internal/fakeclock"
)

// Slack's "verifying requests from Slack" example, kept as a fixture.
const (
	docsSecret    = "8f742231b10e8888abcd99yyyzzz85a5"
	docsTimestamp = "1531420618"
	docsSignature = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
	docsFixture   = "slash_command.slackdocs_signing_example.form"
)

var docsTime = time.Unix(1531420618, 0)

func docsHeaders(ts, sig string) http.Header {
	h := http.Header{}
	if ts != "" {
		h.Set("X-Slack-Request-Timestamp", ts)
	}
	if sig != "" {
		h.Set("X-Slack-Signature", sig)
	}
	return h
}

func TestVerify(t *testing.T) {
	body := fixture(t, docsFixture)
	altered := bytes.Replace(body, []byte("text="), []byte("text=rm+-rf"), 1)
	tests := []struct {
		name    string
		secret  string
		now     time.Time
		header  http.Header
		body    []byte
		wantErr error // nil: verifies
	}{
		{name: "Slack's documented example", secret: docsSecret, now: docsTime.Add(30 * time.Second), header: docsHeaders(docsTimestamp, docsSignature), body: body},
		{name: "clock slightly behind the request", secret: docsSecret, now: docsTime.Add(-30 * time.Second), header: docsHeaders(docsTimestamp, docsSignature), body: body},
		{name: "exactly at the window's edge", secret: docsSecret, now: docsTime.Add(bot.SignatureWindow), header: docsHeaders(docsTimestamp, docsSignature), body: body},
		{name: "upper-case hex is the same MAC", secret: docsSecret, now: docsTime, header: docsHeaders(docsTimestamp, "v0="+strings.ToUpper(strings.TrimPrefix(docsSignature, "v0="))), body: body},
		{name: "surrounding whitespace in headers", secret: docsSecret, now: docsTime, header: docsHeaders(" "+docsTimestamp+" ", " "+docsSignature+" "), body: body},
		{name: "wrong secret", secret: "not-the-secret", now: docsTime, header: docsHeaders(docsTimestamp, docsSignature), body: body, wantErr: bot.ErrBadSignature},
		{name: "altered body", secret: docsSecret, now: docsTime, header: docsHeaders(docsTimestamp, docsSignature), body: altered, wantErr: bot.ErrBadSignature},
		{name: "empty body", secret: docsSecret, now: docsTime, header: docsHeaders(docsTimestamp, docsSignature), body: nil, wantErr: bot.ErrBadSignature},
		{name: "timestamp moved by a second", secret: docsSecret, now: docsTime, header: docsHeaders("1531420619", docsSignature), body: body, wantErr: bot.ErrBadSignature},
		{name: "missing both headers", secret: docsSecret, now: docsTime, header: http.Header{}, body: body, wantErr: bot.ErrMissingSignature},
		{name: "missing signature", secret: docsSecret, now: docsTime, header: docsHeaders(docsTimestamp, ""), body: body, wantErr: bot.ErrMissingSignature},
		{name: "missing timestamp", secret: docsSecret, now: docsTime, header: docsHeaders("", docsSignature), body: body, wantErr: bot.ErrMissingSignature},
		{name: "blank headers", secret: docsSecret, now: docsTime, header: docsHeaders("  ", "  "), body: body, wantErr: bot.ErrMissingSignature},
		{name: "stale: more than 5 minutes old", secret: docsSecret, now: docsTime.Add(bot.SignatureWindow + time.Second), header: docsHeaders(docsTimestamp, docsSignature), body: body, wantErr: bot.ErrStaleTimestamp},
		{name: "replayed a day later", secret: docsSecret, now: docsTime.Add(24 * time.Hour), header: docsHeaders(docsTimestamp, docsSignature), body: body, wantErr: bot.ErrStaleTimestamp},
		{name: "future: more than 5 minutes ahead", secret: docsSecret, now: docsTime.Add(-bot.SignatureWindow - time.Second), header: docsHeaders(docsTimestamp, docsSignature), body: body, wantErr: bot.ErrStaleTimestamp},
		{name: "far-future timestamp does not overflow", secret: docsSecret, now: docsTime, header: docsHeaders("9223372036854775807", docsSignature), body: body, wantErr: bot.ErrStaleTimestamp},
		{name: "far-past timestamp does not overflow", secret: docsSecret, now: docsTime, header: docsHeaders("-9223372036854775808", docsSignature), body: body, wantErr: bot.ErrStaleTimestamp},
		{name: "non-numeric timestamp", secret: docsSecret, now: docsTime, header: docsHeaders("yesterday", docsSignature), body: body, wantErr: bot.ErrBadSignature},
		{name: "fractional timestamp", secret: docsSecret, now: docsTime, header: docsHeaders(docsTimestamp+".5", docsSignature), body: body, wantErr: bot.ErrBadSignature},
		{name: "v1= prefix", secret: docsSecret, now: docsTime, header: docsHeaders(docsTimestamp, "v1="+strings.TrimPrefix(docsSignature, "v0=")), body: body, wantErr: bot.ErrBadSignature},
		{name: "no version prefix", secret: docsSecret, now: docsTime, header: docsHeaders(docsTimestamp, strings.TrimPrefix(docsSignature, "v0=")), body: body, wantErr: bot.ErrBadSignature},
		{name: "non-hex signature", secret: docsSecret, now: docsTime, header: docsHeaders(docsTimestamp, "v0=zz114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"), body: body, wantErr: bot.ErrBadSignature},
		{name: "odd-length hex", secret: docsSecret, now: docsTime, header: docsHeaders(docsTimestamp, docsSignature[:len(docsSignature)-1]), body: body, wantErr: bot.ErrBadSignature},
		{name: "truncated MAC", secret: docsSecret, now: docsTime, header: docsHeaders(docsTimestamp, docsSignature[:len(docsSignature)-2]), body: body, wantErr: bot.ErrBadSignature},
		{name: "empty MAC", secret: docsSecret, now: docsTime, header: docsHeaders(docsTimestamp, "v0="), body: body, wantErr: bot.ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := bot.NewVerifier(tt.secret, fakeclock.New(tt.now))
			err := v.Verify(tt.header, tt.body)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Verify = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Verify = %v, want errors.Is(err, %q)", err, tt.wantErr)
			}
			// The three errors are distinct causes; exactly one applies.
			for _, other := range []error{bot.ErrMissingSignature, bot.ErrStaleTimestamp, bot.ErrBadSignature} {
				if other != tt.wantErr && errors.Is(err, other) {
					t.Errorf("Verify = %v also matches %q", err, other)
				}
			}
		})
	}
}

func TestVerifyErrorsDoNotLeakTheExpectedMAC(t *testing.T) {
	body := fixture(t, docsFixture)
	v := bot.NewVerifier(docsSecret, fakeclock.New(docsTime))
	err := v.Verify(docsHeaders(docsTimestamp, "v0=00"), body)
	if !errors.Is(err, bot.ErrBadSignature) {
		t.Fatalf("Verify = %v", err)
	}
	if mac := strings.TrimPrefix(docsSignature, "v0="); strings.Contains(err.Error(), mac) || strings.Contains(err.Error(), docsSecret) {
		t.Fatalf("error %q reveals the expected MAC or the secret", err)
	}
}

func TestSignMatchesSlacksExample(t *testing.T) {
	body := fixture(t, docsFixture)
	h := bot.Sign(docsSecret, docsTime, body)
	if got := h.Get("X-Slack-Signature"); got != docsSignature {
		t.Errorf("X-Slack-Signature = %q, want %q", got, docsSignature)
	}
	if got := h.Get("X-Slack-Request-Timestamp"); got != docsTimestamp {
		t.Errorf("X-Slack-Request-Timestamp = %q, want %q", got, docsTimestamp)
	}
}

func TestSignRoundTrips(t *testing.T) {
	clock := fakeclock.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	v := bot.NewVerifier("s3cret", clock)
	for _, body := range [][]byte{nil, []byte("{}"), []byte("payload=%7B%22type%22%3A%22block_actions%22%7D"), bytes.Repeat([]byte{0xff, 0}, 1000)} {
		h := bot.Sign("s3cret", clock.Now(), body)
		if err := v.Verify(h, body); err != nil {
			t.Errorf("Verify(Sign(%q)) = %v", body, err)
		}
		if err := bot.NewVerifier("other", clock).Verify(h, body); !errors.Is(err, bot.ErrBadSignature) {
			t.Errorf("Verify with another secret = %v, want ErrBadSignature", err)
		}
		if err := v.Verify(h, append(append([]byte{}, body...), ' ')); !errors.Is(err, bot.ErrBadSignature) {
			t.Errorf("Verify of a longer body = %v, want ErrBadSignature", err)
		}
	}
	// Signed four minutes ago is fine; six is a replay.
	h := bot.Sign("s3cret", clock.Now().Add(-4*time.Minute), []byte("x"))
	if err := v.Verify(h, []byte("x")); err != nil {
		t.Errorf("4-minute-old signature: %v", err)
	}
	h = bot.Sign("s3cret", clock.Now().Add(-6*time.Minute), []byte("x"))
	if err := v.Verify(h, []byte("x")); !errors.Is(err, bot.ErrStaleTimestamp) {
		t.Errorf("6-minute-old signature: %v, want ErrStaleTimestamp", err)
	}
}
