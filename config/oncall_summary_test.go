package config_test

import (
	"strings"
	"testing"

	"github.com/heraldhq/herald/config"
)

func TestOncallAnnounceCron(t *testing.T) {
	c, err := config.Load(lookup(minimal(nil)))
	if err != nil || c.OncallAnnounceCron != "" {
		t.Fatalf("default: %q, %v; want empty (no summaries)", c.OncallAnnounceCron, err)
	}
	for _, spec := range []string{"0 9 * * MON", "CRON_TZ=Europe/London 0 9 * * 1-5", "@daily", "30 8 * * *"} {
		c, err := config.Load(lookup(minimal(map[string]string{"HERALD_ONCALL_ANNOUNCE_CRON": spec})))
		if err != nil || c.OncallAnnounceCron != spec {
			t.Errorf("%q: %q, %v", spec, c.OncallAnnounceCron, err)
		}
	}
	tests := []struct {
		name, spec string
		want       string
	}{
		{"not cron", "every monday", "cron schedule"},
		{"drifting", "@every 24h", "not @every"},
		{"too often", "*/5 * * * *", "at most once an hour"},
		{"never fires", "0 0 30 2 *", "never"},
		{"bad zone", "CRON_TZ=Mars/Olympus 0 9 * * MON", "cron schedule"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Load(lookup(minimal(map[string]string{"HERALD_ONCALL_ANNOUNCE_CRON": tt.spec})))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range []string{"HERALD_ONCALL_ANNOUNCE_CRON", tt.want} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%v lacks %q", err, w)
				}
			}
		})
	}
}
