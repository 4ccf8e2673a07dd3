package ui

import (
	"net/url"
	"strings"
)

// inKeyPlaceholder stands for the key everywhere but on the page that
// shows it once.
const inKeyPlaceholder = "<YOUR-KEY>"

// inServicePlaceholder stands for a service when the integration has none.
const inServicePlaceholder = "<SERVICE>"

// inWebhook is one service's webhook URLs.
type inWebhook struct {
	Service, Alertmanager, Grafana, Generic string
}

// The paths web/webhooks.go, web/incidents_api.go and web/heartbeat.go
// serve; keys go in "Authorization: Bearer <key>".
const (
	inAlertmanagerPath = "/api/v1/webhooks/alertmanager"
	inGrafanaPath      = "/api/v1/webhooks/grafana"
	inGenericPath      = "/api/v1/webhooks/generic"
	inIncidentsPath    = "/api/v1/incidents"
	inHeartbeatPath    = "/api/v1/heartbeat"
)

func inURL(base, path, service string) string {
	u := strings.TrimSuffix(base, "/") + path
	if service == "" {
		return u
	}
	if service == inServicePlaceholder {
		return u + "?service=" + service
	}
	return u + "?service=" + url.QueryEscape(service)
}

// inWebhooks lists the webhook URLs of each service.
func inWebhooks(base string, services []string) []inWebhook {
	out := make([]inWebhook, 0, len(services))
	for _, s := range services {
		out = append(out, inWebhook{Service: s, Alertmanager: inURL(base, inAlertmanagerPath, s), Grafana: inURL(base, inGrafanaPath, s),
			Generic: inURL(base, inGenericPath, s)})
	}
	return out
}

// inExample is a configuration snippet to copy.
type inExample struct {
	ID, Title, Intro, Text string
}

// inExamples are copy-paste configurations for a service, with the key
// when it is being shown, else the placeholder.
func inExamples(base, service, key string) []inExample {
	if key == "" {
		key = inKeyPlaceholder
	}
	if service == "" {
		service = inServicePlaceholder
	}
	r := strings.NewReplacer("{AM}", inURL(base, inAlertmanagerPath, service), "{GRAFANA}", inURL(base, inGrafanaPath, service),
		"{INCIDENTS}", inURL(base, inIncidentsPath, ""), "{HEARTBEAT}", inURL(base, inHeartbeatPath, service),
		"{KEY}", key, "{SERVICE}", service)
	return []inExample{
		{ID: "example-alertmanager", Title: "Prometheus Alertmanager",
			Intro: "A receiver in alertmanager.yml (send_resolved lets Herald resolve incidents). Keep the key in a file with credentials_file rather than in the configuration if you can.",
			Text: r.Replace(`route:
  receiver: herald
  group_by: [alertname, service]
receivers:
  - name: herald
    webhook_configs:
      - url: {AM}
        send_resolved: true
        max_alerts: 100
        http_config:
          authorization:
            type: Bearer
            credentials: {KEY}
`)},
		{ID: "example-grafana", Title: "Grafana",
			Intro: "A contact point of type Webhook: URL as below, method POST, and under Optional settings the Authorization header with scheme Bearer and the key as credentials. As provisioning:",
			Text: r.Replace(`apiVersion: 1
contactPoints:
  - orgId: 1
    name: herald
    receivers:
      - uid: herald
        type: webhook
        settings:
          url: {GRAFANA}
          httpMethod: POST
          authorization_scheme: Bearer
          authorization_credentials: {KEY}
`)},
		{ID: "example-curl", Title: "Incidents API (curl)",
			Intro: "Raise an incident (severity CRIT, ERR or WARN); the same dedup_key while it is open counts an occurrence and pages nobody again.",
			Text: r.Replace(`curl -X PUT -H "Authorization: Bearer {KEY}" \
  -H "Content-Type: application/json" \
  -d '{"service":"{SERVICE}","severity":"CRIT","title":"5xx above 5%","message":"checkout failing","dedup_key":"{SERVICE}-5xx"}' \
  {INCIDENTS}
`)},
		{ID: "example-heartbeat", Title: "Heartbeat check-in (curl)",
			Intro: "For a heartbeat monitor of this integration: check in more often than its interval.",
			Text:  r.Replace(`curl -X POST -H "Authorization: Bearer {KEY}" '{HEARTBEAT}'` + "\n")},
	}
}
