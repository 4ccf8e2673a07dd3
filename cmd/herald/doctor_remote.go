package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/heraldhq/herald/notifications"
)

// slackBotScopes are the bot scopes Herald's Slack calls need: those of
// slack-app-manifest.yml (TestSlackBotScopesMatchManifest keeps the two
// in step).
const slackBotScopes = "app_mentions:read,channels:history,channels:join,channels:manage,channels:read," +
	"chat:write,chat:write.public,commands,groups:history,groups:read,groups:write,im:write," +
	"pins:read,pins:write,reactions:read,reactions:write,users:read,users:read.email"

// slackTokenFix says what to do about an error code of auth.test.
func slackTokenFix(code string) string {
	switch code {
	case "invalid_auth", "not_authed":
		return "copy the Bot User OAuth Token (xoxb-…) from the app's OAuth & Permissions page into SLACK_BOT_TOKEN"
	case "token_revoked", "token_expired", "account_inactive":
		return "reinstall the app to the workspace and set SLACK_BOT_TOKEN to the new token"
	}
	return "see https://api.slack.com/methods/auth.test for " + code
}

// slack calls auth.test with the bot token: Slack says whether the token
// is good, and its X-OAuth-Scopes header lists the scopes it was granted.
func (d *doctor) slack(ctx context.Context) []check {
	cfg := d.cfg
	if cfg.DryRunSlack() {
		return []check{{checkWarn, "slack", "SLACK_BOT_TOKEN is empty: dry run, Slack calls are logged instead of sent", "set SLACK_BOT_TOKEN to the app's Bot User OAuth Token (xoxb-…)"}}
	}
	ctx, cancel := context.WithTimeout(ctx, d.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cfg.SlackAPIURL+"auth.test", strings.NewReader(""))
	if err != nil {
		return []check{{checkFail, "slack", "SLACK_API_URL: " + redactErr(err, d.secrets), "set SLACK_API_URL to https://slack.com/api/ (or leave it unset)"}}
	}
	req.Header.Set("Authorization", "Bearer "+cfg.SlackBotToken)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := d.HTTP.Do(req)
	if err != nil {
		return []check{{checkFail, "slack", "cannot reach Slack's Web API: " + redactErr(err, d.secrets), "allow outbound HTTPS to slack.com (behind a proxy, set HTTPS_PROXY)"}}
	}
	defer resp.Body.Close()
	var answer struct {
		OK     bool   `json:"ok"`
		Error  string `json:"error"`
		Team   string `json:"team"`
		User   string `json:"user"`
		UserID string `json:"user_id"`
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &answer) != nil {
		return []check{{checkFail, "slack", fmt.Sprintf("Slack's auth.test answered HTTP %d, not Slack's JSON", resp.StatusCode), "check SLACK_API_URL and any proxy between Herald and slack.com"}}
	}
	if !answer.OK {
		return []check{{checkFail, "slack", "Slack refused SLACK_BOT_TOKEN: " + answer.Error, slackTokenFix(answer.Error)}}
	}
	out := []check{{Status: checkOK, Area: "slack", Text: fmt.Sprintf("SLACK_BOT_TOKEN is valid: bot @%s (%s) in workspace %q", answer.User, answer.UserID, answer.Team)}}
	return append(out, scopeCheck(resp.Header.Get("X-OAuth-Scopes")))
}

// scopeCheck compares the granted scopes (X-OAuth-Scopes) with Herald's.
func scopeCheck(header string) check {
	if strings.TrimSpace(header) == "" {
		return check{checkWarn, "slack", "Slack did not say which scopes the token has (no X-OAuth-Scopes header)", "compare the app's OAuth & Permissions page with slack-app-manifest.yml"}
	}
	granted := map[string]bool{}
	for _, s := range strings.Split(header, ",") {
		granted[strings.TrimSpace(s)] = true
	}
	var missing []string
	for _, s := range strings.Split(slackBotScopes, ",") {
		if !granted[s] {
			missing = append(missing, s)
		}
	}
	if len(missing) > 0 {
		return check{checkFail, "slack", "the bot token lacks scopes Herald uses: " + strings.Join(missing, ", "),
			"add them under OAuth & Permissions → Bot Token Scopes (or recreate the app from slack-app-manifest.yml), then reinstall the app"}
	}
	return check{Status: checkOK, Area: "slack", Text: fmt.Sprintf("the bot token has every scope Herald uses (%d)", len(strings.Split(slackBotScopes, ",")))}
}

