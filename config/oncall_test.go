package config_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/heraldhq/herald/config"
)

func TestExternalOncallConfig(t *testing.T) {
	c, err := config.Load(lookup(minimal(nil)))
	if err != nil || c.Oncall.Enabled() || c.Oncall.APIURL != "" {
		t.Fatalf("default: %+v %v", c.Oncall, err)
	}
	c, err = config.Load(lookup(minimal(map[string]string{"HERALD_ONCALL_API_URL": "https://oncall.example.com/", "HERALD_ONCALL_TEAMS": " payments, search,,payments "})))
	if err != nil || !c.Oncall.Enabled() || c.Oncall.APIURL != "https://oncall.example.com" || !reflect.DeepEqual(c.Oncall.Teams, []string{"payments", "search"}) {
		t.Fatalf("set: %+v %v", c.Oncall, err)
	}
	// A URL that no team uses is allowed (nothing asks it).
	if c, err := config.Load(lookup(minimal(map[string]string{"HERALD_ONCALL_API_URL": "http://oncall:8080"}))); err != nil || c.Oncall.Enabled() {
		t.Errorf("URL without teams: %+v %v", c.Oncall, err)
	}
	for name, tc := range map[string]struct {
		env  map[string]string
		want []string
	}{
		"teams without URL": {map[string]string{"HERALD_ONCALL_TEAMS": "payments"}, []string{"HERALD_ONCALL_API_URL", "required with HERALD_ONCALL_TEAMS"}},
		"relative URL":      {map[string]string{"HERALD_ONCALL_API_URL": "oncall.example.com", "HERALD_ONCALL_TEAMS": "payments"}, []string{"HERALD_ONCALL_API_URL", "absolute"}},
		"ftp URL":           {map[string]string{"HERALD_ONCALL_API_URL": "ftp://user:hunter2@oncall.example.com"}, []string{"HERALD_ONCALL_API_URL"}},
		"query":             {map[string]string{"HERALD_ONCALL_API_URL": "https://oncall.example.com/?token=hunter2"}, []string{"HERALD_ONCALL_API_URL", "without a query"}},
		"bad team":          {map[string]string{"HERALD_ONCALL_API_URL": "https://oncall.example.com", "HERALD_ONCALL_TEAMS": "payments,big team"}, []string{"HERALD_ONCALL_TEAMS", "team names"}},
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
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: the error echoes the URL: %v", name, err)
		}
	}
}
