package ui

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
)

// The people pages' writes: contact methods, their verification,
// preferences and test pages. Each checks CanEditPerson and is audited;
// destinations never reach the audit log or the logs unmasked.

// contactInput is the add-contact form.
type contactInput struct {
	Mode, Destination string
}

// parseContact normalises and checks the add-contact form. A phone may be
// typed with spaces, dashes, dots or brackets; it is kept in E.164. The
// errors name the field and never repeat the destination.
func parseContact(mode, dest string) (contactInput, []string) {
	in := contactInput{Mode: strings.TrimSpace(mode), Destination: strings.TrimSpace(dest)}
	m := notifications.Mode(in.Mode)
	switch m {
	case notifications.ModeSMS, notifications.ModeCall:
		in.Destination = strings.Map(func(r rune) rune {
			if strings.ContainsRune(" -.()\u00a0", r) {
				return -1
			}
			return r
		}, in.Destination)
	case notifications.ModeSlack, notifications.ModeEmail:
	default:
		return in, []string{"Mode: choose slack, email, sms or call."}
	}
	if len(in.Destination) > 254 {
		return in, []string{"Destination: too long (at most 254 characters)."}
	}
	if err := notifications.CheckDestination(m, in.Destination); err != nil {
		return in, []string{"Destination: " + err.Error() + "."}
	}
	return in, nil
}

func (p PeoplePages) addContact(c *Ctx) error {
	person, err := p.person(c, true)
	if person == nil {
		return err
	}
	in, errs := parseContact(c.FormValue("mode"), c.FormValue("destination"))
	if len(errs) > 0 {
		return p.rerender(c, http.StatusUnprocessableEntity, person, in, "", errs...)
	}
	cm, err := p.Store.AddContactMethod(c.Request().Context(), c.Actor(), person.ID, in.Mode, in.Destination)
	switch {
	case errors.Is(err, models.ErrDuplicateContact):
		return p.rerender(c, http.StatusUnprocessableEntity, person, in, "", "Destination: "+person.Name+" already has this "+in.Mode+" contact.")
	case errors.Is(err, models.ErrTooManyContacts):
		return p.rerender(c, http.StatusUnprocessableEntity, person, in, "", "Destination: "+err.Error()+"; remove one first.")
	case err != nil:
		return c.Failed("adding the contact method", err)
	}
	msg := "Added " + in.Mode + " " + models.MaskDestination(in.Mode, in.Destination) + "."
	if in.Mode == string(notifications.ModeSMS) || in.Mode == string(notifications.ModeCall) {
		msg += " Herald does not page a phone until it is verified: send a code and enter it below."
	}
	return c.SeeOther("/people/"+person.Name+"#contact-"+cm.ID, msg)
}

func (p PeoplePages) removeContact(c *Ctx) error {
	person, err := p.person(c, true)
	if person == nil {
		return err
	}
	cm, err := p.Store.RemoveContactMethod(c.Request().Context(), c.Actor(), person.ID, c.Param("id"))
	if errors.Is(err, models.ErrContactNotOfPerson) {
		return c.NotFound("such contact method on " + person.Name)
	}
	if err != nil {
		return c.Failed("removing the contact method", err)
	}
	return c.SeeOther("/people/"+person.Name+"#contacts", "Removed "+cm.Mode+" "+models.MaskDestination(cm.Mode, cm.Destination.Reveal())+".")
}

// contactOf finds one of the person's contact methods by the URL's id.
func (p PeoplePages) contactOf(c *Ctx, person *models.Person) (*models.ContactMethod, error) {
	cms, err := p.Store.ContactMethodsOf(c.Request().Context(), person.ID)
	if err != nil {
		return nil, c.Failed("loading contact methods", err)
	}
	for i := range cms {
		if cms[i].ID == c.Param("id") {
			return &cms[i], nil
		}
	}
	return nil, c.NotFound("such contact method on " + person.Name)
}

