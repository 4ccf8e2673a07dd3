package ui

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/handlers"
	"github.com/heraldhq/herald/models"
)

// The incident doc's forms. Routes need the member role (Mount); every
// write is audited: the store methods write their audit entry in the same
// transaction, and the actions shared with Slack (handlers.WebIncidents)
// record theirs through ChangeIncident, named "web:<user>" by
// models.WithAuditActor.

// Field limits of the doc's forms.
const (
	incMaxText        = 10000 // summary, impact
	incMaxPageMessage = 1000
)

// incSlackUserID is the shape of a Slack user id (U…, or W… on Enterprise Grid).
var incSlackUserID = regexp.MustCompile(`^[UW][A-Z0-9]{2,20}$`)

// incField reads a form value, trimmed; problem says what is wrong with
// it ("" when nothing).
func incField(c *Ctx, name, label string, max int, required bool) (value, problem string) {
	value = strings.TrimSpace(strings.ReplaceAll(c.FormValue(name), "\r\n", "\n"))
	switch n := len([]rune(value)); {
	case required && n == 0:
		return value, label + " is required."
	case n > max:
		return value, fmt.Sprintf("%s is too long: %d characters, at most %d.", label, n, max)
	}
	return value, ""
}

// incActor is who acts: the web user for the shared actions and, for the
// store's audit entries, their name and (with a Slack identity) their
// external_users row; ctx names them for ChangeIncident's audit entries.
type incActor struct {
	web   handlers.WebActor
	store models.Actor
	ctx   context.Context
}

// actorOf finds the viewer's Slack identity: signed in with Slack, or
// linked to a person with a Slack id.
func (p *IncidentPages) actorOf(c *Ctx) (incActor, error) {
	ctx := models.WithAuditActor(c.Request().Context(), c.Viewer.ActorName())
	a := incActor{ctx: ctx, web: handlers.WebActor{Name: c.Viewer.User.Name, SlackUserID: c.Viewer.SlackUserID()}, store: models.Actor{Name: c.Viewer.ActorName()}}
	if a.web.SlackUserID == "" && c.Viewer.User.PersonID != nil {
		people, err := p.Store.PeopleByID(ctx, []string{*c.Viewer.User.PersonID})
		if err != nil {
			return a, err
		}
		if len(people) == 1 && people[0].SlackUserID != nil {
			a.web.SlackUserID = *people[0].SlackUserID
		}
	}
	if a.web.SlackUserID != "" {
		u, err := p.Store.UpsertSlackUser(ctx, models.SlackUser{ID: a.web.SlackUserID})
		if err != nil {
			return a, err
		}
		a.store.UserID = &u.ID
	}
	return a, nil
}

// edit loads the doc and who acts for a form, then runs do; it answers
// do's outcome: a redirect to the doc (with a flash), the doc again with
// the problems (400, or 409 for a refused action), or an error page.
func (p *IncidentPages) edit(c *Ctx, anchor, what string, do func(a incActor, doc *models.IncidentDoc) (flash string, problems []string, err error)) error {
	doc, done, err := p.loadDoc(c)
	if done {
		return err
	}
	if !c.Viewer.Has(NeedMember) { // the route checks it too; writes are checked twice
		return c.Forbidden("Changing an incident needs the member role.")
	}
	a, err := p.actorOf(c)
	if err != nil {
		return c.Failed(what, err)
	}
	flash, problems, err := do(a, doc)
	back := fmt.Sprintf("/incidents/%d", doc.Incident.Number)
	switch {
	case len(problems) > 0:
		return p.renderDoc(c, http.StatusBadRequest, doc, problems, incFormValues(c))
	case err == nil:
		return c.SeeOther(back+anchor, flash)
	case errors.Is(err, models.ErrNoChange):
		return c.SeeOther(back+anchor, "Nothing changed: it already was so.")
	case models.IsNotFound(err) || errors.Is(err, errIncNotFound):
		return c.NotFound("such entry on incident #" + strconv.FormatInt(doc.Incident.Number, 10))
	case errors.Is(err, models.ErrInvalid):
		return p.renderDoc(c, http.StatusBadRequest, doc, []string{strings.TrimPrefix(err.Error(), models.ErrInvalid.Error()+": ")}, incFormValues(c))
	}
	if msg, ok := handlers.ExplainWeb(err); ok {
		return p.renderDoc(c, http.StatusConflict, doc, []string{msg}, nil)
	}
	return c.Failed(what, err)
}

