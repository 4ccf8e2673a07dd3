package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/heraldhq/herald/internal/slackfake"
	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/models"
)

// doctorSetup is a deployment for `herald doctor` to check: a migrated
// test database, a fake Slack, a fake Twilio account and Herald's public
// URL (an HTTPS server answering /healthz), all healthy until a case
// breaks one of them.
type doctorSetup struct {
	env    map[string]string
	http   *http.Client
	db     *testdb.DB
	twilio *fakeTwilioAccount
}

func newDoctorSetup(t *testing.T, dialect string, slackOpts ...slackfake.Option) *doctorSetup {
	t.Helper()
	db := testdb.New(t, dialect, models.SystemClock{})
	slack := slackfake.New(t, slackOpts...)
	public := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	}))
	t.Cleanup(public.Close)
	client := public.Client() // trusts the server's certificate; plain http works too
	client.Timeout = 10 * time.Second
	s := &doctorSetup{db: db, http: client, env: map[string]string{
		"HERALD_BASE_URL": public.URL, "ENCRYPTED_FIELD_KEY": db.Keyset,
		"SLACK_BOT_TOKEN": "xoxb-doctor-token", "SLACK_SIGNING_SECRET": testSigningSecret, "SLACK_API_URL": slack.APIURL(),
		"TWILIO_ACCOUNT_SID": e2eTwilioSID, "TWILIO_AUTH_TOKEN": e2eTwilioToken, "TWILIO_FROM_NUMBER": e2eTwilioFrom,
	}}
	s.twilio = newFakeTwilioAccount(t, "active", "Full", twilioNumber{Number: e2eTwilioFrom, SMSURL: public.URL + "/twilio/sms"})
	s.env["TWILIO_API_URL"] = s.twilio.srv.URL
	switch dialect {
	case models.DialectPostgres:
		s.env["DATABASE_URL"] = db.URL
	case models.DialectSQLite:
		s.env["HERALD_DATA_DIR"] = filepath.Dir(db.URL)
	}
	return s
}

// run is `herald doctor` on this deployment: its report and its error.
func (s *doctorSetup) run() (string, error) {
	d := &doctor{Lookup: func(k string) (string, bool) { v, ok := s.env[k]; return v, ok }, HTTP: s.http, Timeout: 10 * time.Second}
	var out bytes.Buffer
	err := reportChecks(&out, d.run(context.Background()))
	return out.String(), err
}

type twilioNumber struct{ Number, SMSURL string }

// fakeTwilioAccount answers Twilio's account fetch and phone number list
// as Twilio does (basic auth, JSON resources, Twilio's error JSON).
type fakeTwilioAccount struct {
	srv     *httptest.Server
	status  string
	kind    string
	numbers []twilioNumber
}

func newFakeTwilioAccount(t *testing.T, status, kind string, numbers ...twilioNumber) *fakeTwilioAccount {
	f := &fakeTwilioAccount{status: status, kind: kind, numbers: numbers}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeTwilioAccount) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if user, pass, ok := r.BasicAuth(); !ok || user != e2eTwilioSID || pass != e2eTwilioToken {
		w.WriteHeader(http.StatusUnauthorized)
		_ = json.NewEncoder(w).Encode(map[string]any{"code": 20003, "message": "Authenticate", "status": 401})
		return
	}
	account := "/2010-04-01/Accounts/" + e2eTwilioSID
	switch {
	case r.Method == http.MethodGet && r.URL.Path == account+".json":
		_ = json.NewEncoder(w).Encode(map[string]any{"sid": e2eTwilioSID, "status": f.status, "type": f.kind, "friendly_name": "Herald"})
	case r.Method == http.MethodGet && r.URL.Path == account+"/IncomingPhoneNumbers.json":
		list := []map[string]any{}
		for i, n := range f.numbers {
			if strings.Contains(n.Number, r.URL.Query().Get("PhoneNumber")) {
				list = append(list, map[string]any{"sid": fmt.Sprintf("PN%032d", i), "phone_number": n.Number, "sms_url": n.SMSURL, "sms_method": "POST"})
			}
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"incoming_phone_numbers": list, "page": 0, "page_size": 20, "next_page_uri": nil})
	default:
		w.WriteHeader(http.StatusNotFound)
		_ = json.NewEncoder(w).Encode(map[string]any{"code": 20404, "message": "not found", "status": 404})
	}
}