func (p PeoplePages) sendCode(c *Ctx) error {
	person, err := p.person(c, true)
	if person == nil {
		return err
	}
	cm, err := p.contactOf(c, person)
	if cm == nil {
		return err
	}
	ctx := c.Request().Context()
	shown := cm.Mode + " " + models.MaskDestination(cm.Mode, cm.Destination.Reveal())
	if cm.VerifiedAt != nil {
		return c.SeeOther("/people/"+person.Name+"#contact-"+cm.ID, shown+" is already verified.")
	}
	ok, next, err := p.Store.TakeWebAllowance(ctx, "verify-code:"+cm.ID, codeEvery)
	if err != nil {
		return c.Failed("checking the code rate limit", err)
	}
	if !ok {
		return p.rerender(c, http.StatusTooManyRequests, person, contactInput{}, cm.ID,
			fmt.Sprintf("Code: one code a minute per contact method; send another in %s.", peopleWait(next.Sub(c.s.o.Clock.Now()))))
	}
	err = p.Engine.SendVerification(ctx, cm.ID)
	switch {
	case errors.Is(err, notifications.ErrNoVendor):
		return p.rerender(c, http.StatusUnprocessableEntity, person, contactInput{}, cm.ID, "Code: this Herald has no "+cm.Mode+" vendor configured, so it cannot send the code. Ask your Herald admins.")
	case errors.Is(err, notifications.ErrNoDestination):
		return p.rerender(c, http.StatusUnprocessableEntity, person, contactInput{}, cm.ID, "Code: Herald cannot send to this contact (a number that texted STOP must text START first).")
	case err != nil:
		return c.Failed("sending the code", err)
	}
	if err := c.Audit("person.contact.code_sent", "person:"+person.ID, "", shown); err != nil {
		return c.Failed("recording the change", err)
	}
	return c.SeeOther("/people/"+person.Name+"#contact-"+cm.ID,
		fmt.Sprintf("A code was sent to %s. Enter it below within %d minutes.", shown, int(models.VerificationCodeTTL.Minutes())))
}

func (p PeoplePages) verify(c *Ctx) error {
	person, err := p.person(c, true)
	if person == nil {
		return err
	}
	cm, err := p.contactOf(c, person)
	if cm == nil {
		return err
	}
	code := strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, c.FormValue("code"))
	bad := func(status int, msg string) error {
		return p.rerender(c, status, person, contactInput{}, cm.ID, "Code: "+msg)
	}
	if len(code) != 6 || strings.Trim(code, "0123456789") != "" {
		return bad(http.StatusUnprocessableEntity, "enter the 6 digits of the code Herald sent.")
	}
	err = p.Store.VerifyContact(c.Request().Context(), cm.ID, code)
	switch {
	case errors.Is(err, models.ErrVerificationWrongCode):
		return bad(http.StatusUnprocessableEntity, "that is not the code Herald sent. Check it and try again.")
	case errors.Is(err, models.ErrVerificationExpired):
		return bad(http.StatusUnprocessableEntity, "the code has expired. Send a new code.")
	case errors.Is(err, models.ErrVerificationTooManyTries):
		return bad(http.StatusUnprocessableEntity, "too many wrong codes. Send a new code.")
	case errors.Is(err, models.ErrVerificationNotPending):
		return bad(http.StatusUnprocessableEntity, "no code is waiting for this contact. Send a code first.")
	case err != nil:
		return c.Failed("checking the code", err)
	}
	shown := cm.Mode + " " + models.MaskDestination(cm.Mode, cm.Destination.Reveal())
	if err := c.Audit("person.contact.verify", "person:"+person.ID, "unverified "+shown, "verified "+shown); err != nil {
		return c.Failed("recording the change", err)
	}
	return c.SeeOther("/people/"+person.Name+"#contact-"+cm.ID, "Verified "+shown+": Herald pages it from now on.")
}

