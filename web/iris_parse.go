package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
)

// Request bodies of the Iris API, parsed leniently where Iris was (unknown
// fields are ignored: Iris clients send some Herald has no use for) and
// strictly where a wrong value would page the wrong people. Every problem
// names its field.

// irisFieldError is a 400 naming the field at fault.
type irisFieldError struct{ Field, Msg string }

func (e *irisFieldError) Error() string { return e.Field + ": " + e.Msg }

func irisBad(field, format string, args ...any) *irisFieldError {
	return &irisFieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// irisMaxContext is Iris's bound on an incident's context.
const irisMaxContext = 65535

// irisMaxClaims bounds POST /v0/incidents/claim.
const irisMaxClaims = 500

// irisObject decodes a body that must be a JSON object into its fields.
func irisObject(body []byte) (map[string]json.RawMessage, *irisFieldError) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil || m == nil {
		return nil, irisBad("", "the body must be a JSON object")
	}
	return m, nil
}

// irisString reads an optional string field ("" when absent or null).
func irisString(m map[string]json.RawMessage, field string) (string, *irisFieldError) {
	raw, ok := m[field]
	if !ok || isJSONNull(raw) {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", irisBad(field, "must be a string")
	}
	return s, nil
}

func isJSONNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

// irisTarget is a (role, target) pair: a dynamic target or a notification
// recipient.
type irisTarget struct {
	Role   string `json:"role"`
	Target string `json:"target"`
}

// irisRoleAliases are Iris role names Herald spells differently.
var irisRoleAliases = map[string]string{"oncall": notifications.RoleOncallPrimary}

// irisRole maps an Iris role to Herald's; people says whether the role
// must resolve to people (dynamic targets page people, not channels).
func irisRole(field, role string, people bool) (string, *irisFieldError) {
	if r, ok := irisRoleAliases[role]; ok {
		role = r
	}
	switch {
	case role == "":
		return "", irisBad(field, "required")
	case role == "literal_target" || role == "mailing-list":
		return "", irisBad(field, "role %q is not supported by Herald: name a person or team role, or slack-channel with a channel id", role)
	case people && role == notifications.RoleSlackChannel:
		return "", irisBad(field, "a dynamic target must be a person or team role, not slack-channel")
	}
	for _, r := range notifications.Roles {
		if r == role {
			return role, nil
		}
	}
	return "", irisBad(field, "unknown role %q (one of %s)", role, strings.Join(notifications.Roles, ", "))
}

// irisTargets parses a list of {role, target}.
func irisTargets(field string, raw json.RawMessage, people bool) ([]irisTarget, *irisFieldError) {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, irisBad(field, "must be a list of {\"role\": …, \"target\": …}")
	}
	out := make([]irisTarget, 0, len(items))
	for i, item := range items {
		f := fmt.Sprintf("%s[%d]", field, i)
		m, ferr := irisObject(item)
		if ferr != nil {
			return nil, irisBad(f, "must be an object with role and target")
		}
		role, ferr := irisString(m, "role")
		if ferr != nil {
			return nil, irisBad(f+".role", "%s", ferr.Msg)
		}
		if role, ferr = irisRole(f+".role", role, people); ferr != nil {
			return nil, ferr
		}
		target, ferr := irisString(m, "target")
		if ferr != nil {
			return nil, irisBad(f+".target", "%s", ferr.Msg)
		}
		if strings.TrimSpace(target) == "" {
			return nil, irisBad(f+".target", "required")
		}
		out = append(out, irisTarget{Role: role, Target: target})
	}
	return out, nil
}

// irisCreate is POST /v0/incidents.
type irisCreate struct {
	Plan string
	// Context is the context object, compacted, as stored.
	Context        string
	Title, Message string
	// Labels are the context's string values, for maintenance windows'
	// label matchers.
	Labels         map[string]string
	DynamicTargets []irisTarget
	// Application, when sent, must be the caller (Iris let some
	// applications raise incidents as others; Herald does not).
	Application string
}

