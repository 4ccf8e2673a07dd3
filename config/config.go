// Package config reads Herald's configuration from the environment once, at
// start-up, into a typed value. Every variable is documented in .env.example.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/joho/godotenv"
)

// Config is Herald's whole configuration. It is built by Load and never
// mutated afterwards.
type Config struct {
	Addr    string // HERALD_ADDR
	BaseURL string // HERALD_BASE_URL
	DataDir string // HERALD_DATA_DIR

	DatabaseURL string // DATABASE_URL; empty means embedded SQLite in DataDir

	SlackBotToken      string // SLACK_BOT_TOKEN; empty means dry-run transport
	SlackSigningSecret string // SLACK_SIGNING_SECRET
	SlackAppToken      string // SLACK_APP_TOKEN; set means Socket Mode
	SlackAPIURL        string // SLACK_API_URL

	IncidentChannelName string // INCIDENT_CHANNEL_NAME
	IncidentChannelID   string // INCIDENT_CHANNEL_ID (optional, skips name lookup)
	IncidentBotName     string // INCIDENT_BOT_NAME

	EncryptedFieldKey string // ENCRYPTED_FIELD_KEY
	AdminAPIKey       string // HERALD_ADMIN_API_KEY: bearer token of /api/v1 (empty: the admin API is off)

	TwilioAccountSID string // TWILIO_ACCOUNT_SID; with the token and number, pages go out by SMS and phone
	TwilioAuthToken  string // TWILIO_AUTH_TOKEN
	TwilioFromNumber string // TWILIO_FROM_NUMBER, E.164
	TwilioAPIURL     string // TWILIO_API_URL

	LogLevel slog.Level // HERALD_LOG_LEVEL
	// PprofAddr serves Go's profiles on a separate listener (off when empty).
	PprofAddr string // HERALD_PPROF_ADDR
	LogFormat string // HERALD_LOG_FORMAT: text or json

	ReportsChannelName   string          // HERALD_REPORTS_CHANNEL_NAME: after-the-fact reports (default: the incidents channel)
	CommsChannelTemplate string          // HERALD_COMMS_CHANNEL_TEMPLATE: text/template for comms channel names
	CommsChannelPrivate  bool            // HERALD_COMMS_CHANNEL_PRIVATE
	AutoCommsSeverity    int             // HERALD_AUTO_COMMS_CHANNEL_SEVERITY: create the channel at once for SEV1..N (0: never)
	ArchiveAfter         time.Duration   // HERALD_ARCHIVE_AFTER: archive comms channels this long after closing (0: never)
	RestrictClose        bool            // HERALD_RESTRICT_CLOSE: only the lead or commander may close
	KeywordsFile         string          // HERALD_KEYWORDS_FILE: YAML of phrase → reply
	KeywordCooldown      time.Duration   // HERALD_KEYWORD_COOLDOWN: per channel and keyword
	PinEmoji             string          // HERALD_PIN_EMOJI: reacting with it adds the message to the timeline
	IncidentRoles        []string        // HERALD_INCIDENT_ROLES: roles besides lead (commander)
	WorkingHours         [2]int          // HERALD_WORKING_HOURS: "09:00-18:00", minutes since midnight
	StatusIntervals      []time.Duration // HERALD_STATUS_UPDATE_INTERVALS: per severity SEV1..SEV4 (0: none)

	DefaultModes map[string][]string // HERALD_DEFAULT_MODES: priority → modes for people with no preference (unset: built-in)
	Throttle     Throttle            // HERALD_THROTTLE: per-person storm guard (unset: off)

	Workers         int           // HERALD_WORKERS: concurrent background job runners
	JobLease        time.Duration // HERALD_JOB_LEASE: how long a replica owns a job before others may take it
	ShutdownTimeout time.Duration // HERALD_SHUTDOWN_TIMEOUT
	Demo            bool          // HERALD_DEMO: log a ready-made signing secret and example request at start-up

	// Webhook is the signed-webhook paging vendor; URL empty means none.
	Webhook Webhook
	// DeadMan is the dead-man switch (HERALD_DEADMAN_*); off by default.
	DeadMan DeadMan
	// Web is the web UI's sign-in (HERALD_WEB_*, HERALD_OIDC_*, SLACK_CLIENT_*).
	Web Web
	// Oncall is an external Oncall service some teams keep their
	// schedules in (HERALD_ONCALL_*); off by default.
	Oncall ExternalOncall
	// OncallAnnounceCron posts who is on call this week in each team
	// channel (HERALD_ONCALL_ANNOUNCE_CRON, robfig/cron; empty: never).
	OncallAnnounceCron string

	// E-mail pages; SMTPHost empty means no e-mail vendor.
	SMTPHost     string // SMTP_HOST
	SMTPPort     int    // SMTP_PORT
	SMTPUsername string // SMTP_USERNAME
	SMTPPassword string // SMTP_PASSWORD
	SMTPFrom     string // SMTP_FROM: "Herald <herald@example.com>" or a bare address
	SMTPTLS      string // SMTP_TLS: starttls, opportunistic, tls (implicit) or none
	// ClaimLinkSecret signs the claim links in e-mailed pages
	// (HERALD_CLAIM_LINK_SECRET); embedded mode generates one when empty.
	ClaimLinkSecret string
	// Tracing is OpenTelemetry tracing (HERALD_OTEL_*); off by default.
	Tracing Tracing
}

