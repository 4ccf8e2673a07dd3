package ui

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
)

// PeopleStore is what the people pages read and write; *models.Store is
// one.
type PeopleStore interface {
	PeopleSummaries(ctx context.Context) ([]models.PersonSummary, error)
	PersonByName(ctx context.Context, name string) (*models.Person, error)
	PersonByID(ctx context.Context, id string) (*models.Person, error)
	ContactMethodsOf(ctx context.Context, personID string) ([]models.ContactMethod, error)
	PendingVerifications(ctx context.Context, personID string) (map[string]models.PendingVerification, error)
	PriorityModesOf(ctx context.Context, personID string) ([]models.PriorityMode, error)
	PersonMessages(ctx context.Context, personID string, limit, offset int) ([]models.PersonMessage, int64, error)
	TeamsOfPerson(ctx context.Context, personID string) ([]models.Team, error)
	PersonOncallTeams(ctx context.Context, personID string) ([]models.Team, error)

	AddContactMethod(ctx context.Context, by models.Actor, personID, mode, dest string) (*models.ContactMethod, error)
	RemoveContactMethod(ctx context.Context, by models.Actor, personID, id string) (*models.ContactMethod, error)
	SetGlobalPriorityModes(ctx context.Context, by models.Actor, personID string, want map[string][]string) (bool, error)
	VerifyContact(ctx context.Context, contactMethodID, code string) error
	TakeWebAllowance(ctx context.Context, key string, every time.Duration) (bool, time.Time, error)
}

// PeopleEngine sends verification codes and test pages;
// *notifications.Engine is one.
type PeopleEngine interface {
	SendVerification(ctx context.Context, contactMethodID string) error
	Notify(ctx context.Context, o notifications.OutOfBand) (int, error)
}

// OnCallLookup says who is on call for a team; notifications.OnCallViews
// is one.
type OnCallLookup interface {
	TeamOnCall(ctx context.Context, team string, at time.Time) (*notifications.TeamOnCall, error)
}

// PeoplePages are /people, /people/:name and /me.
type PeoplePages struct {
	Store  PeopleStore
	Engine PeopleEngine
	OnCall OnCallLookup
}

// NewPeoplePages builds the people pages.
func NewPeoplePages(store PeopleStore, engine PeopleEngine, oncall OnCallLookup) PeoplePages {
	return PeoplePages{Store: store, Engine: engine, OnCall: oncall}
}

// Rate limits of the people pages: each is one use per clock minute.
const (
	testPageEvery = time.Minute // test pages per person
	codeEvery     = time.Minute // verification codes per contact method
	historyPage   = 25
)

// Mount implements Page.
func (p PeoplePages) Mount(r *Router) {
	r.GET("/people", p.list, NeedViewer)
	r.GET("/people/:name", p.show, NeedViewer)
	r.GET("/me", p.me, NeedViewer)
	r.POST("/people/:name/contacts", p.addContact, NeedMember)
	r.POST("/people/:name/contacts/:id/remove", p.removeContact, NeedMember)
	r.POST("/people/:name/contacts/:id/send-code", p.sendCode, NeedMember)
	r.POST("/people/:name/contacts/:id/verify", p.verify, NeedMember)
	r.POST("/people/:name/preferences", p.preferences, NeedMember)
	r.POST("/people/:name/test-page", p.testPage, NeedMember)
}

func (p PeoplePages) list(c *Ctx) error {
	people, err := p.Store.PeopleSummaries(c.Request().Context())
	if err != nil {
		return c.Failed("listing people", err)
	}
	return c.Page(http.StatusOK, "people_list.html", "People", people)
}

// me sends the viewer to their person's page, or explains how to get one.
func (p PeoplePages) me(c *Ctx) error {
	if id := c.Viewer.User.PersonID; id != nil {
		person, err := p.Store.PersonByID(c.Request().Context(), *id)
		switch {
		case err == nil:
			return c.Redirect(http.StatusSeeOther, "/people/"+person.Name)
		case !models.IsNotFound(err):
			return c.Failed("finding your person", err)
		}
	}
	return c.Page(http.StatusOK, "people_me.html", "Your profile", struct {
		Name, SignIn string
		Admin        bool
	}{c.Viewer.User.Name, subjectKind(c.Viewer.User.Subject), c.Viewer.IsAdmin()})
}

