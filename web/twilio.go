package web

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/bot"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
)

// TwilioStore is what Twilio's webhooks read and change; *models.Store
// implements it.
type TwilioStore interface {
	PhoneContactMethods(ctx context.Context) ([]models.ContactMethod, error)
	SetContactsOptedOut(ctx context.Context, ids []string, at *time.Time) (int64, error)
	PeopleByID(ctx context.Context, ids []string) ([]models.Person, error)
	IncidentByID(ctx context.Context, id int64) (*models.Incident, error)
	IncidentsByClaimCode(ctx context.Context, code string) ([]int64, error)
	MessageByClaimCode(ctx context.Context, code string) (*models.Message, error)
	PhonePagedIncidents(ctx context.Context, people []string, activeOnly bool) ([]int64, error)
}

// DeliveryReporter applies Twilio's delivery reports (a failed page is
// sent again through the next vendor, or alerts); *notifications.Engine
// implements it.
type DeliveryReporter interface {
	ReportDelivery(ctx context.Context, r models.DeliveryReport) (models.DeliveryResult, error)
}

// PhoneClaimer claims and resolves incidents for someone who answered a
// page by SMS or phone. cmd/herald wires the handlers' acknowledge and
// close operations (incident, timeline and headline change, paging
// stops). Both return models.ErrNoChange when there is nothing to do.
type PhoneClaimer interface {
	Claim(ctx context.Context, incidentID int64, by *models.Person) error
	Resolve(ctx context.Context, incidentID int64, by *models.Person) error
}

// Escalator moves an escalation to its next step at once;
// *notifications.Engine implements it.
type Escalator interface {
	EscalateNow(ctx context.Context, incidentID int64) error
}

// TwilioOptions wires Twilio's webhooks.
type TwilioOptions struct {
	// AuthToken verifies X-Twilio-Signature and voice tokens.
	AuthToken string
	// BaseURL is Herald's public URL as Twilio calls it (HERALD_BASE_URL;
	// an explicit default port may differ): signatures cover it.
	BaseURL   string
	Store     TwilioStore
	Claimer   PhoneClaimer
	Escalator Escalator
	// Deliveries applies the delivery reports of /twilio/status.
	Deliveries DeliveryReporter
}

type twilioEndpoints struct {
	o      Options
	t      TwilioOptions
	tokens notifications.VoiceTokens
}

func registerTwilio(e *echo.Echo, o Options) {
	t := *o.Twilio
	t.BaseURL = strings.TrimSuffix(t.BaseURL, "/")
	h := &twilioEndpoints{o: o, t: t, tokens: notifications.NewVoiceTokens(t.AuthToken)}
	e.POST(notifications.TwilioSMSPath, h.sms)
	e.POST(notifications.TwilioVoicePath, h.voice)
	e.POST(notifications.TwilioGatherPath, h.gather)
	e.POST(notifications.TwilioStatusPath, h.status)
}

// verifiedForm reads the form body, bounded, and checks X-Twilio-Signature
// over Herald's public URL of the request before anything uses the form.
func (h *twilioEndpoints) verifiedForm(c echo.Context, endpoint string) (url.Values, error) {
	r := c.Request()
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), r.Body, h.o.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, echo.NewHTTPError(http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is larger than %d bytes", h.o.MaxBodyBytes))
		}
		return nil, echo.NewHTTPError(http.StatusBadRequest, "could not read request body")
	}
	form, perr := url.ParseQuery(string(body))
	fullURL := h.t.BaseURL + r.URL.RequestURI()
	err = notifications.VerifyTwilioSignature(h.t.AuthToken, fullURL, form, r.Header.Get(notifications.TwilioSignatureHeader))
	if err == nil && perr != nil {
		err = fmt.Errorf("%w: body is not form-encoded", notifications.ErrTwilioSignature)
	}
	if err != nil {
		h.o.Metrics.Request(endpoint, "unauthorized", 0)
		h.o.Log.WarnContext(r.Context(), "rejected Twilio request", "endpoint", endpoint, "reason", err.Error(),
			"request_id", c.Response().Header().Get(echo.HeaderXRequestID))
		return nil, echo.NewHTTPError(http.StatusForbidden, "invalid Twilio signature: "+err.Error()+
			" (Herald checks it against HERALD_BASE_URL plus the path: configure Twilio with exactly that URL)")
	}
	return form, nil
}

