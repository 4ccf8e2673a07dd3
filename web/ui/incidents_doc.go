package ui

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/bot"
	"github.com/heraldhq/herald/models"
)

// The incident doc: everything about one incident, editable by members.

// incNumber accepts plain decimal digits naming a positive number.
func incNumber(s string) (int64, bool) {
	if s == "" || len(s) > 18 || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 1 {
		return 0, false
	}
	return n, true
}

// loadDoc loads the incident of the :number parameter; done is true when
// an error page was written.
func (p *IncidentPages) loadDoc(c *Ctx) (doc *models.IncidentDoc, done bool, err error) {
	raw := c.Param("number")
	number, ok := incNumber(raw)
	if !ok {
		return nil, true, c.ErrorPage(http.StatusBadRequest, "Not an incident number", fmt.Sprintf("%q is not an incident number: incidents are numbered 1, 2, 3…", raw))
	}
	doc, err = p.Store.IncidentDocument(c.Request().Context(), number)
	if models.IsNotFound(err) {
		return nil, true, c.NotFound(fmt.Sprintf("incident #%d", number))
	}
	if err != nil {
		return nil, true, c.Failed("loading the incident", err)
	}
	return doc, false, nil
}

func (p *IncidentPages) doc(c *Ctx) error {
	doc, done, err := p.loadDoc(c)
	if done {
		return err
	}
	return p.renderDoc(c, http.StatusOK, doc, nil, nil)
}

// incDocView is the incident doc page.
type incDocView struct {
	Number        int64
	Title         string
	Status        string
	StatusClass   string
	Open          bool
	Acknowledged  bool
	Severity      string
	IsReport      bool
	Lead          string
	Reporter      string
	ResolvedBy    string
	Roles         []incRoleView
	Started       Time
	AckedAt       *Time
	ResolvedAt    *Time
	TimeToAck     string
	TimeToResolve string
	RunningFor    string
	Summary       string
	Impact        string
	Services      string
	Timeline      []incTimelineView
	ActionItems   []incActionView
	OpenActions   int
	Participants  []incParticipantView
	Comms         *incCommsView
	Review        *models.IncidentReview
	ReviewedAt    *Time

	// For editors.
	CanEdit    bool
	Errors     []string
	Form       map[string]string // values of a form that failed
	RoleNames  []string
	SlackUsers []incOption // who can hold a role or own an action item
	People     []incOption // whom to page
	Teams      []incOption
	Priorities []incOption
	NowLocal   string // datetime-local default
	Zone       string
}

type incRoleView struct {
	Role   string
	Holder string
	Since  Time
}

type incTimelineView struct {
	ID      int64 // 0: a page, not editable
	At      Time
	AtLocal string
	Kind    string
	Text    string
	Raw     string
	Author  string
	Hidden  bool
	at      time.Time
}

type incActionView struct {
	ID         int64
	Text       string
	Owner      string
	OwnerSlack string
	Done       *Time
	Created    Time
}

type incParticipantView struct {
	Name, SlackID string
	Joined        Time
	Messages      int
	LastMessage   *Time
}

type incCommsView struct {
	ChannelID, Name string
	Private         bool
	Pending         bool
	Archived        *Time
}

// incLocalLayout is the value format of <input type="datetime-local">.
const incLocalLayout = "2006-01-02T15:04"

func (p *IncidentPages) renderDoc(c *Ctx, code int, doc *models.IncidentDoc, errs []string, form map[string]string) error {
	ctx := c.Request().Context()
	review, err := p.Store.IncidentReviewOf(ctx, doc.Incident.ID)
	if err != nil {
		return c.Failed("loading the incident's review", err)
	}
	v := newIncDocView(c.Viewer, doc, p.Clock.Now())
	v.Review, v.Errors, v.Form = review, errs, form
	if !review.UpdatedAt.IsZero() {
		t := c.Viewer.At(review.UpdatedAt)
		v.ReviewedAt = &t
	}
	if v.CanEdit {
		if err := p.editorChoices(c, doc, &v); err != nil {
			return c.Failed("loading the incident's forms", err)
		}
	}
	return c.Page(code, "incidents_doc.html", fmt.Sprintf("Incident #%d: %s", v.Number, v.Title), v)
}