// subjectKind says how a web user signs in, from their subject.
func subjectKind(subject string) string {
	kind, _, _ := strings.Cut(subject, ":")
	switch kind {
	case "slack":
		return "Slack"
	case "oidc":
		return "OpenID Connect"
	case "link":
		return "one-time link"
	}
	return kind
}

// personView is everything /people/:name shows.
type personView struct {
	Person   models.Person
	Display  string
	CanEdit  bool
	Self     bool
	SeesDest bool
	Contacts []personContactRow
	Prefs    []personPrefRow
	AppPrefs []models.PriorityMode
	Modes    []string
	Teams    []models.Team
	OnCall   []personOncallRow
	History  []personHistoryRow
	Total    int64
	PrevURL  string
	NextURL  string
	// The form that failed, re-shown with its errors.
	Errors  []string
	Form    contactInput
	CodeFor string // the contact whose code was wrong
}

type personContactRow struct {
	ID, Mode, Shown string
	VerifiedAt      *time.Time
	OptedOut        bool
	// Verifiable contacts get the send-code and enter-code forms.
	Verifiable bool
	Pending    *models.PendingVerification
}

type personPrefRow struct {
	Priority string
	Modes    []personPrefMode
	Chosen   string // "" for Herald's defaults
}

type personPrefMode struct {
	Mode    string
	Checked bool
}

type personOncallRow struct {
	Team, Role, Description string
	Now                     bool
	Broken                  bool // the team's on-call could not be worked out
	From, Until             *time.Time
}

type personHistoryRow struct {
	models.PersonMessage
	What string
	Link string
}

func (p PeoplePages) show(c *Ctx) error {
	person, err := p.person(c, false)
	if person == nil {
		return err
	}
	v, err := p.view(c, person)
	if err != nil {
		return c.Failed("loading "+person.Name+"'s page", err)
	}
	return c.Page(http.StatusOK, "people_show.html", v.Display, v)
}

// person loads the person of the URL; edit also requires the viewer may
// change them. A nil person means the response was written (err is its
// error, if any).
func (p PeoplePages) person(c *Ctx, edit bool) (*models.Person, error) {
	person, err := p.Store.PersonByName(c.Request().Context(), c.Param("name"))
	if models.IsNotFound(err) {
		return nil, c.NotFound("person called " + strconv.Quote(c.Param("name")))
	}
	if err != nil {
		return nil, c.Failed("finding the person", err)
	}
	if edit && !c.Viewer.CanEditPerson(person.ID) {
		return nil, c.Forbidden("You can change only your own contact methods and preferences (your web account must be linked to your person); admins can change anyone's.")
	}
	return person, nil
}

// seesDestinations: the person themselves and admins see destinations
// whole; everyone else masked.
func seesDestinations(v *Viewer, personID string) bool {
	return v.IsAdmin() || (v.User.PersonID != nil && *v.User.PersonID == personID)
}

func (p PeoplePages) view(c *Ctx, person *models.Person) (*personView, error) {
	ctx := c.Request().Context()
	v := &personView{Person: *person, Display: person.Name, CanEdit: c.Viewer.CanEditPerson(person.ID),
		SeesDest: seesDestinations(c.Viewer, person.ID), Modes: peopleModes()}
	if person.FullName != "" {
		v.Display = person.FullName
	}
	v.Self = c.Viewer.User.PersonID != nil && *c.Viewer.User.PersonID == person.ID
	cms, err := p.Store.ContactMethodsOf(ctx, person.ID)
	if err != nil {
		return nil, err
	}
	pending, err := p.Store.PendingVerifications(ctx, person.ID)
	if err != nil {
		return nil, err
	}
	for _, cm := range cms {
		dest := cm.Destination.Reveal()
		row := personContactRow{ID: cm.ID, Mode: cm.Mode, Shown: models.MaskDestination(cm.Mode, dest), VerifiedAt: cm.VerifiedAt,
			OptedOut: cm.OptedOutAt != nil, Verifiable: cm.VerifiedAt == nil && cm.OptedOutAt == nil && dest != ""}
		if v.SeesDest {
			row.Shown = dest
		}
		if pv, ok := pending[cm.ID]; ok {
			row.Pending = &pv
		}
		v.Contacts = append(v.Contacts, row)
	}
	prefs, err := p.Store.PriorityModesOf(ctx, person.ID)
	if err != nil {
		return nil, err
	}
	global := map[string][]string{}
	for _, pm := range prefs {
		if pm.Application == "" {
			global[pm.Priority] = pm.ModeList()
		} else {
			v.AppPrefs = append(v.AppPrefs, pm)
		}
	}
	for _, prio := range notifications.Priorities {
		row := personPrefRow{Priority: prio, Chosen: strings.Join(global[prio], ", ")}
		for _, m := range v.Modes {
			row.Modes = append(row.Modes, personPrefMode{Mode: m, Checked: contains(global[prio], m)})
		}
		v.Prefs = append(v.Prefs, row)
	}
	if v.Teams, err = p.Store.TeamsOfPerson(ctx, person.ID); err != nil {
		return nil, err
	}
	if v.OnCall, err = p.oncall(c, person, c.s.o.Clock.Now()); err != nil {
		return nil, err
	}
	return v, p.history(c, person, v)
}