// reportLine finds the report's line of status and area containing text.
func reportLine(report string, status checkStatus, area, text string) bool {
	prefix := fmt.Sprintf("%-4s  %-8s  ", status, area)
	for _, line := range strings.Split(report, "\n") {
		if strings.HasPrefix(line, prefix) && strings.Contains(line, text) {
			return true
		}
	}
	return false
}

type wantLine struct {
	status checkStatus
	area   string
	text   string
}

func TestDoctorChecksDeployment(t *testing.T) {
	allScopes := strings.Split(slackBotScopes, ",")
	lacking := slices.DeleteFunc(slices.Clone(allScopes), func(s string) bool { return s == "channels:manage" || s == "pins:write" })
	cases := []struct {
		name      string
		slackOpts []slackfake.Option
		change    func(t *testing.T, s *doctorSetup)
		fails     bool
		want      []wantLine
	}{
		{name: "healthy", slackOpts: []slackfake.Option{slackfake.WithScopes(allScopes...)}, want: []wantLine{
			{checkOK, "config", "every variable is well-formed"}, {checkOK, "config", "usable keyset"},
			{checkOK, "database", "schema current"},
			{checkOK, "slack", "bot @incident (U0FAKEBOT)"}, {checkOK, "slack", fmt.Sprintf("every scope Herald uses (%d)", len(allScopes))},
			{checkOK, "twilio", "account active"}, {checkOK, "twilio", "belongs to the account"},
			{checkOK, "url", "reachable; Slack request URLs"},
		}},
		{name: "bad Slack token", fails: true, slackOpts: []slackfake.Option{slackfake.WithToken("xoxb-the-installed-one")},
			want: []wantLine{{checkFail, "slack", "refused SLACK_BOT_TOKEN: invalid_auth. Fix: copy the Bot User OAuth Token"}}},
		{name: "missing scopes", fails: true, slackOpts: []slackfake.Option{slackfake.WithScopes(lacking...)},
			want: []wantLine{{checkFail, "slack", "lacks scopes Herald uses: channels:manage, pins:write. Fix: add them"}}},
		{name: "scopes not reported", want: []wantLine{{checkWarn, "slack", "no X-OAuth-Scopes header"}}},
		{name: "wrong Twilio token", fails: true, change: func(t *testing.T, s *doctorSetup) { s.env["TWILIO_AUTH_TOKEN"] = "wrongtoken0123456789" },
			want: []wantLine{{checkFail, "twilio", "Twilio refused TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN: twilio-sms: Twilio error 20003"}}},
		{name: "from number not the account's", fails: true, change: func(t *testing.T, s *doctorSetup) { s.twilio.numbers = nil },
			want: []wantLine{{checkFail, "twilio", "TWILIO_FROM_NUMBER (+1••••••••00) is not a phone number of this Twilio account"}}},
		{name: "SMS replies go elsewhere", change: func(t *testing.T, s *doctorSetup) {
			s.twilio.numbers[0].SMSURL = "https://demo.twilio.com/welcome/sms/reply"
		},
			want: []wantLine{{checkWarn, "twilio", "SMS replies (claim, STOP) never reach Herald"}}},
		{name: "suspended Twilio account", fails: true, change: func(t *testing.T, s *doctorSetup) { s.twilio.status = "suspended" },
			want: []wantLine{{checkFail, "twilio", "the Twilio account is suspended"}}},
		{name: "trial Twilio account", change: func(t *testing.T, s *doctorSetup) { s.twilio.kind = "Trial" },
			want: []wantLine{{checkWarn, "twilio", "trial"}}},
		{name: "public URL unreachable", fails: true, change: func(t *testing.T, s *doctorSetup) { s.env["HERALD_BASE_URL"] = "https://127.0.0.1:1" },
			want: []wantLine{{checkFail, "url", "cannot reach https://127.0.0.1:1/healthz"}}},
		{name: "pending migrations", fails: true, change: func(t *testing.T, s *doctorSetup) {
			// The newest migration forgotten: the binary is ahead of the schema.
			err := s.db.Gorm.Exec("DELETE FROM goose_db_version WHERE version_id = (SELECT MAX(version_id) FROM goose_db_version)").Error
			if err != nil {
				t.Fatal(err)
			}
		}, want: []wantLine{{checkFail, "database", "migrations pending: the schema is at version"}, {checkFail, "database", "Fix: run `herald migrate`"}}},
		{name: "dry run, no Twilio, no public URL", change: func(t *testing.T, s *doctorSetup) {
			for _, k := range []string{"SLACK_BOT_TOKEN", "HERALD_BASE_URL", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER"} {
				delete(s.env, k)
			}
		}, want: []wantLine{{checkWarn, "slack", "dry run"}, {checkOK, "twilio", "not configured"}, {checkWarn, "url", "HERALD_BASE_URL is not set"}}},
	}
	forEachDialect(t, func(t *testing.T, dialect string) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				s := newDoctorSetup(t, dialect, tc.slackOpts...)
				if tc.change != nil {
					tc.change(t, s)
				}
				report, err := s.run()
				if (err != nil) != tc.fails {
					t.Errorf("error %v, want failure %v", err, tc.fails)
				}
				if !tc.fails && strings.Contains(report, "FAIL ") {
					t.Errorf("a FAIL line in a report that should pass")
				}
				if tc.name == "healthy" && strings.Contains(report, "WARN ") {
					t.Errorf("a WARN line in the healthy report")
				}
				for _, w := range tc.want {
					if !reportLine(report, w.status, w.area, w.text) {
						t.Errorf("no %s %s line containing %q", w.status, w.area, w.text)
					}
				}
				for _, secret := range []string{"xoxb-doctor-token", e2eTwilioToken, e2eTwilioFrom, testSigningSecret, s.db.Keyset} {
					if strings.Contains(report, secret) {
						t.Errorf("the report shows a secret or phone number %q", secret)
					}
				}
				if t.Failed() {
					t.Logf("report:\n%s", report)
				}
			})
		}
	})
}

