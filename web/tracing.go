package web

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/heraldhq/herald/internal/logctx"
)

// tracerName names the web package's spans' instrumentation scope.
const tracerName = "github.com/heraldhq/herald/web"

// traceRequests makes every request a server span named by its route
// ("PUT /api/v1/incidents"), continuing a W3C traceparent the caller
// sent. Only the route is recorded, never the path or query: claim links
// and calendar feeds carry their token in the path. Lines logged while
// serving the request carry the trace id.
func traceRequests(tp trace.TracerProvider) echo.MiddlewareFunc {
	tracer := tp.Tracer(tracerName)
	prop := propagation.TraceContext{}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			route := c.Path() // Echo routes before Use middleware runs
			name := req.Method + " " + route
			if route == "" {
				name = req.Method
			}
			ctx := prop.Extract(req.Context(), propagation.HeaderCarrier(req.Header))
			ctx, span := tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(
				attribute.String("http.request.method", req.Method), attribute.String("http.route", route)))
			defer span.End()
			if sc := span.SpanContext(); sc.IsValid() {
				ctx = logctx.With(ctx, slog.String("trace_id", sc.TraceID().String()))
			}
			c.SetRequest(req.WithContext(ctx))
			err := next(c)
			status := c.Response().Status
			if err != nil { // the error handler answers later: the status is the error's
				status = http.StatusInternalServerError
				var he *echo.HTTPError
				if errors.As(err, &he) {
					status = he.Code
				}
			}
			span.SetAttributes(attribute.Int("http.response.status_code", status))
			if id := c.Response().Header().Get(echo.HeaderXRequestID); id != "" {
				span.SetAttributes(attribute.String("herald.request_id", id))
			}
			if status >= http.StatusInternalServerError {
				span.SetStatus(codes.Error, http.StatusText(status))
			}
			return err
		}
	}
}
