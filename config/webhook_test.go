package config_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/heraldhq/herald/config"
)

func TestWebhookConfig(t *testing.T) {
	secret := strings.Repeat("s", 32)
	c, err := config.Load(lookup(minimal(nil)))
	if err != nil || c.Webhook.URL != "" {
		t.Fatalf("default: %+v %v", c.Webhook, err)
	}
	c, err = config.Load(lookup(minimal(map[string]string{"HERALD_WEBHOOK_URL": "https://pager.example.com/hook?token=abc", "HERALD_WEBHOOK_SECRET": secret, "HERALD_WEBHOOK_MODES": " SMS, call,sms"})))
	if err != nil || !reflect.DeepEqual(c.Webhook.Modes, []string{"sms", "call"}) || c.Webhook.Secret != secret {
		t.Fatalf("set: %+v %v", c.Webhook, err)
	}
	c, err = config.Load(lookup(minimal(map[string]string{"HERALD_WEBHOOK_URL": "https://x.example.com/", "HERALD_WEBHOOK_SECRET": secret, "HERALD_WEBHOOK_STATUS_URL": "https://x.example.com/status"})))
	if err != nil || c.Webhook.StatusURL != "https://x.example.com/status" {
		t.Fatalf("status URL: %+v %v", c.Webhook, err)
	}
	for name, tc := range map[string]struct {
		env  map[string]string
		want []string
	}{
		"no secret":       {map[string]string{"HERALD_WEBHOOK_URL": "https://x.example.com/"}, []string{"HERALD_WEBHOOK_SECRET", "at least 32"}},
		"short secret":    {map[string]string{"HERALD_WEBHOOK_URL": "https://x.example.com/", "HERALD_WEBHOOK_SECRET": "short"}, []string{"HERALD_WEBHOOK_SECRET"}},
		"secret no url":   {map[string]string{"HERALD_WEBHOOK_SECRET": secret}, []string{"HERALD_WEBHOOK_URL"}},
		"relative url":    {map[string]string{"HERALD_WEBHOOK_URL": "pager.example.com/hook?token=abc", "HERALD_WEBHOOK_SECRET": secret}, []string{"HERALD_WEBHOOK_URL", "absolute"}},
		"unknown mode":    {map[string]string{"HERALD_WEBHOOK_URL": "https://x.example.com/", "HERALD_WEBHOOK_SECRET": secret, "HERALD_WEBHOOK_MODES": "sms,pager"}, []string{"HERALD_WEBHOOK_MODES", "slack, email, sms, call"}},
		"modes, no url":   {map[string]string{"HERALD_WEBHOOK_MODES": "sms"}, []string{"HERALD_WEBHOOK_URL"}},
		"status, no url":  {map[string]string{"HERALD_WEBHOOK_STATUS_URL": "https://x.example.com/s"}, []string{"HERALD_WEBHOOK_URL"}},
		"relative status": {map[string]string{"HERALD_WEBHOOK_URL": "https://x.example.com/", "HERALD_WEBHOOK_SECRET": secret, "HERALD_WEBHOOK_STATUS_URL": "x.example.com/s?token=abc"}, []string{"HERALD_WEBHOOK_STATUS_URL", "absolute"}},
	} {
		_, err := config.Load(lookup(minimal(tc.env)))
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %v lacks %q", name, err, w)
			}
		}
		if strings.Contains(err.Error(), "token=abc") || strings.Contains(err.Error(), secret) {
			t.Errorf("%s: the error echoes the URL or secret: %v", name, err)
		}
	}
}
