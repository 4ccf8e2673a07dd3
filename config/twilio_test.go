package config_test

import (
	"strings"
	"testing"

	"github.com/heraldhq/herald/config"
)

func TestTwilioConfig(t *testing.T) {
	c, err := config.Load(lookup(minimal(nil)))
	if err != nil || c.Twilio() || c.TwilioAPIURL != config.DefaultTwilioAPIURL {
		t.Fatalf("default: %+v %v", c, err)
	}
	all := map[string]string{"TWILIO_ACCOUNT_SID": "AC0123abc", "TWILIO_AUTH_TOKEN": "tok123", "TWILIO_FROM_NUMBER": "+15550100000", "TWILIO_API_URL": "http://127.0.0.1:9/"}
	c, err = config.Load(lookup(minimal(all)))
	if err != nil || !c.Twilio() || c.TwilioFromNumber != "+15550100000" || c.TwilioAPIURL != "http://127.0.0.1:9" {
		t.Fatalf("all set: %+v %v", c, err)
	}
	for name, tc := range map[string]struct {
		env  map[string]string
		want []string
	}{
		"only sid":     {map[string]string{"TWILIO_ACCOUNT_SID": "AC1"}, []string{"TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER"}},
		"no number":    {map[string]string{"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "t"}, []string{"TWILIO_FROM_NUMBER"}},
		"not E.164":    {map[string]string{"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "t", "TWILIO_FROM_NUMBER": "555-0100"}, []string{"TWILIO_FROM_NUMBER", "E.164"}},
		"leading zero": {map[string]string{"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "t", "TWILIO_FROM_NUMBER": "+0123456789"}, []string{"E.164"}},
		"bad sid":      {map[string]string{"TWILIO_ACCOUNT_SID": "XX1", "TWILIO_AUTH_TOKEN": "t", "TWILIO_FROM_NUMBER": "+15550100000"}, []string{"TWILIO_ACCOUNT_SID"}},
		"bad api url":  {map[string]string{"TWILIO_API_URL": "api.twilio.com"}, []string{"TWILIO_API_URL"}},
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
		if strings.Contains(err.Error(), "tok123") {
			t.Errorf("%s: the error shows the token", name)
		}
	}
}
