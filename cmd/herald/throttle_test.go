package main

import (
	"reflect"
	"testing"
	"time"

	"github.com/heraldhq/herald/config"
	"github.com/heraldhq/herald/notifications"
)

func TestEngineThrottle(t *testing.T) {
	for _, tc := range []struct {
		env  string // HERALD_THROTTLE
		want notifications.Throttle
	}{
		{"", notifications.Throttle{}},
		{"max=5,within=10m", notifications.Throttle{Max: 5, Within: 10 * time.Minute}},
		{"max=2,within=1h,fallback=sms>slack,fallback=call>sms", notifications.Throttle{Max: 2, Within: time.Hour,
			Fallback: map[notifications.Mode]notifications.Mode{notifications.ModeSMS: notifications.ModeSlack, notifications.ModeCall: notifications.ModeSMS}}},
	} {
		t.Run(tc.env, func(t *testing.T) {
			env := map[string]string{"SLACK_SIGNING_SECRET": "s3cret", "HERALD_THROTTLE": tc.env}
			cfg, err := config.Load(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
			if err != nil {
				t.Fatal(err)
			}
			if got := engineThrottle(cfg.Throttle); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("engineThrottle(%+v) = %+v, want %+v", cfg.Throttle, got, tc.want)
			}
		})
	}
}
