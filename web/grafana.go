package web

// Grafana's alerting webhook (unified alerting, Grafana 8 and later): an
// Alertmanager-shaped notification (groupKey, alerts with fingerprints,
// labels, annotations) plus a title, a message and a state ("alerting" or
// "ok"), with version "1". Herald keeps one incident per group (dedup key
// "grafana:" + groupKey), exactly as for Alertmanager.

// grafanaStates maps Grafana's group state onto a status, for a body
// that carries only the state.
var grafanaStates = map[string]string{"alerting": "firing", "ok": "resolved"}

// parseGrafana parses and checks a Grafana notification.
func parseGrafana(body []byte, service string) (*parsedGroup, error) {
	p, err := decodeGroupPayload(body)
	if err != nil {
		return nil, err
	}
	if p.Status == "" {
		p.Status = grafanaStates[p.State]
	}
	if p.Status == "" && p.State != "" {
		return nil, badField("state", "must be \"alerting\" or \"ok\" when status is absent, not %q", p.State)
	}
	for i := range p.Alerts {
		// Grafana's legacy states, in case an alert carries one.
		if s, ok := grafanaStates[p.Alerts[i].Status]; ok {
			p.Alerts[i].Status = s
		}
	}
	return buildGroup(p, grafanaSource, service)
}
