package notifications_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"regexp"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/testlog"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
)

var sixDigits = regexp.MustCompile(`\b\d{6}\b`)

func TestSendVerificationThenPaged(t *testing.T) {
	forEachDialect(t, func(t *testing.T, f *fixture) {
		var logs bytes.Buffer
		vs := notifications.NewVendors()
		if err := vs.Register(f.vendor); err != nil {
			t.Fatal(err)
		}
		e := notifications.NewEngine(f.store, vs, notifications.DirectoryRoles{Dir: f.store}, f.alerts, f.clock,
			slog.New(testlog.Wrap(t, slog.NewTextHandler(&logs, nil))), notifications.EngineOptions{Owner: "engine-a"})
		alice := f.person("alice")
		f.prefer(alice, "high", "sms")
		cm := f.contact(alice, notifications.ModeSMS, "+15550100001", false)

		// Unverified: a page does not reach the number.
		f.plan("p", steps(step(user("alice", "high", 0, 0))))
		inc := f.incident("db down")
		if err := e.Escalate(f.ctx, inc.ID, "p"); err != nil {
			t.Fatal(err)
		}
		f.tickWith(e)
		if got := f.vendor.accepted(); len(got) != 0 {
			t.Fatalf("an unverified number was paged: %+v", got)
		}

		if err := e.SendVerification(f.ctx, cm.ID); err != nil {
			t.Fatal(err)
		}
		got := f.vendor.accepted()
		if len(got) != 1 || got[0].Msg.Mode != notifications.ModeSMS || got[0].Msg.Destination != "+15550100001" || !got[0].Msg.OutOfBand || got[0].Msg.IncidentID != 0 {
			t.Fatalf("verification message = %+v; want one out-of-band SMS to the unverified number", got)
		}
		code := sixDigits.FindString(got[0].Msg.Body)
		if code == "" {
			t.Fatalf("no 6-digit code in %q", got[0].Msg.Body)
		}
		if strings.Contains(logs.String(), code) || strings.Contains(logs.String(), "+15550100001") {
			t.Fatalf("the code or the number reached the log:\n%s", logs.String())
		}
		if ms := f.messages(inc); len(ms) != 1 || ms[0].Status != models.MessageFailed {
			t.Fatalf("message history = %+v; want only the failed page (the code is never stored as a message)", ms)
		}
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		if err := f.store.VerifyContact(f.ctx, cm.ID, wrong); !errors.Is(err, models.ErrVerificationWrongCode) {
			t.Fatalf("wrong code: %v", err)
		}
		if err := f.store.VerifyContact(f.ctx, cm.ID, code); err != nil {
			t.Fatalf("the code sent: %v", err)
		}

		// Verified: the next page reaches it.
		f.vendor.reset()
		if _, err := e.PagePeople(f.ctx, inc.ID, notifications.RoleUser, "alice", "high", "", "test"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.SendDue(f.ctx); err != nil {
			t.Fatal(err)
		}
		if got := f.vendor.accepted(); len(got) != 1 || got[0].Msg.Destination != "+15550100001" {
			t.Fatalf("after verification: %+v; want the page on the number", got)
		}
	})
}

func TestSendVerificationRefusals(t *testing.T) {
	forEachDialect(t, func(t *testing.T, f *fixture) {
		bob := f.person("bob")
		if err := f.engine.SendVerification(f.ctx, "no-such-contact"); !models.IsNotFound(err) {
			t.Fatalf("unknown contact: %v, want not found", err)
		}
		cm := f.contact(bob, notifications.ModeCall, "+15550100002", false)
		f.vendor.setFail(errors.New("vendor down"))
		if err := f.engine.SendVerification(f.ctx, cm.ID); err == nil || !strings.Contains(err.Error(), "vendor down") {
			t.Fatalf("vendor failing: %v", err)
		}
		f.vendor.setFail(nil)
		f.vendor.reset()
		if err := f.engine.SendVerification(f.ctx, cm.ID); err != nil {
			t.Fatal(err)
		}
		// A call speaks the digits one by one.
		if got := f.vendor.accepted(); len(got) != 1 || !regexp.MustCompile(`(\d, ){5}\d`).MatchString(got[0].Msg.Body) {
			t.Fatalf("call verification = %+v", got)
		}

		noVendor := notifications.NewVendors()
		if err := noVendor.Register(newFakeVendor("slack-only", f.clock, notifications.ModeSlack)); err != nil {
			t.Fatal(err)
		}
		e := f.newEngine("engine-b", noVendor, notifications.EngineOptions{})
		if err := e.SendVerification(f.ctx, cm.ID); !errors.Is(err, notifications.ErrNoVendor) {
			t.Fatalf("no call vendor: %v, want ErrNoVendor", err)
		}
		now := f.clock.Now()
		if err := f.db.Gorm.Model(&models.ContactMethod{}).Where("id = ?", cm.ID).Update("opted_out_at", now).Error; err != nil {
			t.Fatal(err)
		}
		if err := f.engine.SendVerification(f.ctx, cm.ID); !errors.Is(err, notifications.ErrNoDestination) {
			t.Fatalf("opted-out number: %v, want ErrNoDestination", err)
		}
	})
}

func TestEngineDefaultModesOption(t *testing.T) {
	forEachDialect(t, func(t *testing.T, f *fixture) {
		carol := f.person("carol")
		f.contact(carol, notifications.ModeEmail, "carol@example.com", false)
		dave := f.person("dave")
		f.prefer(dave, "high", "slack")
		vs := notifications.NewVendors()
		if err := vs.Register(f.vendor); err != nil {
			t.Fatal(err)
		}
		e := f.newEngine("engine-b", vs, notifications.EngineOptions{DefaultModes: map[string][]notifications.Mode{"high": {notifications.ModeEmail}}})
		inc := f.incident("slow checkout")
		for _, who := range []string{"carol", "dave"} {
			if _, err := e.PagePeople(f.ctx, inc.ID, notifications.RoleUser, who, "high", "", "test"); err != nil {
				t.Fatal(err)
			}
		}
		// low is not overridden: the built-in default (Slack) stays.
		if _, err := e.PagePeople(f.ctx, inc.ID, notifications.RoleUser, "carol", "low", "", "test"); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range f.messages(inc) {
			got = append(got, m.Priority+":"+m.Mode)
		}
		if want := []string{"high:email", "high:slack", "low:slack"}; !sortedEqual(got, want) {
			t.Fatalf("modes = %v, want %v (carol by the configured default, dave by his preference)", got, want)
		}
	})
}

// recordingConsole is the console vendor that also keeps what it was
// given, so a test knows the code the log must not show.
type recordingConsole struct {
	notifications.Console
	got []notifications.Message
}

func (r *recordingConsole) Send(ctx context.Context, m notifications.Message) (string, error) {
	r.got = append(r.got, m)
	return r.Console.Send(ctx, m)
}

// spoken is a code as a call reads it out.
func spoken(code string) string { return strings.Join(strings.Split(code, ""), ", ") }

// TestSendVerificationConsoleLog: with the demo's console vendor, neither
// the code nor the number reaches the log, which says where the code went.
func TestSendVerificationConsoleLog(t *testing.T) {
	for _, mode := range []notifications.Mode{notifications.ModeSMS, notifications.ModeCall} {
		t.Run(string(mode), func(t *testing.T) {
			f := newFixture(t, models.DialectSQLite)
			var logs bytes.Buffer
			log := slog.New(testlog.Wrap(t, slog.NewJSONHandler(&logs, nil)))
			console := &recordingConsole{Console: notifications.Console{Log: log}}
			vs := notifications.NewVendors()
			if err := vs.Register(console); err != nil {
				t.Fatal(err)
			}
			e := notifications.NewEngine(f.store, vs, notifications.DirectoryRoles{Dir: f.store}, f.alerts, f.clock, log,
				notifications.EngineOptions{Owner: "engine-a"})
			cm := f.contact(f.person("carol"), mode, "+15550100009", false)
			if err := e.SendVerification(f.ctx, cm.ID); err != nil {
				t.Fatal(err)
			}
			if len(console.got) != 1 || !console.got[0].Sensitive {
				t.Fatalf("console got %+v; want one message marked sensitive", console.got)
			}
			code := sixDigits.FindString(strings.ReplaceAll(console.got[0].Body, ", ", ""))
			if code == "" {
				t.Fatalf("no code in %q", console.got[0].Body)
			}
			out := logs.String()
			for _, secret := range []string{code, spoken(code), "+15550100009", "5550100009"} {
				if strings.Contains(out, secret) {
					t.Errorf("%q reached the log:\n%s", secret, out)
				}
			}
			if !strings.Contains(out, "CONSOLE VENDOR") || !strings.Contains(out, "destination ****09") {
				t.Errorf("the log does not say where the code went:\n%s", out)
			}
			if err := f.store.VerifyContact(f.ctx, cm.ID, code); err != nil {
				t.Fatalf("the code sent: %v", err)
			}
		})
	}
}

// TestConsoleRedaction: the console logs a page's text, never a
// sensitive message's, in either log format.
func TestConsoleRedaction(t *testing.T) {
	page := notifications.Message{Mode: notifications.ModeSMS, Destination: "+15550100001", IncidentID: 7, ClaimCode: "4821",
		Subject: "Incident #7", Body: "Herald #7 SEV1: db down. Reply \"4821 claim\"."}
	secret := notifications.Message{Mode: notifications.ModeSMS, Destination: "+15550100001", OutOfBand: true, Sensitive: true,
		Subject: "Herald verification code 905512", Body: "Your Herald verification code is 905512."}
	handlers := map[string]func(*bytes.Buffer) slog.Handler{
		"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		"json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
	}
	for format, handler := range handlers {
		for _, tc := range []struct {
			name          string
			msg           notifications.Message
			want, notWant []string
		}{
			{"page", page, []string{"db down", "4821 claim", "****01"}, []string{"+15550100001"}},
			{"sensitive", secret, []string{"[redacted", "sms destination ****01", "sensitive"}, []string{"905512", "+15550100001"}},
		} {
			t.Run(format+"/"+tc.name, func(t *testing.T) {
				var logs bytes.Buffer
				c := notifications.Console{Log: slog.New(testlog.Wrap(t, handler(&logs)))}
				if _, err := c.Send(context.Background(), tc.msg); err != nil {
					t.Fatal(err)
				}
				out := logs.String()
				for _, s := range tc.want {
					if !strings.Contains(out, s) {
						t.Errorf("log lacks %q:\n%s", s, out)
					}
				}
				for _, s := range tc.notWant {
					if strings.Contains(out, s) {
						t.Errorf("log shows %q:\n%s", s, out)
					}
				}
			})
		}
	}
}
