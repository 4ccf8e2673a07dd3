package ui

import (
	"context"
	"encoding/csv"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/models"
)

// analyticsBase is when the seeded incidents and pages start.
var analyticsBase = harnessStart.AddDate(0, 0, -10)

// seedAnalytics stores incidents of two services of two teams with known
// response times, and pages to two people.
func seedAnalytics(t *testing.T, h *harness) {
	t.Helper()
	g := h.DB.Gorm
	ctx := context.Background()
	teams := []models.Team{{ID: "t-pay", Name: "payments"}, {ID: "t-sea", Name: "search"}}
	for i := range teams {
		teams[i].CreatedAt, teams[i].UpdatedAt = harnessStart, harnessStart
		if err := g.WithContext(ctx).Create(&teams[i]).Error; err != nil {
			t.Fatal(err)
		}
	}
	services := []models.Service{{ID: "s-co", Name: "checkout", TeamID: &teams[0].ID}, {ID: "s-ix", Name: "=indexer", TeamID: &teams[1].ID}}
	for i := range services {
		services[i].CreatedAt, services[i].UpdatedAt = harnessStart, harnessStart
		if err := g.WithContext(ctx).Create(&services[i]).Error; err != nil {
			t.Fatal(err)
		}
	}
	people := []models.Person{{ID: "p-ada", Name: "ada", Active: true}, {ID: "p-bob", Name: "bob", Active: true}}
	for i := range people {
		people[i].CreatedAt, people[i].UpdatedAt = harnessStart, harnessStart
		if err := g.WithContext(ctx).Create(&people[i]).Error; err != nil {
			t.Fatal(err)
		}
	}
	base := analyticsBase // within the default 12 weeks
	mk := func(n int64, svc *string, ack, res time.Duration, sev models.Severity) {
		at := base.Add(time.Duration(n) * time.Hour)
		inc := models.Incident{Number: n, Title: "i", Status: models.StatusResolved, Severity: sev, ServiceID: svc, ReportedAt: at, CreatedAt: at, UpdatedAt: at, Occurrences: 2}
		if ack > 0 {
			a := at.Add(ack)
			inc.AcknowledgedAt = &a
		}
		if res > 0 {
			r := at.Add(res)
			inc.ResolvedAt = &r
		}
		if err := g.WithContext(ctx).Create(&inc).Error; err != nil {
			t.Fatal(err)
		}
	}
	mk(1, &services[0].ID, 2*time.Minute, time.Hour, models.SEV1)
	mk(2, &services[0].ID, 4*time.Minute, 3*time.Hour, models.SEV2)
	mk(3, &services[0].ID, 6*time.Minute, 0, models.SEV2)
	mk(4, &services[1].ID, 10*time.Minute, 30*time.Minute, models.SEV3)
	mk(5, nil, 0, 0, models.SeverityUnset)
	for i, who := range []string{"p-ada", "p-ada", "p-ada", "p-bob"} {
		at := base.Add(time.Duration(i) * time.Hour)
		m := models.Message{PersonID: &who, Mode: "sms", Priority: "high", Status: models.MessageSent, NotBefore: at, CreatedAt: at}
		if err := g.WithContext(ctx).Create(&m).Error; err != nil {
			t.Fatal(err)
		}
	}
	later := "p-ada" // a week later: another week's bucket
	at := base.AddDate(0, 0, 7)
	if err := g.WithContext(ctx).Create(&models.Message{PersonID: &later, Mode: "sms", Priority: "high", Status: models.MessageDelivered, NotBefore: at, CreatedAt: at}).Error; err != nil {
		t.Fatal(err)
	}
	oob := "p-bob" // a test page is not on-call load
	m := models.Message{PersonID: &oob, Mode: "sms", Priority: "low", Status: models.MessageSent, OutOfBand: true, NotBefore: base, CreatedAt: base}
	if err := g.WithContext(ctx).Create(&m).Error; err != nil {
		t.Fatal(err)
	}
}