// Defaults documented in .env.example; keep the two in step.
const (
	DefaultAddr            = ":8080"
	DefaultDataDir         = "./data"
	DefaultSlackAPIURL     = "https://slack.com/api/"
	DefaultTwilioAPIURL    = "https://api.twilio.com"
	DefaultChannelName     = "incidents"
	DefaultBotName         = "incident"
	DefaultWorkers         = 4
	DefaultJobLease        = 30 * time.Second
	DefaultShutdown        = 15 * time.Second
	DefaultLogFormat       = "text"
	DemoSigningSecret      = "herald-demo-signing-secret"
	DefaultCommsTemplate   = "inc-{{.Number}}-{{.Slug}}"
	DefaultKeywordCooldown = 10 * time.Minute
	DefaultSMTPPort        = 587
	DefaultSMTPTLS         = "starttls"
	MinClaimLinkSecret     = 32 // bytes; notifications.MinClaimLinkSecret
	envFileName            = ".env"
	maxChannelNameLength   = 80
)

// Lookup reads one variable; os.LookupEnv in production, a map in tests.
type Lookup func(key string) (string, bool)

// LoadDotEnv loads ./.env into the process environment if the file exists.
// Variables already set in the environment win, as with docker and systemd.
func LoadDotEnv() error {
	if _, err := os.Stat(envFileName); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err := godotenv.Load(envFileName); err != nil {
		return fmt.Errorf("reading %s: %w", envFileName, err)
	}
	return nil
}

