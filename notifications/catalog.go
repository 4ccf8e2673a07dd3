package notifications

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// Catalog is Herald's paging configuration as code: the people, teams,
// message templates and escalation plans `herald apply` makes the database
// match and `herald export` writes back. Its YAML shape is the file's.
type Catalog struct {
	People    []PersonSpec   `yaml:"people,omitempty"`
	Teams     []TeamSpec     `yaml:"teams,omitempty"`
	Templates []TemplateSpec `yaml:"templates,omitempty"`
	Plans     []PlanSpec     `yaml:"plans,omitempty"`
	// Services, integrations, heartbeats and maintenance windows: see
	// catalog_services.go.
	Services     []ServiceSpec     `yaml:"services,omitempty"`
	Integrations []IntegrationSpec `yaml:"integrations,omitempty"`
	Heartbeats   []HeartbeatSpec   `yaml:"heartbeats,omitempty"`
	Maintenance  []MaintenanceSpec `yaml:"maintenance,omitempty"`
	// Schedules: see catalog_schedules.go.
	Schedules []ScheduleSpec `yaml:"schedules,omitempty"`
}

// PersonSpec declares a person. Name is the handle plans and teams use; it
// identifies the person (renaming is removing one and adding another).
type PersonSpec struct {
	Name     string `yaml:"name"`
	FullName string `yaml:"full_name,omitempty"`
	SlackID  string `yaml:"slack_id,omitempty"`
	TimeZone string `yaml:"time_zone,omitempty"`
	// Active false keeps the person but pages them no more; omitted is true.
	Active *bool `yaml:"active,omitempty"`
	// Contacts are the person's contact methods, all of them: one the
	// database has and the file does not is removed. Nil (no contacts key)
	// leaves the person's contact methods alone: people add and verify
	// phones on the web UI. Empty but not nil (contacts: []) removes them.
	Contacts []ContactSpec `yaml:"contacts,omitzero"`
	// Priorities are the modes used at each priority; a priority left out
	// uses DefaultModes. Nil (no priorities key) leaves the person's global
	// preferences alone, as Contacts; empty (priorities: {}) removes them.
	Priorities PriorityModes `yaml:"priorities,omitzero"`
	// ApplicationPriorities override Priorities for the pages of one
	// application (integration): application → priority → modes. A
	// priority an application leaves out uses the global preference. Only
	// files set them, so the file's are always the whole list.
	ApplicationPriorities map[string]PriorityModes `yaml:"application_priorities,omitempty"`
}

// ContactSpec is one contact method. A method is identified by its mode and
// destination. Verified true marks it verified (the file is an authority on
// its numbers); false never un-verifies one verified earlier.
type ContactSpec struct {
	Mode        string `yaml:"mode"`
	Destination string `yaml:"destination"`
	Verified    bool   `yaml:"verified,omitempty"`
}

// Redacted stands for a destination `herald export` left out; apply refuses
// it.
const Redacted = "<redacted>"

// PriorityModes maps a priority to the modes used at it, in order.
type PriorityModes map[string][]string

// MarshalYAML writes priorities lowest first, each list on one line.
func (p PriorityModes) MarshalYAML() (any, error) {
	for k := range p {
		if !ValidPriority(k) {
			// Not a valid file anyway: keep every key, in order.
			out := yaml.MapSlice{}
			for _, k := range sortedKeys(p, Priorities) {
				out = append(out, yaml.MapItem{Key: k, Value: p[k]})
			}
			return out, nil
		}
	}
	return struct {
		Low    []string `yaml:"low,omitempty,flow"`
		Medium []string `yaml:"medium,omitempty,flow"`
		High   []string `yaml:"high,omitempty,flow"`
		Urgent []string `yaml:"urgent,omitempty,flow"`
	}{p["low"], p["medium"], p["high"], p["urgent"]}, nil
}

