package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/heraldhq/herald/handlers"
	"github.com/heraldhq/herald/models"
)

// The generic webhook takes any JSON: the integration's generic_config
// says where the title, severity, dedup key, state and message are, as
// dotted paths (jsonpath.go). One open incident per dedup key; a state
// among resolved_values resolves it.

// genericConfig is an integration's generic_config: the JSON `herald
// apply` stores from an integration's `generic:` (models.GenericWebhookConfig),
// which may also name a service path.
type genericConfig struct {
	Title          string         `json:"title"`        // required
	Message        string         `json:"message"`      // optional
	Severity       string         `json:"severity"`     // optional: the service's default
	SeverityMap    map[string]any `json:"severity_map"` // "CRIT", or 1-4 as `herald apply` stores it
	DedupKey       string         `json:"dedup_key"`    // optional: the title
	State          string         `json:"state"`        // optional: always firing
	ResolvedValues []string       `json:"resolved_values"`
	Service        string         `json:"service"` // optional: ?service= wins
}

// genericExample shows how to configure the generic webhook.
const genericExample = `{"title":"alert.name","severity":"alert.level","severity_map":{"p1":"CRIT"},"dedup_key":"alert.id","state":"alert.status","resolved_values":["ok","resolved"],"message":"alert.text"}`

// defaultResolvedValues resolve when a config names a state path but no
// values.
var defaultResolvedValues = []string{"resolved", "ok"}

// genericPaths is a checked generic_config.
type genericPaths struct {
	title, message, severity, dedup, state, service []string
	severities                                      map[string]models.Severity
	resolved                                        map[string]bool
}

// maxGenericContext bounds the posted JSON kept as the incident's context.
const maxGenericContext = 16 << 10

// ValidateGenericConfig checks an integration's generic_config (for
// whatever sets it): every path well formed, a title path present, every
// severity_map value a severity.
func ValidateGenericConfig(raw string) error {
	_, err := parseGenericConfig(raw)
	return err
}

// parseGenericConfig reads a generic_config; its errors are fieldErrors
// naming the config's key ("generic_config.title").
func parseGenericConfig(raw string) (*genericPaths, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, badField("generic_config", "this integration has no generic_config: set it to a JSON object saying where the fields are in what you post, e.g. %s (title is required; dotted paths, array indexes as items.0.name)", genericExample)
	}
	var c genericConfig
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, badField("generic_config", "is not a valid configuration (%s); it looks like %s", err, genericExample)
	}
	out := &genericPaths{severities: map[string]models.Severity{}, resolved: map[string]bool{}}
	paths := []struct {
		key      string
		value    string
		into     *[]string
		required bool
	}{
		{"title", c.Title, &out.title, true}, {"message", c.Message, &out.message, false},
		{"severity", c.Severity, &out.severity, false}, {"dedup_key", c.DedupKey, &out.dedup, false},
		{"state", c.State, &out.state, false}, {"service", c.Service, &out.service, false},
	}
	for _, p := range paths {
		if p.value == "" {
			if p.required {
				return nil, badField("generic_config."+p.key, "is required: the path of the %s in the posted JSON, e.g. %s", p.key, genericExample)
			}
			continue
		}
		keys, err := parseJSONPath(p.value)
		if err != nil {
			return nil, badField("generic_config."+p.key, "%s", err)
		}
		*p.into = keys
	}
	for word, sev := range c.SeverityMap {
		text, _ := jsonScalarText(sev)
		s, ok := alertSeverity(text)
		if !ok {
			return nil, badField("generic_config.severity_map."+escapeJSONPathKey(word), "%s is not a severity: use CRIT, ERR, WARN, INFO, SEV1-SEV4 or 1-4", clip(fmt.Sprint(sev), 40))
		}
		out.severities[strings.ToLower(strings.TrimSpace(word))] = s
	}
	values := c.ResolvedValues
	if len(values) == 0 {
		values = defaultResolvedValues
	}
	for _, v := range values {
		out.resolved[strings.ToLower(strings.TrimSpace(v))] = true
	}
	return out, nil
}

