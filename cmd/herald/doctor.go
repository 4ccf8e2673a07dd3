package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/heraldhq/herald/config"
	"github.com/heraldhq/herald/handlers"
	"github.com/heraldhq/herald/migrations"
	"github.com/heraldhq/herald/models"
)

// `herald doctor` checks a deployment before (or while) it runs: the
// configuration, the database, Slack, Twilio and the public URL. It prints
// one line per check, OK, WARN or FAIL with how to fix it, never a secret
// or a phone number, and fails (exit 1) when any check fails. It changes
// nothing: no migration, no generated key, no message sent.

type checkStatus string

const (
	checkOK   checkStatus = "OK"
	checkWarn checkStatus = "WARN"
	checkFail checkStatus = "FAIL"
)

// check is one line of the doctor's report.
type check struct {
	Status checkStatus
	Area   string // config, database, slack, twilio, url
	Text   string // what was found
	Fix    string // what to do about it; empty when there is nothing to do
}

// doctor holds what the checks need; tests set Lookup and HTTP.
type doctor struct {
	Lookup  config.Lookup
	HTTP    *http.Client  // Slack's Web API and the public URL
	Timeout time.Duration // per remote check
	cfg     config.Config
	secrets []string // values redact hides
}

// DefaultDoctorTimeout bounds each remote check.
const DefaultDoctorTimeout = 5 * time.Second

func doctorCommand(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	timeout := fs.Duration("timeout", DefaultDoctorTimeout, "time allowed to each remote check (database, Slack, Twilio, public URL)")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *timeout <= 0 {
		return usageError{"doctor: --timeout must be positive"}
	}
	if err := config.LoadDotEnv(); err != nil {
		return reportChecks(stdout, []check{{checkFail, "config", redactErr(err, nil), "fix the syntax of ./.env (KEY=value lines)"}})
	}
	d := &doctor{Lookup: os.LookupEnv, HTTP: &http.Client{Timeout: *timeout}, Timeout: *timeout}
	return reportChecks(stdout, d.run(ctx))
}

// run performs every check in order. Without a valid configuration the
// remote checks cannot know what to check, so they are skipped.
func (d *doctor) run(ctx context.Context) []check {
	cfg, err := config.Load(d.Lookup)
	if err != nil {
		return append(configErrors(err), check{checkFail, "doctor", "database, Slack, Twilio and URL checks skipped", "fix the configuration above, then run herald doctor again"})
	}
	d.cfg = cfg
	d.secrets = secretValues(cfg)
	checks := []check{{Status: checkOK, Area: "config", Text: "every variable is well-formed"}}
	checks = append(checks, d.configExtras()...)
	checks = append(checks, d.database(ctx)...)
	checks = append(checks, d.slack(ctx)...)
	checks = append(checks, d.twilio(ctx)...)
	return append(checks, d.publicURL(ctx)...)
}

// reportChecks prints the checks, then a summary; any FAIL is an error
// (exit status 1).
func reportChecks(w io.Writer, checks []check) error {
	counts := map[checkStatus]int{}
	for _, c := range checks {
		counts[c.Status]++
		line := fmt.Sprintf("%-4s  %-8s  %s", c.Status, c.Area, c.Text)
		if c.Fix != "" {
			line += ". Fix: " + c.Fix
		}
		fmt.Fprintln(w, line)
	}
	fmt.Fprintf(w, "%d OK, %d WARN, %d FAIL\n", counts[checkOK], counts[checkWarn], counts[checkFail])
	if n := counts[checkFail]; n > 0 {
		return fmt.Errorf("doctor: %d check(s) failed", n)
	}
	return nil
}

// configErrors turns config.Load's error into one FAIL per invalid
// variable (config.Load reports all of them at once).
func configErrors(err error) []check {
	var invalid []*config.InvalidError
	var walk func(error)
	walk = func(e error) {
		if ie, ok := e.(*config.InvalidError); ok {
			invalid = append(invalid, ie)
			return
		}
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, inner := range j.Unwrap() {
				walk(inner)
			}
			return
		}
		if inner := errors.Unwrap(e); inner != nil {
			walk(inner)
		}
	}
	walk(err)
	if len(invalid) == 0 {
		return []check{{checkFail, "config", redactErr(err, nil), "see .env.example for every variable and its form"}}
	}
	out := make([]check, 0, len(invalid))
	for _, ie := range invalid {
		text := ie.Variable + " is invalid"
		if ie.Value != "" {
			text = fmt.Sprintf("%s=%q is invalid", ie.Variable, maskValue(ie.Variable, ie.Value))
		}
		out = append(out, check{checkFail, "config", text, "set it to " + ie.Expected})
	}
	return out
}

