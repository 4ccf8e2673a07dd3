package bot

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"github.com/heraldhq/herald/internal/apimetrics"
	"github.com/slack-go/slack"
)

// SlackClientOptions configures the Web API client.
type SlackClientOptions struct {
	Token  string // empty: dry-run, calls are logged instead of sent
	APIURL string // with trailing slash
	Logger *slog.Logger
	// HTTPClient overrides the transport (tests); nil uses a client with a
	// 10 s timeout.
	HTTPClient *http.Client
	// Observer times every Web API call (not in dry-run); nil: none.
	Observer APIObserver
}

// NewSlackClient builds the slack-go client Herald uses for every Web API
// call. With no token it returns a client whose transport logs each call and
// answers like Slack would, so the demo runs without a workspace.
func NewSlackClient(o SlackClientOptions) *slack.Client {
	hc := o.HTTPClient
	token := o.Token
	if token == "" {
		hc = &http.Client{Transport: &DryRunTransport{Logger: o.Logger}}
		token = "xoxb-dry-run"
	}
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	if o.Observer != nil && o.Token != "" {
		instrumented := *hc // the caller's client is left as it was
		instrumented.Transport = apimetrics.Transport(hc.Transport, o.Observer, "slack", slackMethod, slackOutcome)
		hc = &instrumented
	}
	return slack.New(token, slack.OptionAPIURL(o.APIURL), slack.OptionHTTPClient(hc))
}

// DryRunTransport is an http.RoundTripper that logs Slack Web API calls and
// answers them with plausible success responses, like Iris's dummy vendor.
type DryRunTransport struct {
	Logger *slog.Logger
	seq    atomic.Int64
}

// RoundTrip implements http.RoundTripper.
func (t *DryRunTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	method := path.Base(r.URL.Path)
	params := map[string]string{}
	if r.Body != nil {
		body, err := io.ReadAll(r.Body)
		_ = r.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("dry-run slack: reading request: %w", err)
		}
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			var m map[string]any
			if json.Unmarshal(body, &m) == nil {
				for k, v := range m {
					b, _ := json.Marshal(v)
					params[k] = strings.Trim(string(b), `"`)
				}
			}
		} else if form, err := url.ParseQuery(string(body)); err == nil {
			for k := range form {
				params[k] = form.Get(k)
			}
		}
	}
	delete(params, "token")
	if t.Logger != nil {
		attrs := []any{"method", method}
		for _, k := range []string{"channel", "user", "users", "text", "name", "ts", "topic", "blocks", "view"} {
			if v, ok := params[k]; ok {
				attrs = append(attrs, k, redactSecrets(v))
			}
		}
		t.Logger.Info("SLACK DRY RUN: would call Slack (set SLACK_BOT_TOKEN to send for real)", attrs...)
	}
	resp := dryRunResponse(method, params, t.seq.Add(1))
	b, _ := json.Marshal(resp)
	return &http.Response{
		StatusCode: http.StatusOK,
		Header:     http.Header{"Content-Type": []string{"application/json"}},
		Body:       io.NopCloser(bytes.NewReader(b)),
		Request:    r,
	}, nil
}

// secretToken matches Herald's own secrets by their prefixes (sign-in
// links and sessions, integration keys, calendar tokens): a message that
// carries one (the "@incident login" DM) is logged without it.
var secretToken = regexp.MustCompile(`\b(hlog|hses|hrld|hcal)_[A-Za-z0-9_-]+`)

func redactSecrets(s string) string {
	return secretToken.ReplaceAllString(s, "${1}_[redacted in the dry-run log]")
}

func dryRunResponse(method string, p map[string]string, seq int64) map[string]any {
	ts := fmt.Sprintf("%d.%06d", time.Now().Unix(), seq%1000000)
	channel := p["channel"]
	if channel == "" || strings.HasPrefix(channel, "#") {
		channel = "CDRYRUN" + strings.ToUpper(strings.TrimPrefix(channel, "#"))
	}
	switch method {
	case "auth.test":
		return map[string]any{"ok": true, "user_id": "UDRYRUNBOT", "bot_id": "BDRYRUN", "team_id": "TDRYRUN", "user": "incident"}
	case "chat.postMessage", "chat.update":
		if p["ts"] != "" {
			ts = p["ts"]
		}
		return map[string]any{"ok": true, "channel": channel, "ts": ts}
	case "chat.postEphemeral":
		return map[string]any{"ok": true, "message_ts": ts}
	case "conversations.create":
		// A readable id, so a demo can address the channel: C-<name>.
		return map[string]any{"ok": true, "channel": map[string]any{"id": "C-" + p["name"], "name": p["name"]}}
	case "users.info":
		return map[string]any{"ok": true, "user": map[string]any{"id": p["user"], "name": p["user"], "real_name": p["user"], "tz": "UTC"}}
	case "views.open", "views.update", "views.push":
		return map[string]any{"ok": true, "view": map[string]any{"id": fmt.Sprintf("VDRY%06d", seq)}}
	default:
		return map[string]any{"ok": true}
	}
}