// parseGeneric reads a generic notification with the integration's
// generic_config.
func parseGeneric(body []byte, in *models.Integration, service string) (*parsedGroup, error) {
	raw := ""
	if in != nil {
		raw = in.GenericConfig
	}
	cfg, err := parseGenericConfig(raw)
	if err != nil {
		return nil, err
	}
	var doc any
	if err := decodeJSON(body, &doc, true); err != nil {
		return nil, err
	}
	g, err := buildGeneric(cfg, doc, body, service)
	if err == nil && in != nil {
		g.System = in.Name // "Resolved by uptime" on the timeline
	}
	return g, err
}

func buildGeneric(cfg *genericPaths, doc any, body []byte, service string) (*parsedGroup, error) {
	text := func(key string, keys []string, required bool) (string, error) {
		if keys == nil {
			return "", nil
		}
		path := joinJSONPath(keys)
		v, ok := lookupJSONPath(doc, keys)
		if !ok || v == nil {
			if required {
				return "", badField(path, "is missing: generic_config.%s says the %s is there", key, key)
			}
			return "", nil
		}
		s, ok := jsonScalarText(v)
		if !ok {
			return "", badField(path, "must be a string, number or boolean (generic_config.%s)", key)
		}
		return strings.TrimSpace(s), nil
	}
	title, err := text("title", cfg.title, true)
	if err != nil {
		return nil, err
	}
	if title = oneLine(title, maxGroupTitle); title == "" {
		return nil, badField(joinJSONPath(cfg.title), "is empty: the title (generic_config.title) is required")
	}
	g := &parsedGroup{AlertGroup: handlers.AlertGroup{Source: "generic", System: "the generic webhook", Title: title}}
	if g.Message, err = text("message", cfg.message, false); err != nil {
		return nil, err
	}
	g.Message = clip(g.Message, maxGroupMessage)
	dedup, err := text("dedup_key", cfg.dedup, true)
	if err != nil {
		return nil, err
	}
	if dedup == "" {
		dedup = title
	}
	if len(dedup) > maxFingerprint {
		sum := sha256.Sum256([]byte(dedup))
		dedup = "sha256:" + hex.EncodeToString(sum[:])
	}
	g.DedupKey = "generic:" + dedup
	state, err := text("state", cfg.state, false)
	if err != nil {
		return nil, err
	}
	g.Resolved = cfg.resolved[strings.ToLower(state)] && state != ""
	word, err := text("severity", cfg.severity, false)
	if err != nil {
		return nil, err
	}
	if word != "" {
		s, ok := cfg.severities[strings.ToLower(word)]
		if !ok {
			s, ok = alertSeverity(word)
		}
		if ok {
			g.Severity = s
		} else {
			g.Warnings = append(g.Warnings, fmt.Sprintf("severity %q is not mapped (generic_config.severity_map): the service's default severity applies", clip(word, 40)))
		}
	}
	if g.Service = service; g.Service == "" {
		if g.Service, err = text("service", cfg.service, false); err != nil {
			return nil, err
		}
	}
	if g.Service == "" {
		return nil, badField("service", "name the Herald service: add ?service=<name> to the webhook URL, or a service path to generic_config")
	}
	status := models.AlertFiring
	if g.Resolved {
		status = models.AlertResolved
	}
	g.Alerts = []handlers.GroupAlert{{Fingerprint: dedup, Resolved: g.Resolved, Name: title,
		Labels: contextJSON(map[string]any{"state": status}), Annotations: "{}"}}
	ctx := map[string]any{"source": "generic", "dedup_key": dedup}
	if state != "" {
		ctx["state"] = state
	}
	if len(body) <= maxGenericContext {
		ctx["payload"] = json.RawMessage(compactJSON(body))
	}
	g.Context = contextJSON(ctx)
	return g, nil
}

// joinJSONPath writes keys back as a path (for error fields).
func joinJSONPath(keys []string) string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = escapeJSONPathKey(k)
	}
	return strings.Join(out, ".")
}

// compactJSON is a valid JSON body without its insignificant spaces.
func compactJSON(body []byte) []byte {
	var buf bytes.Buffer
	if err := json.Compact(&buf, body); err != nil {
		return []byte("null")
	}
	// Compact keeps invalid UTF-8 (only possible inside strings): replace
	// it as encoding/json does when decoding, since PostgreSQL refuses it.
	return bytes.ToValidUTF8(buf.Bytes(), []byte("\uFFFD"))
}
