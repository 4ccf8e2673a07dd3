package notifications

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/goccy/go-yaml"

	"github.com/heraldhq/herald/models"
)

// ServiceSpec declares a service: what breaks, the team that owns it and
// the plan its incidents escalate with. Name identifies it.
type ServiceSpec struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description,omitempty"`
	Team        string `yaml:"team,omitempty"`
	// Plan is the escalation plan; without one, its incidents are recorded
	// and shown in Slack but page nobody.
	Plan string `yaml:"plan,omitempty"`
	// DefaultSeverity is the severity of alerts that name none (SEV3 when
	// left out).
	DefaultSeverity SeveritySpec `yaml:"default_severity,omitempty"`
	// WorkingHoursOnly pages low-urgency (SEV3, SEV4) alerts only in
	// working hours.
	WorkingHoursOnly bool `yaml:"working_hours_only,omitempty"`
}

// IntegrationSpec declares a monitoring source and the services it may
// raise incidents for. Its key is never in the file: apply creates the
// integration without one, and the admin API mints it (shown once).
type IntegrationSpec struct {
	Name           string       `yaml:"name"`
	Services       []string     `yaml:"services,flow"`
	QuotaPerMinute int          `yaml:"quota_per_minute,omitempty"`
	Generic        *GenericSpec `yaml:"generic,omitempty"`
}

// GenericSpec is where the generic webhook finds an alert's fields in the
// posted JSON (dotted paths); stored as models.GenericWebhookConfig.
type GenericSpec struct {
	Title          string                  `yaml:"title"`
	Severity       string                  `yaml:"severity,omitempty"`
	SeverityMap    map[string]SeveritySpec `yaml:"severity_map,omitempty"`
	DedupKey       string                  `yaml:"dedup_key,omitempty"`
	State          string                  `yaml:"state,omitempty"`
	ResolvedValues []string                `yaml:"resolved_values,omitempty,flow"`
	Message        string                  `yaml:"message,omitempty"`
	// Service is the path of the service's name (?service= wins).
	Service string `yaml:"service,omitempty"`
}

// HeartbeatSpec declares a heartbeat monitor: the integration must check
// in (POST /api/v1/heartbeat) for the service every Interval, or an
// incident of Severity (SEV2 when left out) opens.
type HeartbeatSpec struct {
	Integration string       `yaml:"integration"`
	Service     string       `yaml:"service"`
	Interval    string       `yaml:"interval"`
	Severity    SeveritySpec `yaml:"severity,omitempty"`
}

// MaintenanceSpec declares a maintenance window (see
// models.MaintenanceInput). Windows made over the admin API are not the
// file's: apply neither exports nor prunes them.
type MaintenanceSpec = models.MaintenanceInput

// SeveritySpec is a severity as the file writes it: 1-4, SEV1-SEV4, a
// name (critical, major, minor, trivial) or the incidents API's CRIT,
// ERR, WARN (and INFO, SEV4).
type SeveritySpec string

// UnmarshalYAML takes a number or text.
func (s *SeveritySpec) UnmarshalYAML(b []byte) error {
	var v any
	if err := yaml.Unmarshal(b, &v); err != nil {
		return err
	}
	switch v := v.(type) {
	case nil:
		*s = ""
	case string, int, int64, uint64:
		*s = SeveritySpec(fmt.Sprint(v))
	default:
		return fmt.Errorf("a severity is 1-4 or SEV1-SEV4, not %v", v)
	}
	return nil
}

// MarshalYAML writes a valid severity as its number.
func (s SeveritySpec) MarshalYAML() (any, error) {
	if sev, err := models.ParseSeverity(string(s)); err == nil {
		return int(sev), nil
	}
	return string(s), nil
}

// alertSeverities are the incidents API's severity words.
var alertSeverities = map[string]models.Severity{"crit": models.SEV1, "err": models.SEV2, "warn": models.SEV3, "info": models.SEV4}

// severity parses the spec; "" is def.
func (s SeveritySpec) severity(def models.Severity) (models.Severity, error) {
	if s == "" {
		return def, nil
	}
	if sev, ok := alertSeverities[strings.ToLower(strings.TrimSpace(string(s)))]; ok {
		return sev, nil
	}
	return models.ParseSeverity(string(s))
}

// Defaults of the file's severities.
const (
	defaultServiceSeverity   = models.SEV3
	defaultHeartbeatSeverity = models.SEV2
)

// Heartbeat interval bounds: under a minute is within the checks' own
// 30-second rhythm; over a week is not a heartbeat.
const (
	minHeartbeatInterval = time.Minute
	maxHeartbeatInterval = 7 * 24 * time.Hour
	maxDescription       = 1000
	maxJSONPath          = 512
)