// twilio fetches the account with the configured credentials and looks
// the from number up among the account's numbers.
func (d *doctor) twilio(ctx context.Context) []check {
	cfg := d.cfg
	if !cfg.Twilio() {
		return []check{{Status: checkOK, Area: "twilio", Text: "not configured: no SMS or call pages (set TWILIO_* to add them)"}}
	}
	from := maskPhone(cfg.TwilioFromNumber)
	tw, err := notifications.NewTwilioSMS(notifications.TwilioConfig{AccountSID: cfg.TwilioAccountSID, AuthToken: cfg.TwilioAuthToken,
		From: cfg.TwilioFromNumber, APIURL: cfg.TwilioAPIURL, BaseURL: cfg.BaseURL, HTTP: notifications.HTTPOptions{Timeout: d.Timeout}})
	if err != nil {
		return []check{{checkFail, "twilio", redactErr(err, d.secrets), "check the TWILIO_* variables"}}
	}
	ctx, cancel := context.WithTimeout(ctx, d.Timeout)
	defer cancel()
	acct, err := tw.CheckAccount(ctx)
	if err != nil && acct.Status == "" {
		var te *notifications.TwilioError
		if errors.As(err, &te) && (te.Status == http.StatusUnauthorized || te.Status == http.StatusForbidden || te.Status == http.StatusNotFound || te.Code == 20003) {
			return []check{{checkFail, "twilio", "Twilio refused TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN: " + redactErr(err, d.secrets),
				"copy both from the Twilio console's Account Info (a subaccount's SID needs that subaccount's token)"}}
		}
		return []check{{checkFail, "twilio", "cannot check the Twilio account: " + redactErr(err, d.secrets), "allow outbound HTTPS to api.twilio.com, or check TWILIO_API_URL"}}
	}
	var out []check
	switch {
	case acct.Status != "active":
		out = append(out, check{checkFail, "twilio", "the Twilio account is " + acct.Status + ": it cannot send", "reactivate the account in the Twilio console"})
	case strings.EqualFold(acct.Type, "Trial"):
		out = append(out, check{checkWarn, "twilio", "the Twilio account is a trial: pages reach verified numbers only, after a trial notice", "upgrade the Twilio account"})
	default:
		out = append(out, check{Status: checkOK, Area: "twilio", Text: "credentials valid, account active"})
	}
	if err != nil {
		return append(out, check{checkFail, "twilio", "cannot list the account's phone numbers: " + redactErr(err, d.secrets), "check the credentials' permissions and outbound HTTPS to api.twilio.com"})
	}
	want := cfg.BaseURL + notifications.TwilioSMSPath
	switch {
	case !acct.FromOwned:
		out = append(out, check{checkFail, "twilio", "TWILIO_FROM_NUMBER (" + from + ") is not a phone number of this Twilio account: Twilio refuses to send from it",
			"buy or port the number into this account, or set TWILIO_FROM_NUMBER to one of its numbers"})
	case acct.FromSMSURL != want:
		out = append(out, check{checkWarn, "twilio", "the from number (" + from + ") sends incoming SMS elsewhere, so SMS replies (claim, STOP) never reach Herald",
			`in the Twilio console set the number's "A message comes in" webhook to HTTP POST ` + want})
	default:
		out = append(out, check{Status: checkOK, Area: "twilio", Text: "the from number (" + from + ") belongs to the account and sends SMS replies to " + want})
	}
	return out
}

// publicURL checks HERALD_BASE_URL, which Slack and Twilio call and
// links point to: set, https, and answering GET /healthz as Herald.
func (d *doctor) publicURL(ctx context.Context) []check {
	cfg := d.cfg
	if v, ok := d.Lookup("HERALD_BASE_URL"); !ok || strings.TrimSpace(v) == "" {
		return []check{{checkWarn, "url", "HERALD_BASE_URL is not set: links point to " + cfg.BaseURL + ", which Slack, Twilio and people elsewhere cannot reach",
			"set HERALD_BASE_URL to Herald's public https URL"}}
	}
	u, err := url.Parse(cfg.BaseURL)
	if err != nil { // config.Load has checked it; kept for safety
		return []check{{checkFail, "url", "HERALD_BASE_URL is not a URL", "set it to Herald's public https URL"}}
	}
	base := u.Redacted()
	var out []check
	if u.Scheme != "https" {
		out = append(out, check{checkWarn, "url", "HERALD_BASE_URL is plain http: Slack only calls https request URLs, and links carry claim tokens", "serve Herald behind TLS and set an https URL"})
	}
	ctx, cancel := context.WithTimeout(ctx, d.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cfg.BaseURL+"/healthz", nil)
	if err != nil {
		return append(out, check{checkFail, "url", "HERALD_BASE_URL: " + redactErr(err, d.secrets), "set it to Herald's public https URL"})
	}
	resp, err := d.HTTP.Do(req)
	if err != nil {
		return append(out, check{checkFail, "url", "cannot reach " + base + "/healthz: " + redactErr(err, d.secrets),
			"start Herald, then check DNS, the TLS certificate and that the proxy forwards to Herald"})
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	switch {
	case resp.StatusCode != http.StatusOK:
		return append(out, check{checkFail, "url", fmt.Sprintf("%s/healthz answered HTTP %d", base, resp.StatusCode), "check that the proxy forwards " + base + " to Herald's HERALD_ADDR"})
	case strings.TrimSpace(string(body)) != "ok":
		return append(out, check{checkWarn, "url", base + "/healthz answered, but not as Herald does", "check that the proxy forwards " + base + " to Herald and not another service"})
	}
	slackURLs := "Slack request URLs " + base + "/slack/commands, /slack/events, /slack/actions"
	if cfg.SlackAppToken != "" {
		slackURLs = "Slack uses Socket Mode"
	}
	text := base + " reachable; " + slackURLs
	if cfg.Twilio() {
		text += "; Twilio SMS webhook " + base + notifications.TwilioSMSPath
	}
	return append(out, check{Status: checkOK, Area: "url", Text: text})
}
