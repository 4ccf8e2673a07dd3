package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
	"github.com/heraldhq/herald/observability"
)

// withTracer gives the app a tracer provider (BuildOptions.Tracer).
func withTracer(tp trace.TracerProvider) harnessOption {
	return func(h *harness) { h.tracer = tp }
}

// spanNamed finds the one exported span of a name.
func spanNamed(t *testing.T, spans tracetest.SpanStubs, name string) tracetest.SpanStub {
	t.Helper()
	var found []tracetest.SpanStub
	for _, s := range spans {
		if s.Name == name {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d spans named %q, want 1; spans: %v", len(found), name, spanNames(spans))
	}
	return found[0]
}

func spanNames(spans tracetest.SpanStubs) []string {
	out := make([]string, len(spans))
	for i, s := range spans {
		out[i] = s.Name
	}
	return out
}

func attr(s tracetest.SpanStub, key attribute.Key) attribute.Value {
	for _, kv := range s.Attributes {
		if kv.Key == key {
			return kv.Value
		}
	}
	return attribute.Value{}
}

// TestTracingFromRequestToVendor: an alert over the incidents API, the
// engine's check of its escalation and the SMS page's Twilio call are one
// trace: request → incident creation → escalation step (continued from
// the stored traceparent) → vendor attempt → Twilio HTTP call. No
// attribute holds a phone number, an address, a key or a URL path.
func TestTracingFromRequestToVendor(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dialect string) {
		exp := tracetest.NewInMemoryExporter()
		tp, shutdown, err := observability.NewTracing(context.Background(), observability.TracingConfig{Exporter: exp, SampleRatio: 1})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = shutdown(context.Background()) })
		api := newFakeTwilioAPI(t)
		h := newHarness(t, dialect, withTracer(tp), withEnv("HERALD_ADMIN_API_KEY", testAdminKey),
			withEnv("TWILIO_ACCOUNT_SID", e2eTwilioSID), withEnv("TWILIO_AUTH_TOKEN", e2eTwilioToken),
			withEnv("TWILIO_FROM_NUMBER", e2eTwilioFrom), withEnv("TWILIO_API_URL", api.srv.URL))
		c, err := parseConfigFile("twilio.yaml", []byte(twilioConfig))
		if err != nil {
			t.Fatal(err)
		}
		if err := applyCatalog(h.ctx, h.db.Store, "twilio.yaml", c, notifications.ApplyOptions{}, io.Discard); err != nil {
			t.Fatal(err)
		}
		h.addService("pay-api", "payments")
		r := h.admin(http.MethodPost, "/api/v1/integrations", testAdminKey, []byte(`{"name":"prometheus","services":["pay-api"]}`))
		if r.Status != http.StatusCreated {
			t.Fatalf("create integration: %s", r)
		}
		key := keyOf(t, r)
		exp.Reset()

		r = h.api(http.MethodPut, "/api/v1/incidents", key, `{"service":"pay-api","severity":"CRIT","title":"checkout down","source":"prometheus"}`)
		if r.Status != http.StatusCreated {
			t.Fatalf("raise: %s", r)
		}
		incID := int64(r.JSON(t)["id"].(float64))
		h.runEngine()
		if sent := api.messages(); len(sent) != 1 {
			t.Fatalf("Twilio got %d messages, want 1", len(sent))
		}

		spans := exp.GetSpans()
		server := spanNamed(t, spans, "PUT /api/v1/incidents")
		create := spanNamed(t, spans, spanIncidentCreate)
		step := spanNamed(t, spans, notifications.SpanEscalationStep)
		send := spanNamed(t, spans, notifications.SpanPageSend)
		var client tracetest.SpanStub
		for _, s := range spans {
			if s.SpanKind == trace.SpanKindClient && s.Parent.SpanID() == send.SpanContext.SpanID() {
				client = s
			}
		}
		if !client.SpanContext.IsValid() {
			t.Fatalf("no HTTP client span under the vendor attempt; spans: %v", spanNames(spans))
		}
		if server.SpanKind != trace.SpanKindServer || attr(server, "http.route").AsString() != "/api/v1/incidents" || attr(server, "http.response.status_code").AsInt64() != http.StatusCreated {
			t.Errorf("server span %s: %v", server.Name, server.Attributes)
		}
		tid := server.SpanContext.TraceID()
		for _, link := range []struct {
			child, parent tracetest.SpanStub
		}{{create, server}, {step, create}, {send, step}, {client, send}} {
			if link.child.SpanContext.TraceID() != tid || link.child.Parent.SpanID() != link.parent.SpanContext.SpanID() {
				t.Errorf("%s is not a child of %s in trace %s (trace %s, parent %s)", link.child.Name, link.parent.Name, tid,
					link.child.SpanContext.TraceID(), link.child.Parent.SpanID())
			}
		}
		if !step.Parent.IsRemote() {
			t.Error("the step span's parent is not the stored (remote) traceparent")
		}
		number := h.incident(incID).Number
		if attr(create, notifications.AttrIncidentNumber).AsInt64() != number || attr(step, notifications.AttrIncidentNumber).AsInt64() != number {
			t.Errorf("incident number: create %v, step %v, want %d", create.Attributes, step.Attributes, number)
		}
		page := h.smsPage(h.incident(incID))
		for k, want := range map[attribute.Key]any{
			notifications.AttrMode: "sms", notifications.AttrVendor: notifications.TwilioSMSVendor, notifications.AttrOutcome: notifications.PageAccepted,
			notifications.AttrMessageID: page.ID, notifications.AttrIncidentID: incID,
		} {
			if got := attr(send, k).AsInterface(); got != want {
				t.Errorf("send span %s = %v, want %v", k, got, want)
			}
		}
		if got := attr(client, "url.full").AsString(); got != api.srv.URL {
			t.Errorf("client url.full %q, want the scheme and host %q", got, api.srv.URL)
		}
		// Nothing personal or secret in any span.
		for _, s := range spans {
			for _, kv := range s.Attributes {
				v := kv.Value.String()
				for _, bad := range []string{patPhone, e2eTwilioFrom, e2eTwilioSID, e2eTwilioToken, key, testAdminKey, "@", "checkout down"} {
					if strings.Contains(v, bad) {
						t.Errorf("span %s attribute %s=%q holds %q", s.Name, kv.Key, v, bad)
					}
				}
			}
		}
		// The traceparents are stored with the rows the engine leased.
		if n := h.count("escalations", "incident_id = ? AND trace_parent LIKE ?", incID, "00-"+tid.String()+"-%"); n != 1 {
			t.Errorf("%d escalations carry the request's trace", n)
		}
		if n := h.count("messages", "id = ? AND trace_parent LIKE ?", page.ID, "00-"+tid.String()+"-%"); n != 1 {
			t.Errorf("the page does not carry the trace")
		}
	})
}

// TestTracingOffByDefault: without HERALD_OTEL_ENDPOINT the app has no
// tracer provider (no middleware, no wrapped transports, no exporter),
// and nothing is stored with the rows.
func TestTracingOffByDefault(t *testing.T) {
	h := newHarness(t, models.DialectSQLite, withEnv("HERALD_ADMIN_API_KEY", testAdminKey))
	if h.app.tracing == nil || h.app.tracing.provider != nil {
		t.Fatalf("tracing %+v, want no provider", h.app.tracing)
	}
	if c := h.app.slackHTTPClient(nil); c != nil {
		t.Error("the Slack client is wrapped with tracing off")
	}
	if _, ok := h.app.vendorHTTP().RoundTripper().(*http.Transport); !ok {
		t.Error("the vendors' transport is wrapped with tracing off")
	}
	if r := h.get("/healthz"); r.Status != http.StatusOK {
		t.Fatalf("healthz: %s", r)
	}
	if n := h.count("escalations", "trace_parent IS NOT NULL"); n != 0 {
		t.Errorf("%d escalations carry a trace", n)
	}
}
