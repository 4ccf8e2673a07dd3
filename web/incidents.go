package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/bot"
	"github.com/heraldhq/herald/models"
)

// IncidentReader is what the incident pages read; *models.Store is one.
type IncidentReader interface {
	// IncidentDocument loads an incident by number and everything around
	// it; an unknown number is an error satisfying models.IsNotFound.
	IncidentDocument(ctx context.Context, number int64) (*models.IncidentDoc, error)
	// ListIncidents returns a page of incidents, newest first, and how
	// many match in all.
	ListIncidents(ctx context.Context, f models.IncidentFilter) ([]models.Incident, int64, error)
}

// IncidentsPerPage is the incident list's page size.
const IncidentsPerPage = 50

// maxListPage bounds ?page= so the offset cannot overflow.
const maxListPage = 1_000_000

var (
	//go:embed templates/*.html
	templateFS embed.FS
	//go:embed static
	staticFS embed.FS

	pageTemplates = map[string]*template.Template{
		"doc":   mustParsePage("doc.html"),
		"list":  mustParsePage("list.html"),
		"error": mustParsePage("error.html"),
		// The claim-link pages (claim.go).
		"claim":   mustParsePage("claim.html"),
		"claimed": mustParsePage("claimed.html"),
	}
	staticFiles = mustLoadStatic()
)

func mustParsePage(name string) *template.Template {
	return template.Must(template.New("layout.html").ParseFS(templateFS, "templates/layout.html", "templates/"+name))
}

type staticFile struct {
	body []byte
	etag string
}

// mustLoadStatic reads the embedded static files once, with an ETag each
// so browsers revalidate cheaply instead of caching stale CSS.
func mustLoadStatic() map[string]staticFile {
	out := map[string]staticFile{}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		out[strings.TrimPrefix(p, "static/")] = staticFile{body: b, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		return nil
	})
	if err != nil {
		panic(err)
	}
	return out
}

// registerIncidentPages adds the incident pages and their stylesheet.
func registerIncidentPages(e *echo.Echo, o Options) {
	p := &incidentPages{store: o.Incidents, clock: o.Clock, log: o.Log}
	if p.clock == nil {
		p.clock = models.SystemClock{}
	}
	if p.log == nil {
		p.log = slog.Default()
	}
	e.GET("/incidents", p.list)
	e.GET("/incidents/:number", p.doc)
	e.GET("/static/*", serveStatic)
}

func serveStatic(c echo.Context) error {
	f, ok := staticFiles[c.Param("*")]
	if !ok {
		return echo.NewHTTPError(http.StatusNotFound, "no such file")
	}
	h := c.Response().Header()
	h.Set("ETag", f.etag)
	h.Set("Cache-Control", "no-cache")
	// ServeContent sets the type from the name and answers If-None-Match.
	http.ServeContent(c.Response(), c.Request(), c.Param("*"), time.Time{}, bytes.NewReader(f.body))
	return nil
}

type incidentPages struct {
	store IncidentReader
	clock models.Clock
	log   *slog.Logger
}

// render executes a page into a buffer first, so a template failure is a
// clean 500 rather than half a page.
func (p *incidentPages) render(c echo.Context, code int, page string, data any) error {
	var buf bytes.Buffer
	if err := pageTemplates[page].Execute(&buf, data); err != nil {
		return fmt.Errorf("rendering %s page: %w", page, err)
	}
	// Incident pages can name people and describe outages: keep them out
	// of shared caches.
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.HTMLBlob(code, buf.Bytes())
}

type errorPage struct {
	Title   string
	Message string
	Status  int
}

func (p *incidentPages) renderError(c echo.Context, code int, title, msg string) error {
	return p.render(c, code, "error", errorPage{Title: title, Message: msg, Status: code})
}