// editorChoices fills the forms' choices: roles, Slack users, people and
// teams.
func (p *IncidentPages) editorChoices(c *Ctx, doc *models.IncidentDoc, v *incDocView) error {
	ch, err := p.Store.IncidentChoices(c.Request().Context())
	if err != nil {
		return err
	}
	v.RoleNames = append([]string{"lead"}, p.Actions.Roles()...)
	users := map[string]string{} // Slack id → name
	for _, pr := range ch.People {
		if pr.SlackUserID != nil && *pr.SlackUserID != "" {
			users[*pr.SlackUserID] = incPersonLabel(&pr)
		}
	}
	for id, name := range incKnownNames(doc) {
		if _, ok := users[id]; !ok {
			users[id] = name
		}
	}
	ids := make([]string, 0, len(users))
	for id := range users {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return strings.ToLower(users[ids[i]]) < strings.ToLower(users[ids[j]]) })
	v.SlackUsers = []incOption{{Value: "", Label: "Nobody"}}
	for _, id := range ids {
		v.SlackUsers = append(v.SlackUsers, incOption{Value: id, Label: users[id]})
	}
	v.People = []incOption{{Value: "", Label: "Nobody (page a team)"}}
	for _, pr := range ch.People {
		v.People = append(v.People, incOption{Value: pr.Name, Label: incPersonLabel(&pr)})
	}
	v.Teams = []incOption{{Value: "", Label: "No team (page a person)"}}
	for _, t := range ch.Teams {
		v.Teams = append(v.Teams, incOption{Value: t.Name, Label: t.Name})
	}
	v.Priorities = incOptions("", [][2]string{{"", "Default (a team's plan, else high)"}, {"low", "Low"}, {"medium", "Medium"}, {"high", "High"}, {"urgent", "Urgent"}})
	v.NowLocal = p.Clock.Now().In(c.Viewer.Location).Format(incLocalLayout)
	v.Zone = c.Viewer.ZoneName
	return nil
}

func incPersonLabel(p *models.Person) string {
	if p.FullName != "" && p.FullName != p.Name {
		return p.FullName + " (" + p.Name + ")"
	}
	return p.Name
}

func incOptTime(v *Viewer, t *time.Time) *Time {
	if t == nil {
		return nil
	}
	x := v.At(*t)
	return &x
}

// incSince is HumanDuration for an elapsed time; a negative one (clock
// skew between replicas) shows as nothing.
func incSince(d time.Duration) string {
	if d < 0 {
		return ""
	}
	return bot.HumanDuration(d)
}

