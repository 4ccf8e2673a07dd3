package ui

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/handlers"
	"github.com/heraldhq/herald/models"
)

// The incident pages: the list (this file), the incident doc and its
// edits (incidents_doc.go, incidents_edit.go), declaring from the web
// (incidents_declare.go) and the review's Markdown (incidents_markdown.go).
// Slack's headline posts link to /incidents/<number>.

// IncidentStore is what the incident pages read and write; *models.Store
// is one.
type IncidentStore interface {
	SearchIncidents(ctx context.Context, q models.IncidentQuery) ([]models.Incident, int64, error)
	IncidentDocument(ctx context.Context, number int64) (*models.IncidentDoc, error)
	IncidentChoices(ctx context.Context) (*models.WebIncidentChoices, error)
	IncidentReviewOf(ctx context.Context, incidentID int64) (*models.IncidentReview, error)
	SaveIncidentReview(ctx context.Context, r models.IncidentReview, by models.Actor) error
	AddTimelineNote(ctx context.Context, incidentID int64, text string, at time.Time, by models.Actor) (*models.TimelineEvent, error)
	EditTimelineEntry(ctx context.Context, incidentID, entryID int64, text string, at time.Time, by models.Actor) error
	SetTimelineEntryHidden(ctx context.Context, incidentID, entryID int64, hidden bool, by models.Actor) error
	AddWebActionItem(ctx context.Context, incidentID int64, text string, ownerID *string, by models.Actor, byName string) (*models.ActionItem, error)
	EditActionItem(ctx context.Context, incidentID, itemID int64, text string, ownerID *string, done bool, by models.Actor) error
	UserBySlackID(ctx context.Context, incSlackUserID string) (*models.ExternalUser, error)
	UpsertSlackUser(ctx context.Context, u models.SlackUser) (*models.ExternalUser, error)
	PeopleByID(ctx context.Context, ids []string) ([]models.Person, error)
	PersonByName(ctx context.Context, name string) (*models.Person, error)
	AddAudit(ctx context.Context, e models.AuditEntry) error
}

// IncidentActions are the actions Slack's commands share
// (handlers.WebIncidents): they notify Slack and the paging engine.
type IncidentActions interface {
	Acknowledge(ctx context.Context, incidentID int64, by handlers.WebActor) error
	Resolve(ctx context.Context, incidentID int64, by handlers.WebActor) error
	Reopen(ctx context.Context, incidentID int64, by handlers.WebActor) error
	SetText(ctx context.Context, incidentID int64, by handlers.WebActor, field, text string) error
	SetRole(ctx context.Context, incidentID int64, by handlers.WebActor, role, holderSlackID string) error
	Roles() []string
	Page(ctx context.Context, inc *models.Incident, by handlers.WebActor, p handlers.WebPage) (string, error)
	Declare(ctx context.Context, by handlers.WebActor, f handlers.WebDeclaration) (*models.Incident, bool, error)
}

// IncidentPages serves /incidents.
type IncidentPages struct {
	Store   IncidentStore
	Actions IncidentActions
	Clock   models.Clock
}

// NewIncidentPages builds the incident pages.
func NewIncidentPages(store IncidentStore, actions IncidentActions, clock models.Clock) *IncidentPages {
	return &IncidentPages{Store: store, Actions: actions, Clock: clock}
}

// Mount adds the incident routes.
func (p *IncidentPages) Mount(r *Router) {
	r.GET("/incidents", p.list, NeedViewer)
	r.GET("/incidents/new", p.newForm, NeedMember)
	r.POST("/incidents/new", p.declare, NeedMember)
	r.GET("/incidents/:number", p.doc, NeedViewer)
	r.GET("/incidents/:number/review.md", p.markdown, NeedViewer)
	for action, h := range map[string]HandlerFunc{
		"summary": p.setSummary, "impact": p.setImpact, "ack": p.acknowledge, "resolve": p.resolve, "reopen": p.reopen,
		"page": p.page, "role": p.setRole, "timeline": p.addTimeline, "timeline/:entry": p.editTimeline,
		"timeline/:entry/hide": p.hideTimeline, "timeline/:entry/unhide": p.unhideTimeline,
		"actions": p.addAction, "actions/:item": p.editAction, "review": p.saveReview,
	} {
		r.POST("/incidents/:number/"+action, h, NeedMember)
	}
}