// failed logs an unexpected error and shows an HTML error page.
func (p *incidentPages) failed(c echo.Context, what string, err error) error {
	reqID := c.Response().Header().Get(echo.HeaderXRequestID)
	p.log.ErrorContext(c.Request().Context(), what, "path", c.Path(), "err", err, "request_id", reqID)
	msg := "Herald could not load this page; see the server log."
	if reqID != "" {
		msg = "Herald could not load this page; see the server log (request " + reqID + ")."
	}
	return p.renderError(c, http.StatusInternalServerError, "Something went wrong", msg)
}

// --- the incident doc --------------------------------------------------

func (p *incidentPages) doc(c echo.Context) error {
	raw := c.Param("number")
	number, ok := parseIncidentNumber(raw)
	if !ok {
		return p.renderError(c, http.StatusBadRequest, "Not an incident number",
			fmt.Sprintf("%q is not an incident number: incidents are numbered 1, 2, 3…", raw))
	}
	doc, err := p.store.IncidentDocument(c.Request().Context(), number)
	if models.IsNotFound(err) {
		return p.renderError(c, http.StatusNotFound, "Incident not found", fmt.Sprintf("Incident #%d does not exist.", number))
	}
	if err != nil {
		return p.failed(c, "loading incident document", err)
	}
	return p.render(c, http.StatusOK, "doc", newDocView(doc, p.clock.Now()))
}

// parseIncidentNumber accepts plain decimal digits naming a positive number.
func parseIncidentNumber(s string) (int64, bool) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 1 {
		return 0, false
	}
	return n, true
}

// stamp is a time as the pages show it: always with the date, the year
// and the zone, plus the machine-readable form for <time datetime>.
type stamp struct {
	ISO   string
	Human string
}

func newStamp(t time.Time) stamp {
	t = t.UTC()
	return stamp{ISO: t.Format(time.RFC3339), Human: t.Format("2 Jan 2006 15:04") + " UTC"}
}

func optStamp(t *time.Time) *stamp {
	if t == nil {
		return nil
	}
	s := newStamp(*t)
	return &s
}

// person is someone as the pages name them.
type person struct {
	Name    string // display name, or the Slack id when there is none
	SlackID string
	Unknown bool // the row points at a user Herald no longer knows
}

// ShowID reports whether the Slack id adds anything to the name.
func (p person) ShowID() bool { return p.SlackID != "" && p.SlackID != p.Name }

func newPerson(u *models.ExternalUser, id *string) *person {
	switch {
	case u != nil:
		name := strings.TrimSpace(u.DisplayName)
		if name == "" {
			name = u.SlackUserID
		}
		return &person{Name: name, SlackID: u.SlackUserID}
	case id != nil && *id != "":
		return &person{Name: "unknown user", Unknown: true}
	default:
		return nil
	}
}

type docView struct {
	Number           int64
	Title            string
	Status           string
	StatusClass      string
	Open             bool
	Severity         string
	IsReport         bool
	Lead             *person
	Reporter         *person
	ResolvedBy       *person
	Roles            []roleView
	Started          stamp
	Acknowledged     *stamp
	Resolved         *stamp
	Now              stamp
	TimeToAck        string
	TimeToResolve    string
	RunningFor       string
	Summary          string
	Impact           string
	AffectedServices string
	Timeline         []timelineView
	ActionItems      []actionView
	OpenActions      int
	Participants     []participantView
	Comms            *commsView
}

type roleView struct {
	Role       string
	Holder     *person
	AssignedAt stamp
}

type timelineView struct {
	At     stamp
	Kind   string
	Text   string
	Author *person
	at     time.Time // for ordering
}

type actionView struct {
	Text    string
	Owner   *person
	Done    *stamp
	Created stamp
}

type participantView struct {
	Person      person
	Joined      stamp
	Messages    int
	LastMessage *stamp
}

type commsView struct {
	ChannelID string
	Name      string
	Private   bool
	Archived  *stamp
	Pending   bool
}

