package config_test

import (
	"errors"
	"log/slog"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/config"
)

func lookup(env map[string]string) config.Lookup {
	return func(key string) (string, bool) {
		v, ok := env[key]
		return v, ok
	}
}

// minimal is the least a production config needs.
func minimal(extra map[string]string) map[string]string {
	env := map[string]string{"SLACK_SIGNING_SECRET": "s3cret"}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

func TestLoadDefaults(t *testing.T) {
	c, err := config.Load(lookup(minimal(nil)))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]any{
		"Addr": c.Addr, "BaseURL": c.BaseURL, "DataDir": c.DataDir, "DatabaseURL": c.DatabaseURL,
		"SlackBotToken": c.SlackBotToken, "SlackSigningSecret": c.SlackSigningSecret, "SlackAppToken": c.SlackAppToken,
		"SlackAPIURL": c.SlackAPIURL, "IncidentChannelName": c.IncidentChannelName, "IncidentChannelID": c.IncidentChannelID,
		"IncidentBotName": c.IncidentBotName, "EncryptedFieldKey": c.EncryptedFieldKey, "LogLevel": c.LogLevel,
		"LogFormat": c.LogFormat, "Workers": c.Workers, "JobLease": c.JobLease, "ShutdownTimeout": c.ShutdownTimeout, "Demo": c.Demo,
	}
	want := map[string]any{
		"Addr": ":8080", "BaseURL": "http://localhost:8080", "DataDir": "./data", "DatabaseURL": "",
		"SlackBotToken": "", "SlackSigningSecret": "s3cret", "SlackAppToken": "",
		"SlackAPIURL": "https://slack.com/api/", "IncidentChannelName": "incidents", "IncidentChannelID": "",
		"IncidentBotName": "incident", "EncryptedFieldKey": "", "LogLevel": slog.LevelInfo,
		"LogFormat": "text", "Workers": 4, "JobLease": 30 * time.Second, "ShutdownTimeout": 15 * time.Second, "Demo": false,
	}
	if !reflect.DeepEqual(got, want) {
		for k := range want {
			if !reflect.DeepEqual(got[k], want[k]) {
				t.Errorf("%s = %v, want %v", k, got[k], want[k])
			}
		}
	}
	if !c.Embedded() || !c.DryRunSlack() {
		t.Errorf("defaults: Embedded=%v DryRunSlack=%v, want both true", c.Embedded(), c.DryRunSlack())
	}
}

func TestLoadValues(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		check func(c config.Config) bool
	}{
		{"base URL from a host:port addr", map[string]string{"HERALD_ADDR": "127.0.0.1:9000"}, func(c config.Config) bool { return c.BaseURL == "http://localhost:9000" }},
		{"base URL from an IPv6 addr", map[string]string{"HERALD_ADDR": "[::1]:9090"}, func(c config.Config) bool { return c.BaseURL == "http://localhost:9090" }},
		{"explicit base URL wins, trailing slash dropped", map[string]string{"HERALD_ADDR": ":9000", "HERALD_BASE_URL": "https://herald.example.com/"}, func(c config.Config) bool {
			return c.BaseURL == "https://herald.example.com"
		}},
		{"API URL gains a trailing slash", map[string]string{"SLACK_API_URL": "http://127.0.0.1:9999/api"}, func(c config.Config) bool { return c.SlackAPIURL == "http://127.0.0.1:9999/api/" }},
		{"channel name loses its #", map[string]string{"INCIDENT_CHANNEL_NAME": "#major-incidents"}, func(c config.Config) bool { return c.IncidentChannelName == "major-incidents" }},
		{"values are trimmed", map[string]string{"HERALD_WORKERS": " 8 ", "HERALD_LOG_FORMAT": " JSON "}, func(c config.Config) bool { return c.Workers == 8 && c.LogFormat == "json" }},
		{"blank means unset", map[string]string{"HERALD_WORKERS": "  ", "HERALD_ADDR": ""}, func(c config.Config) bool { return c.Workers == 4 && c.Addr == ":8080" }},
		{"log level", map[string]string{"HERALD_LOG_LEVEL": "debug"}, func(c config.Config) bool { return c.LogLevel == slog.LevelDebug }},
		{"log level upper case", map[string]string{"HERALD_LOG_LEVEL": "WARN"}, func(c config.Config) bool { return c.LogLevel == slog.LevelWarn }},
		{"durations", map[string]string{"HERALD_JOB_LEASE": "2m", "HERALD_SHUTDOWN_TIMEOUT": "1m30s"}, func(c config.Config) bool {
			return c.JobLease == 2*time.Minute && c.ShutdownTimeout == 90*time.Second
		}},
		{"postgres", map[string]string{"DATABASE_URL": "postgres://herald@db/herald"}, func(c config.Config) bool { return !c.Embedded() }},
		{"postgresql scheme", map[string]string{"DATABASE_URL": "postgresql://herald@db/herald"}, func(c config.Config) bool { return !c.Embedded() }},
		{"tokens", map[string]string{"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"}, func(c config.Config) bool {
			return c.SlackBotToken == "xoxb-1" && c.SlackAppToken == "xapp-1" && !c.DryRunSlack()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := config.Load(lookup(minimal(tt.env)))
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(c) {
				t.Errorf("Load = %+v", c)
			}
		})
	}
}