// configExtras checks what config.Load leaves to start-up: the field
// key, files and settings parsed by other packages, and risky choices.
func (d *doctor) configExtras() []check {
	cfg := d.cfg
	var out []check
	switch {
	case cfg.EncryptedFieldKey != "":
		if _, err := models.NewFieldCipher(cfg.EncryptedFieldKey); err != nil {
			out = append(out, check{checkFail, "config", "ENCRYPTED_FIELD_KEY is not a usable Tink keyset", "set it to the output of `herald keygen` (the key the data was written with)"})
		} else {
			out = append(out, check{Status: checkOK, Area: "config", Text: "ENCRYPTED_FIELD_KEY is a usable keyset"})
		}
	case !cfg.Embedded():
		out = append(out, check{checkFail, "config", "ENCRYPTED_FIELD_KEY is empty, and DATABASE_URL needs it", "create one with `herald keygen`, keep it in your secret store and set ENCRYPTED_FIELD_KEY"})
	default:
		path := filepath.Join(cfg.DataDir, "encrypted_field_key")
		if _, err := os.Stat(path); err != nil {
			out = append(out, check{checkWarn, "config", "no ENCRYPTED_FIELD_KEY: the first start generates one into " + path, "back that file up, or set ENCRYPTED_FIELD_KEY from `herald keygen`"})
		} else {
			out = append(out, check{checkWarn, "config", "no ENCRYPTED_FIELD_KEY: using the generated key in " + path, "back that file up: without it the encrypted fields cannot be read"})
		}
	}
	if _, err := engineRateLimits(lookupOr(d.Lookup, "HERALD_RATE_LIMITS")); err != nil {
		out = append(out, check{checkFail, "config", redactErr(err, nil), "write it as in README.md (Paging), e.g. sms=30/1m,call=10/1m"})
	}
	if _, err := handlers.NewChannelNameTemplate(cfg.CommsChannelTemplate); err != nil {
		out = append(out, check{checkFail, "config", "HERALD_COMMS_CHANNEL_TEMPLATE: " + redactErr(err, nil), "use a Go template over .Number, .Slug and .Title, e.g. " + config.DefaultCommsTemplate})
	}
	if cfg.KeywordsFile != "" {
		if _, err := handlers.LoadKeywords(cfg.KeywordsFile); err != nil {
			out = append(out, check{checkFail, "config", "HERALD_KEYWORDS_FILE: " + redactErr(err, nil), "correct the entry named, or unset HERALD_KEYWORDS_FILE"})
		}
	}
	if cfg.Demo && cfg.SlackSigningSecret == config.DemoSigningSecret {
		out = append(out, check{checkWarn, "config", "HERALD_DEMO accepts requests signed with the public demo secret: anyone can act as Slack", "set SLACK_SIGNING_SECRET and HERALD_DEMO=false before exposing Herald"})
	}
	if u, err := url.Parse(cfg.Webhook.URL); err == nil && u.Scheme == "http" {
		out = append(out, check{checkWarn, "config", "HERALD_WEBHOOK_URL is plain http: pages, with phone numbers, cross the network unencrypted", "use an https URL"})
	}
	return out
}