// timelineKinds names the timeline entry kinds for people.
var timelineKinds = map[models.TimelineKind]string{
	models.TimelineDeclared:       "Declared",
	models.TimelineNote:           "Note",
	models.TimelinePin:            "Pinned message",
	models.TimelineStatusChange:   "Status",
	models.TimelineSeverityChange: "Severity",
	models.TimelineLeadChange:     "Lead",
	models.TimelineRoleChange:     "Role",
	models.TimelineSummaryChange:  "Summary",
	models.TimelineImpactChange:   "Impact",
	models.TimelineRename:         "Renamed",
	models.TimelineAction:         "Action item",
	models.TimelinePageRequest:    "Page",
	models.TimelineAcknowledged:   "Acknowledged",
	models.TimelineClosed:         "Resolved",
	models.TimelineReopened:       "Reopened",
	models.TimelineReaction:       "Reaction",
	models.TimelineMessage:        "Message",
}

func timelineKind(k models.TimelineKind) string {
	if s, ok := timelineKinds[k]; ok {
		return s
	}
	return string(k)
}

// humanSince is HumanDuration for an elapsed time; a negative one (clock
// skew between replicas) shows as nothing rather than "-5s".
func humanSince(d time.Duration) string {
	if d < 0 {
		return ""
	}
	return bot.HumanDuration(d)
}

func newDocView(doc *models.IncidentDoc, now time.Time) docView {
	inc := doc.Incident
	v := docView{
		Number: inc.Number, Title: inc.Title, Status: string(inc.Status), StatusClass: "status-" + statusClass(inc.Status),
		Open: inc.IsOpen(), IsReport: inc.IsReport,
		Lead: newPerson(inc.Lead, inc.LeadID), Reporter: newPerson(inc.Reporter, inc.ReporterID),
		Started: newStamp(inc.ReportedAt), Acknowledged: optStamp(inc.AcknowledgedAt), Now: newStamp(now),
		Summary: strings.TrimSpace(inc.Summary), Impact: strings.TrimSpace(inc.Impact),
		AffectedServices: strings.TrimSpace(inc.AffectedServices),
	}
	if inc.Severity.Valid() {
		v.Severity = inc.Severity.String()
	}
	if inc.AcknowledgedAt != nil {
		v.TimeToAck = humanSince(inc.AcknowledgedAt.Sub(inc.ReportedAt))
	}
	if inc.ResolvedAt != nil && !inc.IsOpen() {
		v.Resolved = optStamp(inc.ResolvedAt)
		v.ResolvedBy = newPerson(inc.ResolvedBy, inc.ResolvedByID)
		v.TimeToResolve = humanSince(inc.ResolvedAt.Sub(inc.ReportedAt))
	} else if inc.IsOpen() {
		v.RunningFor = humanSince(now.Sub(inc.ReportedAt))
	}
	for _, r := range doc.Roles {
		holder := newPerson(r.User, &r.UserID)
		if holder == nil {
			holder = &person{Name: "unknown user", Unknown: true}
		}
		v.Roles = append(v.Roles, roleView{Role: r.Role, Holder: holder, AssignedAt: newStamp(r.AssignedAt)})
	}
	names := knownNames(doc)
	for _, e := range doc.Timeline {
		if e.RemovedAt != nil {
			continue
		}
		v.Timeline = append(v.Timeline, timelineView{At: newStamp(e.OccurredAt), Kind: timelineKind(e.Kind), Text: plainSlackText(e.Text, names), Author: newPerson(e.Author, e.AuthorID), at: e.OccurredAt})
	}
	v.Timeline = withPages(v.Timeline, doc.Pages)
	for _, a := range doc.ActionItems {
		av := actionView{Text: plainSlackText(a.Text, names), Owner: newPerson(a.Owner, a.OwnerID), Done: optStamp(a.DoneAt), Created: newStamp(a.CreatedAt)}
		if av.Done == nil {
			v.OpenActions++
		}
		v.ActionItems = append(v.ActionItems, av)
	}
	for _, pt := range doc.Participants {
		who := newPerson(pt.User, &pt.UserID)
		if who == nil {
			who = &person{Name: "unknown user", Unknown: true}
		}
		v.Participants = append(v.Participants, participantView{Person: *who, Joined: newStamp(pt.JoinedAt), Messages: pt.MessageCount, LastMessage: optStamp(pt.LastMessageAt)})
	}
	if cc := doc.Comms; cc != nil {
		v.Comms = &commsView{Pending: cc.Pending(), Name: cc.ChannelName, Private: cc.Private, Archived: optStamp(cc.ArchivedAt)}
		if !v.Comms.Pending {
			v.Comms.ChannelID = cc.ChannelID
		}
	}
	return v
}