// Load builds a Config from lookup. All problems are reported together, each
// naming the variable and what it expects.
func Load(lookup Lookup) (Config, error) {
	p := parser{lookup: lookup}
	c := Config{
		Addr:                 p.str("HERALD_ADDR", DefaultAddr),
		BaseURL:              p.url("HERALD_BASE_URL", ""),
		DataDir:              p.str("HERALD_DATA_DIR", DefaultDataDir),
		DatabaseURL:          p.str("DATABASE_URL", ""),
		SlackBotToken:        p.str("SLACK_BOT_TOKEN", ""),
		SlackSigningSecret:   p.str("SLACK_SIGNING_SECRET", ""),
		SlackAppToken:        p.str("SLACK_APP_TOKEN", ""),
		SlackAPIURL:          p.url("SLACK_API_URL", DefaultSlackAPIURL),
		IncidentChannelName:  strings.TrimPrefix(p.str("INCIDENT_CHANNEL_NAME", DefaultChannelName), "#"),
		IncidentChannelID:    p.str("INCIDENT_CHANNEL_ID", ""),
		IncidentBotName:      p.str("INCIDENT_BOT_NAME", DefaultBotName),
		EncryptedFieldKey:    p.str("ENCRYPTED_FIELD_KEY", ""),
		AdminAPIKey:          p.str("HERALD_ADMIN_API_KEY", ""),
		TwilioAccountSID:     p.str("TWILIO_ACCOUNT_SID", ""),
		TwilioAuthToken:      p.str("TWILIO_AUTH_TOKEN", ""),
		TwilioFromNumber:     p.str("TWILIO_FROM_NUMBER", ""),
		TwilioAPIURL:         strings.TrimSuffix(p.url("TWILIO_API_URL", DefaultTwilioAPIURL), "/"),
		LogLevel:             p.level("HERALD_LOG_LEVEL", slog.LevelInfo),
		PprofAddr:            p.str("HERALD_PPROF_ADDR", ""),
		LogFormat:            p.oneOf("HERALD_LOG_FORMAT", DefaultLogFormat, "text", "json"),
		ReportsChannelName:   strings.TrimPrefix(p.str("HERALD_REPORTS_CHANNEL_NAME", ""), "#"),
		CommsChannelTemplate: p.str("HERALD_COMMS_CHANNEL_TEMPLATE", DefaultCommsTemplate),
		CommsChannelPrivate:  p.boolean("HERALD_COMMS_CHANNEL_PRIVATE", false),
		AutoCommsSeverity:    p.intRange("HERALD_AUTO_COMMS_CHANNEL_SEVERITY", 2, 0, 4),
		ArchiveAfter:         p.durationOrZero("HERALD_ARCHIVE_AFTER", 0),
		RestrictClose:        p.boolean("HERALD_RESTRICT_CLOSE", false),
		KeywordsFile:         p.str("HERALD_KEYWORDS_FILE", ""),
		KeywordCooldown:      p.durationOrZero("HERALD_KEYWORD_COOLDOWN", DefaultKeywordCooldown),
		PinEmoji:             strings.Trim(p.str("HERALD_PIN_EMOJI", "pushpin"), ":"),
		IncidentRoles:        p.list("HERALD_INCIDENT_ROLES", []string{"comms", "scribe"}),
		WorkingHours:         p.hours("HERALD_WORKING_HOURS", [2]int{9 * 60, 18 * 60}),
		StatusIntervals:      p.durations("HERALD_STATUS_UPDATE_INTERVALS", []time.Duration{30 * time.Minute, time.Hour, 4 * time.Hour, 0}, 4),
		DefaultModes:         p.defaultModes("HERALD_DEFAULT_MODES"),
		Throttle:             p.throttle("HERALD_THROTTLE"),
		Workers:              p.positiveInt("HERALD_WORKERS", DefaultWorkers),
		JobLease:             p.duration("HERALD_JOB_LEASE", DefaultJobLease),
		ShutdownTimeout:      p.duration("HERALD_SHUTDOWN_TIMEOUT", DefaultShutdown),
		Demo:                 p.boolean("HERALD_DEMO", false),
		Webhook:              p.webhook(),
		DeadMan:              p.deadMan(),
		Oncall:               p.externalOncall(),
		OncallAnnounceCron:   p.oncallAnnounceCron(),
		SMTPHost:             p.str("SMTP_HOST", ""),
		SMTPPort:             p.intRange("SMTP_PORT", DefaultSMTPPort, 1, 65535),
		SMTPUsername:         p.str("SMTP_USERNAME", ""),
		SMTPPassword:         p.str("SMTP_PASSWORD", ""),
		SMTPFrom:             p.str("SMTP_FROM", ""),
		SMTPTLS:              p.oneOf("SMTP_TLS", DefaultSMTPTLS, "starttls", "opportunistic", "tls", "none"),
		ClaimLinkSecret:      p.str("HERALD_CLAIM_LINK_SECRET", ""),
		Tracing:              p.tracing(),
	}
	if !strings.HasSuffix(c.SlackAPIURL, "/") {
		c.SlackAPIURL += "/"
	}
	if c.BaseURL == "" {
		c.BaseURL = "http://localhost" + portOf(c.Addr)
	}
	c.BaseURL = strings.TrimSuffix(c.BaseURL, "/")
	if c.SlackAppToken != "" && !strings.HasPrefix(c.SlackAppToken, "xapp-") {
		p.fail("SLACK_APP_TOKEN", "an app-level token starting with xapp-")
	}
	if c.SlackBotToken != "" && !strings.HasPrefix(c.SlackBotToken, "xoxb-") {
		p.fail("SLACK_BOT_TOKEN", "a bot token starting with xoxb-")
	}
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		p.fail("DATABASE_URL", "a postgres:// URL (leave it empty for the embedded SQLite store)")
	}
	if n := c.IncidentChannelName; n == "" || len(n) > maxChannelNameLength || strings.ContainsAny(n, " ,.") {
		p.fail("INCIDENT_CHANNEL_NAME", "a Slack channel name: 1-80 characters, no spaces, commas or periods")
	}
	if c.SlackSigningSecret == "" {
		if !c.Demo {
			p.fail("SLACK_SIGNING_SECRET", "your Slack app's signing secret (Basic Information page); set HERALD_DEMO=true to try Herald without one")
		} else {
			c.SlackSigningSecret = DemoSigningSecret
		}
	}
	p.checkSMTP(c)
	p.twilio(c)
	c.Web = p.web(c.Embedded())
	if k := c.AdminAPIKey; k != "" && len(k) < 32 {
		p.fail("HERALD_ADMIN_API_KEY", "at least 32 characters (e.g. openssl rand -hex 32)")
	}
	if len(p.errs) > 0 {
		return Config{}, fmt.Errorf("configuration: %w", errors.Join(p.errs...))
	}
	return c, nil
}

