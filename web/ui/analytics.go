package ui

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"time"

	"github.com/heraldhq/herald/models"
)

// AnalyticsStore reads what analytics are computed from; *models.Store is
// one.
type AnalyticsStore interface {
	ResponseSamples(ctx context.Context, from, to time.Time) ([]models.ResponseSample, error)
	PagesPerPerson(ctx context.Context, from, to time.Time) ([]models.PersonPages, error)
}

// AnalyticsPages are MTTA/MTTR over time and per team, service or
// severity, on-call load (pages per person per week) and the noisiest
// services, as charts and CSV.
type AnalyticsPages struct {
	Store AnalyticsStore
}

// Mount adds /analytics and its CSV.
func (p AnalyticsPages) Mount(r *Router) {
	r.GET("/analytics", p.page, NeedViewer)
	r.GET("/analytics.csv", p.csv, NeedViewer)
}

// maxAnalyticsDays bounds a range (a year and a bit).
const maxAnalyticsDays = 370

// analyticsQuery is the page's query string, checked.
type analyticsQuery struct {
	From, To time.Time // From is a week start in the viewer's zone; To excluded
	Group    string    // team, service, severity
}

var analyticsGroups = []string{"team", "service", "severity"}

func parseAnalyticsQuery(q url.Values, loc *time.Location, now time.Time) (analyticsQuery, error) {
	a := analyticsQuery{Group: q.Get("group")}
	if a.Group == "" {
		a.Group = "team"
	}
	if !slices.Contains(analyticsGroups, a.Group) {
		return a, fmt.Errorf("group %q: choose team, service or severity", truncate(a.Group, 40))
	}
	today := time.Date(now.In(loc).Year(), now.In(loc).Month(), now.In(loc).Day(), 0, 0, 0, 0, loc)
	a.To = today.AddDate(0, 0, 1)
	a.From = a.To.AddDate(0, 0, -12*7)
	for _, f := range []struct {
		name string
		dst  *time.Time
		end  bool
	}{{"from", &a.From, false}, {"to", &a.To, true}} {
		raw := q.Get(f.name)
		if raw == "" {
			continue
		}
		d, err := time.ParseInLocation("2006-01-02", raw, loc)
		if err != nil {
			return a, fmt.Errorf("%s %q: use a date like 2026-01-31", f.name, truncate(raw, 40))
		}
		if f.end {
			d = d.AddDate(0, 0, 1) // the "to" day is included
		}
		*f.dst = d
	}
	if !a.From.Before(a.To) {
		return a, errors.New("from must be before to")
	}
	if a.To.Sub(a.From) > maxAnalyticsDays*24*time.Hour {
		return a, fmt.Errorf("the range is longer than %d days: narrow it", maxAnalyticsDays)
	}
	return a, nil
}

type groupRow struct {
	Name                string
	Incidents, Acked    int
	Resolved            int
	MTTAMedian, MTTAP90 time.Duration
	MTTRMedian, MTTRP90 time.Duration
	HasMTTA, HasMTTR    bool
}

type noiseRow struct {
	Service     string
	Incidents   int
	Occurrences int
}

type loadRow struct {
	Person string
	Weeks  []int64
	Total  int64
}

type analyticsView struct {
	From, To, Group      string
	Groups               []string
	Incidents            int
	WeekLabels           []string
	MTTAChart, MTTRChart template.HTML
	GroupChart           template.HTML
	GroupRows            []groupRow
	LoadChart            template.HTML
	LoadRows             []loadRow
	NoiseChart           template.HTML
	NoiseRows            []noiseRow
	CSVQuery             string
}