// validateServices checks services, integrations, heartbeats and
// maintenance windows.
func (v *validator) validateServices() {
	c := v.c
	declSvcs := firstIndex(c.Services, func(s ServiceSpec) string { return s.Name })
	svcExists := func(name string) bool { _, ok := declSvcs[name]; return ok || v.ex.Services[name] }
	declPlans := firstIndex(c.Plans, func(p PlanSpec) string { return p.Name })
	seen := map[string]int{}
	for i := range c.Services {
		s := &c.Services[i]
		at := func(field string) string { return fmt.Sprintf("services[%d].%s", i, field) }
		v.name(at("name"), "service", s.Name, i, "services", seen)
		if !utf8.ValidString(s.Description) || utf8.RuneCountInString(s.Description) > maxDescription {
			v.errs.add(at("description"), "must be UTF-8 text of at most %d characters", maxDescription)
		}
		if s.Team != "" && !v.teamExists(s.Team) {
			v.errs.add(at("team"), "unknown team %q (not in this file or the database)", s.Team)
		}
		if _, declared := declPlans[s.Plan]; s.Plan != "" && !declared && !v.ex.Plans[s.Plan] {
			v.errs.add(at("plan"), "unknown plan %q (not in this file or the database)", s.Plan)
		}
		if s.Plan == "" {
			v.warn(at("plan"), "service %s has no plan: its incidents will page nobody", s.Name)
		}
		if _, err := s.DefaultSeverity.severity(defaultServiceSeverity); err != nil {
			v.errs.add(at("default_severity"), "%q is not a severity (1-4, SEV1-SEV4, critical, major, minor or trivial)", s.DefaultSeverity)
		}
	}
	scopes := map[string][]string{}
	for name, svcs := range v.ex.Integrations {
		scopes[name] = svcs
	}
	seen = map[string]int{}
	for i := range c.Integrations {
		in := &c.Integrations[i]
		at := func(field string) string { return fmt.Sprintf("integrations[%d].%s", i, field) }
		v.name(at("name"), "integration", in.Name, i, "integrations", seen)
		scopes[in.Name] = in.Services
		if len(in.Services) == 0 {
			v.errs.add(at("services"), "needs at least one service")
		}
		listed := map[string]int{}
		for j, svc := range in.Services {
			path := fmt.Sprintf("integrations[%d].services[%d]", i, j)
			if prev, dup := listed[svc]; dup {
				v.errs.add(path, "%q is already services[%d]", svc, prev)
				continue
			}
			listed[svc] = j
			if !svcExists(svc) {
				v.errs.add(path, "unknown service %q (not in this file or the database)", svc)
			}
		}
		if in.QuotaPerMinute < 0 || in.QuotaPerMinute > models.MaxIntegrationQuota {
			v.errs.add(at("quota_per_minute"), "must be 0 (unlimited) to %d requests a minute, not %d", models.MaxIntegrationQuota, in.QuotaPerMinute)
		}
		if in.Generic != nil {
			v.generic(at("generic"), in.Generic)
		}
	}
	v.heartbeats(svcExists, scopes)
	v.maintenance(svcExists)
}

func (v *validator) generic(path string, g *GenericSpec) {
	at := func(field string) string { return path + "." + field }
	if g.Title == "" {
		v.errs.add(at("title"), "required: the path of the alert's title")
	}
	for _, f := range []struct{ name, p string }{{"title", g.Title}, {"severity", g.Severity}, {"dedup_key", g.DedupKey}, {"state", g.State}, {"message", g.Message}, {"service", g.Service}} {
		if f.p != "" {
			if msg := checkJSONPath(f.p); msg != "" {
				v.errs.add(at(f.name), "%s", msg)
			}
		}
	}
	if len(g.SeverityMap) > 0 && g.Severity == "" {
		v.errs.add(at("severity_map"), "needs severity: the path of the value it maps")
	}
	for _, k := range sortedNames(g.SeverityMap) {
		if _, err := g.SeverityMap[k].severity(models.SeverityUnset); err != nil || g.SeverityMap[k] == "" {
			v.errs.add(at("severity_map."+k), "%q is not a severity (1-4, SEV1-SEV4, CRIT, ERR, WARN, INFO, critical, major, minor or trivial)", g.SeverityMap[k])
		}
	}
	// State without resolved_values means [resolved, ok].
	if len(g.ResolvedValues) > 0 && g.State == "" {
		v.errs.add(at("resolved_values"), "needs state: the path of the value they are compared with")
	}
}

// checkJSONPath checks a dotted path's shape ("" when fine): keys between
// dots, a backslash escaping the next character.
func checkJSONPath(p string) string {
	if len(p) > maxJSONPath || !utf8.ValidString(p) {
		return fmt.Sprintf("a path is UTF-8 text of at most %d bytes", maxJSONPath)
	}
	key := 0
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '\\':
			if i+1 == len(p) {
				return fmt.Sprintf("%q ends with a lone backslash", p)
			}
			i++
			key++
		case '.':
			if key == 0 {
				return fmt.Sprintf("%q has an empty key (two dots, or a dot at an end)", p)
			}
			key = 0
		default:
			key++
		}
	}
	if key == 0 {
		return fmt.Sprintf("%q has an empty key (a dot at the end)", p)
	}
	return ""
}