// twiml is a TwiML document.
type twiml struct {
	XMLName xml.Name `xml:"Response"`
	Verbs   []any
}

type twMessage struct {
	XMLName xml.Name `xml:"Message"`
	Text    string   `xml:",chardata"`
}

type twSay struct {
	XMLName xml.Name `xml:"Say"`
	Text    string   `xml:",chardata"`
}

type twGather struct {
	XMLName   xml.Name `xml:"Gather"`
	NumDigits int      `xml:"numDigits,attr"`
	Action    string   `xml:"action,attr"`
	Method    string   `xml:"method,attr"`
	Timeout   int      `xml:"timeout,attr"`
	Say       twSay
}

type twHangup struct {
	XMLName xml.Name `xml:"Hangup"`
}

func writeTwiML(c echo.Context, verbs ...any) error {
	out, err := xml.Marshal(twiml{Verbs: verbs})
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, "text/xml; charset=utf-8", append([]byte(xml.Header), out...))
}

func (h *twilioEndpoints) reply(c echo.Context, text string) error {
	return writeTwiML(c, twMessage{Text: text})
}

// normalizePhone keeps a number's + and digits, so "+1 (555) 010-0000"
// matches "+15550100000".
func normalizePhone(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' || (r == '+' && b.Len() == 0) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// sender finds the contact methods with the number an SMS came from and
// their people (oldest contact first). Destinations are encrypted, so
// every phone contact is decrypted and compared: see
// models.Store.PhoneContactMethods.
func (h *twilioEndpoints) sender(ctx context.Context, from string) ([]models.ContactMethod, []models.Person, error) {
	want := normalizePhone(from)
	if len(want) < 4 {
		return nil, nil, nil
	}
	all, err := h.t.Store.PhoneContactMethods(ctx)
	if err != nil {
		return nil, nil, err
	}
	var (
		matched []models.ContactMethod
		ids     []string
		seen    = map[string]bool{}
	)
	for _, cm := range all {
		if normalizePhone(cm.Destination.Reveal()) != want {
			continue
		}
		matched = append(matched, cm)
		if !seen[cm.PersonID] {
			seen[cm.PersonID] = true
			ids = append(ids, cm.PersonID)
		}
	}
	if len(ids) == 0 {
		return nil, nil, nil
	}
	people, err := h.t.Store.PeopleByID(ctx, ids)
	if err != nil {
		return nil, nil, err
	}
	byID := map[string]models.Person{}
	for _, p := range people {
		byID[p.ID] = p
	}
	ordered := make([]models.Person, 0, len(ids))
	for _, id := range ids {
		if p, ok := byID[id]; ok {
			ordered = append(ordered, p)
		}
	}
	return matched, ordered, nil
}

func (h *twilioEndpoints) sms(c echo.Context) error {
	form, err := h.verifiedForm(c, "twilio_sms")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	cmd, perr := notifications.ParseSMSReply(form.Get("Body"))
	contacts, people, err := h.sender(ctx, form.Get("From"))
	if err != nil {
		return err
	}
	if len(people) == 0 {
		return h.reply(c, "This number is not registered with Herald, so it cannot claim or resolve incidents.")
	}
	if perr != nil {
		return h.reply(c, notifications.SMSUsage)
	}
	ids := make([]string, len(contacts))
	for i, cm := range contacts {
		ids[i] = cm.ID
	}
	by := &people[0]
	personIDs := make([]string, len(people))
	for i, p := range people {
		personIDs[i] = p.ID
	}
	text, err := h.runSMS(ctx, cmd, by, ids, personIDs)
	if err != nil {
		return err
	}
	h.o.Metrics.Request("twilio_sms", "ok", 0)
	return h.reply(c, text)
}

// runSMS does what a parsed reply asks and says what happened.
func (h *twilioEndpoints) runSMS(ctx context.Context, cmd notifications.SMSCommand, by *models.Person, contactIDs, personIDs []string) (string, error) {
	switch cmd.Action {
	case notifications.SMSHelp:
		return notifications.SMSUsage, nil
	case notifications.SMSStop:
		now := h.o.Clock.Now()
		if _, err := h.t.Store.SetContactsOptedOut(ctx, contactIDs, &now); err != nil {
			return "", err
		}
		h.o.Log.InfoContext(ctx, "phone number opted out of paging (STOP)", "person", by.Name, "contacts", len(contactIDs))
		return "Herald will not page this number any more. Reply START to be paged here again.", nil
	case notifications.SMSStart:
		if _, err := h.t.Store.SetContactsOptedOut(ctx, contactIDs, nil); err != nil {
			return "", err
		}
		h.o.Log.InfoContext(ctx, "phone number opted back in to paging (START)", "person", by.Name, "contacts", len(contactIDs))
		return "Herald will page this number again.", nil
	case notifications.SMSClaimAll:
		incidents, err := h.t.Store.PhonePagedIncidents(ctx, personIDs, true)
		if err != nil {
			return "", err
		}
		if len(incidents) == 0 {
			return "No active escalation paged this number.", nil
		}
		return h.claimEach(ctx, incidents, by)
	case notifications.SMSClaim, notifications.SMSResolve:
		var id int64
		if cmd.Code == "" {
			incidents, err := h.t.Store.PhonePagedIncidents(ctx, personIDs, false)
			if err != nil {
				return "", err
			}
			if len(incidents) == 0 {
				return "No incident was paged to this number.", nil
			}
			id = incidents[0]
		} else {
			ids, err := h.t.Store.IncidentsByClaimCode(ctx, cmd.Code)
			if models.IsNotFound(err) {
				return fmt.Sprintf("No incident with code %s.", cmd.Code), nil
			}
			if err != nil {
				return "", err
			}
			if len(ids) > 1 {
				// A batched page (alert storm): its code claims them all.
				if cmd.Action == notifications.SMSResolve {
					return fmt.Sprintf("Code %s is a batch of %d incidents: reply \"%s claim\" to claim them all, and resolve each in Slack or on the web.", cmd.Code, len(ids), cmd.Code), nil
				}
				return h.claimEach(ctx, ids, by)
			}
			id = ids[0]
		}
		inc, err := h.t.Store.IncidentByID(ctx, id)
		if err != nil {
			return "", err
		}
		verb, op := "Claimed", h.t.Claimer.Claim
		if cmd.Action == notifications.SMSResolve {
			verb, op = "Resolved", h.t.Claimer.Resolve
		}
		err = op(ctx, id, by)
		var usage *bot.UsageError
		if errors.As(err, &usage) {
			return usage.Message, nil
		}
		if errors.Is(err, models.ErrNoChange) || models.IsNotFound(err) {
			if cmd.Action == notifications.SMSResolve {
				return fmt.Sprintf("Incident #%d is already resolved.", inc.Number), nil
			}
			return fmt.Sprintf("Incident #%d was already claimed or closed.", inc.Number), nil
		}
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%s incident #%d: %s", verb, inc.Number, inc.Title), nil
	}
	return notifications.SMSUsage, nil
}

// claimEach claims incidents for by and says which it claimed and which
// were already handled, briefly (an SMS).
func (h *twilioEndpoints) claimEach(ctx context.Context, incidents []int64, by *models.Person) (string, error) {
	var claimed, other []string
	for _, id := range incidents {
		inc, err := h.t.Store.IncidentByID(ctx, id)
		if err != nil {
			return "", err
		}
		err = h.t.Claimer.Claim(ctx, id, by)
		switch {
		case err == nil:
			claimed = append(claimed, fmt.Sprintf("#%d", inc.Number))
		case errors.Is(err, models.ErrNoChange) || models.IsNotFound(err):
			other = append(other, fmt.Sprintf("#%d", inc.Number))
		default:
			return "", err
		}
	}
	text := "Claimed incident(s) " + shortList(claimed) + "."
	if len(claimed) == 0 {
		text = "Nothing claimed."
	}
	if len(other) > 0 {
		text += " Already claimed or closed: " + shortList(other) + "."
	}
	return text, nil
}

// shortList joins numbers, the first ten and how many more: an SMS is short.
func shortList(numbers []string) string {
	const most = 10
	if len(numbers) <= most {
		return strings.Join(numbers, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(numbers[:most], ", "), len(numbers)-most)
}

// call is what a voice token leads to.
type call struct {
	token string
	tok   notifications.VoiceToken
	msg   *models.Message
	inc   *models.Incident
}

// call reads and checks the voice token of a verified request; ok is
// false when it answered already.
func (h *twilioEndpoints) call(c echo.Context) (*call, bool, error) {
	ctx := c.Request().Context()
	token := c.QueryParam("m")
	tok, err := h.tokens.Parse(token, h.o.Clock.Now())
	if err != nil {
		h.o.Log.WarnContext(ctx, "Twilio call with a bad voice token", "err", err)
		return nil, false, writeTwiML(c, twSay{Text: "Sorry, this Herald call has expired. Check Slack for the incident. Goodbye."}, twHangup{})
	}
	msg, err := h.t.Store.MessageByClaimCode(ctx, tok.ClaimCode)
	if err != nil && !models.IsNotFound(err) {
		return nil, false, err
	}
	if err != nil || msg.IncidentID == nil || *msg.IncidentID != tok.IncidentID {
		return nil, false, writeTwiML(c, twSay{Text: "Sorry, Herald cannot find this page any more. Goodbye."}, twHangup{})
	}
	inc, err := h.t.Store.IncidentByID(ctx, tok.IncidentID)
	if err != nil {
		return nil, false, err
	}
	return &call{token: token, tok: tok, msg: msg, inc: inc}, true, nil
}

// menu says the page and asks for a key.
func (h *twilioEndpoints) menu(c echo.Context, cl *call, prefix string) error {
	text := cl.msg.Body
	if strings.TrimSpace(text) == "" {
		text = cl.msg.Subject
	}
	return writeTwiML(c,
		twGather{NumDigits: 1, Method: http.MethodPost, Timeout: 8,
			Action: h.t.BaseURL + notifications.TwilioGatherPath + "?m=" + url.QueryEscape(cl.token),
			Say:    twSay{Text: strings.TrimSpace(prefix + " " + text)}},
		twSay{Text: "No key was pressed. Goodbye."}, twHangup{})
}

func (h *twilioEndpoints) voice(c echo.Context) error {
	if _, err := h.verifiedForm(c, "twilio_voice"); err != nil {
		return err
	}
	cl, ok, err := h.call(c)
	if !ok {
		return err
	}
	return h.menu(c, cl, "")
}

func (h *twilioEndpoints) gather(c echo.Context) error {
	form, err := h.verifiedForm(c, "twilio_gather")
	if err != nil {
		return err
	}
	cl, ok, err := h.call(c)
	if !ok {
		return err
	}
	ctx := c.Request().Context()
	n := cl.inc.Number
	switch form.Get("Digits") {
	case "1":
		var by *models.Person
		if cl.msg.PersonID != nil {
			people, err := h.t.Store.PeopleByID(ctx, []string{*cl.msg.PersonID})
			if err != nil {
				return err
			}
			if len(people) == 1 {
				by = &people[0]
			}
		}
		if by == nil {
			return writeTwiML(c, twSay{Text: "Sorry, Herald does not know who this page went to, so it cannot claim it. Goodbye."}, twHangup{})
		}
		if ids, err := h.t.Store.IncidentsByClaimCode(ctx, cl.msg.ClaimCode); err == nil && len(ids) > 1 {
			// A batched call (alert storm): 1 claims every incident of it.
			if _, err := h.claimEach(ctx, ids, by); err != nil {
				return err
			}
			return writeTwiML(c, twSay{Text: fmt.Sprintf("You claimed the %d incidents of this page. Escalation stopped for them. Goodbye.", len(ids))}, twHangup{})
		}
		err := h.t.Claimer.Claim(ctx, cl.tok.IncidentID, by)
		if errors.Is(err, models.ErrNoChange) || models.IsNotFound(err) {
			return writeTwiML(c, twSay{Text: fmt.Sprintf("Incident %d was already claimed or closed. Goodbye.", n)}, twHangup{})
		}
		if err != nil {
			return err
		}
		return writeTwiML(c, twSay{Text: fmt.Sprintf("You claimed incident %d. Escalation stopped. Goodbye.", n)}, twHangup{})
	case "2":
		err := h.t.Escalator.EscalateNow(ctx, cl.tok.IncidentID)
		if errors.Is(err, models.ErrNoChange) || models.IsNotFound(err) {
			return writeTwiML(c, twSay{Text: fmt.Sprintf("Incident %d is no longer escalating. Goodbye.", n)}, twHangup{})
		}
		if err != nil {
			return err
		}
		return writeTwiML(c, twSay{Text: fmt.Sprintf("Incident %d is escalating to the next step now. Goodbye.", n)}, twHangup{})
	case "3":
		return h.menu(c, cl, "")
	default:
		return h.menu(c, cl, "Sorry, that key does nothing.")
	}
}

// twilioFailed maps Twilio's final statuses (SMS and calls) to whether
// the page failed: for a call, busy, no-answer, failed and canceled all
// mean nobody was reached.
var twilioFailed = map[string]bool{
	"delivered": false, "undelivered": true, "failed": true,
	"completed": false, "busy": true, "no-answer": true, "canceled": true,
}

func (h *twilioEndpoints) status(c echo.Context) error {
	form, err := h.verifiedForm(c, "twilio_status")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	vendor, sid, state := notifications.TwilioSMSVendor, form.Get("MessageSid"), form.Get("MessageStatus")
	if sid == "" {
		vendor, sid, state = notifications.TwilioCallVendor, form.Get("CallSid"), form.Get("CallStatus")
	}
	failed, final := twilioFailed[state]
	if sid == "" || !final {
		return c.NoContent(http.StatusNoContent) // queued, sent, ringing…: nothing to record
	}
	r := models.DeliveryReport{Vendor: vendor, VendorID: sid, Failed: failed, Detail: "Twilio: " + state}
	if code := form.Get("ErrorCode"); code != "" {
		r.Detail += " (error " + code + ")"
	}
	if m := c.QueryParam(notifications.TwilioMessageParam); m != "" {
		// Signed with the URL, so it is the id Herald gave; a malformed
		// one falls back to finding the message by Twilio's id.
		if r.MessageID, err = strconv.ParseInt(m, 10, 64); err != nil || r.MessageID <= 0 {
			h.o.Log.WarnContext(ctx, "Twilio status callback with a malformed message id", "vendor_id", sid)
			r.MessageID = 0
		}
	}
	res, err := h.t.Deliveries.ReportDelivery(ctx, r)
	if err != nil {
		return fmt.Errorf("recording Twilio's delivery report: %w", err)
	}
	h.o.Metrics.Request("twilio_status", string(res), 0)
	return c.NoContent(http.StatusNoContent)
}