func (p AnalyticsPages) page(c *Ctx) error {
	a, err := parseAnalyticsQuery(c.QueryParams(), c.Viewer.Location, c.s.o.Clock.Now())
	if err != nil {
		return c.ErrorPage(http.StatusBadRequest, "Analytics: bad range", upperFirst(err.Error())+".")
	}
	ctx := c.Request().Context()
	samples, err := p.Store.ResponseSamples(ctx, a.From, a.To)
	if errors.Is(err, models.ErrTooManySamples) {
		return c.ErrorPage(http.StatusUnprocessableEntity, "Analytics: too many incidents", "The range holds more than "+fmt.Sprint(models.MaxAnalyticsSamples)+" incidents: narrow it.")
	}
	if err != nil {
		return c.Failed("computing analytics", err)
	}
	pages, err := p.Store.PagesPerPerson(ctx, a.From, a.To)
	if err != nil {
		return c.Failed("counting pages", err)
	}
	v := analyticsView{From: a.From.Format("2006-01-02"), To: a.To.AddDate(0, 0, -1).Format("2006-01-02"), Group: a.Group, Groups: analyticsGroups, Incidents: len(samples)}
	v.CSVQuery = url.Values{"from": {v.From}, "to": {v.To}, "group": {a.Group}}.Encode()
	weeks := weekStarts(a.From, a.To)
	for _, w := range weeks {
		v.WeekLabels = append(v.WeekLabels, w.Format("2 Jan"))
	}
	tta, ttr := weeklyMedians(samples, weeks, a.To)
	v.MTTAChart = LineChart("mtta", "Median time to acknowledge per week", "Minutes from an incident being raised to its first acknowledgement, median of each week.", " min", v.WeekLabels, []Series{{Name: "MTTA", Values: tta}})
	v.MTTRChart = LineChart("mttr", "Median time to resolve per week", "Hours from an incident being raised to its resolution, median of each week.", " h", v.WeekLabels, []Series{{Name: "MTTR", Class: "line2", Values: ttr}})
	v.GroupRows = groupResponse(samples, a.Group)
	var bars []Bar
	for _, g := range v.GroupRows {
		if g.HasMTTR {
			bars = append(bars, Bar{Label: g.Name, Value: g.MTTRMedian.Minutes()})
		}
	}
	v.GroupChart = BarChart("by-group", "Median time to resolve by "+a.Group, "Minutes, median over the range, per "+a.Group+".", " min", bars)
	v.LoadRows = onCallLoad(pages, weeks)
	bars = nil
	for _, r := range v.LoadRows {
		bars = append(bars, Bar{Label: r.Person, Value: float64(r.Total)})
	}
	v.LoadChart = BarChart("load", "Pages per person", "Pages sent to each person over the range.", "", bars)
	v.NoiseRows = noisiest(samples, 10)
	bars = nil
	for _, r := range v.NoiseRows {
		bars = append(bars, Bar{Label: r.Service, Value: float64(r.Incidents)})
	}
	v.NoiseChart = BarChart("noise", "Noisiest services", "Incidents raised per service over the range, top 10.", "", bars)
	return c.Page(http.StatusOK, "analytics.html", "Analytics", v)
}

// weekStarts lists 7-day periods from from until to.
func weekStarts(from, to time.Time) []time.Time {
	var out []time.Time
	for w := from; w.Before(to); w = w.AddDate(0, 0, 7) {
		out = append(out, w)
	}
	return out
}

func weekIndex(weeks []time.Time, t time.Time) int {
	i := sort.Search(len(weeks), func(i int) bool { return weeks[i].After(t) }) - 1
	return i
}

// weeklyMedians: MTTA in minutes and MTTR in hours per week (NaN: none).
func weeklyMedians(samples []models.ResponseSample, weeks []time.Time, to time.Time) (tta, ttr []float64) {
	ack := make([][]time.Duration, len(weeks))
	res := make([][]time.Duration, len(weeks))
	for _, s := range samples {
		i := weekIndex(weeks, s.ReportedAt)
		if i < 0 || !s.ReportedAt.Before(to) {
			continue
		}
		if s.AcknowledgedAt != nil {
			ack[i] = append(ack[i], s.AcknowledgedAt.Sub(s.ReportedAt))
		}
		if s.ResolvedAt != nil {
			res[i] = append(res[i], s.ResolvedAt.Sub(s.ReportedAt))
		}
	}
	for i := range weeks {
		tta = append(tta, durationOr(percentile(ack[i], 50), len(ack[i]), time.Minute))
		ttr = append(ttr, durationOr(percentile(res[i], 50), len(res[i]), time.Hour))
	}
	return tta, ttr
}