func parseIrisCreate(body []byte) (*irisCreate, *irisFieldError) {
	m, ferr := irisObject(body)
	if ferr != nil {
		return nil, ferr
	}
	out := &irisCreate{}
	if out.Plan, ferr = irisString(m, "plan"); ferr != nil {
		return nil, ferr
	}
	if strings.TrimSpace(out.Plan) == "" {
		return nil, irisBad("plan", "required: the name of a Herald escalation plan")
	}
	if out.Application, ferr = irisString(m, "application"); ferr != nil {
		return nil, ferr
	}
	raw, ok := m["context"]
	if !ok || isJSONNull(raw) {
		return nil, irisBad("context", "required: a JSON object (the variables templates render)")
	}
	var ctxMap map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // keep big integers exact
	if err := dec.Decode(&ctxMap); err != nil || ctxMap == nil {
		return nil, irisBad("context", "must be a JSON object")
	}
	if !utf8.Valid(raw) { // json.Compact keeps invalid bytes: PostgreSQL refuses them
		return nil, irisBad("context", "is not valid UTF-8")
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil {
		return nil, irisBad("context", "must be a JSON object")
	}
	if compact.Len() > irisMaxContext {
		return nil, irisBad("context", "is %d bytes; the limit is %d", compact.Len(), irisMaxContext)
	}
	out.Context = compact.String()
	out.Title, out.Message = irisTitle(ctxMap, out.Plan)
	out.Labels = map[string]string{}
	for k, v := range ctxMap {
		if s, ok := v.(string); ok {
			out.Labels[k] = s
		}
	}
	if raw, ok := m["dynamic_targets"]; ok && !isJSONNull(raw) {
		if out.DynamicTargets, ferr = irisTargets("dynamic_targets", raw, true); ferr != nil {
			return nil, ferr
		}
	}
	return out, nil
}

// irisTitle picks an incident's title and message from its context: the
// first of title, summary, subject (else the plan's name), and the first
// other of summary, description, notes, message, body.
func irisTitle(ctx map[string]any, plan string) (title, message string) {
	text := func(k string) string {
		s, _ := ctx[k].(string)
		return strings.TrimSpace(s)
	}
	used := ""
	// One line without control characters, like the webhooks' titles: a
	// title reaches SMS bodies, Slack headers and channel topics.
	for _, k := range []string{"title", "summary", "subject"} {
		if title = oneLine(text(k), models.MaxTitleLength); title != "" {
			used = k
			break
		}
	}
	if title == "" {
		title = oneLine(plan, models.MaxTitleLength)
	}
	for _, k := range []string{"summary", "description", "notes", "message", "body"} {
		if k != used && text(k) != "" {
			message = text(k)
			break
		}
	}
	return title, message
}

// irisOwner reads the owner of a claim: a name, or null to unclaim.
func irisOwner(m map[string]json.RawMessage) (*string, *irisFieldError) {
	raw, ok := m["owner"]
	if !ok {
		return nil, irisBad("owner", "required: a person's name to claim, or null to unclaim")
	}
	if isJSONNull(raw) {
		return nil, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil || strings.TrimSpace(s) == "" {
		return nil, irisBad("owner", "must be a person's name, or null to unclaim")
	}
	return &s, nil
}

// parseIrisClaim is POST /v0/incidents/{id}.
func parseIrisClaim(body []byte) (*string, *irisFieldError) {
	m, ferr := irisObject(body)
	if ferr != nil {
		return nil, ferr
	}
	return irisOwner(m)
}

// parseIrisClaimMany is POST /v0/incidents/claim: the owner and the
// incident numbers, each once, in the order given.
func parseIrisClaimMany(body []byte) (*string, []int64, *irisFieldError) {
	m, ferr := irisObject(body)
	if ferr != nil {
		return nil, nil, ferr
	}
	owner, ferr := irisOwner(m)
	if ferr != nil {
		return nil, nil, ferr
	}
	raw, ok := m["incident_ids"]
	if !ok || isJSONNull(raw) {
		return nil, nil, irisBad("incident_ids", "required: a list of incident ids")
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, nil, irisBad("incident_ids", "must be a list of incident ids")
	}
	if len(items) == 0 || len(items) > irisMaxClaims {
		return nil, nil, irisBad("incident_ids", "must hold 1 to %d ids", irisMaxClaims)
	}
	seen := map[int64]bool{}
	var ids []int64
	for i, item := range items {
		// Iris took numbers or their strings.
		var s string
		if json.Unmarshal(item, &s) != nil {
			s = string(bytes.TrimSpace(item))
		}
		id, err := parseIrisID(s)
		if err != nil {
			return nil, nil, irisBad(fmt.Sprintf("incident_ids[%d]", i), "%v", err)
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return owner, ids, nil
}

// parseIrisID reads an incident id (Herald's incident number).
func parseIrisID(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not an incident id (a positive integer)", s)
	}
	return n, nil
}

// parseIrisResolve is POST /v0/incidents/{id}/resolve: {"resolved": bool}
// as Iris takes it; an empty body resolves.
func parseIrisResolve(body []byte) (bool, *irisFieldError) {
	if len(bytes.TrimSpace(body)) == 0 {
		return true, nil
	}
	m, ferr := irisObject(body)
	if ferr != nil {
		return false, ferr
	}
	raw, ok := m["resolved"]
	if !ok {
		return false, irisBad("resolved", "required: true to resolve, false to re-open")
	}
	var b bool
	if err := json.Unmarshal(raw, &b); err != nil {
		return false, irisBad("resolved", "must be true or false")
	}
	return b, nil
}

// irisNotification is POST /v0/notifications.
type irisNotification struct {
	// Targets is the one (role, target), or the target_list.
	Targets  []irisTarget
	List     bool
	Subject  string
	Body     string
	Template string
	Context  map[string]any
	Priority string
	Mode     notifications.Mode
}

// irisMaxSubject bounds a notification's subject.
const irisMaxSubject = 1000

func parseIrisNotification(body []byte) (*irisNotification, *irisFieldError) {
	m, ferr := irisObject(body)
	if ferr != nil {
		return nil, ferr
	}
	n := &irisNotification{}
	if raw, ok := m["target_list"]; ok && !isJSONNull(raw) {
		// Iris's multi-recipient e-mail: best effort to each.
		n.List = true
		if n.Targets, ferr = irisTargets("target_list", raw, false); ferr != nil {
			return nil, ferr
		}
		if len(n.Targets) == 0 {
			return nil, irisBad("target_list", "must name at least one {role, target}")
		}
	} else {
		role, ferr := irisString(m, "role")
		if ferr != nil {
			return nil, ferr
		}
		if role, ferr = irisRole("role", role, false); ferr != nil {
			return nil, ferr
		}
		target, ferr := irisString(m, "target")
		if ferr != nil {
			return nil, ferr
		}
		if strings.TrimSpace(target) == "" {
			return nil, irisBad("target", "required")
		}
		n.Targets = []irisTarget{{Role: role, Target: target}}
	}
	if _, ok := m["subject"]; !ok {
		return nil, irisBad("subject", "required (Iris requires it; SMS and calls leave it out)")
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"subject", &n.Subject}, {"body", &n.Body}, {"template", &n.Template}, {"priority", &n.Priority}} {
		if *f.dst, ferr = irisString(m, f.name); ferr != nil {
			return nil, ferr
		}
	}
	if len(n.Subject) > irisMaxSubject {
		return nil, irisBad("subject", "longer than %d bytes", irisMaxSubject)
	}
	mode, ferr := irisString(m, "mode")
	if ferr != nil {
		return nil, ferr
	}
	if ferr := n.channel(m, mode); ferr != nil {
		return nil, ferr
	}
	return n, n.content(m)
}

// channel checks priority and mode. As in Iris, a priority overrides a
// mode, and a target list goes by e-mail.
func (n *irisNotification) channel(m map[string]json.RawMessage, mode string) *irisFieldError {
	if n.List {
		if n.Priority != "" {
			return irisBad("priority", "a target_list takes a mode (email), not a priority")
		}
		if mode != string(notifications.ModeEmail) {
			return irisBad("mode", "a target_list goes by email: set mode to \"email\"")
		}
		n.Mode = notifications.ModeEmail
		return nil
	}
	switch {
	case n.Priority != "":
		if !notifications.ValidPriority(n.Priority) {
			return irisBad("priority", "unknown priority %q (one of %s)", n.Priority, strings.Join(notifications.Priorities, ", "))
		}
	case mode != "":
		switch notifications.Mode(mode) {
		case notifications.ModeSlack, notifications.ModeEmail, notifications.ModeSMS, notifications.ModeCall:
			n.Mode = notifications.Mode(mode)
		default:
			return irisBad("mode", "unknown mode %q (slack, email, sms or call)", mode)
		}
	case m["category"] != nil:
		return irisBad("category", "notification categories are not supported by Herald: send a priority or a mode")
	default:
		return irisBad("priority", "a priority or a mode is required")
	}
	return nil
}

// content checks body, template and context: a template (rendered with
// the context) wins over a body, as in Iris.
func (n *irisNotification) content(m map[string]json.RawMessage) *irisFieldError {
	if raw, ok := m["context"]; ok && !isJSONNull(raw) {
		if err := json.Unmarshal(raw, &n.Context); err != nil || n.Context == nil {
			return irisBad("context", "must be a JSON object")
		}
	}
	switch {
	case n.Template != "":
		n.Body = ""
	case strings.TrimSpace(n.Body) != "":
		if len(n.Body) > notifications.MaxOutOfBandBody {
			return irisBad("body", "longer than %d bytes", notifications.MaxOutOfBandBody)
		}
	case m["email_html"] != nil:
		return irisBad("body", "required: Herald sends plain text, so email_html alone is not enough")
	default:
		return irisBad("body", "a body or a template is required")
	}
	return nil
}