func TestDoctorUnreachableDatabase(t *testing.T) {
	keys, err := models.GenerateKeyset()
	if err != nil {
		t.Fatal(err)
	}
	// Port 1: nothing listens, so the connection is refused at once.
	env := map[string]string{"DATABASE_URL": "postgres://herald:s3cret-pw@127.0.0.1:1/herald?sslmode=disable&connect_timeout=2",
		"ENCRYPTED_FIELD_KEY": keys, "SLACK_SIGNING_SECRET": testSigningSecret}
	d := &doctor{Lookup: func(k string) (string, bool) { v, ok := env[k]; return v, ok }, HTTP: http.DefaultClient, Timeout: 5 * time.Second}
	var out bytes.Buffer
	if err := reportChecks(&out, d.run(context.Background())); err == nil {
		t.Error("doctor passed with the database down")
	}
	report := out.String()
	if !reportLine(report, checkFail, "database", "cannot connect to PostgreSQL") || !strings.Contains(report, "Fix: check DATABASE_URL") {
		t.Errorf("no FAIL line for the database:\n%s", report)
	}
	if strings.Contains(report, "s3cret-pw") {
		t.Errorf("the report shows the database password:\n%s", report)
	}
}

func TestDoctorReportsEveryInvalidVariable(t *testing.T) {
	env := map[string]string{"HERALD_WORKERS": "four", "HERALD_LOG_FORMAT": "xml", "SLACK_BOT_TOKEN": "xoxp-user-token",
		"TWILIO_ACCOUNT_SID": e2eTwilioSID, "TWILIO_AUTH_TOKEN": e2eTwilioToken, "TWILIO_FROM_NUMBER": "555-0100-777"}
	d := &doctor{Lookup: func(k string) (string, bool) { v, ok := env[k]; return v, ok }, HTTP: http.DefaultClient, Timeout: time.Second}
	var out bytes.Buffer
	if err := reportChecks(&out, d.run(context.Background())); err == nil {
		t.Error("doctor passed an invalid configuration")
	}
	report := out.String()
	for _, w := range []wantLine{
		{checkFail, "config", `HERALD_WORKERS="four" is invalid. Fix: set it to a positive whole number`},
		{checkFail, "config", `HERALD_LOG_FORMAT="xml" is invalid. Fix: set it to one of text, json`},
		{checkFail, "config", "SLACK_BOT_TOKEN is invalid. Fix: set it to a bot token starting with xoxb-"},
		{checkFail, "config", "SLACK_SIGNING_SECRET is invalid"},
		{checkFail, "config", `TWILIO_FROM_NUMBER="55••••••••77" is invalid. Fix: set it to a phone number in E.164 form`},
		{checkFail, "doctor", "database, Slack, Twilio and URL checks skipped"},
	} {
		if !reportLine(report, w.status, w.area, w.text) {
			t.Errorf("no %s %s line containing %q", w.status, w.area, w.text)
		}
	}
	for _, secret := range []string{"555-0100-777", "xoxp-user-token", e2eTwilioToken} {
		if strings.Contains(report, secret) {
			t.Errorf("the report shows %q", secret)
		}
	}
	if t.Failed() {
		t.Logf("report:\n%s", report)
	}
}

