package ui

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// csv serves the analytics' numbers: kind=incidents (one row per incident
// with its times), groups, load or noise — the same range and grouping
// as the page.
func (p AnalyticsPages) csv(c *Ctx) error {
	a, err := parseAnalyticsQuery(c.QueryParams(), c.Viewer.Location, c.s.o.Clock.Now())
	if err != nil {
		return c.String(http.StatusBadRequest, upperFirst(err.Error())+".\n")
	}
	kind := c.QueryParam("kind")
	ctx := c.Request().Context()
	var rows [][]string
	switch kind {
	case "incidents", "groups", "noise":
		samples, err := p.Store.ResponseSamples(ctx, a.From, a.To)
		if err != nil {
			return c.Failed("computing analytics", err)
		}
		switch kind {
		case "incidents":
			rows = append(rows, []string{"number", "reported_at", "acknowledged_at", "resolved_at", "seconds_to_ack", "seconds_to_resolve", "severity", "service", "team"})
			for _, s := range samples {
				rows = append(rows, []string{strconv.FormatInt(s.Number, 10), s.ReportedAt.UTC().Format(time.RFC3339), optTime(s.AcknowledgedAt), optTime(s.ResolvedAt),
					optSeconds(s.ReportedAt, s.AcknowledgedAt), optSeconds(s.ReportedAt, s.ResolvedAt), severityLabel(s.Severity), s.Service, s.Team})
			}
		case "groups":
			rows = append(rows, []string{a.Group, "incidents", "acknowledged", "resolved", "mtta_median_seconds", "mtta_p90_seconds", "mttr_median_seconds", "mttr_p90_seconds"})
			for _, g := range groupResponse(samples, a.Group) {
				rows = append(rows, []string{g.Name, strconv.Itoa(g.Incidents), strconv.Itoa(g.Acked), strconv.Itoa(g.Resolved),
					optDur(g.HasMTTA, g.MTTAMedian), optDur(g.HasMTTA, g.MTTAP90), optDur(g.HasMTTR, g.MTTRMedian), optDur(g.HasMTTR, g.MTTRP90)})
			}
		case "noise":
			rows = append(rows, []string{"service", "incidents", "occurrences"})
			for _, n := range noisiest(samples, 1<<30) {
				rows = append(rows, []string{n.Service, strconv.Itoa(n.Incidents), strconv.Itoa(n.Occurrences)})
			}
		}
	case "load":
		pages, err := p.Store.PagesPerPerson(ctx, a.From, a.To)
		if err != nil {
			return c.Failed("counting pages", err)
		}
		rows = append(rows, []string{"person", "week_start", "pages"})
		for _, pp := range pages {
			rows = append(rows, []string{pp.Person, pp.Week.In(c.Viewer.Location).Format("2006-01-02"), strconv.FormatInt(pp.Pages, 10)})
		}
	default:
		return c.String(http.StatusBadRequest, "kind must be incidents, groups, load or noise.\n")
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	for _, r := range rows {
		for i := range r {
			r[i] = csvSafe(r[i])
		}
		if err := w.Write(r); err != nil {
			return c.Failed("writing the CSV", err)
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return c.Failed("writing the CSV", err)
	}
	name := fmt.Sprintf("herald-%s-%s-%s.csv", kind, a.From.Format("20060102"), a.To.AddDate(0, 0, -1).Format("20060102"))
	c.Response().Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}

// csvSafe keeps a spreadsheet from running a cell as a formula (names
// come from outside: service and team names).
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func optTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func optSeconds(from time.Time, to *time.Time) string {
	if to == nil {
		return ""
	}
	return strconv.FormatInt(int64(to.Sub(from).Seconds()), 10)
}

func optDur(ok bool, d time.Duration) string {
	if !ok {
		return ""
	}
	return strconv.FormatInt(int64(d.Seconds()), 10)
}
