package config_test

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/config"
)

func TestParseThrottle(t *testing.T) {
	t.Parallel()
	good := []struct {
		in   string
		want config.Throttle
	}{
		{"", config.Throttle{}},
		{" , ", config.Throttle{}},
		{"max=5,within=10m", config.Throttle{Max: 5, Within: 10 * time.Minute}},
		{"max=2,within=1.5m", config.Throttle{Max: 2, Within: 90 * time.Second}},
		{" MAX = 3 , within = h , fallback = SMS > Slack , fallback=call>sms ",
			config.Throttle{Max: 3, Within: time.Hour, Fallback: map[string]string{"sms": "slack", "call": "sms"}}},
		{"within=30s,max=1,fallback=slack>email", config.Throttle{Max: 1, Within: 30 * time.Second, Fallback: map[string]string{"slack": "email"}}},
		{"max=1,within=1m,fallback=sms>slack,fallback=slack>sms", config.Throttle{Max: 1, Within: time.Minute, Fallback: map[string]string{"sms": "slack", "slack": "sms"}}},
	}
	for _, tc := range good {
		got, err := config.ParseThrottle(tc.in)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseThrottle(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
	bad := []struct{ in, why string }{
		{"max", "want key=value"},
		{"max=5", "both required"},
		{"within=10m", "both required"},
		{"fallback=sms>slack", "both required"},
		{"max=0,within=1m", "positive count"},
		{"max=-1,within=1m", "positive count"},
		{"max=x,within=1m", "positive count"},
		{"max=5,max=6,within=1m", "max is given twice"},
		{"max=5,within=1m,within=2m", "within is given twice"},
		{"max=5,within=500ms", "a second or more"},
		{"max=5,within=soon", "a second or more"},
		{"max=5,within=", "a second or more"},
		{"max=5,within=1m,fallback=sms", "mode>mode"},
		{"max=5,within=1m,fallback=call>sms>slack", "mode>mode"},
		{"max=5,within=1m,fallback=fax>sms", `unknown mode "fax"`},
		{"max=5,within=1m,fallback=sms>pager", `unknown mode "pager"`},
		{"max=5,within=1m,fallback=sms>", `unknown mode ""`},
		{"max=5,within=1m,fallback=sms>SMS", "cannot fall back to itself"},
		{"max=5,within=1m,fallback=sms>slack,fallback=sms>email", "sms falls back twice"},
		{"max=5,within=1m,burst=3", `unknown key "burst"`},
	}
	for _, tc := range bad {
		if got, err := config.ParseThrottle(tc.in); err == nil || !strings.Contains(err.Error(), tc.why) {
			t.Errorf("ParseThrottle(%q) = %+v, %v; want an error saying %q", tc.in, got, err, tc.why)
		}
	}
}

func TestThrottleString(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   config.Throttle
		want string
	}{
		{config.Throttle{}, ""},
		{config.Throttle{Max: 5, Within: 10 * time.Minute}, "max=5,within=10m0s"},
		{config.Throttle{Max: 1, Within: time.Hour, Fallback: map[string]string{"sms": "slack", "call": "sms"}}, "max=1,within=1h0m0s,fallback=call>sms,fallback=sms>slack"},
	} {
		if got := tc.in.String(); got != tc.want {
			t.Errorf("%+v.String() = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestLoadThrottle(t *testing.T) {
	t.Parallel()
	c, err := config.Load(lookup(minimal(nil)))
	if err != nil || !reflect.DeepEqual(c.Throttle, config.Throttle{}) {
		t.Fatalf("unset: %+v, %v; want off", c.Throttle, err)
	}
	c, err = config.Load(lookup(minimal(map[string]string{"HERALD_THROTTLE": "max=5,within=10m,fallback=sms>slack"})))
	want := config.Throttle{Max: 5, Within: 10 * time.Minute, Fallback: map[string]string{"sms": "slack"}}
	if err != nil || !reflect.DeepEqual(c.Throttle, want) {
		t.Fatalf("HERALD_THROTTLE: %+v, %v; want %+v", c.Throttle, err, want)
	}
	// Every invalid variable is reported, each by name, with the reason.
	_, err = config.Load(lookup(minimal(map[string]string{"HERALD_THROTTLE": "max=5,within=10m,fallback=sms>pager", "HERALD_DEFAULT_MODES": "urgent=pager"})))
	var inv *config.InvalidError
	if !errors.As(err, &inv) {
		t.Fatalf("invalid values: %v; want InvalidErrors", err)
	}
	for _, want := range []string{`HERALD_THROTTLE="max=5,within=10m,fallback=sms>pager": expected`, `HERALD_DEFAULT_MODES="urgent=pager": expected`, `fallback=sms>pager": unknown mode "pager"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("invalid values: %v; want it to say %q", err, want)
		}
	}
	_, err = config.Load(lookup(minimal(map[string]string{"HERALD_THROTTLE": "max=5"})))
	if !errors.As(err, &inv) || inv.Variable != "HERALD_THROTTLE" || !strings.Contains(err.Error(), "max and within are both required") {
		t.Fatalf("half a throttle: %v; want an InvalidError naming HERALD_THROTTLE", err)
	}
}

var throttleModes = []string{"slack", "email", "sms", "call"}

// FuzzParseThrottle: whatever it is given, ParseThrottle does not panic,
// and what it accepts is a working throttle (or off) that reads back the
// same from its String.
func FuzzParseThrottle(f *testing.F) {
	for _, s := range []string{"", "max=5,within=10m,fallback=sms>slack", " MAX = 3 , within = h , fallback = SMS > Slack , fallback=call>sms ",
		"max=5", "max=5,within=500ms", "fallback=sms>sms", "max=1,within=1m,fallback=a>b>c", "max=9999999999999999999,within=1m", "within=.,max=1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		th, err := config.ParseThrottle(s)
		if err != nil {
			return
		}
		if th.Max == 0 {
			if th.Within != 0 || th.Fallback != nil {
				t.Fatalf("ParseThrottle(%q) = %+v: off, yet with settings", s, th)
			}
			return
		}
		if th.Max < 0 || th.Within < time.Second {
			t.Fatalf("ParseThrottle(%q) = %+v: want max > 0 and within >= 1s", s, th)
		}
		for from, to := range th.Fallback {
			if from == to || !slices.Contains(throttleModes, from) || !slices.Contains(throttleModes, to) {
				t.Fatalf("ParseThrottle(%q): fallback %s>%s", s, from, to)
			}
		}
		again, err := config.ParseThrottle(th.String())
		if err != nil || !reflect.DeepEqual(again, th) {
			t.Fatalf("ParseThrottle(%q) = %+v; its String %q reads back as %+v, %v", s, th, th.String(), again, err)
		}
	})
}