// IncidentsPerPage is the list's page size.
const IncidentsPerPage = 50

// incMaxListPage bounds ?page= so the offset cannot overflow.
const incMaxListPage = 100_000

// incListQuery is the list's query string, parsed: filters stay in the URL,
// so a filtered list can be shared.
type incListQuery struct {
	Status, Severity, Service, Team, From, To, Q string
	Page                                         int
}

// url renders the list's address for q at page.
func (q incListQuery) url(page int) string {
	v := url.Values{}
	for k, s := range map[string]string{"status": q.Status, "severity": q.Severity, "service": q.Service, "team": q.Team, "from": q.From, "to": q.To, "q": q.Q} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	if len(v) == 0 {
		return "/incidents"
	}
	return "/incidents?" + v.Encode()
}

// parseListQuery reads and checks the list's query; problems name the
// parameter.
func (p *IncidentPages) parseListQuery(c *Ctx) (incListQuery, models.IncidentQuery, []string) {
	get := func(k string) string { return strings.TrimSpace(c.QueryParam(k)) }
	lq := incListQuery{Status: strings.ToLower(get("status")), Severity: get("severity"), Service: get("service"), Team: get("team"),
		From: get("from"), To: get("to"), Q: get("q"), Page: 1}
	var q models.IncidentQuery
	var errs []string
	q.Status = lq.Status
	if lq.Status != "" && lq.Status != models.FilterOpen && lq.Status != models.FilterResolved {
		if _, err := models.ParseStatus(lq.Status); err != nil {
			errs = append(errs, "status: use open, resolved, investigating, identified or monitoring")
			q.Status = ""
		}
	}
	if lq.Severity != "" {
		sev, err := models.ParseSeverity(lq.Severity)
		if err != nil {
			errs = append(errs, "severity: use 1-4")
		}
		q.Severity = sev
	}
	q.ServiceID, q.TeamID = lq.Service, lq.Team
	for _, d := range []struct {
		name, raw string
		dst       *time.Time
		end       bool
	}{{"from", lq.From, &q.From, false}, {"to", lq.To, &q.To, true}} {
		if d.raw == "" {
			continue
		}
		day, err := time.ParseInLocation("2006-01-02", d.raw, c.Viewer.Location)
		if err != nil {
			errs = append(errs, d.name+": use a date like 2026-12-31")
			continue
		}
		if d.end {
			day = day.AddDate(0, 0, 1) // to the end of that day
		}
		*d.dst = day
	}
	if n := len([]rune(lq.Q)); n > models.MaxIncidentSearchLength {
		errs = append(errs, fmt.Sprintf("q: the search is %d characters, at most %d", n, models.MaxIncidentSearchLength))
		lq.Q = ""
	}
	q.Text = lq.Q
	if raw := get("page"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > incMaxListPage {
			errs = append(errs, "page: pages are numbered from 1")
		} else {
			lq.Page = n
		}
	}
	q.Limit, q.Offset = IncidentsPerPage, (lq.Page-1)*IncidentsPerPage
	return lq, q, errs
}

type incListView struct {
	Query     incListQuery
	Errors    []string
	Rows      []incListRow
	Total     int64
	First     int
	Last      int
	Page      int
	Pages     int
	PrevURL   string
	NextURL   string
	FirstURL  string
	Statuses  []incOption
	Sevs      []incOption
	Services  []incOption
	Teams     []incOption
	CanCreate bool
}

type incOption struct {
	Value, Label string
	Selected     bool
}

type incListRow struct {
	Number      int64
	Title       string
	Status      string
	StatusClass string
	Severity    string
	IsReport    bool
	Lead        string
	Started     Time
}