func peopleModes() []string {
	return []string{string(notifications.ModeSlack), string(notifications.ModeEmail), string(notifications.ModeSMS), string(notifications.ModeCall)}
}

// oncall lists the roles the person holds now and their next shifts, in
// every team whose on-call they may take part in.
// A team whose schedules cannot be worked out is named, not fatal: the
// rest of the page (contact methods) matters more.
func (p PeoplePages) oncall(c *Ctx, person *models.Person, now time.Time) ([]personOncallRow, error) {
	if p.OnCall == nil {
		return nil, nil
	}
	ctx := c.Request().Context()
	teams, err := p.Store.PersonOncallTeams(ctx, person.ID)
	if err != nil {
		return nil, err
	}
	var out []personOncallRow
	for _, t := range teams {
		toc, err := p.OnCall.TeamOnCall(ctx, t.Name, now)
		if err != nil {
			c.s.o.Log.WarnContext(ctx, "person page: team on-call failed", "team", t.Name, "err", err)
			out = append(out, personOncallRow{Team: t.Name, Broken: true})
			continue
		}
		for _, r := range toc.Roles {
			if r.Person != nil && r.Person.ID == person.ID {
				row := personOncallRow{Team: t.Name, Role: r.Role, Description: r.Description, Now: true}
				if r.Shift != nil {
					row.From, row.Until = &r.Shift.Start, &r.Shift.End
				}
				out = append(out, row)
			}
			if n := r.Next; n != nil && n.Person.ID == person.ID {
				out = append(out, personOncallRow{Team: t.Name, Role: r.Role, Description: n.Description, From: &n.Start, Until: &n.End})
			}
		}
	}
	return out, nil
}

// history fills the notification history's page (?page=N, from 1).
func (p PeoplePages) history(c *Ctx, person *models.Person, v *personView) error {
	page, _ := strconv.Atoi(c.QueryParam("page"))
	page = min(max(page, 1), 1_000_000)
	msgs, total, err := p.Store.PersonMessages(c.Request().Context(), person.ID, historyPage, (page-1)*historyPage)
	if err != nil {
		return err
	}
	v.Total = total
	for _, m := range msgs {
		row := personHistoryRow{PersonMessage: m}
		switch {
		case m.IncidentNumber != nil:
			row.What = fmt.Sprintf("#%d %s", *m.IncidentNumber, m.IncidentTitle)
			row.Link = fmt.Sprintf("/incidents/%d", *m.IncidentNumber)
		case m.Subject != "":
			row.What = m.Subject
		default:
			row.What = "Notice (no incident)"
		}
		v.History = append(v.History, row)
	}
	base := "/people/" + person.Name + "?page="
	if page > 1 {
		v.PrevURL = base + strconv.Itoa(page-1) + "#history"
	}
	if int64(page*historyPage) < total {
		v.NextURL = base + strconv.Itoa(page+1) + "#history"
	}
	return nil
}

// rerender shows the person's page again with a failed form's errors.
func (p PeoplePages) rerender(c *Ctx, code int, person *models.Person, form contactInput, codeFor string, errs ...string) error {
	v, err := p.view(c, person)
	if err != nil {
		return c.Failed("loading "+person.Name+"'s page", err)
	}
	v.Errors, v.Form, v.CodeFor = errs, form, codeFor
	return c.Page(code, "people_show.html", v.Display, v)
}