// incFormValues keeps a failed form's values to show them again.
func incFormValues(c *Ctx) map[string]string {
	out := map[string]string{}
	if f, err := c.FormParams(); err == nil {
		for k, v := range f {
			if k != csrfField && len(v) > 0 {
				out[k] = v[0]
			}
		}
	}
	return out
}

func (p *IncidentPages) setSummary(c *Ctx) error { return p.setText(c, "summary", "Summary") }
func (p *IncidentPages) setImpact(c *Ctx) error  { return p.setText(c, "impact", "Impact") }

func (p *IncidentPages) setText(c *Ctx, field, label string) error {
	return p.edit(c, "#"+field, "saving the "+field, func(a incActor, doc *models.IncidentDoc) (string, []string, error) {
		text, problem := incField(c, field, label, incMaxText, false)
		if problem != "" {
			return "", []string{problem}, nil
		}
		return label + " saved.", nil, p.Actions.SetText(a.ctx, doc.Incident.ID, a.web, field, text)
	})
}

func (p *IncidentPages) acknowledge(c *Ctx) error {
	return p.edit(c, "", "acknowledging the incident", func(a incActor, doc *models.IncidentDoc) (string, []string, error) {
		return "Acknowledged: paging stopped.", nil, p.Actions.Acknowledge(a.ctx, doc.Incident.ID, a.web)
	})
}

func (p *IncidentPages) resolve(c *Ctx) error {
	return p.edit(c, "", "resolving the incident", func(a incActor, doc *models.IncidentDoc) (string, []string, error) {
		return "Resolved.", nil, p.Actions.Resolve(a.ctx, doc.Incident.ID, a.web)
	})
}

func (p *IncidentPages) reopen(c *Ctx) error {
	return p.edit(c, "", "re-opening the incident", func(a incActor, doc *models.IncidentDoc) (string, []string, error) {
		return "Re-opened.", nil, p.Actions.Reopen(a.ctx, doc.Incident.ID, a.web)
	})
}

func (p *IncidentPages) page(c *Ctx) error {
	return p.edit(c, "#page", "paging", func(a incActor, doc *models.IncidentDoc) (string, []string, error) {
		person, team := strings.TrimSpace(c.FormValue("person")), strings.TrimSpace(c.FormValue("team"))
		priority := strings.ToLower(strings.TrimSpace(c.FormValue("priority")))
		msg, problem := incField(c, "message", "Message", incMaxPageMessage, false)
		var problems []string
		if problem != "" {
			problems = append(problems, problem)
		}
		if (person == "") == (team == "") {
			problems = append(problems, "Person or team: choose one of them, not both.")
		}
		switch priority {
		case "", "low", "medium", "high", "urgent":
		default:
			problems = append(problems, "Priority: choose low, medium, high or urgent.")
		}
		if len(problems) > 0 {
			return "", problems, nil
		}
		req := handlers.WebPage{Team: team, Priority: priority, Message: msg}
		if person != "" {
			pr, err := p.Store.PersonByName(a.ctx, person)
			if models.IsNotFound(err) {
				return "", []string{fmt.Sprintf("Person: there is nobody called %q.", person)}, nil
			}
			if err != nil {
				return "", nil, err
			}
			req.Person = pr
		}
		reply, err := p.Actions.Page(a.ctx, doc.Incident, a.web, req)
		return reply, nil, err
	})
}