func durationOr(d time.Duration, n int, unit time.Duration) float64 {
	if n == 0 {
		return math.NaN()
	}
	return float64(d) / float64(unit)
}

// percentile is the nearest-rank percentile of ds (sorted in place).
func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	rank := int(math.Ceil(float64(p)/100*float64(len(ds)))) - 1
	return ds[max(rank, 0)]
}

func groupKey(s models.ResponseSample, group string) string {
	switch group {
	case "service":
		if s.Service == "" {
			return "(declared in Slack)"
		}
		return s.Service
	case "severity":
		return severityLabel(s.Severity)
	}
	if s.Team == "" {
		return "(no team)"
	}
	return s.Team
}

func groupResponse(samples []models.ResponseSample, group string) []groupRow {
	type acc struct {
		row      groupRow
		ack, res []time.Duration
	}
	by := map[string]*acc{}
	for _, s := range samples {
		k := groupKey(s, group)
		a := by[k]
		if a == nil {
			a = &acc{row: groupRow{Name: k}}
			by[k] = a
		}
		a.row.Incidents++
		if s.AcknowledgedAt != nil {
			a.ack = append(a.ack, s.AcknowledgedAt.Sub(s.ReportedAt))
		}
		if s.ResolvedAt != nil {
			a.res = append(a.res, s.ResolvedAt.Sub(s.ReportedAt))
		}
	}
	out := make([]groupRow, 0, len(by))
	for _, a := range by {
		r := a.row
		r.Acked, r.Resolved = len(a.ack), len(a.res)
		r.HasMTTA, r.HasMTTR = r.Acked > 0, r.Resolved > 0
		r.MTTAMedian, r.MTTAP90 = percentile(a.ack, 50), percentile(a.ack, 90)
		r.MTTRMedian, r.MTTRP90 = percentile(a.res, 50), percentile(a.res, 90)
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Incidents != out[j].Incidents {
			return out[i].Incidents > out[j].Incidents
		}
		return out[i].Name < out[j].Name
	})
	return out
}

func onCallLoad(pages []models.PersonPages, weeks []time.Time) []loadRow {
	by := map[string]*loadRow{}
	for _, p := range pages {
		r := by[p.Person]
		if r == nil {
			r = &loadRow{Person: p.Person, Weeks: make([]int64, len(weeks))}
			by[p.Person] = r
		}
		if i := weekIndex(weeks, p.Week); i >= 0 {
			r.Weeks[i] += p.Pages
		}
		r.Total += p.Pages
	}
	out := make([]loadRow, 0, len(by))
	for _, r := range by {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Total != out[j].Total {
			return out[i].Total > out[j].Total
		}
		return out[i].Person < out[j].Person
	})
	return out
}

func noisiest(samples []models.ResponseSample, n int) []noiseRow {
	by := map[string]*noiseRow{}
	for _, s := range samples {
		if s.Service == "" {
			continue
		}
		r := by[s.Service]
		if r == nil {
			r = &noiseRow{Service: s.Service}
			by[s.Service] = r
		}
		r.Incidents++
		r.Occurrences += max(s.Occurrences, 1)
	}
	out := make([]noiseRow, 0, len(by))
	for _, r := range by {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Incidents != out[j].Incidents {
			return out[i].Incidents > out[j].Incidents
		}
		return out[i].Service < out[j].Service
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	if c := s[0]; c >= 'a' && c <= 'z' {
		return string(c-'a'+'A') + s[1:]
	}
	return s
}

// severityLabel is "SEV1 (critical)", or "(not assessed)".
func severityLabel(s models.Severity) string {
	if !s.Valid() {
		return "(not assessed)"
	}
	return s.String()
}