// TeamSpec declares a team. Members and on-call assignments are the team's
// whole lists: ones not in the file are removed.
type TeamSpec struct {
	Name         string      `yaml:"name"`
	SlackChannel string      `yaml:"slack_channel,omitempty"`
	Manager      string      `yaml:"manager,omitempty"`
	Members      []string    `yaml:"members,omitempty,flow"`
	Oncall       *OncallSpec `yaml:"oncall,omitempty"`
}

// OncallSpec is a team's static on-call people.
type OncallSpec struct {
	Primary   string `yaml:"primary,omitempty"`
	Secondary string `yaml:"secondary,omitempty"`
}

// TemplateSpec declares a message template: per-mode subject and body.
type TemplateSpec struct {
	Name  string        `yaml:"name"`
	Modes TemplateModes `yaml:"modes"`
}

// TemplateModes maps a mode to its content. Stored as JSON in
// message_templates.definition.
type TemplateModes map[string]TemplateContent

// TemplateContent is a template's text for one mode. SMS and calls have no
// subject.
type TemplateContent struct {
	Subject string `yaml:"subject,omitempty" json:"subject,omitempty"`
	Body    string `yaml:"body" json:"body"`
}

// MarshalYAML writes modes in the order of Modes.
func (m TemplateModes) MarshalYAML() (any, error) {
	out := yaml.MapSlice{}
	for _, k := range sortedKeys(m, modeNames()) {
		out = append(out, yaml.MapItem{Key: k, Value: m[k]})
	}
	return out, nil
}

// PlanSpec declares an escalation plan. A change of its steps publishes a
// new version; team and owner are properties of the plan itself.
type PlanSpec struct {
	Name  string     `yaml:"name"`
	Team  string     `yaml:"team,omitempty"`
	Owner string     `yaml:"owner,omitempty"`
	Steps []StepSpec `yaml:"steps"`
	// Aggregation batches the plan's pages in an alert storm.
	Aggregation *AggregationSpec `yaml:"aggregation,omitempty"`
}

// StepSpec is a set of notifications sent in parallel.
type StepSpec struct {
	Notifications []NotificationSpec `yaml:"notifications"`
}

// NotificationSpec is models.PlanNotification in the file: who (role,
// target), how urgent, how often (repeat extra sends, wait minutes apart
// and before the next step), with what template, and whether reaching
// nobody is fine (optional).
type NotificationSpec struct {
	Role     string `yaml:"role"`
	Target   string `yaml:"target"`
	Priority string `yaml:"priority"`
	Wait     int    `yaml:"wait"`
	Repeat   int    `yaml:"repeat"`
	Template string `yaml:"template,omitempty"`
	Optional bool   `yaml:"optional,omitempty"`
}

// Modes a contact method, preference or template can name.
var Modes = []Mode{ModeSlack, ModeEmail, ModeSMS, ModeCall}

// Bounds of a notification: beyond them a plan is a typo, and the engine's
// arithmetic (wait × sends) stays far from overflowing.
const (
	MaxWaitMinutes = 7 * 24 * 60
	MaxRepeat      = 100
)

// ErrInvalidCatalog wraps a configuration file that cannot be parsed.
var ErrInvalidCatalog = errors.New("invalid configuration file")

// MaxCatalogBytes bounds a configuration file.
const MaxCatalogBytes = 4 << 20