// checkSMTP validates the e-mail settings together.
func (p *parser) checkSMTP(c Config) {
	if c.ClaimLinkSecret != "" && len(c.ClaimLinkSecret) < MinClaimLinkSecret {
		p.fail("HERALD_CLAIM_LINK_SECRET", fmt.Sprintf("at least %d characters; create one with `openssl rand -hex 32`", MinClaimLinkSecret))
	}
	if c.SMTPHost == "" {
		return
	}
	if c.SMTPFrom == "" {
		p.fail("SMTP_FROM", "the sender address of e-mailed pages, e.g. Herald <herald@example.com> (required with SMTP_HOST)")
	} else if _, err := mail.ParseAddress(c.SMTPFrom); err != nil {
		p.fail("SMTP_FROM", "an e-mail address such as herald@example.com or Herald <herald@example.com>")
	}
	if (c.SMTPUsername == "") != (c.SMTPPassword == "") {
		p.fail("SMTP_USERNAME", "SMTP_USERNAME and SMTP_PASSWORD both set, or neither")
	}
	if c.ClaimLinkSecret == "" && !c.Embedded() {
		p.fail("HERALD_CLAIM_LINK_SECRET", "a secret of at least 32 characters shared by every replica, to sign e-mailed claim links (required with SMTP_HOST and DATABASE_URL; create one with `openssl rand -hex 32`)")
	}
}

// Twilio reports whether SMS and voice paging through Twilio is configured.
func (c Config) Twilio() bool { return c.TwilioAccountSID != "" }

// twilio checks the Twilio settings: all three or none, and the from
// number in E.164.
func (p *parser) twilio(c Config) {
	set := map[string]bool{"TWILIO_ACCOUNT_SID": c.TwilioAccountSID != "", "TWILIO_AUTH_TOKEN": c.TwilioAuthToken != "", "TWILIO_FROM_NUMBER": c.TwilioFromNumber != ""}
	n := 0
	for _, ok := range set {
		if ok {
			n++
		}
	}
	if n == 0 {
		return
	}
	if n < len(set) {
		for _, key := range []string{"TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER"} {
			if !set[key] {
				p.fail(key, "a value: Twilio needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER together (or none of them)")
			}
		}
		return
	}
	if !strings.HasPrefix(c.TwilioAccountSID, "AC") || !isAlnum(c.TwilioAccountSID) {
		p.fail("TWILIO_ACCOUNT_SID", "your Twilio account SID: AC followed by letters and digits")
	}
	if !isAlnum(c.TwilioAuthToken) {
		p.fail("TWILIO_AUTH_TOKEN", "your Twilio auth token: letters and digits")
	}
	if !isE164(c.TwilioFromNumber) {
		p.failValue("TWILIO_FROM_NUMBER", c.TwilioFromNumber, "a phone number in E.164 form: + and 8 to 15 digits, e.g. +15550100000")
	}
}

func isAlnum(s string) bool {
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return s != ""
}

