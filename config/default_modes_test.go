package config_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/heraldhq/herald/config"
)

func TestParseDefaultModes(t *testing.T) {
	got, err := config.ParseDefaultModes(" low=slack; medium = Slack, email ;high=sms;urgent=call,sms,call; ")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{"low": {"slack"}, "medium": {"slack", "email"}, "high": {"sms"}, "urgent": {"call", "sms"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ParseDefaultModes = %v, want %v", got, want)
	}
	if got, err := config.ParseDefaultModes("high=call"); err != nil || !reflect.DeepEqual(got, map[string][]string{"high": {"call"}}) {
		t.Fatalf("one priority: %v, %v", got, err)
	}
	for in, why := range map[string]string{
		"low":                 "expected priority=mode",
		"critical=call":       `unknown priority "critical"`,
		"low=pager":           `unknown mode "pager"`,
		"low=":                `unknown mode ""`,
		"low=slack,":          `unknown mode ""`,
		"low=slack;low=email": "given twice",
	} {
		if _, err := config.ParseDefaultModes(in); err == nil || !strings.Contains(err.Error(), why) {
			t.Errorf("ParseDefaultModes(%q) = %v, want an error saying %q", in, err, why)
		}
	}
}

func TestLoadDefaultModes(t *testing.T) {
	c, err := config.Load(lookup(minimal(nil)))
	if err != nil || c.DefaultModes != nil {
		t.Fatalf("unset: %v, %v; want nil (the built-in defaults)", c.DefaultModes, err)
	}
	c, err = config.Load(lookup(minimal(map[string]string{"HERALD_DEFAULT_MODES": "low=email;urgent=call,sms"})))
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string][]string{"low": {"email"}, "urgent": {"call", "sms"}}; !reflect.DeepEqual(c.DefaultModes, want) {
		t.Fatalf("DefaultModes = %v, want %v", c.DefaultModes, want)
	}
	_, err = config.Load(lookup(minimal(map[string]string{"HERALD_DEFAULT_MODES": "urgent=pager"})))
	var inv *config.InvalidError
	if !errors.As(err, &inv) || inv.Variable != "HERALD_DEFAULT_MODES" || !strings.Contains(err.Error(), `unknown mode "pager"`) {
		t.Fatalf("invalid value: %v; want an InvalidError naming HERALD_DEFAULT_MODES and the mode", err)
	}
}
