package ui

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/handlers"
	"github.com/heraldhq/herald/internal/testdb"
	"github.com/heraldhq/herald/models"
)

var incListedRE = regexp.MustCompile(`<td data-label="Number"><a href="/incidents/(\d+)">#`)

// incListed returns the incident numbers a list page shows, in order.
func incListed(body string) []int64 {
	var out []int64
	for _, m := range incListedRE.FindAllStringSubmatch(body, -1) {
		n, _ := strconv.ParseInt(m[1], 10, 64)
		out = append(out, n)
	}
	return out
}

func incAbsent(t *testing.T, body string, unwanted ...string) {
	t.Helper()
	for _, s := range unwanted {
		if strings.Contains(body, s) {
			t.Errorf("body contains %q, which it must not", s)
		}
	}
}

func TestIncidentListPage(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			f := newIncFixture(t, d)
			start := f.Clock.Now()
			// 53 incidents an hour apart; every fourth resolved; #7 hostile;
			// #1-#10 on the checkout service (team payments).
			for i := 1; i <= 53; i++ {
				n := models.NewIncident{Title: fmt.Sprintf("Incident title %d", i), Severity: models.Severity(i%4 + 1)}
				if i == 7 {
					n.Title = `<script>alert(7)</script> checkout`
				}
				if i <= 10 {
					n.ServiceID = &f.Service.ID
				}
				inc := f.incident(t, n)
				if i%4 == 0 {
					_, err := f.Store.ChangeIncident(context.Background(), inc.ID, nil, func(inc *models.Incident) (models.Change, error) {
						inc.Status = models.StatusResolved
						return models.Change{}, nil
					})
					if err != nil {
						t.Fatal(err)
					}
				}
				f.Clock.Advance(time.Hour)
			}

			// Anonymous: sent to sign in, and back here after.
			rec := f.anonymous().get("/incidents?status=open")
			expect(t, rec, http.StatusSeeOther)
			if loc := rec.Header().Get("Location"); loc != "/login?next="+url.QueryEscape("/incidents?status=open") {
				t.Errorf("Location %q", loc)
			}

			viewer := f.signIn("vera", models.WebRoleViewer, nil)
			rec = viewer.get("/incidents")
			expect(t, rec, http.StatusOK, "Showing 1–50 of 53, newest first.", `rel="next"`, "&lt;script&gt;alert(7)&lt;/script&gt;")
			incAbsent(t, rec.Body.String(), "<script>alert", "Declare an incident", `rel="prev"`)
			if got := incListed(rec.Body.String()); len(got) != 50 || got[0] != 53 || got[49] != 4 {
				t.Errorf("page 1 lists %v", got)
			}
			expect(t, viewer.get("/incidents?page=2"), http.StatusOK, "Showing 51–53 of 53", `rel="prev"`)

			// Filters stay in the URL (shareable) and in the pager's links.
			rec = viewer.get("/incidents?status=open&severity=2")
			expect(t, rec, http.StatusOK, "Showing 1–14 of 14")
			for _, n := range incListed(rec.Body.String()) {
				if n%4 != 1 {
					t.Errorf("#%d is not open SEV2", n)
				}
			}
			expect(t, viewer.get("/incidents?status=open"), http.StatusOK, "of 40", `<option value="open" selected>`)
			rec = viewer.get("/incidents?q=incident")
			expect(t, rec, http.StatusOK, "of 52", `value="incident"`)
			if !strings.Contains(rec.Body.String(), `href="/incidents?page=2&amp;q=incident"`) {
				t.Errorf("next page link loses the filter:\n%s", rec.Body.String())
			}
			for _, tc := range []struct {
				query string
				want  []int64
			}{
				{"team=" + f.Team.ID + "&status=resolved", []int64{8, 4}},
				{"service=" + f.Service.ID + "&q=CHECKOUT", []int64{7}},
				{"q=title+5", []int64{53, 52, 51, 50, 5}},
				// Dates are the viewer's (UTC here): #1 at 09:00 on 7 Dec,
				// #16 at 00:00 on 8 Dec.
				{"from=2026-12-08&to=2026-12-08&q=title+1", []int64{19, 18, 17, 16}},
				{"to=2026-12-07&severity=sev1&status=resolved", []int64{12, 8, 4}},
			} {
				if got := incListed(viewer.get("/incidents?" + tc.query).Body.String()); fmt.Sprint(got) != fmt.Sprint(tc.want) {
					t.Errorf("?%s lists %v, want %v", tc.query, got, tc.want)
				}
			}
			_ = start
			expect(t, viewer.get("/incidents?q=nothing+like+this"), http.StatusOK, "No incidents match.")
			expect(t, viewer.get("/incidents?page=9"), http.StatusOK, "There is no page 9")

			// Bad parameters: 400 naming the parameter, nothing reflected raw.
			for q, field := range map[string]string{
				"status=closed": "status:", "severity=9": "severity:", "from=yesterday": "from:", "to=2026-13-01": "to:",
				"page=0": "page:", "page=abc": "page:", "q=" + strings.Repeat("x", 201): "q:", "status=%3Cscript%3E": "status:",
			} {
				rec := viewer.get("/incidents?" + q)
				expect(t, rec, http.StatusBadRequest, field)
				incAbsent(t, rec.Body.String(), "<script>")
			}

			member := f.signIn("mia", models.WebRoleMember, nil)
			expect(t, member.get("/incidents"), http.StatusOK, `href="/incidents/new"`)
		})
	}
}