func (v *validator) heartbeats(svcExists func(string) bool, scopes map[string][]string) {
	type pair struct{ integration, service string }
	seen := map[pair]int{}
	for i, h := range v.c.Heartbeats {
		at := func(field string) string { return fmt.Sprintf("heartbeats[%d].%s", i, field) }
		services, known := scopes[h.Integration]
		switch {
		case h.Integration == "":
			v.errs.add(at("integration"), "required")
		case !known:
			v.errs.add(at("integration"), "unknown integration %q (not in this file or the database)", h.Integration)
		}
		switch {
		case h.Service == "":
			v.errs.add(at("service"), "required")
		case !svcExists(h.Service):
			v.errs.add(at("service"), "unknown service %q (not in this file or the database)", h.Service)
		case known && !containsString(services, h.Service):
			v.errs.add(at("service"), "integration %s may not raise incidents for %q: add it to the integration's services", h.Integration, h.Service)
		}
		if prev, dup := seen[pair{h.Integration, h.Service}]; dup && h.Integration != "" && h.Service != "" {
			v.errs.add(fmt.Sprintf("heartbeats[%d]", i), "the same integration and service as heartbeats[%d]", prev)
		} else {
			seen[pair{h.Integration, h.Service}] = i
		}
		switch d, err := time.ParseDuration(h.Interval); {
		case h.Interval == "":
			v.errs.add(at("interval"), "required (a duration, like 5m)")
		case err != nil:
			v.errs.add(at("interval"), "%q is not a duration (like 5m or 1h)", h.Interval)
		case d < minHeartbeatInterval || d > maxHeartbeatInterval || d%time.Second != 0:
			v.errs.add(at("interval"), "must be whole seconds between %s and %s, not %s", minHeartbeatInterval, maxHeartbeatInterval, d)
		}
		if _, err := h.Severity.severity(defaultHeartbeatSeverity); err != nil {
			v.errs.add(at("severity"), "%q is not a severity (1-4, SEV1-SEV4, critical, major, minor or trivial)", h.Severity)
		}
	}
}

func (v *validator) maintenance(svcExists func(string) bool) {
	seen := map[string]int{}
	for i, m := range v.c.Maintenance {
		prefix := fmt.Sprintf("maintenance[%d].", i)
		if _, err := models.ParseMaintenance(m); err != nil {
			var problems models.InputErrors
			if !errors.As(err, &problems) {
				v.errs.add(strings.TrimSuffix(prefix, "."), "%v", err)
				continue
			}
			for _, p := range problems {
				v.errs.add(prefix+p.Field, "%s", p.Message)
			}
		}
		if m.Name != "" {
			if j, dup := seen[m.Name]; dup {
				v.errs.add(prefix+"name", "%q is already the name of maintenance[%d]", m.Name, j)
			} else {
				seen[m.Name] = i
			}
		}
		if m.Service != "" && !svcExists(m.Service) {
			v.errs.add(prefix+"service", "unknown service %q (not in this file or the database)", m.Service)
		}
	}
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// genericConfig converts a validated spec for storage ("" for none).
func genericConfig(g *GenericSpec) (string, error) {
	if g == nil {
		return "", nil
	}
	out := models.GenericWebhookConfig{Title: g.Title, Severity: g.Severity, DedupKey: g.DedupKey, State: g.State,
		ResolvedValues: g.ResolvedValues, Message: g.Message, Service: g.Service}
	if len(g.SeverityMap) > 0 {
		out.SeverityMap = map[string]models.Severity{}
		for k, s := range g.SeverityMap {
			sev, _ := s.severity(models.SeverityUnset)
			out.SeverityMap[k] = sev
		}
	}
	b, err := json.Marshal(out)
	return string(b), err
}

// genericSpec converts a stored configuration back for export.
func genericSpec(stored string) (*GenericSpec, error) {
	c, err := models.ParseGenericWebhookConfig(stored)
	if err != nil || c == nil {
		return nil, err
	}
	g := &GenericSpec{Title: c.Title, Severity: c.Severity, DedupKey: c.DedupKey, State: c.State, ResolvedValues: c.ResolvedValues, Message: c.Message, Service: c.Service}
	if len(c.SeverityMap) > 0 {
		g.SeverityMap = map[string]SeveritySpec{}
		for k, sev := range c.SeverityMap {
			g.SeverityMap[k] = SeveritySpec(fmt.Sprint(int(sev)))
		}
	}
	return g, nil
}