// database connects the way serve does, then asks what /readyz asks
// (reachable, no migration pending). It never migrates.
func (d *doctor) database(ctx context.Context) []check {
	cfg := d.cfg
	ctx, cancel := context.WithTimeout(ctx, d.Timeout)
	defer cancel()
	opts := models.OpenOptions{PostgresURL: cfg.DatabaseURL, MaxOpenConns: 2}
	where := "PostgreSQL"
	if cfg.Embedded() {
		opts.SQLitePath = filepath.Join(cfg.DataDir, "herald.db")
		where = "the SQLite file " + opts.SQLitePath
		if _, err := os.Stat(opts.SQLitePath); errors.Is(err, os.ErrNotExist) {
			return []check{{checkWarn, "database", "no embedded database yet at " + opts.SQLitePath, "`herald serve` or `herald migrate` creates it; set DATABASE_URL for PostgreSQL"}}
		}
	}
	cipher, err := d.connectCipher()
	if err != nil {
		return []check{{checkFail, "database", "cannot connect without a field key: " + redactErr(err, d.secrets), "set ENCRYPTED_FIELD_KEY"}}
	}
	opts.Cipher = cipher
	db, err := models.Open(ctx, opts)
	if err != nil {
		fix := "check DATABASE_URL (host, port, user, password, database) and that PostgreSQL accepts connections from here (pg_isready)"
		if cfg.Embedded() {
			fix = "check HERALD_DATA_DIR and the file's permissions"
		}
		return []check{{checkFail, "database", "cannot connect to " + where + ": " + redactErr(err, d.secrets), fix}}
	}
	defer models.Close(db)
	sqlDB, err := db.DB()
	if err != nil {
		return []check{{checkFail, "database", redactErr(err, d.secrets), "check DATABASE_URL"}}
	}
	dialect := migrations.Dialect(db.Dialector.Name())
	current, target, verr := migrations.Version(ctx, sqlDB, dialect)
	if err := (readiness{db: db}).Ready(ctx); err != nil {
		text := redactErr(err, d.secrets)
		if verr == nil && current < target {
			text = fmt.Sprintf("migrations pending: the schema is at version %d, this binary needs %d", current, target)
		}
		return []check{{checkFail, "database", text, "run `herald migrate` (herald serve also migrates at start-up)"}}
	}
	if verr != nil {
		return []check{{checkWarn, "database", "reachable, but the schema version is unreadable: " + redactErr(verr, d.secrets), "run `herald migrate`"}}
	}
	if current > target {
		return []check{{checkWarn, "database", fmt.Sprintf("schema at version %d, newer than this binary's %d: an older binary is checking a newer database", current, target), "run the same Herald version as the replicas that migrated it"}}
	}
	return []check{{Status: checkOK, Area: "database", Text: fmt.Sprintf("%s reachable, schema current (version %d)", where, current)}}
}

// connectCipher is the field key to open the database with. Connecting
// and reading the schema version read no encrypted column, so when the
// embedded store has no key yet a throwaway one does (nothing is written).
func (d *doctor) connectCipher() (*models.FieldCipher, error) {
	keys := d.cfg.EncryptedFieldKey
	if keys == "" && d.cfg.Embedded() {
		if b, err := os.ReadFile(filepath.Join(d.cfg.DataDir, "encrypted_field_key")); err == nil {
			keys = string(b)
		}
	}
	if keys == "" {
		if !d.cfg.Embedded() {
			return nil, errors.New("ENCRYPTED_FIELD_KEY is empty")
		}
		var err error
		if keys, err = models.GenerateKeyset(); err != nil {
			return nil, err
		}
	}
	c, err := models.NewFieldCipher(keys)
	if err != nil {
		// Reported by configExtras; connect anyway to check the rest.
		if keys, err = models.GenerateKeyset(); err != nil {
			return nil, err
		}
		return models.NewFieldCipher(keys)
	}
	return c, nil
}

func lookupOr(l config.Lookup, key string) string {
	v, _ := l(key)
	return v
}

// secretValues are the configured values no line may show.
func secretValues(cfg config.Config) []string {
	out := []string{cfg.SlackBotToken, cfg.SlackSigningSecret, cfg.SlackAppToken, cfg.EncryptedFieldKey, cfg.AdminAPIKey,
		cfg.TwilioAuthToken, cfg.TwilioFromNumber, cfg.SMTPPassword, cfg.ClaimLinkSecret, cfg.Webhook.Secret, cfg.Webhook.URL}
	if u, err := url.Parse(cfg.DatabaseURL); err == nil && u.User != nil {
		if p, ok := u.User.Password(); ok {
			out = append(out, p)
		}
	}
	return out
}

// redactErr is err's text with every secret value replaced.
func redactErr(err error, secrets []string) string {
	s := err.Error()
	for _, v := range secrets {
		if len(v) >= 4 {
			s = strings.ReplaceAll(s, v, "[redacted]")
		}
	}
	return s
}

// maskValue hides the value of a variable that holds a secret, a URL
// (which may carry credentials) or a phone number.
func maskValue(variable, value string) string {
	for _, w := range []string{"TOKEN", "SECRET", "KEY", "PASSWORD", "USERNAME", "URL", "NUMBER", "PHONE"} {
		if strings.Contains(variable, w) {
			if strings.Contains(variable, "NUMBER") || strings.Contains(variable, "PHONE") {
				return maskPhone(value)
			}
			return "[redacted]"
		}
	}
	return value
}

// maskPhone keeps a number's first two and last two characters:
// +15550100000 → +1••••••••00, enough to tell numbers apart.
func maskPhone(n string) string {
	r := []rune(n)
	if len(r) <= 4 {
		return strings.Repeat("•", len(r))
	}
	return string(r[:2]) + strings.Repeat("•", len(r)-4) + string(r[len(r)-2:])
}