// ParseCatalog decodes a configuration file strictly: unknown fields,
// duplicate keys, several documents and numbers the YAML parser would
// silently change (+447700900123 loses its plus, 0123 is octal 83, 1.5
// minutes would become 1) are errors. It checks the shape only; Validate
// checks the content.
func ParseCatalog(data []byte) (c *Catalog, err error) {
	if len(data) > MaxCatalogBytes {
		return nil, fmt.Errorf("invalid YAML: the file is larger than %d bytes", MaxCatalogBytes)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return &Catalog{}, nil
	}
	// The parser panics on some malformed input (goccy/go-yaml#735, see
	// handlers.decodeYAML): that is an error here too.
	defer func() {
		if r := recover(); r != nil {
			c, err = nil, fmt.Errorf("invalid YAML: the parser failed on it (%v)", r)
		}
	}()
	file, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, fmt.Errorf("invalid YAML: %s", yaml.FormatError(err, false, false))
	}
	var docs []*ast.DocumentNode
	for _, d := range file.Docs {
		if d != nil && d.Body != nil {
			docs = append(docs, d)
		}
	}
	switch len(docs) {
	case 0:
		return &Catalog{}, nil
	case 1:
	default:
		return nil, fmt.Errorf("invalid YAML: %d documents; a configuration file holds one", len(docs))
	}
	var errs Errors
	ast.Walk(numberChecker{&errs}, docs[0].Body)
	if len(errs) > 0 {
		return nil, errs
	}
	c = &Catalog{}
	if err := yaml.NodeToValue(docs[0].Body, c, yaml.DisallowUnknownField()); err != nil {
		return nil, fmt.Errorf("invalid YAML: %s", yaml.FormatError(err, false, false))
	}
	markDeclaredKeys(docs[0].Body, c)
	return c, nil
}

// numberChecker flags numbers whose value is not what is written: the
// decoder would store "+447700900123" as "447700900123" and 1.5 as 1.
type numberChecker struct{ errs *Errors }

var plainInteger = regexp.MustCompile(`^-?(0|[1-9][0-9]{0,17})$`)

func (v numberChecker) Visit(n ast.Node) ast.Visitor {
	if strings.HasSuffix(yamlPath(n), ".destination") {
		switch n.(type) {
		case *ast.IntegerNode, *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
			// Say nothing of the value: destinations stay out of output.
			v.errs.add(yamlPath(n), "write it in quotes: unquoted, YAML reads it as a number and changes it (a leading + or 0 is lost)")
		}
		return v
	}
	switch n := n.(type) {
	case *ast.IntegerNode:
		if text := n.GetToken().Value; !plainInteger.MatchString(text) {
			v.errs.add(yamlPath(n), "%s would be read as the number %v: quote it (%q) if it is text", text, n.Value, text)
		}
	case *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		text := n.GetToken().Value
		v.errs.add(yamlPath(n), "%s is not a whole number (wait and repeat count whole minutes and sends): quote it (%q) if it is text", text, text)
	}
	return v
}

// yamlPath turns the parser's "$.people[0].name" into "people[0].name".
func yamlPath(n ast.Node) string {
	p := strings.TrimPrefix(strings.TrimPrefix(n.GetPath(), "$"), ".")
	if p == "" {
		return "(document)"
	}
	return p
}

// FieldError is one problem of a configuration file, at a path such as
// plans[2].steps[0].notifications[1].role.
type FieldError struct {
	Path    string
	Message string
}

func (e FieldError) Error() string { return e.Path + ": " + e.Message }

// Errors is every problem of a file; a file with any is applied not at all.
type Errors []FieldError

func (e Errors) Error() string {
	lines := make([]string, len(e))
	for i, fe := range e {
		lines[i] = fe.Error()
	}
	return strings.Join(lines, "\n")
}

func (e *Errors) add(path, format string, args ...any) {
	*e = append(*e, FieldError{Path: path, Message: fmt.Sprintf(format, args...)})
}

// Existing is what the database already holds that a file may refer to
// without declaring it. Nil means nothing (as with --prune, which removes
// whatever the file does not declare).
type Existing struct {
	// People maps a handle to the person's Slack user id ("" for none).
	People    map[string]string
	Teams     map[string]bool
	Templates map[string]bool
	// Active plans, services, and integrations (to the names of their
	// services).
	Plans        map[string]bool
	Services     map[string]bool
	Integrations map[string][]string
}

var (
	namePattern         = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	slackUserPattern    = regexp.MustCompile(`^[UW][A-Z0-9]{2,20}$`)
	slackChannelPattern = regexp.MustCompile(`^[CG][A-Z0-9]{2,20}$`)
	e164Pattern         = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
)