func (p *IncidentPages) setRole(c *Ctx) error {
	return p.edit(c, "#roles", "assigning a role", func(a incActor, doc *models.IncidentDoc) (string, []string, error) {
		role := strings.ToLower(strings.TrimSpace(c.FormValue("role")))
		holder := strings.TrimSpace(c.FormValue("holder_id"))
		if holder == "" {
			holder = strings.TrimSpace(c.FormValue("holder"))
		}
		var problems []string
		if role != "lead" && !contains(p.Actions.Roles(), role) {
			problems = append(problems, "Role: choose lead or one of "+strings.Join(p.Actions.Roles(), ", ")+".")
		}
		if !incSlackUserID.MatchString(holder) {
			problems = append(problems, "Holder: choose someone, or give a Slack user id like U0123ABCD.")
		}
		if len(problems) > 0 {
			return "", problems, nil
		}
		return "Role assigned.", nil, p.Actions.SetRole(a.ctx, doc.Incident.ID, a.web, role, holder)
	})
}

// parseLocal reads a datetime-local value in the viewer's zone; problem
// names the field.
func (p *IncidentPages) parseLocal(c *Ctx, name, label string) (time.Time, string) {
	raw := strings.TrimSpace(c.FormValue(name))
	if raw == "" {
		return p.Clock.Now(), ""
	}
	t, err := time.ParseInLocation(incLocalLayout, raw, c.Viewer.Location)
	if err != nil {
		if t, err = time.ParseInLocation(incLocalLayout+":05", raw, c.Viewer.Location); err != nil {
			return time.Time{}, label + ": use a date and time like 2026-12-31T14:05 (" + c.Viewer.ZoneName + ")."
		}
	}
	if t.Year() < 2000 || t.After(p.Clock.Now().Add(24*time.Hour)) {
		return time.Time{}, label + ": give a time between 2000 and tomorrow."
	}
	return t, ""
}

func (p *IncidentPages) addTimeline(c *Ctx) error {
	return p.edit(c, "#timeline", "adding a timeline entry", func(a incActor, doc *models.IncidentDoc) (string, []string, error) {
		text, problem := incField(c, "text", "Text", models.MaxTimelineText, true)
		at, problem2 := p.parseLocal(c, "at", "When")
		if problems := incProblems(problem, problem2); len(problems) > 0 {
			return "", problems, nil
		}
		_, err := p.Store.AddTimelineNote(a.ctx, doc.Incident.ID, text, at, a.store)
		return "Added to the timeline.", nil, err
	})
}

func incProblems(s ...string) []string {
	var out []string
	for _, x := range s {
		if x != "" {
			out = append(out, x)
		}
	}
	return out
}

// incIDParam reads a numeric path parameter (an entry or item id).
func incIDParam(c *Ctx, name string) (int64, bool) {
	return incNumber(c.Param(name))
}

func (p *IncidentPages) editTimeline(c *Ctx) error {
	return p.edit(c, "#timeline", "editing a timeline entry", func(a incActor, doc *models.IncidentDoc) (string, []string, error) {
		id, ok := incIDParam(c, "entry")
		if !ok {
			return "", nil, fmt.Errorf("timeline entry %q: %w", c.Param("entry"), errIncNotFound)
		}
		text, problem := incField(c, "text", "Text", models.MaxTimelineText, true)
		at, problem2 := p.parseLocal(c, "at", "When")
		if problems := incProblems(problem, problem2); len(problems) > 0 {
			return "", problems, nil
		}
		return "Timeline entry saved.", nil, p.Store.EditTimelineEntry(a.ctx, doc.Incident.ID, id, text, at, a.store)
	})
}

func (p *IncidentPages) hideTimeline(c *Ctx) error   { return p.setHidden(c, true) }
func (p *IncidentPages) unhideTimeline(c *Ctx) error { return p.setHidden(c, false) }

