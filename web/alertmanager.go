package web

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/heraldhq/herald/handlers"
	"github.com/heraldhq/herald/models"
)

// Prometheus Alertmanager's webhook (payload version 4): one notification
// per alert group, re-sent as alerts join, resolve, or every
// repeat_interval. Herald keeps one incident per group (dedup key
// "alertmanager:" + groupKey) and tracks its alerts by fingerprint.
// Grafana's alerting webhook has the same shape (grafana.go).

// groupPayload is Alertmanager's webhook body; Grafana's adds title,
// state, message and per-alert links. Unknown fields are ignored: both
// add fields over time.
type groupPayload struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
	Status            string            `json:"status"`
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	RawAlerts         []json.RawMessage `json:"alerts"` // decoded one by one into Alerts
	Alerts            []payloadAlert    `json:"-"`
	// Grafana's.
	Title string `json:"title"`
	State string `json:"state"`
}

type payloadAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     string            `json:"startsAt"`
	EndsAt       string            `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
	// Grafana's.
	SilenceURL   string `json:"silenceURL"`
	DashboardURL string `json:"dashboardURL"`
	PanelURL     string `json:"panelURL"`
}

// Group limits: Alertmanager's max_alerts bounds a group at the source.
const (
	maxGroupAlerts    = 1000
	maxGroupKeyLength = 1024
	maxFingerprint    = 128
)

// groupSource says whose notification a group payload is.
type groupSource struct {
	Name   string // incidents.source and the dedup key's prefix
	System string // for people: "Alertmanager"
}

var (
	alertmanagerSource = groupSource{Name: "alertmanager", System: "Alertmanager"}
	grafanaSource      = groupSource{Name: "grafana", System: "Grafana"}
)

// parseAlertmanager parses and checks an Alertmanager notification.
func parseAlertmanager(body []byte, service string) (*parsedGroup, error) {
	p, err := decodeGroupPayload(body)
	if err != nil {
		return nil, err
	}
	if p.Version != "4" {
		return nil, badField("version", "Herald reads Alertmanager's webhook payload version \"4\", not %q", p.Version)
	}
	return buildGroup(p, alertmanagerSource, service)
}

// decodeGroupPayload decodes a group payload alert by alert, so a value
// of the wrong type is named with its alert's index and label key
// ("alerts.0.labels.severity").
func decodeGroupPayload(body []byte) (*groupPayload, error) {
	var p groupPayload
	if err := decodeJSON(body, &p, false); err != nil {
		return nil, nameMapKey(err, body, "")
	}
	p.Alerts = make([]payloadAlert, len(p.RawAlerts))
	for i, a := range p.RawAlerts {
		if err := decodeJSON(a, &p.Alerts[i], false); err != nil {
			return nil, nameMapKey(err, a, fmt.Sprintf("alerts.%d", i))
		}
	}
	return &p, nil
}

// nameMapKey puts a path prefix on a type error's field and, when the
// field is a map of strings (labels, annotations), the key whose value is
// not a string.
func nameMapKey(err error, raw []byte, prefix string) error {
	var fe *fieldError
	if !errors.As(err, &fe) {
		return err
	}
	field := fe.Field
	// Go 1.26's decoder names the map ("commonAnnotations"); Go 1.27's
	// adds the key unescaped ("commonAnnotations.a.b"): either way, name
	// the key from the body, escaped.
	top, _, _ := strings.Cut(field, ".")
	var obj map[string]json.RawMessage
	if top != "" && json.Unmarshal(raw, &obj) == nil {
		var m map[string]any
		if json.Unmarshal(obj[top], &m) == nil {
			field = top
			keys := make([]string, 0, len(m))
			for k := range m {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				if _, ok := m[k].(string); !ok {
					field += "." + escapeJSONPathKey(k)
					break
				}
			}
		}
	}
	if prefix != "" {
		field = strings.TrimSuffix(prefix+"."+field, ".")
	}
	return &fieldError{Field: field, Msg: fe.Msg}
}

// buildGroup checks a group payload and turns it into an alert group.
func buildGroup(p *groupPayload, src groupSource, service string) (*parsedGroup, error) {
	if strings.TrimSpace(p.GroupKey) == "" {
		return nil, badField("groupKey", "is required: it names the alert group (one incident per group)")
	}
	if len(p.GroupKey) > maxGroupKeyLength {
		return nil, badField("groupKey", "is longer than %d bytes", maxGroupKeyLength)
	}
	if p.Status != models.AlertFiring && p.Status != models.AlertResolved {
		return nil, badField("status", "must be \"firing\" or \"resolved\", not %q", p.Status)
	}
	if len(p.Alerts) == 0 {
		return nil, badField("alerts", "is empty: a notification carries at least one alert")
	}
	if len(p.Alerts) > maxGroupAlerts {
		return nil, badField("alerts", "holds %d alerts, more than %d: set max_alerts on the receiver", len(p.Alerts), maxGroupAlerts)
	}
	g := &parsedGroup{AlertGroup: handlers.AlertGroup{
		Source: src.Name, System: src.System, DedupKey: src.Name + ":" + p.GroupKey,
		Resolved: p.Status == models.AlertResolved,
	}}
	var err error
	if g.Service, err = groupService(p, service); err != nil {
		return nil, err
	}
	for i := range p.Alerts {
		a, err := buildAlert(p, i)
		if err != nil {
			return nil, err
		}
		g.Alerts = append(g.Alerts, a)
		if !a.Resolved && a.StartsAt != nil && (g.DetectedAt == nil || a.StartsAt.Before(*g.DetectedAt)) {
			g.DetectedAt = a.StartsAt
		}
	}
	g.Title = groupTitle(p, src)
	g.Message = groupMessage(p)
	g.Severity, g.Warnings = groupSeverity(p)
	g.Labels = map[string]string{}
	for k, v := range p.GroupLabels {
		g.Labels[k] = v
	}
	for k, v := range p.CommonLabels {
		g.Labels[k] = v
	}
	if u, ok := runbookLink(p.CommonAnnotations["runbook_url"]); ok {
		g.RunbookURL = u
	} else {
		for _, a := range g.Alerts {
			if !a.Resolved && a.RunbookURL != "" {
				g.RunbookURL = a.RunbookURL
				break
			}
		}
	}
	g.Context = groupContext(p, src, g.RunbookURL)
	return g, nil
}

// groupService is the ?service= parameter, else the group's `service`
// label (common to every alert).
func groupService(p *groupPayload, query string) (string, error) {
	if query != "" {
		return query, nil
	}
	for _, labels := range []map[string]string{p.CommonLabels, p.GroupLabels} {
		if s := strings.TrimSpace(labels["service"]); s != "" {
			return s, nil
		}
	}
	var common string
	for i, a := range p.Alerts {
		s := strings.TrimSpace(a.Labels["service"])
		if s == "" || (i > 0 && s != common) {
			common = ""
			break
		}
		common = s
	}
	if common != "" {
		return common, nil
	}
	return "", badField("service", "name the Herald service: add ?service=<name> to the webhook URL, or give every alert of the group the same `service` label")
}

func buildAlert(p *groupPayload, i int) (handlers.GroupAlert, error) {
	a := p.Alerts[i]
	field := func(name string) string { return fmt.Sprintf("alerts.%d.%s", i, name) }
	if a.Status != models.AlertFiring && a.Status != models.AlertResolved {
		return handlers.GroupAlert{}, badField(field("status"), "must be \"firing\" or \"resolved\", not %q", a.Status)
	}
	fp := strings.TrimSpace(a.Fingerprint)
	if fp == "" {
		fp = labelsFingerprint(a.Labels)
	}
	if len(fp) > maxFingerprint {
		return handlers.GroupAlert{}, badField(field("fingerprint"), "is longer than %d bytes", maxFingerprint)
	}
	starts, err := alertTime(a.StartsAt)
	if err != nil {
		return handlers.GroupAlert{}, badField(field("startsAt"), "%s", err)
	}
	ends, err := alertTime(a.EndsAt)
	if err != nil {
		return handlers.GroupAlert{}, badField(field("endsAt"), "%s", err)
	}
	out := handlers.GroupAlert{
		Fingerprint: fp, Resolved: a.Status == models.AlertResolved, Name: alertName(a, p.CommonLabels, fp),
		Labels: contextJSON(stringMap(a.Labels)), Annotations: contextJSON(stringMap(a.Annotations)),
		StartsAt: starts, EndsAt: ends,
	}
	out.RunbookURL, _ = runbookLink(a.Annotations["runbook_url"])
	return out, nil
}

// labelsFingerprint names an alert sent without a fingerprint by its
// labels, as Alertmanager's own fingerprint does.
func labelsFingerprint(labels map[string]string) string {
	h := sha256.New()
	for _, k := range sortedKeys(labels) {
		fmt.Fprintf(h, "%s\x00%s\x00", k, labels[k])
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// alertTime reads an RFC 3339 time; empty or Go's zero time (what
// Alertmanager sends as the end of a firing alert) is no time.
func alertTime(s string) (*time.Time, error) {
	if s == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return nil, fmt.Errorf("%q is not an RFC 3339 time such as 2026-11-21T22:23:43Z", s)
	}
	if t.IsZero() || t.Year() < 1 {
		return nil, nil
	}
	t = t.UTC()
	return &t, nil
}

// alertName is how the timeline names an alert: its alertname and the
// labels that set it apart from the rest of the group.
func alertName(a payloadAlert, common map[string]string, fp string) string {
	name := a.Labels["alertname"]
	var own []string
	for _, k := range sortedKeys(a.Labels) {
		if k == "alertname" {
			continue
		}
		if v, ok := common[k]; !ok || v != a.Labels[k] {
			own = append(own, k+"="+a.Labels[k])
		}
	}
	switch {
	case name == "" && len(own) == 0:
		name = "alert " + fp
	case name == "":
		name = strings.Join(own, ", ")
	case len(own) > 0:
		name += " (" + strings.Join(own, ", ") + ")"
	}
	return oneLine(name, maxAlertName)
}

// groupTitle: the common summary, else the alertname and the group's
// labels, else the single alert's summary, else the sender's title.
func groupTitle(p *groupPayload, src groupSource) string {
	if s := oneLine(p.CommonAnnotations["summary"], maxGroupTitle); s != "" {
		return s
	}
	if name := p.CommonLabels["alertname"]; strings.TrimSpace(name) != "" {
		var labels []string
		for _, k := range sortedKeys(p.GroupLabels) {
			if k != "alertname" {
				labels = append(labels, k+"="+p.GroupLabels[k])
			}
		}
		if len(labels) > 0 {
			name += " (" + strings.Join(labels, ", ") + ")"
		}
		return oneLine(name, maxGroupTitle)
	}
	if len(p.Alerts) == 1 {
		if s := oneLine(p.Alerts[0].Annotations["summary"], maxGroupTitle); s != "" {
			return s
		}
		if s := oneLine(p.Alerts[0].Labels["alertname"], maxGroupTitle); s != "" {
			return s
		}
	}
	if s := oneLine(p.Title, maxGroupTitle); s != "" {
		return s
	}
	return oneLine(fmt.Sprintf("%s alert group %s", src.System, p.GroupKey), maxGroupTitle)
}

// groupMessage: the common description, else the firing alerts'
// descriptions (or summaries), each once.
func groupMessage(p *groupPayload) string {
	if d := strings.TrimSpace(p.CommonAnnotations["description"]); d != "" {
		return clip(d, maxGroupMessage)
	}
	var lines []string
	seen := map[string]bool{}
	for _, a := range p.Alerts {
		d := strings.TrimSpace(a.Annotations["description"])
		if d == "" {
			d = strings.TrimSpace(a.Annotations["summary"])
		}
		if d == "" || seen[d] || a.Status == models.AlertResolved {
			continue
		}
		seen[d] = true
		lines = append(lines, d)
	}
	return clip(strings.Join(lines, "\n"), maxGroupMessage)
}

// groupSeverity is the common `severity` label, else the most severe of
// the firing alerts'. An unknown word leaves the service's default, with
// a warning for the sender.
func groupSeverity(p *groupPayload) (models.Severity, []string) {
	words := []string{p.CommonLabels["severity"]}
	if words[0] == "" {
		words = words[:0]
		for _, a := range p.Alerts {
			if a.Status == models.AlertFiring && a.Labels["severity"] != "" {
				words = append(words, a.Labels["severity"])
			}
		}
	}
	best := models.SeverityUnset
	var warnings []string
	for _, w := range words {
		s, ok := alertSeverity(w)
		if !ok {
			warnings = append(warnings, fmt.Sprintf("severity label %q is not one of critical, error, warning, info: the service's default severity applies", clip(w, 40)))
			continue
		}
		if best == models.SeverityUnset || s < best {
			best = s
		}
	}
	if best != models.SeverityUnset {
		warnings = nil
	}
	return best, warnings
}

// groupContext is the incident's context: labels, annotations, the
// sender's links, and the runbook as a link.
func groupContext(p *groupPayload, src groupSource, runbook string) string {
	ctx := map[string]any{
		"source": src.Name, "groupKey": p.GroupKey, "receiver": p.Receiver,
		"labels": stringMap(p.CommonLabels), "groupLabels": stringMap(p.GroupLabels),
		"annotations": stringMap(p.CommonAnnotations), "alerts": len(p.Alerts),
	}
	if p.TruncatedAlerts > 0 {
		ctx["truncatedAlerts"] = p.TruncatedAlerts
	}
	links := []map[string]string{}
	addLink := func(key, text, href string) {
		if u, ok := runbookLink(href); ok {
			ctx[key] = u
			links = append(links, map[string]string{"text": text, "href": u})
		}
	}
	addLink("runbook_url", "Runbook", runbook)
	addLink("externalURL", src.System, p.ExternalURL)
	for _, a := range p.Alerts {
		if a.Status == models.AlertFiring || len(p.Alerts) == 1 {
			addLink("generatorURL", "Source", a.GeneratorURL)
			addLink("dashboardURL", "Dashboard", a.DashboardURL)
			addLink("panelURL", "Panel", a.PanelURL)
			addLink("silenceURL", "Silence", a.SilenceURL)
			break
		}
	}
	if len(links) > 0 {
		ctx["links"] = links
	}
	return contextJSON(ctx)
}

func stringMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