// parsePreferences reads the preferences form: pref-<priority> lists the
// modes checked for each priority.
func parsePreferences(form map[string][]string) (map[string][]string, []string) {
	want := map[string][]string{}
	var errs []string
	for _, prio := range notifications.Priorities {
		var modes []string
		for _, m := range peopleModes() {
			if contains(form["pref-"+prio], m) {
				modes = append(modes, m)
			}
		}
		for _, got := range form["pref-"+prio] {
			if !contains(peopleModes(), got) {
				errs = append(errs, fmt.Sprintf("Preferences (%s): unknown mode %q; choose slack, email, sms or call.", prio, peopleTruncate(got, 20)))
				break
			}
		}
		want[prio] = modes
	}
	return want, errs
}

func peopleTruncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

func (p PeoplePages) preferences(c *Ctx) error {
	person, err := p.person(c, true)
	if person == nil {
		return err
	}
	form, err := c.FormParams()
	if err != nil {
		return p.rerender(c, http.StatusBadRequest, person, contactInput{}, "", "Preferences: the form could not be read.")
	}
	want, errs := parsePreferences(form)
	if len(errs) > 0 {
		return p.rerender(c, http.StatusUnprocessableEntity, person, contactInput{}, "", errs...)
	}
	changed, err := p.Store.SetGlobalPriorityModes(c.Request().Context(), c.Actor(), person.ID, want)
	if err != nil {
		return c.Failed("saving the preferences", err)
	}
	msg := "Nothing changed."
	if changed {
		msg = "Preferences saved."
	}
	return c.SeeOther("/people/"+person.Name+"#preferences", msg)
}

func (p PeoplePages) testPage(c *Ctx) error {
	person, err := p.person(c, true)
	if person == nil {
		return err
	}
	mode, prio := c.FormValue("mode"), c.FormValue("priority")
	o := notifications.OutOfBand{Role: notifications.RoleUser, Target: person.Name, Subject: "Herald test page",
		Body: "This is a test page from Herald, sent from the web by " + c.Viewer.User.Name + ". There is no incident and nothing to do."}
	var how string
	switch {
	case mode != "" && prio == "" && contains(peopleModes(), mode):
		o.Mode, how = notifications.Mode(mode), "by "+mode
	case prio != "" && mode == "" && notifications.ValidPriority(prio):
		o.Priority, how = prio, "as a "+prio+" page"
	default:
		return p.rerender(c, http.StatusUnprocessableEntity, person, contactInput{}, "", "Test page: choose one mode or one priority.")
	}
	ctx := c.Request().Context()
	ok, next, err := p.Store.TakeWebAllowance(ctx, "test-page:"+person.ID, testPageEvery)
	if err != nil {
		return c.Failed("checking the test page rate limit", err)
	}
	if !ok {
		return p.rerender(c, http.StatusTooManyRequests, person, contactInput{}, "",
			fmt.Sprintf("Test page: one test page a minute per person; try again in %s.", peopleWait(next.Sub(c.s.o.Clock.Now()))))
	}
	n, err := p.Engine.Notify(ctx, o)
	if errors.Is(err, notifications.ErrInvalidPage) {
		return p.rerender(c, http.StatusUnprocessableEntity, person, contactInput{}, "", "Test page: Herald cannot page "+person.Name+" (an inactive person is never paged).")
	}
	if err != nil {
		return c.Failed("sending the test page", err)
	}
	if err := c.Audit("person.test_page", "person:"+person.ID, "", "test page "+how); err != nil {
		return c.Failed("recording the test page", err)
	}
	return c.SeeOther("/people/"+person.Name+"#history",
		fmt.Sprintf("Test page queued %s (%d message%s). Its status shows in the notification history below.", how, n, peoplePlural(n)))
}

func peoplePlural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// peopleWait says how long to wait, in whole seconds (at least 1).
func peopleWait(d time.Duration) string {
	s := max(int((d+time.Second-1)/time.Second), 1)
	return fmt.Sprintf("%d second%s", s, peoplePlural(s))
}
