// Package web is Herald's HTTP surface: the Echo app, Slack's endpoints,
// health, readiness and metrics.
package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/slack-go/slack"
	"go.opentelemetry.io/otel/trace"

	"github.com/heraldhq/herald/bot"
	"github.com/heraldhq/herald/internal/logctx"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/notifications"
)

// SlackDispatcher is what the Slack endpoints hand verified requests to.
type SlackDispatcher interface {
	Slash(ctx context.Context, cmd slack.SlashCommand) (bot.SlashResponse, error)
	Event(ctx context.Context, body []byte) (string, error)
	Interaction(ctx context.Context, payload []byte) (bot.InteractionResponse, error)
}

// Readiness reports whether this replica can serve: database reachable and
// schema current.
type Readiness interface {
	Ready(ctx context.Context) error
}

// Options wires the server.
type Options struct {
	Verifier   *bot.Verifier
	Dispatcher SlackDispatcher
	Ready      Readiness
	Gatherer   prometheus.Gatherer
	Metrics    *bot.Metrics
	Log        *slog.Logger
	Clock      models.Clock
	// Claims serves the claim links e-mailed pages carry (/claim/<token>);
	// nil leaves them out.
	Claims *ClaimPages
	// Twilio serves Twilio's webhooks (/twilio/...); nil leaves them out.
	Twilio *TwilioOptions
	// Admin serves /api/v1 (config as code, out-of-band messages) when
	// set, authenticated with AdminAPIKey.
	Admin       AdminAPI
	AdminAPIKey string
	// Intake, IntegrationAuth and IntakeStore serve the incidents API
	// (/api/v1/incidents, integration keys) when all are set.
	Intake          IncidentsAPI
	IntegrationAuth IntegrationAuth
	IntakeStore     IncidentsStore
	// Webhooks serves the monitoring webhooks (/api/v1/webhooks/...:
	// Alertmanager, Grafana, generic); nil leaves them out.
	Webhooks *WebhookOptions
	// Maintenance serves /api/v1/maintenance (admin key); Heartbeats
	// serves POST /api/v1/heartbeat (integration keys, IntegrationAuth).
	Maintenance MaintenanceAPI
	Heartbeats  HeartbeatReceiver
	// Iris serves the Iris-compatible API (/v0, HMAC-signed by
	// integrations); nil leaves it out.
	Iris *IrisOptions
	// DeadMan serves GET /api/v1/deadman (admin key); nil leaves it out.
	DeadMan DeadManReporter
	// OnCall serves who is on call and schedules' shifts (admin key) and
	// the iCalendar feeds (/calendars/..., their tokens); nil leaves them
	// out.
	OnCall OnCallAPI
	// MaxBodyBytes bounds request bodies (default 1 MiB; Slack's are far
	// smaller).
	MaxBodyBytes int64
	// Tracer makes every request a span (tracing.go); nil: no tracing.
	Tracer trace.TracerProvider
}

// DefaultMaxBodyBytes bounds request bodies.
const DefaultMaxBodyBytes = 1 << 20

// New builds the Echo app.
func New(o Options) *echo.Echo {
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = errorHandler(o.Log)
	e.Use(middleware.RequestIDWithConfig(middleware.RequestIDConfig{
		// Every line logged while serving the request carries its id.
		RequestIDHandler: func(c echo.Context, id string) {
			c.SetRequest(c.Request().WithContext(logctx.With(c.Request().Context(), slog.String("request_id", id))))
		},
	}))
	if o.Tracer != nil {
		e.Use(traceRequests(o.Tracer))
	}
	e.Use(middleware.Recover())
	e.Use(requestLogger(o.Log))
	e.Use(securityHeaders)

	s := &slackEndpoints{o: o}
	e.POST("/slack/commands", s.commands)
	e.POST("/slack/events", s.events)
	e.POST("/slack/actions", s.actions)

	e.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok\n") })
	e.GET("/readyz", func(c echo.Context) error {
		ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
		defer cancel()
		if err := o.Ready.Ready(ctx); err != nil {
			return c.String(http.StatusServiceUnavailable, "not ready: "+err.Error()+"\n")
		}
		return c.String(http.StatusOK, "ready\n")
	})
	if o.Claims != nil {
		registerClaimPages(e, o)
	}
	if o.Twilio != nil {
		registerTwilio(e, o)
	}
	if o.Admin != nil && o.AdminAPIKey != "" {
		registerAdmin(e, o.Admin, o.AdminAPIKey, int64(notifications.MaxCatalogBytes))
	}
	if o.Intake != nil && o.IntegrationAuth != nil && o.IntakeStore != nil {
		registerIncidentsAPI(e, o)
	}
	if o.Webhooks != nil {
		registerWebhooks(e, o)
	}
	if o.Maintenance != nil && o.AdminAPIKey != "" {
		registerMaintenance(e, o)
	}
	if o.Heartbeats != nil && o.IntegrationAuth != nil {
		registerHeartbeat(e, o)
	}
	if o.Iris != nil {
		registerIris(e, o)
	}
	if o.DeadMan != nil && o.AdminAPIKey != "" {
		registerDeadMan(e, o)
	}
	if o.OnCall != nil {
		registerOnCall(e, o)
	}
	if o.Gatherer != nil {
		e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(o.Gatherer, promhttp.HandlerOpts{})))
	}
	return e
}

// errorResponse is the JSON shape of every error Herald's HTTP API returns.
type errorResponse struct {
	Error string `json:"error"`
}

func errorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		code, msg := http.StatusInternalServerError, "internal error; see the server log"
		var he *echo.HTTPError
		if errors.As(err, &he) {
			code = he.Code
			if m, ok := he.Message.(string); ok {
				msg = m
			} else {
				msg = http.StatusText(code)
			}
		} else {
			log.ErrorContext(c.Request().Context(), "request failed", "path", c.Path(), "err", err,
				"request_id", c.Response().Header().Get(echo.HeaderXRequestID))
		}
		if c.Request().Method == http.MethodHead {
			_ = c.NoContent(code)
			return
		}
		_ = c.JSON(code, errorResponse{Error: msg})
	}
}

func requestLogger(log *slog.Logger) echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus: true, LogURIPath: true, LogMethod: true, LogLatency: true, LogRequestID: true,
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			// The path only: query strings can carry tokens. Claim links
			// carry one in the path: log the route instead.
			path := v.URIPath
			if strings.HasPrefix(path, "/claim/") {
				path = "/claim/:token"
			}
			if strings.HasPrefix(path, "/calendars/") {
				path = c.Path() // the route: feed URLs carry their token
			}
			log.LogAttrs(c.Request().Context(), slog.LevelDebug, "http request",
				slog.String("method", v.Method), slog.String("path", path), slog.Int("status", v.Status),
				slog.Duration("latency", v.Latency), slog.String("request_id", v.RequestID))
			return nil
		},
	})
}

func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'")
		return next(c)
	}
}