func (p *IncidentPages) setHidden(c *Ctx, hidden bool) error {
	return p.edit(c, "#timeline", "hiding a timeline entry", func(a incActor, doc *models.IncidentDoc) (string, []string, error) {
		id, ok := incIDParam(c, "entry")
		if !ok {
			return "", nil, fmt.Errorf("timeline entry %q: %w", c.Param("entry"), errIncNotFound)
		}
		flash := "Entry shown again."
		if hidden {
			flash = "Entry hidden: editors still see it, struck through."
		}
		return flash, nil, p.Store.SetTimelineEntryHidden(a.ctx, doc.Incident.ID, id, hidden, a.store)
	})
}

// errIncNotFound makes a malformed id answer 404 like an unknown one.
var errIncNotFound = errors.New("not found")

// ownerOf reads an action item owner (a Slack user id, or "" for none).
func (p *IncidentPages) ownerOf(c *Ctx, a incActor) (*string, string, error) {
	owner := strings.TrimSpace(c.FormValue("owner"))
	if owner == "" {
		return nil, "", nil
	}
	if !incSlackUserID.MatchString(owner) {
		return nil, "Owner: choose someone from the list.", nil
	}
	u, err := p.Store.UpsertSlackUser(a.ctx, models.SlackUser{ID: owner})
	if err != nil {
		return nil, "", err
	}
	return &u.ID, "", nil
}

func (p *IncidentPages) addAction(c *Ctx) error {
	return p.edit(c, "#actions", "adding an action item", func(a incActor, doc *models.IncidentDoc) (string, []string, error) {
		text, problem := incField(c, "text", "Action item", models.MaxActionItemText, true)
		owner, problem2, err := p.ownerOf(c, a)
		if err != nil {
			return "", nil, err
		}
		if problems := incProblems(problem, problem2); len(problems) > 0 {
			return "", problems, nil
		}
		_, err = p.Store.AddWebActionItem(a.ctx, doc.Incident.ID, text, owner, a.store, c.Viewer.User.Name)
		return "Action item added.", nil, err
	})
}

func (p *IncidentPages) editAction(c *Ctx) error {
	return p.edit(c, "#actions", "editing an action item", func(a incActor, doc *models.IncidentDoc) (string, []string, error) {
		id, ok := incIDParam(c, "item")
		if !ok {
			return "", nil, fmt.Errorf("action item %q: %w", c.Param("item"), errIncNotFound)
		}
		text, problem := incField(c, "text", "Action item", models.MaxActionItemText, true)
		owner, problem2, err := p.ownerOf(c, a)
		if err != nil {
			return "", nil, err
		}
		if problems := incProblems(problem, problem2); len(problems) > 0 {
			return "", problems, nil
		}
		done := c.FormValue("done") == "on" || c.FormValue("done") == "true"
		return "Action item saved.", nil, p.Store.EditActionItem(a.ctx, doc.Incident.ID, id, text, owner, done, a.store)
	})
}

func (p *IncidentPages) saveReview(c *Ctx) error {
	return p.edit(c, "#review", "saving the review", func(a incActor, doc *models.IncidentDoc) (string, []string, error) {
		what, p1 := incField(c, "what_happened", "What happened", models.MaxReviewText, false)
		factors, p2 := incField(c, "contributing_factors", "Contributing factors", models.MaxReviewText, false)
		lessons, p3 := incField(c, "lessons_learned", "Lessons learned", models.MaxReviewText, false)
		if problems := incProblems(p1, p2, p3); len(problems) > 0 {
			return "", problems, nil
		}
		r := models.IncidentReview{IncidentID: doc.Incident.ID, WhatHappened: what, ContributingFactors: factors, LessonsLearned: lessons}
		return "Review saved.", nil, p.Store.SaveIncidentReview(a.ctx, r, a.store)
	})
}