func TestIncidentDeclareFromWeb(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) {
			f := newIncFixture(t, d)
			viewer := f.signIn("vera", models.WebRoleViewer, nil)
			expect(t, viewer.get("/incidents/new"), http.StatusForbidden, "member role")
			expect(t, viewer.post("/incidents/new", url.Values{"title": {"Nope"}}), http.StatusForbidden)
			expect(t, f.anonymous().postRaw("/incidents/new", url.Values{"title": {"Nope"}}), http.StatusUnauthorized)

			// Alice is a person with Slack: the web user linked to her
			// declares as her Slack user (reporter, confirmation DM).
			member := f.signIn("alice", models.WebRoleMember, &f.Alice.ID)
			rec := member.get("/incidents/new?title=From+the+list")
			expect(t, rec, http.StatusOK, `value="From the list"`, `name="key"`)
			key := regexp.MustCompile(`name="key" value="([0-9a-f]{32})"`).FindStringSubmatch(rec.Body.String())
			if key == nil {
				t.Fatal("no idempotency key in the form")
			}
			form := url.Values{"key": {key[1]}, "title": {`<img src=x onerror=alert(1)> Checkout down`}, "severity": {"1"},
				"service": {f.Service.ID}, "summary": {"Payments fail"}, "impact": {"EU"}, "services": {"checkout"}}
			rec = member.post("/incidents/new", form)
			expect(t, rec, http.StatusSeeOther)
			if loc := rec.Header().Get("Location"); loc != "/incidents/1" {
				t.Fatalf("Location %q", loc)
			}
			// A double submit declares once.
			expect(t, member.post("/incidents/new", form), http.StatusSeeOther)
			incs, total, err := f.Store.SearchIncidents(context.Background(), models.IncidentQuery{})
			if err != nil || total != 1 {
				t.Fatalf("incidents %v, %d, %v", incs, total, err)
			}
			inc := &incs[0]
			if inc.Source != "web" || inc.Severity != models.SEV1 || inc.ServiceID == nil || *inc.ServiceID != f.Service.ID ||
				inc.Reporter == nil || inc.Reporter.SlackUserID != "U0ALICE" || inc.AffectedServices != "checkout" {
				t.Errorf("incident %+v", inc)
			}
			// The Slack side: headline post, confirmation, comms channel (SEV1).
			for kind, want := range map[string]int64{handlers.JobHeadline: 1, handlers.JobDeclareConfirm: 1, handlers.JobCommsCreate: 1} {
				if got := f.jobs(t, kind); got != want {
					t.Errorf("%d %s jobs, want %d", got, kind, want)
				}
			}
			if got := f.audit(t, inc); fmt.Sprint(got) != "[incident.declare/web:alice]" {
				t.Errorf("audit %v", got)
			}
			rec = member.get("/incidents/1")
			expect(t, rec, http.StatusOK, "&lt;img src=x onerror=alert(1)&gt; Checkout down")
			incAbsent(t, rec.Body.String(), "<img src=x")

			// Bad input: 400 naming the field, the form again, nothing stored.
			for _, tc := range []struct {
				form  url.Values
				field string
			}{
				{url.Values{"title": {""}}, "Title is required"},
				{url.Values{"title": {strings.Repeat("t", models.MaxTitleLength+1)}}, "Title is too long"},
				{url.Values{"title": {"ok"}, "summary": {strings.Repeat("s", 10001)}}, "Summary is too long"},
				{url.Values{"title": {"ok"}, "severity": {"7"}}, "Severity:"},
				{url.Values{"title": {"ok"}, "service": {"no-such-service"}}, "Service:"},
			} {
				rec := member.post("/incidents/new", tc.form)
				expect(t, rec, http.StatusBadRequest, tc.field, `<form method="post" action="/incidents/new">`)
			}
			if _, total, _ := f.Store.SearchIncidents(context.Background(), models.IncidentQuery{}); total != 1 {
				t.Errorf("%d incidents after bad forms", total)
			}

			// Someone without Slack declares too: no reporter, no DM.
			other := f.signIn("olga", models.WebRoleMember, nil)
			expect(t, other.post("/incidents/new", url.Values{"title": {"Search slow"}}), http.StatusSeeOther)
			if got := f.jobs(t, handlers.JobDeclareConfirm); got != 1 {
				t.Errorf("%d confirmations, want 1 (olga has no Slack)", got)
			}
			if got := f.jobs(t, handlers.JobHeadline); got != 2 {
				t.Errorf("%d headline jobs, want 2", got)
			}
		})
	}
}
