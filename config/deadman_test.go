package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/config"
)

func TestDeadManConfig(t *testing.T) {
	c, err := config.Load(lookup(minimal(nil)))
	if err != nil {
		t.Fatal(err)
	}
	want := config.DeadMan{Schedule: "@every 1h", PingInterval: time.Minute, MaxLag: 2 * time.Minute}
	if c.DeadMan != want || c.DeadMan.Enabled() {
		t.Errorf("default: %+v (enabled %v), want %+v, off", c.DeadMan, c.DeadMan.Enabled(), want)
	}

	ping := "https://hc-ping.com/0b3a9c4e-secret"
	c, err = config.Load(lookup(minimal(map[string]string{
		"HERALD_DEADMAN_TARGET": " User: alice ", "HERALD_DEADMAN_MODE": "EMAIL", "HERALD_DEADMAN_SCHEDULE": "0 9 * * 1-5",
		"HERALD_DEADMAN_PING_URL": ping, "HERALD_DEADMAN_PING_INTERVAL": "30s", "HERALD_DEADMAN_MAX_LAG": "5m",
	})))
	if err != nil {
		t.Fatal(err)
	}
	want = config.DeadMan{Role: "user", Target: "alice", Mode: "email", Schedule: "0 9 * * 1-5", PingURL: ping, PingInterval: 30 * time.Second, MaxLag: 5 * time.Minute}
	if c.DeadMan != want || !c.DeadMan.Enabled() {
		t.Errorf("set: %+v, want %+v", c.DeadMan, want)
	}
	c, err = config.Load(lookup(minimal(map[string]string{"HERALD_DEADMAN_TARGET": "slack-channel:C0123ABCD"})))
	if err != nil || c.DeadMan.Role != "slack-channel" || c.DeadMan.Target != "C0123ABCD" || c.DeadMan.PingURL != "" {
		t.Errorf("a channel, no pings: %+v %v", c.DeadMan, err)
	}

	tests := []struct {
		name string
		env  map[string]string
		want []string // in the error
	}{
		{"no role", map[string]string{"HERALD_DEADMAN_TARGET": "alice"}, []string{"HERALD_DEADMAN_TARGET", "role:target"}},
		{"unknown role", map[string]string{"HERALD_DEADMAN_TARGET": "pager:alice"}, []string{"HERALD_DEADMAN_TARGET", "oncall-primary"}},
		{"no target", map[string]string{"HERALD_DEADMAN_TARGET": "user:"}, []string{"HERALD_DEADMAN_TARGET"}},
		{"unknown mode", map[string]string{"HERALD_DEADMAN_TARGET": "user:alice", "HERALD_DEADMAN_MODE": "pager"}, []string{"HERALD_DEADMAN_MODE", "slack, email, sms, call"}},
		{"channel by sms", map[string]string{"HERALD_DEADMAN_TARGET": "slack-channel:C1", "HERALD_DEADMAN_MODE": "sms"}, []string{"HERALD_DEADMAN_MODE", "posted in Slack"}},
		{"bad schedule", map[string]string{"HERALD_DEADMAN_TARGET": "user:alice", "HERALD_DEADMAN_SCHEDULE": "every hour"}, []string{"HERALD_DEADMAN_SCHEDULE", "cron schedule"}},
		{"too often", map[string]string{"HERALD_DEADMAN_TARGET": "user:alice", "HERALD_DEADMAN_SCHEDULE": "@every 30s"}, []string{"HERALD_DEADMAN_SCHEDULE", "a minute"}},
		{"never fires", map[string]string{"HERALD_DEADMAN_TARGET": "user:alice", "HERALD_DEADMAN_SCHEDULE": "0 0 30 2 *"}, []string{"HERALD_DEADMAN_SCHEDULE", "never"}},
		{"mode without target", map[string]string{"HERALD_DEADMAN_MODE": "email"}, []string{"HERALD_DEADMAN_TARGET", "mean nothing"}},
		{"schedule without target", map[string]string{"HERALD_DEADMAN_SCHEDULE": "@daily"}, []string{"HERALD_DEADMAN_TARGET"}},
		{"relative ping URL", map[string]string{"HERALD_DEADMAN_PING_URL": "hc-ping.com/0b3a9c4e-secret"}, []string{"HERALD_DEADMAN_PING_URL", "absolute"}},
		{"interval without URL", map[string]string{"HERALD_DEADMAN_PING_INTERVAL": "1m"}, []string{"HERALD_DEADMAN_PING_URL"}},
		{"interval too short", map[string]string{"HERALD_DEADMAN_PING_URL": ping, "HERALD_DEADMAN_PING_INTERVAL": "1s"}, []string{"HERALD_DEADMAN_PING_INTERVAL", "at least 10s"}},
		{"interval not a duration", map[string]string{"HERALD_DEADMAN_PING_URL": ping, "HERALD_DEADMAN_PING_INTERVAL": "often"}, []string{"HERALD_DEADMAN_PING_INTERVAL"}},
		{"max lag alone", map[string]string{"HERALD_DEADMAN_MAX_LAG": "5m"}, []string{"HERALD_DEADMAN_MAX_LAG", "HERALD_DEADMAN_PING_URL"}},
		{"max lag too short", map[string]string{"HERALD_DEADMAN_PING_URL": ping, "HERALD_DEADMAN_MAX_LAG": "2s"}, []string{"HERALD_DEADMAN_MAX_LAG"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Load(lookup(minimal(tt.env)))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%v lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("the error echoes the ping URL: %v", err)
			}
		})
	}
}