// Validate checks a catalog against itself and what the database holds
// and reports every problem at once (as Errors), each at its path. The
// warnings are legal but probably unintended: a preference for a mode the
// person cannot be reached in, an on-call role nobody holds.
func (c *Catalog) Validate(ex *Existing) (warnings []string, err error) {
	if ex == nil {
		ex = &Existing{}
	}
	v := validator{c: c, ex: ex, people: map[string]int{}, teams: map[string]int{}, templates: map[string]int{},
		declPeople: firstIndex(c.People, func(p PersonSpec) string { return p.Name }),
		declTeams:  firstIndex(c.Teams, func(t TeamSpec) string { return t.Name }),
		declTmpls:  firstIndex(c.Templates, func(t TemplateSpec) string { return t.Name }),
		slackIDs:   map[string]int{}}
	for i := range c.People {
		v.person(i)
	}
	for i := range c.Teams {
		v.team(i)
	}
	for i := range c.Templates {
		v.template(i)
	}
	plans := map[string]int{}
	for i := range c.Plans {
		v.plan(i, plans)
	}
	v.validateServices()
	v.validateSchedules()
	if len(v.errs) > 0 {
		return v.warnings, v.errs
	}
	return v.warnings, nil
}

type validator struct {
	c        *Catalog
	ex       *Existing
	errs     Errors
	warnings []string
	// Names declared so far, to their index.
	people, teams, templates map[string]int
	// Every name the file declares, to its first index.
	declPeople, declTeams, declTmpls map[string]int
	slackIDs                         map[string]int
}

func firstIndex[T any](list []T, name func(T) string) map[string]int {
	out := make(map[string]int, len(list))
	for i, x := range list {
		if _, dup := out[name(x)]; !dup {
			out[name(x)] = i
		}
	}
	return out
}

func (v *validator) warn(path, format string, args ...any) {
	v.warnings = append(v.warnings, path+": "+fmt.Sprintf(format, args...))
}

// name checks a name and records it in seen; it reports whether the name
// is usable (valid and new).
func (v *validator) name(path, kind, name string, i int, list string, seen map[string]int) bool {
	switch {
	case name == "":
		v.errs.add(path, "required")
		return false
	case !namePattern.MatchString(name):
		v.errs.add(path, "%q is not a valid %s name (letters, digits, \".\", \"_\" and \"-\", up to 64 characters)", name, kind)
		return false
	}
	if j, dup := seen[name]; dup {
		v.errs.add(path, "%q is already the name of %s[%d]", name, list, j)
		return false
	}
	seen[name] = i
	return true
}

func (v *validator) personExists(name string) bool {
	if _, ok := v.declaredPerson(name); ok {
		return true
	}
	_, ok := v.ex.People[name]
	return ok
}

func (v *validator) declaredPerson(name string) (int, bool) {
	i, ok := v.declPeople[name]
	return i, ok
}

func (v *validator) declaredTeam(name string) (int, bool) {
	i, ok := v.declTeams[name]
	return i, ok
}

func (v *validator) teamExists(name string) bool {
	_, ok := v.declaredTeam(name)
	return ok || v.ex.Teams[name]
}

func (v *validator) templateExists(name string) bool {
	_, ok := v.declTmpls[name]
	return ok || v.ex.Templates[name]
}

// personRef checks a reference to a person.
func (v *validator) personRef(path, name string) {
	switch {
	case name == "":
		v.errs.add(path, "required")
	case !v.personExists(name):
		v.errs.add(path, "unknown person %q (not in this file or the database)", name)
	}
}

