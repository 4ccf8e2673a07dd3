package main

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/heraldhq/herald/models"
)

// dashboardFile is the Grafana dashboard shipped for Herald's metrics.
const dashboardFile = "../../deploy/grafana/herald-dashboard.json"

// namesRegisterer records the names of the series registered through it.
type namesRegisterer struct {
	prometheus.Registerer
	names map[string]bool
}

var fqName = regexp.MustCompile(`fqName: "([^"]+)"`)

func (r *namesRegisterer) Register(c prometheus.Collector) error {
	descs := make(chan *prometheus.Desc)
	go func() { c.Describe(descs); close(descs) }()
	for d := range descs {
		if m := fqName.FindStringSubmatch(d.String()); m != nil {
			r.names[m[1]] = true
		}
	}
	return r.Registerer.Register(c)
}

func (r *namesRegisterer) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := r.Register(c); err != nil {
			panic(err)
		}
	}
}

// heraldSeriesNames registers Herald's series as Build does and returns
// their names.
func heraldSeriesNames(t *testing.T) map[string]bool {
	t.Helper()
	reg := &namesRegisterer{Registerer: prometheus.NewRegistry(), names: map[string]bool{}}
	if _, _, err := registerMetrics(reg); err != nil {
		t.Fatal(err)
	}
	if err := registerStats(reg, nil, nil, true, models.SystemClock{}, nil); err != nil {
		t.Fatal(err)
	}
	return reg.names
}

type templateVariable struct {
	Name  string `json:"name"`
	Type  string `json:"type"`
	Query string `json:"query"`
}

type dashboard struct {
	Title      string `json:"title"`
	UID        string `json:"uid"`
	Templating struct {
		List []templateVariable `json:"list"`
	} `json:"templating"`
	Panels []struct {
		ID         int    `json:"id"`
		Type       string `json:"type"`
		Title      string `json:"title"`
		Datasource *struct {
			Type string `json:"type"`
			UID  string `json:"uid"`
		} `json:"datasource"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
}

var seriesName = regexp.MustCompile(`\bherald_[a-z0-9_]+`)

// TestGrafanaDashboard: the dashboard is valid JSON with a Prometheus data
// source variable, every query uses only series Herald registers, and
// every series Herald registers is on it.
func TestGrafanaDashboard(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("%s is not valid JSON: %v", dashboardFile, err)
	}
	if d.Title == "" || d.UID == "" {
		t.Fatalf("title %q uid %q", d.Title, d.UID)
	}
	if !slices.Contains(d.Templating.List, templateVariable{Name: "datasource", Type: "datasource", Query: "prometheus"}) {
		t.Error("no Prometheus data source variable named datasource")
	}

	registered := heraldSeriesNames(t)
	used := map[string]bool{}
	ids := map[int]bool{}
	for _, p := range d.Panels {
		if ids[p.ID] {
			t.Errorf("panel id %d is used twice", p.ID)
		}
		ids[p.ID] = true
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || p.Datasource.UID != "${datasource}" || len(p.Targets) == 0 {
			t.Errorf("panel %q: not on the datasource variable, or no query", p.Title)
		}
		for _, tg := range p.Targets {
			if strings.Count(tg.Expr, "(") != strings.Count(tg.Expr, ")") || strings.Count(tg.Expr, "{") != strings.Count(tg.Expr, "}") {
				t.Errorf("panel %q: unbalanced query %s", p.Title, tg.Expr)
			}
			names := seriesName.FindAllString(tg.Expr, -1)
			if len(names) == 0 {
				t.Errorf("panel %q: query %s uses no Herald series", p.Title, tg.Expr)
			}
			for _, n := range names {
				family := n
				for _, suffix := range []string{"_bucket", "_count", "_sum"} {
					if base, ok := strings.CutSuffix(n, suffix); ok && registered[base] {
						family = base
					}
				}
				if !registered[family] {
					t.Errorf("panel %q: %s is not a series Herald registers", p.Title, n)
				}
				used[family] = true
			}
		}
	}
	var missing []string
	for n := range registered {
		if strings.HasPrefix(n, "herald_") && !used[n] {
			missing = append(missing, n)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("series on no panel: %v", missing)
	}
	if len(used) < 20 {
		t.Errorf("only %d series on the dashboard: the names were not read", len(used))
	}
}