// statusClass is a CSS class suffix for a status: only known statuses, so
// stored text never reaches a class attribute.
func statusClass(s models.Status) string {
	for _, known := range models.Statuses {
		if s == known {
			return string(s)
		}
	}
	return "unknown"
}

// --- the incident list --------------------------------------------------

type listView struct {
	Filter     string
	Filters    []filterLink
	Incidents  []listRow
	Total      int64
	Page       int
	Pages      int
	First      int
	Last       int
	PrevURL    string
	NextURL    string
	FirstURL   string
	FilterName string
}

type filterLink struct {
	Label   string
	URL     string
	Current bool
}

type listRow struct {
	Number      int64
	Title       string
	Status      string
	StatusClass string
	Severity    string
	IsReport    bool
	Lead        *person
	Started     stamp
}

var listFilters = []struct{ value, label string }{
	{"", "All"},
	{models.FilterOpen, "Open"},
	{models.FilterResolved, "Resolved"},
}

func listURL(status string, page int) string {
	q := url.Values{}
	if status != "" {
		q.Set("status", status)
	}
	if page > 1 {
		q.Set("page", strconv.Itoa(page))
	}
	if len(q) == 0 {
		return "/incidents"
	}
	return "/incidents?" + q.Encode()
}

func (p *incidentPages) list(c echo.Context) error {
	status := strings.ToLower(strings.TrimSpace(c.QueryParam("status")))
	filterName := ""
	for _, f := range listFilters {
		if f.value == status {
			filterName = f.label
		}
	}
	if filterName == "" {
		return p.renderError(c, http.StatusBadRequest, "Unknown filter",
			fmt.Sprintf("%q is not an incident filter: use status=open or status=resolved.", c.QueryParam("status")))
	}
	page := 1
	if raw := c.QueryParam("page"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > maxListPage {
			return p.renderError(c, http.StatusBadRequest, "Not a page number",
				fmt.Sprintf("%q is not a page number: pages are numbered from 1.", raw))
		}
		page = n
	}
	offset := (page - 1) * IncidentsPerPage
	incs, total, err := p.store.ListIncidents(c.Request().Context(), models.IncidentFilter{Status: status, Limit: IncidentsPerPage, Offset: offset})
	if errors.Is(err, models.ErrInvalid) {
		return p.renderError(c, http.StatusBadRequest, "Bad request", err.Error())
	}
	if err != nil {
		return p.failed(c, "listing incidents", err)
	}
	v := listView{Filter: status, FilterName: filterName, Total: total, Page: page,
		Pages: int((total + IncidentsPerPage - 1) / IncidentsPerPage), FirstURL: listURL(status, 1)}
	for _, f := range listFilters {
		v.Filters = append(v.Filters, filterLink{Label: f.label, URL: listURL(f.value, 1), Current: f.value == status})
	}
	for i := range incs {
		inc := &incs[i]
		row := listRow{Number: inc.Number, Title: inc.Title, Status: string(inc.Status), StatusClass: "status-" + statusClass(inc.Status),
			IsReport: inc.IsReport, Lead: newPerson(inc.Lead, inc.LeadID), Started: newStamp(inc.ReportedAt)}
		if inc.Severity.Valid() {
			row.Severity = inc.Severity.String()
		}
		v.Incidents = append(v.Incidents, row)
	}
	if len(incs) > 0 {
		v.First, v.Last = offset+1, offset+len(incs)
	}
	if page > 1 && len(incs) > 0 {
		v.PrevURL = listURL(status, page-1)
	}
	if len(incs) > 0 && page < v.Pages {
		v.NextURL = listURL(status, page+1)
	}
	return p.render(c, http.StatusOK, "list", v)
}