func (v *validator) person(i int) {
	p := &v.c.People[i]
	at := func(field string) string { return fmt.Sprintf("people[%d].%s", i, field) }
	v.name(at("name"), "person", p.Name, i, "people", v.people)
	if !utf8.ValidString(p.FullName) {
		v.errs.add(at("full_name"), "not valid UTF-8")
	}
	if p.SlackID != "" {
		v.slackUser(i, p)
	}
	switch {
	case p.TimeZone == "":
	case p.TimeZone == "Local":
		v.errs.add(at("time_zone"), `"Local" depends on the machine; name the zone, like Europe/London`)
	default:
		if _, err := time.LoadLocation(p.TimeZone); err != nil {
			v.errs.add(at("time_zone"), "unknown time zone %q (an IANA name, like Europe/London)", p.TimeZone)
		}
	}
	reachable := map[string]bool{}
	if p.SlackID != "" {
		reachable[string(ModeSlack)] = true
	}
	if p.Contacts == nil {
		// The database's contact methods stay, unknown here: warn of none.
		for _, m := range Modes {
			reachable[string(m)] = true
		}
	}
	type key struct{ mode, dest string }
	seen := map[key]int{}
	for j, cm := range p.Contacts {
		cat := func(field string) string { return fmt.Sprintf("people[%d].contacts[%d].%s", i, j, field) }
		if !v.mode(cat("mode"), cm.Mode) {
			continue
		}
		if !v.destination(cat("destination"), Mode(cm.Mode), cm.Destination) {
			continue
		}
		reachable[cm.Mode] = true
		k := key{cm.Mode, cm.Destination}
		if prev, dup := seen[k]; dup {
			v.errs.add(fmt.Sprintf("people[%d].contacts[%d]", i, j), "the same %s contact as contacts[%d]", cm.Mode, prev)
			continue
		}
		seen[k] = j
	}
	v.priorities(at("priorities"), p.Name, p.Priorities, reachable)
	for _, app := range sortedNames(p.ApplicationPriorities) {
		path := at("application_priorities." + app)
		if strings.TrimSpace(app) == "" || len(app) > 200 {
			v.errs.add(path, "needs an application name (at most 200 characters)")
			continue
		}
		if len(p.ApplicationPriorities[app]) == 0 {
			v.errs.add(path, "needs at least one priority (leave %s out to use the global priorities)", app)
			continue
		}
		v.priorities(path, p.Name, p.ApplicationPriorities[app], reachable)
	}
}

// priorities checks one set of priority → modes preferences at path.
func (v *validator) priorities(at, person string, prefs PriorityModes, reachable map[string]bool) {
	for _, prio := range sortedKeys(prefs, Priorities) {
		path := at + "." + prio
		if !ValidPriority(prio) {
			v.errs.add(path, "unknown priority %q (priorities: %s)", prio, strings.Join(Priorities, ", "))
			continue
		}
		modes := prefs[prio]
		if len(modes) == 0 {
			v.errs.add(path, "needs at least one mode (leave %s out to use the default, %s)", prio, joinModes(DefaultModes[prio]))
			continue
		}
		listed := map[string]bool{}
		for k, m := range modes {
			mpath := fmt.Sprintf("%s[%d]", path, k)
			if !v.mode(mpath, m) {
				continue
			}
			if listed[m] {
				v.errs.add(mpath, "mode %q is listed twice", m)
				continue
			}
			listed[m] = true
			if !reachable[m] {
				v.warn(mpath, "%s has no %s contact: %s pages to them in %s will fail", person, m, prio, m)
			}
		}
	}
}

func (v *validator) slackUser(i int, p *PersonSpec) {
	path := fmt.Sprintf("people[%d].slack_id", i)
	if !slackUserPattern.MatchString(p.SlackID) {
		v.errs.add(path, "%q is not a Slack user id (like U0123ABCD)", p.SlackID)
		return
	}
	if j, dup := v.slackIDs[p.SlackID]; dup {
		v.errs.add(path, "Slack user %s is already people[%d]", p.SlackID, j)
		return
	}
	v.slackIDs[p.SlackID] = i
	for name, id := range v.ex.People {
		if id != p.SlackID || name == p.Name {
			continue
		}
		if _, declared := v.declaredPerson(name); declared {
			continue // that person's own entry changes their Slack id
		}
		v.errs.add(path, "Slack user %s belongs to person %q, who is not in this file (add them, or remove them with --prune)", p.SlackID, name)
		return
	}
}

func (v *validator) mode(path, m string) bool {
	if slices.Contains(modeNames(), m) {
		return true
	}
	if m == "" {
		v.errs.add(path, "required")
	} else {
		v.errs.add(path, "unknown mode %q (modes: %s)", m, joinModes(Modes))
	}
	return false
}