// TestSlackBotScopesMatchManifest keeps the doctor's list of scopes and
// the app manifest people install from in step.
func TestSlackBotScopesMatchManifest(t *testing.T) {
	raw, err := os.ReadFile("../../slack-app-manifest.yml")
	if err != nil {
		t.Fatal(err)
	}
	var manifest struct {
		OAuth struct {
			Scopes struct {
				Bot []string `yaml:"bot"`
			} `yaml:"scopes"`
		} `yaml:"oauth_config"`
	}
	if err := yaml.Unmarshal(raw, &manifest); err != nil {
		t.Fatal(err)
	}
	got := strings.Split(slackBotScopes, ",")
	want := slices.Clone(manifest.OAuth.Scopes.Bot)
	slices.Sort(got)
	slices.Sort(want)
	if len(want) == 0 || !slices.Equal(got, want) {
		t.Errorf("doctor checks scopes %v, the manifest grants %v", got, want)
	}
}

func TestMaskPhone(t *testing.T) {
	for in, want := range map[string]string{"+15550100000": "+1••••••••00", "+44": "•••", "": ""} {
		if got := maskPhone(in); got != want {
			t.Errorf("maskPhone(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzScopeCheck: Slack's X-OAuth-Scopes header is outside input. Granting
// every scope Herald uses always passes, and a failure names only scopes
// Herald uses that the header lacks.
func FuzzScopeCheck(f *testing.F) {
	f.Add(slackBotScopes)
	f.Add("chat:write, commands,,users:read ")
	f.Add("")
	f.Fuzz(func(t *testing.T, header string) {
		if c := scopeCheck(header + "," + slackBotScopes); c.Status != checkOK {
			t.Fatalf("every scope granted, yet %s: %s", c.Status, c.Text)
		}
		c := scopeCheck(header)
		missing, ok := strings.CutPrefix(c.Text, "the bot token lacks scopes Herald uses: ")
		if c.Status != checkFail || !ok {
			return
		}
		granted := map[string]bool{}
		for _, s := range strings.Split(header, ",") {
			granted[strings.TrimSpace(s)] = true
		}
		for _, s := range strings.Split(missing, ", ") {
			if granted[s] || !strings.Contains(","+slackBotScopes+",", ","+s+",") {
				t.Fatalf("%q reported missing from %q", s, header)
			}
		}
	})
}