func TestAnalyticsPage(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			h := newHarness(t, d, func(h *harness) []Page { return []Page{AnalyticsPages{Store: h.Store}} })
			seedAnalytics(t, h)
			viewer := h.signIn("vic", models.WebRoleViewer, nil)
			rec := viewer.get("/analytics")
			expect(t, rec, http.StatusOK, "5 incidents raised", "<svg", `role="img"`, "Median time to acknowledge per week",
				"payments", "search", "checkout", "ada", "4m", "6m") // payments: MTTA median 4m, p90 6m
			body := rec.Body.String()
			if strings.Contains(body, "style=") || strings.Contains(body, "<script>") {
				t.Fatal("inline style or script in the analytics page")
			}
			expect(t, viewer.get("/analytics?group=severity"), http.StatusOK, "SEV2 (major)", "(not assessed)")
			expect(t, viewer.get("/analytics?group=nope"), http.StatusBadRequest, "choose team, service or severity")
			expect(t, viewer.get("/analytics?from=2020-01-01&to=2026-12-01"), http.StatusBadRequest, "longer than")
			expect(t, viewer.get("/analytics?from=yesterday"), http.StatusBadRequest, "use a date like")

			rec = viewer.get("/analytics.csv?kind=groups&group=team")
			expect(t, rec, http.StatusOK)
			rows, err := csv.NewReader(rec.Body).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			want := [][]string{{"team", "incidents", "acknowledged", "resolved", "mtta_median_seconds", "mtta_p90_seconds", "mttr_median_seconds", "mttr_p90_seconds"},
				{"payments", "3", "3", "2", "240", "360", "3600", "10800"},
				{"(no team)", "1", "0", "0", "", "", "", ""},
				{"search", "1", "1", "1", "600", "600", "1800", "1800"}}
			if len(rows) != len(want) {
				t.Fatalf("csv rows %v", rows)
			}
			for i := range want {
				if strings.Join(rows[i], ",") != strings.Join(want[i], ",") {
					t.Errorf("row %d = %v, want %v", i, rows[i], want[i])
				}
			}
			rec = viewer.get("/analytics.csv?kind=load")
			loadRows, err := csv.NewReader(rec.Body).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			// ada: 3 pages one week, 1 the next; bob: 1 (his test page is
			// not counted).
			week1 := analyticsBase.Format("2006-01-02")
			var got []string
			for _, r := range loadRows[1:] {
				got = append(got, r[0]+":"+r[2])
				if r[0] == "bob" && r[1] > week1 {
					t.Errorf("bob's page in week %s, after %s", r[1], week1)
				}
			}
			if strings.Join(got, " ") != "ada:3 ada:1 bob:1" {
				t.Fatalf("load csv rows %v", loadRows)
			}
			// A name starting with "=" cannot run as a spreadsheet formula.
			if got := viewer.get("/analytics.csv?kind=noise").Body.String(); !strings.Contains(got, "'=indexer,1,2") {
				t.Fatalf("noise csv:\n%s", got)
			}
			expect(t, viewer.get("/analytics.csv?kind=bogus"), http.StatusBadRequest)
			if rec := h.anonymous().get("/analytics"); rec.Code != http.StatusSeeOther {
				t.Fatalf("anonymous: %d", rec.Code)
			}
		})
	}
}

func TestPercentileAndCharts(t *testing.T) {
	ds := []time.Duration{5, 1, 3, 2, 4}
	if percentile(ds, 50) != 3 || percentile(ds, 90) != 5 || percentile(nil, 50) != 0 {
		t.Fatal("percentile")
	}
	svg := string(BarChart("x", "<t>", "d", "", []Bar{{Label: "<b>", Value: 2}}))
	if strings.Contains(svg, "<b>") || !strings.Contains(svg, "&lt;b&gt;") {
		t.Fatalf("bar chart labels not escaped: %s", svg)
	}
	if niceCeil(7) != 10 || niceCeil(1.5) != 2 || niceCeil(30) != 50 {
		t.Fatal("niceCeil")
	}
}
