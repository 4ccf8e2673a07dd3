package ui

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/heraldhq/herald/handlers"
	"github.com/heraldhq/herald/models"
)

// Declaring an incident from the web: the same path as Slack's /incident
// form (handlers.WebIncidents.Declare), so the headline post, reminders
// and comms channel happen in Slack as usual.

type incDeclareView struct {
	Key      string
	Title    string
	Summary  string
	Impact   string
	Services string
	Errors   []string
	Sevs     []incOption
	Svcs     []incOption
	MaxTitle int
}

// incDeclareKey is the shape of the form's idempotency key.
var incDeclareKey = regexp.MustCompile(`^[0-9a-f]{32}$`)

func newDeclareKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand does not fail
	return hex.EncodeToString(b)
}

func (p *IncidentPages) declareView(c *Ctx, v incDeclareView, severity, service string) (incDeclareView, error) {
	ch, err := p.Store.IncidentChoices(c.Request().Context())
	if err != nil {
		return v, err
	}
	v.MaxTitle = models.MaxTitleLength
	v.Sevs = incSeverityOptions(severity, "Not assessed yet")
	svcs := [][2]string{{"", "None"}}
	for _, s := range ch.Services {
		svcs = append(svcs, [2]string{s.ID, s.Name})
	}
	v.Svcs = incOptions(service, svcs)
	return v, nil
}

func (p *IncidentPages) newForm(c *Ctx) error {
	v, err := p.declareView(c, incDeclareView{Key: newDeclareKey(), Title: incClip(c.QueryParam("title"), models.MaxTitleLength)}, "", "")
	if err != nil {
		return c.Failed("loading the declaration form", err)
	}
	return c.Page(http.StatusOK, "incidents_new.html", "Declare an incident", v)
}

func incClip(s string, n int) string {
	if r := []rune(strings.TrimSpace(s)); len(r) > n {
		return string(r[:n])
	}
	return strings.TrimSpace(s)
}

func (p *IncidentPages) declare(c *Ctx) error {
	if !c.Viewer.Has(NeedMember) {
		return c.Forbidden("Declaring an incident needs the member role.")
	}
	title, p1 := incField(c, "title", "Title", models.MaxTitleLength, true)
	summary, p2 := incField(c, "summary", "Summary", incMaxText, false)
	impact, p3 := incField(c, "impact", "Impact", incMaxText, false)
	services, p4 := incField(c, "services", "Affected services", 1000, false)
	problems := incProblems(p1, p2, p3, p4)
	sevRaw, svcRaw := strings.TrimSpace(c.FormValue("severity")), strings.TrimSpace(c.FormValue("service"))
	var sev models.Severity
	if sevRaw != "" {
		s, err := models.ParseSeverity(sevRaw)
		if err != nil {
			problems = append(problems, "Severity: choose SEV1 to SEV4, or not assessed.")
		}
		sev = s
	}
	ctx := c.Request().Context()
	var serviceID *string
	if svcRaw != "" {
		ch, err := p.Store.IncidentChoices(ctx)
		if err != nil {
			return c.Failed("declaring an incident", err)
		}
		for i := range ch.Services {
			if ch.Services[i].ID == svcRaw {
				serviceID = &ch.Services[i].ID
			}
		}
		if serviceID == nil {
			problems = append(problems, "Service: choose one from the list.")
		}
	}
	key := c.FormValue("key")
	if !incDeclareKey.MatchString(key) {
		key = newDeclareKey()
	}
	form := incDeclareView{Key: key, Title: title, Summary: summary, Impact: impact, Services: services}
	if len(problems) > 0 {
		return p.declareAgain(c, http.StatusBadRequest, form, problems, sevRaw, svcRaw)
	}
	a, err := p.actorOf(c)
	if err != nil {
		return c.Failed("declaring an incident", err)
	}
	inc, created, err := p.Actions.Declare(a.ctx, a.web, handlers.WebDeclaration{
		Title: title, Summary: summary, Impact: impact, Severity: sev, ServiceID: serviceID, Services: services, IdempotencyKey: key,
	})
	if errors.Is(err, models.ErrInvalid) {
		return p.declareAgain(c, http.StatusBadRequest, form, []string{strings.TrimPrefix(err.Error(), models.ErrInvalid.Error()+": ")}, sevRaw, svcRaw)
	}
	if err != nil {
		return c.Failed("declaring an incident", err)
	}
	if created {
		// Not c.Audit: its ActorID is the Slack id, not the external_users row.
		e := models.AuditEntry{Actor: a.store.Name, ActorID: a.store.UserID, IncidentID: &inc.ID, Subject: fmt.Sprintf("incident:%d", inc.ID),
			Action: "incident.declare", After: inc.Title}
		if err := p.Store.AddAudit(ctx, e); err != nil {
			return c.Failed("auditing the declaration", err)
		}
	}
	return c.SeeOther(fmt.Sprintf("/incidents/%d", inc.Number), fmt.Sprintf("Incident #%d declared. Its headline post is on its way to Slack.", inc.Number))
}

func (p *IncidentPages) declareAgain(c *Ctx, code int, form incDeclareView, problems []string, sev, svc string) error {
	form.Errors = problems
	v, err := p.declareView(c, form, sev, svc)
	if err != nil {
		return c.Failed("loading the declaration form", err)
	}
	return c.Page(code, "incidents_new.html", "Declare an incident", v)
}
