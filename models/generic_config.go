package models

import (
	"encoding/json"
	"fmt"
)

// GenericWebhookConfig says where the generic webhook finds an alert's
// fields in a posted JSON payload (dotted paths, like "alert.name"). It is
// stored as JSON in integrations.generic_config ("" when the integration
// has none); `herald apply` writes it from an integration's `generic:`.
type GenericWebhookConfig struct {
	Title    string `json:"title"`
	Severity string `json:"severity,omitempty"`
	// SeverityMap maps the payload's severity values to Herald's
	// severities ("critical" → 1); the webhook also takes CRIT, ERR, WARN.
	SeverityMap map[string]Severity `json:"severity_map,omitempty"`
	DedupKey    string              `json:"dedup_key,omitempty"`
	State       string              `json:"state,omitempty"`
	// ResolvedValues are the values of State that mean resolved
	// (default: resolved, ok).
	ResolvedValues []string `json:"resolved_values,omitempty"`
	Message        string   `json:"message,omitempty"`
	// Service is the path of the service's name (?service= wins).
	Service string `json:"service,omitempty"`
}

// ParseGenericWebhookConfig reads a stored configuration; "" is none (nil).
func ParseGenericWebhookConfig(stored string) (*GenericWebhookConfig, error) {
	if stored == "" {
		return nil, nil
	}
	var c GenericWebhookConfig
	if err := json.Unmarshal([]byte(stored), &c); err != nil {
		return nil, fmt.Errorf("reading a generic webhook configuration: %w", err)
	}
	return &c, nil
}