func (p *IncidentPages) list(c *Ctx) error {
	lq, q, errs := p.parseListQuery(c)
	if len(errs) > 0 {
		v, err := p.listOptions(c, incListView{Query: lq, Errors: errs})
		if err != nil {
			return c.Failed("listing incidents", err)
		}
		return c.Page(http.StatusBadRequest, "incidents_list.html", "Incidents", v)
	}
	incs, total, err := p.Store.SearchIncidents(c.Request().Context(), q)
	if errors.Is(err, models.ErrInvalid) {
		return c.ErrorPage(http.StatusBadRequest, "Bad filter", err.Error())
	}
	if err != nil {
		return c.Failed("listing incidents", err)
	}
	v := incListView{Query: lq, Total: total, Page: lq.Page, Pages: int((total + IncidentsPerPage - 1) / IncidentsPerPage), FirstURL: lq.url(1)}
	for i := range incs {
		inc := &incs[i]
		row := incListRow{Number: inc.Number, Title: inc.Title, Status: string(inc.Status), StatusClass: incStatusClass(inc.Status),
			IsReport: inc.IsReport, Lead: incUserName(inc.Lead), Started: c.Viewer.At(inc.ReportedAt)}
		if inc.Severity.Valid() {
			row.Severity = inc.Severity.String()
		}
		v.Rows = append(v.Rows, row)
	}
	if len(incs) > 0 {
		v.First, v.Last = q.Offset+1, q.Offset+len(incs)
		if lq.Page > 1 {
			v.PrevURL = lq.url(lq.Page - 1)
		}
		if lq.Page < v.Pages {
			v.NextURL = lq.url(lq.Page + 1)
		}
	}
	if v, err = p.listOptions(c, v); err != nil {
		return c.Failed("listing incidents", err)
	}
	title := "Incidents"
	if lq.Page > 1 {
		title += fmt.Sprintf(" (page %d)", lq.Page)
	}
	return c.Page(http.StatusOK, "incidents_list.html", title, v)
}

// listOptions fills the filter form's choices.
func (p *IncidentPages) listOptions(c *Ctx, v incListView) (incListView, error) {
	ch, err := p.Store.IncidentChoices(c.Request().Context())
	if err != nil {
		return v, err
	}
	v.CanCreate = c.Viewer.Has(NeedMember)
	v.Statuses = incOptions(v.Query.Status, [][2]string{{"", "Any"}, {models.FilterOpen, "Open"}, {models.FilterResolved, "Resolved"},
		{"investigating", "Investigating"}, {"identified", "Identified"}, {"monitoring", "Monitoring"}})
	v.Sevs = incSeverityOptions(v.Query.Severity, "Any")
	svc := [][2]string{{"", "Any"}}
	for _, s := range ch.Services {
		svc = append(svc, [2]string{s.ID, s.Name})
	}
	v.Services = incOptions(v.Query.Service, svc)
	teams := [][2]string{{"", "Any"}}
	for _, t := range ch.Teams {
		teams = append(teams, [2]string{t.ID, t.Name})
	}
	v.Teams = incOptions(v.Query.Team, teams)
	return v, nil
}

func incOptions(selected string, pairs [][2]string) []incOption {
	out := make([]incOption, len(pairs))
	for i, p := range pairs {
		out[i] = incOption{Value: p[0], Label: p[1], Selected: p[0] == selected}
	}
	return out
}

func incSeverityOptions(selected, none string) []incOption {
	pairs := [][2]string{{"", none}}
	for s := models.SEV1; s <= models.SEV4; s++ {
		pairs = append(pairs, [2]string{strconv.Itoa(int(s)), s.String()})
	}
	if sev, err := models.ParseSeverity(selected); err == nil {
		selected = strconv.Itoa(int(sev))
	}
	return incOptions(selected, pairs)
}

// incStatusClass is a CSS class for a status: only known statuses, so stored
// text never reaches a class attribute.
func incStatusClass(s models.Status) string {
	for _, known := range models.Statuses {
		if s == known {
			return "status-" + string(s)
		}
	}
	return "status-unknown"
}

// incUserName names a Slack user as the pages show them.
func incUserName(u *models.ExternalUser) string {
	if u == nil {
		return ""
	}
	if n := strings.TrimSpace(u.DisplayName); n != "" {
		return n
	}
	return u.SlackUserID
}