// destination checks a contact's destination. Messages never repeat it:
// destinations stay out of logs, CI output included.
func (v *validator) destination(path string, m Mode, dest string) bool {
	if dest == Redacted {
		v.errs.add(path, "%s is a placeholder of `herald export` (run without --include-secrets): write the real destination", Redacted)
		return false
	}
	if err := CheckDestination(m, dest); err != nil && (dest == "" || validMode(m)) {
		v.errs.add(path, "%s", err.Error())
		return false
	}
	return true
}

func (v *validator) team(i int) {
	t := &v.c.Teams[i]
	at := func(field string) string { return fmt.Sprintf("teams[%d].%s", i, field) }
	v.name(at("name"), "team", t.Name, i, "teams", v.teams)
	if t.SlackChannel != "" && !slackChannelPattern.MatchString(t.SlackChannel) {
		v.errs.add(at("slack_channel"), "%q is not a Slack channel id (like C0123ABCD)", t.SlackChannel)
	}
	if t.Manager != "" {
		v.personRef(at("manager"), t.Manager)
	}
	members := map[string]int{}
	for j, m := range t.Members {
		path := fmt.Sprintf("teams[%d].members[%d]", i, j)
		if prev, dup := members[m]; dup {
			v.errs.add(path, "%q is already members[%d]", m, prev)
			continue
		}
		members[m] = j
		v.personRef(path, m)
	}
	if t.Oncall == nil {
		return
	}
	for _, r := range []struct{ role, name string }{{"primary", t.Oncall.Primary}, {"secondary", t.Oncall.Secondary}} {
		if r.name == "" {
			continue
		}
		path := at("oncall." + r.role)
		v.personRef(path, r.name)
		if _, member := members[r.name]; !member && v.personExists(r.name) {
			v.warn(path, "%s is on call for %s but not one of its members", r.name, t.Name)
		}
	}
}

func (v *validator) template(i int) {
	t := &v.c.Templates[i]
	at := func(field string) string { return fmt.Sprintf("templates[%d].%s", i, field) }
	v.name(at("name"), "template", t.Name, i, "templates", v.templates)
	if len(t.Modes) == 0 {
		v.errs.add(at("modes"), "needs at least one mode")
		return
	}
	for _, m := range sortedKeys(t.Modes, modeNames()) {
		path := at("modes." + m)
		if !v.mode(path, m) {
			continue
		}
		content := t.Modes[m]
		if strings.TrimSpace(content.Body) == "" {
			v.errs.add(path+".body", "required")
		}
		if !utf8.ValidString(content.Body) {
			v.errs.add(path+".body", "not valid UTF-8")
		} else if err := CheckTemplate(content.Body); err != nil {
			v.errs.add(path+".body", "%v", err)
		}
		if !utf8.ValidString(content.Subject) {
			v.errs.add(path+".subject", "not valid UTF-8")
		} else if err := CheckTemplate(content.Subject); err != nil {
			v.errs.add(path+".subject", "%v", err)
		}
	}
}

func (v *validator) plan(i int, seen map[string]int) {
	p := &v.c.Plans[i]
	at := func(field string) string { return fmt.Sprintf("plans[%d].%s", i, field) }
	v.name(at("name"), "plan", p.Name, i, "plans", seen)
	if p.Team != "" && !v.teamExists(p.Team) {
		v.errs.add(at("team"), "unknown team %q (not in this file or the database)", p.Team)
	}
	if p.Owner != "" {
		v.personRef(at("owner"), p.Owner)
	}
	if len(p.Steps) == 0 {
		v.errs.add(at("steps"), "needs at least one step")
	}
	if p.Aggregation != nil {
		v.aggregation(at("aggregation"), p.Aggregation)
	}
	for s, step := range p.Steps {
		spath := fmt.Sprintf("plans[%d].steps[%d].notifications", i, s)
		if len(step.Notifications) == 0 {
			v.errs.add(spath, "needs at least one notification")
			continue
		}
		required := false
		for n, note := range step.Notifications {
			v.notification(fmt.Sprintf("%s[%d]", spath, n), note)
			required = required || !note.Optional
		}
		if !required {
			v.errs.add(spath, "every notification is optional: a step needs one that is not, or nobody may be paged")
		}
	}
}