func newIncDocView(viewer *Viewer, doc *models.IncidentDoc, now time.Time) incDocView {
	inc := doc.Incident
	canEdit := viewer.Has(NeedMember)
	v := incDocView{
		Number: inc.Number, Title: inc.Title, Status: string(inc.Status), StatusClass: incStatusClass(inc.Status),
		Open: inc.IsOpen(), Acknowledged: inc.AcknowledgedAt != nil, IsReport: inc.IsReport,
		Lead: incUserName(inc.Lead), Reporter: incUserName(inc.Reporter), Started: viewer.At(inc.ReportedAt),
		AckedAt: incOptTime(viewer, inc.AcknowledgedAt), Summary: strings.TrimSpace(inc.Summary), Impact: strings.TrimSpace(inc.Impact),
		Services: strings.TrimSpace(inc.AffectedServices), CanEdit: canEdit,
	}
	if inc.Severity.Valid() {
		v.Severity = inc.Severity.String()
	}
	if inc.AcknowledgedAt != nil {
		v.TimeToAck = incSince(inc.AcknowledgedAt.Sub(inc.ReportedAt))
	}
	if inc.ResolvedAt != nil && !inc.IsOpen() {
		v.ResolvedAt = incOptTime(viewer, inc.ResolvedAt)
		v.ResolvedBy = incUserName(inc.ResolvedBy)
		v.TimeToResolve = incSince(inc.ResolvedAt.Sub(inc.ReportedAt))
	} else if inc.IsOpen() {
		v.RunningFor = incSince(now.Sub(inc.ReportedAt))
	}
	for _, r := range doc.Roles {
		holder := incUserName(r.User)
		if holder == "" {
			holder = "unknown user"
		}
		v.Roles = append(v.Roles, incRoleView{Role: r.Role, Holder: holder, Since: viewer.At(r.AssignedAt)})
	}
	names := incKnownNames(doc)
	loc := viewer.Location
	if loc == nil {
		loc = time.UTC
	}
	for _, e := range doc.Timeline {
		hidden := e.RemovedAt != nil
		if hidden && !canEdit {
			continue
		}
		v.Timeline = append(v.Timeline, incTimelineView{ID: e.ID, At: viewer.At(e.OccurredAt), AtLocal: e.OccurredAt.In(loc).Format(incLocalLayout),
			Kind: incTimelineKind(e.Kind), Text: incSlackText(e.Text, names), Raw: e.Text, Author: incUserName(e.Author), Hidden: hidden, at: e.OccurredAt})
	}
	v.Timeline = incWithPages(viewer, v.Timeline, doc.Pages)
	for _, a := range doc.ActionItems {
		av := incActionView{ID: a.ID, Text: incSlackText(a.Text, names), Owner: incUserName(a.Owner), Done: incOptTime(viewer, a.DoneAt), Created: viewer.At(a.CreatedAt)}
		if a.Owner != nil {
			av.OwnerSlack = a.Owner.SlackUserID
		}
		if av.Done == nil {
			v.OpenActions++
		}
		v.ActionItems = append(v.ActionItems, av)
	}
	for _, pt := range doc.Participants {
		pv := incParticipantView{Name: incUserName(pt.User), Joined: viewer.At(pt.JoinedAt), Messages: pt.MessageCount, LastMessage: incOptTime(viewer, pt.LastMessageAt)}
		if pt.User != nil {
			pv.SlackID = pt.User.SlackUserID
		}
		if pv.Name == "" {
			pv.Name = "unknown user"
		}
		v.Participants = append(v.Participants, pv)
	}
	if cc := doc.Comms; cc != nil {
		v.Comms = &incCommsView{Pending: cc.Pending(), Name: cc.ChannelName, Private: cc.Private, Archived: incOptTime(viewer, cc.ArchivedAt)}
		if !v.Comms.Pending {
			v.Comms.ChannelID = cc.ChannelID
		}
	}
	return v
}

// incWithPages merges an escalation's pages into the timeline, in time order:
// "Paged alice (primary, Payments weekly) by sms, step 1: delivered".
func incWithPages(viewer *Viewer, timeline []incTimelineView, pages []models.PageRecord) []incTimelineView {
	for _, p := range pages {
		timeline = append(timeline, incTimelineView{At: viewer.At(p.At), Kind: "Page", Text: incPageText(p), at: p.At})
	}
	slices.SortStableFunc(timeline, func(a, b incTimelineView) int { return a.at.Compare(b.at) })
	return timeline
}

func incPageText(p models.PageRecord) string {
	who := p.Person
	if who == "" {
		who = fmt.Sprintf("%s %s", p.Role, p.Target) // a page posted in a channel
	}
	if p.Source != "" {
		who += " (" + p.Source + ")"
	}
	verb := "Paged"
	if p.Status == models.MessageFailed {
		verb = "Could not page"
	}
	text := fmt.Sprintf("%s %s", verb, who)
	if p.Mode != "" {
		text += " by " + p.Mode
	}
	text += fmt.Sprintf(", step %d", p.Step+1)
	if p.Status == models.MessageDelivered {
		text += ": delivered"
	}
	return text
}

// incTimelineKinds names the timeline entry kinds for people.
var incTimelineKinds = map[models.TimelineKind]string{
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

func incTimelineKind(k models.TimelineKind) string {
	if s, ok := incTimelineKinds[k]; ok {
		return s
	}
	return string(k)
}
