package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/heraldhq/herald/bot"
	"github.com/heraldhq/herald/config"
)

const slackSimUsage = `usage: herald slack-sim [flags] /incident <text>       (opens the declare form)
       herald slack-sim [flags] declare <title>       (submits the declare form)
       herald slack-sim [flags] mention <text>        (an @incident mention, e.g. "help")
       herald slack-sim [flags] event <file.json>     (an Events API body)
       herald slack-sim [flags] action <file.json>    (an interactivity payload)

Sends a request signed like Slack signs it to a running Herald and prints
the answer. The signing secret is SLACK_SIGNING_SECRET (or the demo secret).`

// slackSim plays Slack for a local Herald, so a newcomer can try it without
// a workspace.
func slackSim(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	_ = config.LoadDotEnv()
	fs := flag.NewFlagSet("slack-sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, slackSimUsage); fs.PrintDefaults() }
	base := fs.String("url", envOr("HERALD_BASE_URL", "http://localhost:8080"), "Herald's base URL")
	secret := fs.String("secret", envOr("SLACK_SIGNING_SECRET", config.DemoSigningSecret), "Slack signing secret")
	user := fs.String("user", "U0DEMOUSER", "Slack user id of the sender")
	userName := fs.String("user-name", "demo.user", "Slack user name of the sender")
	channel := fs.String("channel", "C0DEMOCHAN", "Slack channel id")
	severity := fs.Int("severity", 0, "declare: severity 1-4 (0: unset)")
	summary := fs.String("summary", "", "declare: summary")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	rest := fs.Args()
	if len(rest) == 0 {
		fs.Usage()
		return usageError{"slack-sim needs a request to send"}
	}
	var (
		path, contentType string
		body              []byte
	)
	switch kind := rest[0]; {
	case strings.HasPrefix(kind, "/"):
		path, contentType = "/slack/commands", "application/x-www-form-urlencoded"
		body = []byte(url.Values{
			"command": {kind}, "text": {strings.Join(rest[1:], " ")}, "user_id": {*user}, "user_name": {*userName},
			"channel_id": {*channel}, "channel_name": {"demo"}, "team_id": {"T0DEMO"}, "team_domain": {"demo"},
			"trigger_id": {"sim." + randomID()}, "response_url": {"https://hooks.slack.com/commands/T0DEMO/sim"}, "api_app_id": {"A0DEMO"},
		}.Encode())
	case kind == "declare":
		path, contentType = "/slack/actions", "application/x-www-form-urlencoded"
		payload, err := declareSubmission(strings.Join(rest[1:], " "), *summary, *severity, *user, *userName, *channel)
		if err != nil {
			return err
		}
		body = []byte(url.Values{"payload": {string(payload)}}.Encode())
	case kind == "mention":
		path, contentType = "/slack/events", "application/json"
		ts := fmt.Sprintf("%d.000100", time.Now().Unix())
		body, _ = json.Marshal(map[string]any{
			"token": "sim", "team_id": "T0DEMO", "api_app_id": "A0DEMO", "type": "event_callback",
			"event_id": "EvSIM" + randomID(), "event_time": time.Now().Unix(),
			"event": map[string]any{"type": "app_mention", "user": *user, "text": "<@UDRYRUNBOT> " + strings.Join(rest[1:], " "),
				"ts": ts, "channel": *channel, "event_ts": ts},
		})
	case kind == "event" || kind == "action":
		if len(rest) != 2 {
			return usageError{kind + " needs one JSON file"}
		}
		raw, err := os.ReadFile(rest[1])
		if err != nil {
			return err
		}
		if kind == "event" {
			path, contentType, body = "/slack/events", "application/json", raw
		} else {
			path, contentType = "/slack/actions", "application/x-www-form-urlencoded"
			body = []byte(url.Values{"payload": {string(raw)}}.Encode())
		}
	default:
		fs.Usage()
		return usageError{fmt.Sprintf("unknown request kind %q", kind)}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(*base, "/")+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	for k, v := range bot.Sign(*secret, time.Now(), body) {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return fmt.Errorf("sending to Herald: %w", err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	fmt.Fprintf(stdout, "%s %s -> %s\n%s\n", req.Method, path, resp.Status, bytes.TrimSpace(answer))
	if resp.StatusCode >= 300 {
		return fmt.Errorf("herald answered %s", resp.Status)
	}
	return nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func randomID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return strings.ToUpper(hex.EncodeToString(b))
}

// declareSubmission is the view_submission Slack sends when someone submits
// the declare form.
func declareSubmission(title, summary string, severity int, user, userName, channel string) ([]byte, error) {
	value := func(v string) map[string]any { return map[string]any{"type": "plain_text_input", "value": v} }
	values := map[string]any{
		"title":    map[string]any{"title": value(title)},
		"summary":  map[string]any{"summary": value(summary)},
		"impact":   map[string]any{"impact": value("")},
		"services": map[string]any{"services": value("")},
		"kind":     map[string]any{"kind": map[string]any{"type": "radio_buttons", "selected_option": map[string]any{"value": "live"}}},
		"lead":     map[string]any{"lead": map[string]any{"type": "users_select"}},
		"severity": map[string]any{"severity": map[string]any{"type": "static_select"}},
	}
	if severity != 0 {
		values["severity"] = map[string]any{"severity": map[string]any{"type": "static_select", "selected_option": map[string]any{"value": fmt.Sprint(severity)}}}
	}
	return json.Marshal(map[string]any{
		"type": "view_submission", "team": map[string]any{"id": "T0DEMO", "domain": "demo"},
		"user":       map[string]any{"id": user, "username": userName, "name": userName, "team_id": "T0DEMO"},
		"api_app_id": "A0DEMO", "trigger_id": "sim." + randomID(),
		"view": map[string]any{
			"id": "VSIM" + randomID(), "type": "modal", "callback_id": "declare_incident", "team_id": "T0DEMO",
			"private_metadata": fmt.Sprintf(`{"c":%q}`, channel),
			"state":            map[string]any{"values": values},
		},
	})
}