func TestLoadDemo(t *testing.T) {
	c, err := config.Load(lookup(map[string]string{"HERALD_DEMO": "true"}))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Demo || c.SlackSigningSecret != config.DemoSigningSecret {
		t.Errorf("demo: Demo=%v secret=%q", c.Demo, c.SlackSigningSecret)
	}
	// A real secret wins over the demo one.
	c, err = config.Load(lookup(map[string]string{"HERALD_DEMO": "1", "SLACK_SIGNING_SECRET": "real"}))
	if err != nil || c.SlackSigningSecret != "real" {
		t.Errorf("demo with a secret: %q, %v", c.SlackSigningSecret, err)
	}
}

// invalidVars lists the variables named by Load's error, in order.
func invalidVars(t *testing.T, err error) []*config.InvalidError {
	t.Helper()
	var out []*config.InvalidError
	var walk func(error)
	walk = func(err error) {
		if ie, ok := err.(*config.InvalidError); ok {
			out = append(out, ie)
			return
		}
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	return out
}

func TestLoadInvalidValuesNameTheirVariable(t *testing.T) {
	const (
		shown  = iota // the error shows the offending value
		secret        // the value must not appear in the error
		named         // the error names the variable only
	)
	tests := []struct {
		variable, value string
		echo            int
	}{
		{"HERALD_WORKERS", "abc", shown},
		{"HERALD_WORKERS", "0", shown},
		{"HERALD_WORKERS", "-2", shown},
		{"HERALD_LOG_FORMAT", "xml", shown},
		{"HERALD_LOG_LEVEL", "verbose", shown},
		{"HERALD_JOB_LEASE", "30", shown},
		{"HERALD_JOB_LEASE", "-5s", shown},
		{"HERALD_SHUTDOWN_TIMEOUT", "soon", shown},
		{"HERALD_DEMO", "yes please", shown},
		{"HERALD_BASE_URL", "herald.example.com", shown},
		{"HERALD_BASE_URL", "ftp://herald.example.com", shown},
		{"SLACK_API_URL", "notaurl", shown},
		{"SLACK_API_URL", "https://", shown},
		{"INCIDENT_CHANNEL_NAME", "major incidents", named},
		{"INCIDENT_CHANNEL_NAME", "a.b", named},
		{"INCIDENT_CHANNEL_NAME", "#", named},
		{"INCIDENT_CHANNEL_NAME", strings.Repeat("x", 81), named},
		{"SLACK_BOT_TOKEN", "abc-very-secret-token", secret},
		{"SLACK_BOT_TOKEN", "xapp-wrong-kind-of-token", secret},
		{"SLACK_APP_TOKEN", "xoxb-wrong-kind-of-token", secret},
		{"DATABASE_URL", "mysql://herald:hunter2@db/herald", secret},
		{"DATABASE_URL", "herald:hunter2@db", secret},
	}
	for _, tt := range tests {
		t.Run(tt.variable+"="+tt.value, func(t *testing.T) {
			_, err := config.Load(lookup(minimal(map[string]string{tt.variable: tt.value})))
			if err == nil {
				t.Fatal("Load accepted it")
			}
			ies := invalidVars(t, err)
			if len(ies) != 1 || ies[0].Variable != tt.variable {
				t.Fatalf("Load = %v; want one InvalidError naming %s", err, tt.variable)
			}
			if !strings.Contains(err.Error(), tt.variable) || ies[0].Expected == "" {
				t.Errorf("error %q does not name %s and what it expects", err, tt.variable)
			}
			switch tt.echo {
			case secret:
				for _, part := range []string{tt.value, "hunter2", "secret-token"} {
					if strings.Contains(err.Error(), part) {
						t.Errorf("error %q echoes (part of) the secret value", err)
					}
				}
			case shown:
				if !strings.Contains(err.Error(), tt.value) {
					t.Errorf("error %q does not show the offending value", err)
				}
			}
		})
	}
}

func TestLoadMissingSigningSecret(t *testing.T) {
	_, err := config.Load(lookup(map[string]string{}))
	ies := invalidVars(t, err)
	if len(ies) != 1 || ies[0].Variable != "SLACK_SIGNING_SECRET" || !strings.Contains(err.Error(), "HERALD_DEMO") {
		t.Fatalf("Load = %v; want SLACK_SIGNING_SECRET named, with the HERALD_DEMO hint", err)
	}
	for _, v := range []string{"", "  ", "\t"} {
		if _, err := config.Load(lookup(map[string]string{"SLACK_SIGNING_SECRET": v})); err == nil {
			t.Errorf("SLACK_SIGNING_SECRET=%q accepted", v)
		}
	}
	if _, err := config.Load(lookup(map[string]string{"HERALD_DEMO": "false"})); err == nil {
		t.Error("HERALD_DEMO=false without a secret accepted")
	}
}

func TestLoadReportsAllErrorsTogether(t *testing.T) {
	env := map[string]string{
		"HERALD_WORKERS":    "abc",
		"HERALD_LOG_FORMAT": "xml",
		"SLACK_BOT_TOKEN":   "abc",
		"DATABASE_URL":      "mysql://root:hunter2@db/herald",
		"SLACK_API_URL":     "notaurl",
		"HERALD_JOB_LEASE":  "forever",
	}
	_, err := config.Load(lookup(env))
	if err == nil {
		t.Fatal("Load accepted it")
	}
	var got []string
	for _, ie := range invalidVars(t, err) {
		got = append(got, ie.Variable)
	}
	want := []string{"DATABASE_URL", "HERALD_JOB_LEASE", "HERALD_LOG_FORMAT", "HERALD_WORKERS", "SLACK_API_URL", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"}
	sort.Strings(got)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("named %v, want %v", got, want)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "configuration: ") || strings.Count(msg, "\n") != len(want)-1 {
		t.Errorf("want one line per problem:\n%s", msg)
	}
	for _, secret := range []string{"hunter2", "mysql://"} {
		if strings.Contains(msg, secret) {
			t.Errorf("error echoes %q:\n%s", secret, msg)
		}
	}
	var ie *config.InvalidError
	if !errors.As(err, &ie) {
		t.Error("errors.As cannot find an InvalidError")
	}
}

func TestInvalidErrorText(t *testing.T) {
	if got, want := (&config.InvalidError{Variable: "X", Value: "1", Expected: "two"}).Error(), `X="1": expected two`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if got, want := (&config.InvalidError{Variable: "X", Expected: "two"}).Error(), "X: expected two"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
