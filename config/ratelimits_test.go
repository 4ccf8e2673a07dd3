package config

import (
	"reflect"
	"testing"
	"time"
)

func TestParseRateLimits(t *testing.T) {
	t.Parallel()
	good := map[string]map[string]RateLimit{
		"":                      {},
		"sms=100/1m,call=20/1m": {"sms": {100, time.Minute}, "call": {20, time.Minute}},
		" slack = 50/30s , ":    {"slack": {50, 30 * time.Second}},
		"email=10/h":            {"email": {10, time.Hour}},
	}
	for in, want := range good {
		got, err := ParseRateLimits(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("ParseRateLimits(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"sms", "fax=1/1m", "sms=0/1m", "sms=-1/1m", "sms=x/1m", "sms=10", "sms=10/", "sms=10/1ms", "sms=10/soon", "sms=1/1m,sms=2/1m"} {
		if got, err := ParseRateLimits(in); err == nil {
			t.Errorf("ParseRateLimits(%q) = %v, want an error", in, got)
		}
	}
}