func (v *validator) notification(path string, n NotificationSpec) {
	at := func(field string) string { return path + "." + field }
	roleOK := true
	switch {
	case n.Role == "":
		v.errs.add(at("role"), "required")
		roleOK = false
	case !slices.Contains(Roles, n.Role):
		v.errs.add(at("role"), "unknown role %q (roles: %s)", n.Role, strings.Join(Roles, ", "))
		roleOK = false
	}
	switch {
	case n.Target == "":
		v.errs.add(at("target"), "required")
	case !roleOK:
	case n.Role == RoleSlackChannel:
		if !slackChannelPattern.MatchString(n.Target) {
			v.errs.add(at("target"), "%q is not a Slack channel id (like C0123ABCD; the channel's name will not do, it can change)", n.Target)
		}
	case n.Role == RoleUser:
		if !v.personExists(n.Target) {
			v.errs.add(at("target"), "unknown person %q (not in this file or the database)", n.Target)
		}
	case !v.teamExists(n.Target):
		v.errs.add(at("target"), "unknown team %q (not in this file or the database)", n.Target)
	case (n.Role == RoleOncallPrimary || n.Role == RoleOncallSecondary) && !n.Optional:
		if i, declared := v.declaredTeam(n.Target); declared {
			t := v.c.Teams[i]
			noStatic := t.Oncall == nil || (n.Role == RoleOncallPrimary && t.Oncall.Primary == "") || (n.Role == RoleOncallSecondary && t.Oncall.Secondary == "")
			if noStatic && !v.c.schedulesRole(n.Target, strings.TrimPrefix(n.Role, "oncall-")) {
				v.warn(at("target"), "team %s has no %s on-call in this file: this notification will page nobody", n.Target, strings.TrimPrefix(n.Role, "oncall-"))
			}
		}
	}
	switch {
	case n.Priority == "":
		v.errs.add(at("priority"), "required")
	case !ValidPriority(n.Priority):
		v.errs.add(at("priority"), "unknown priority %q (priorities: %s)", n.Priority, strings.Join(Priorities, ", "))
	}
	switch {
	case n.Wait < 0:
		v.errs.add(at("wait"), "must be 0 or more minutes, not %d", n.Wait)
	case n.Wait > MaxWaitMinutes:
		v.errs.add(at("wait"), "%d minutes is more than a week (%d)", n.Wait, MaxWaitMinutes)
	}
	switch {
	case n.Repeat < 0:
		v.errs.add(at("repeat"), "must be 0 or more, not %d", n.Repeat)
	case n.Repeat > MaxRepeat:
		v.errs.add(at("repeat"), "%d is more than %d", n.Repeat, MaxRepeat)
	case n.Repeat > 0 && n.Wait == 0:
		v.errs.add(at("repeat"), "repeating with wait 0 sends every page at once: set wait to the minutes between them")
	}
	if n.Template != "" && !v.templateExists(n.Template) {
		v.errs.add(at("template"), "unknown template %q (not in this file or the database)", n.Template)
	}
}

// sortedKeys lists a map's keys in the order of known, then the unknown
// ones alphabetically.
func sortedKeys[V any](m map[string]V, known []string) []string {
	out := make([]string, 0, len(m))
	for _, k := range known {
		if _, ok := m[k]; ok {
			out = append(out, k)
		}
	}
	var rest []string
	for k := range m {
		if !slices.Contains(known, k) {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	return append(out, rest...)
}

func modeNames() []string {
	out := make([]string, len(Modes))
	for i, m := range Modes {
		out[i] = string(m)
	}
	return out
}

func joinModes(ms []Mode) string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = string(m)
	}
	return strings.Join(out, ", ")
}