// isE164 accepts "+" and 8 to 15 digits, the first not 0.
func isE164(s string) bool {
	d, ok := strings.CutPrefix(s, "+")
	if !ok || len(d) < 8 || len(d) > 15 || d[0] == '0' {
		return false
	}
	for _, r := range d {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// Embedded reports whether Herald stores its data in the SQLite file.
func (c Config) Embedded() bool { return c.DatabaseURL == "" }

// DryRunSlack reports whether Slack calls are logged instead of sent.
func (c Config) DryRunSlack() bool { return c.SlackBotToken == "" }

func portOf(addr string) string {
	if i := strings.LastIndex(addr, ":"); i >= 0 {
		return addr[i:]
	}
	return ""
}

// InvalidError names a variable and what it expects.
type InvalidError struct {
	Variable string
	Value    string
	Expected string
}

func (e *InvalidError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("%s: expected %s", e.Variable, e.Expected)
	}
	return fmt.Sprintf("%s=%q: expected %s", e.Variable, e.Value, e.Expected)
}

type parser struct {
	lookup Lookup
	errs   []error
}

func (p *parser) fail(key, expected string) {
	p.errs = append(p.errs, &InvalidError{Variable: key, Expected: expected})
}

func (p *parser) failValue(key, value, expected string) {
	if isSecret(key) {
		value = ""
	}
	p.errs = append(p.errs, &InvalidError{Variable: key, Value: value, Expected: expected})
}

func isSecret(key string) bool {
	return strings.Contains(key, "TOKEN") || strings.Contains(key, "SECRET") || strings.Contains(key, "KEY") || strings.Contains(key, "PASSWORD") || key == "DATABASE_URL"
}

func (p *parser) raw(key string) (string, bool) {
	v, ok := p.lookup(key)
	v = strings.TrimSpace(v)
	return v, ok && v != ""
}

func (p *parser) str(key, def string) string {
	if v, ok := p.raw(key); ok {
		return v
	}
	return def
}

func (p *parser) url(key, def string) string {
	v, ok := p.raw(key)
	if !ok {
		return def
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		p.failValue(key, v, "an absolute http(s) URL")
		return def
	}
	return v
}

func (p *parser) positiveInt(key string, def int) int {
	v, ok := p.raw(key)
	if !ok {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		p.failValue(key, v, "a positive whole number")
		return def
	}
	return n
}

func (p *parser) duration(key string, def time.Duration) time.Duration {
	v, ok := p.raw(key)
	if !ok {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		p.failValue(key, v, "a positive Go duration such as 30s or 2m")
		return def
	}
	return d
}

func (p *parser) durationOrZero(key string, def time.Duration) time.Duration {
	v, ok := p.raw(key)
	if !ok {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		p.failValue(key, v, "a Go duration such as 30m or 72h (0 to turn it off)")
		return def
	}
	return d
}

func (p *parser) intRange(key string, def, lo, hi int) int {
	v, ok := p.raw(key)
	if !ok {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		p.failValue(key, v, fmt.Sprintf("a whole number from %d to %d", lo, hi))
		return def
	}
	return n
}

func (p *parser) list(key string, def []string) []string {
	v, ok := p.raw(key)
	if !ok {
		return def
	}
	var out []string
	for _, item := range strings.Split(v, ",") {
		item = strings.ToLower(strings.TrimSpace(item))
		if item == "" {
			continue
		}
		if strings.ContainsAny(item, " \t") {
			p.failValue(key, v, "a comma-separated list of one-word names")
			return def
		}
		out = append(out, item)
	}
	return out
}

// hours parses "HH:MM-HH:MM" into minutes since midnight.
func (p *parser) hours(key string, def [2]int) [2]int {
	v, ok := p.raw(key)
	if !ok {
		return def
	}
	from, to, found := strings.Cut(v, "-")
	a, errA := time.Parse("15:04", strings.TrimSpace(from))
	b, errB := time.Parse("15:04", strings.TrimSpace(to))
	if !found || errA != nil || errB != nil || !a.Before(b) {
		p.failValue(key, v, "working hours as HH:MM-HH:MM, start before end, e.g. 09:00-18:00")
		return def
	}
	return [2]int{a.Hour()*60 + a.Minute(), b.Hour()*60 + b.Minute()}
}

// durations parses exactly n comma-separated durations.
func (p *parser) durations(key string, def []time.Duration, n int) []time.Duration {
	v, ok := p.raw(key)
	if !ok {
		return def
	}
	parts := strings.Split(v, ",")
	if len(parts) != n {
		p.failValue(key, v, fmt.Sprintf("%d comma-separated durations, one per severity (0 for none)", n))
		return def
	}
	out := make([]time.Duration, n)
	for i, part := range parts {
		d, err := time.ParseDuration(strings.TrimSpace(part))
		if err != nil || d < 0 {
			p.failValue(key, v, fmt.Sprintf("%d comma-separated durations, one per severity (0 for none)", n))
			return def
		}
		out[i] = d
	}
	return out
}

func (p *parser) boolean(key string, def bool) bool {
	v, ok := p.raw(key)
	if !ok {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		p.failValue(key, v, "true or false")
		return def
	}
	return b
}

func (p *parser) oneOf(key, def string, allowed ...string) string {
	v, ok := p.raw(key)
	if !ok {
		return def
	}
	for _, a := range allowed {
		if strings.EqualFold(v, a) {
			return a
		}
	}
	p.failValue(key, v, "one of "+strings.Join(allowed, ", "))
	return def
}

func (p *parser) level(key string, def slog.Level) slog.Level {
	v, ok := p.raw(key)
	if !ok {
		return def
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(v)); err != nil {
		p.failValue(key, v, "one of debug, info, warn, error")
		return def
	}
	return l
}
