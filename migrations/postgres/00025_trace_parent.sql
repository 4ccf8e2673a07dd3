-- +goose Up
-- The W3C traceparent of the request that started the escalation or
-- queued the message (OpenTelemetry tracing, HERALD_OTEL_ENDPOINT): the
-- engine that leases the row later continues that trace. NULL when
-- tracing was off.
ALTER TABLE escalations ADD COLUMN trace_parent TEXT;
ALTER TABLE messages ADD COLUMN trace_parent TEXT;

-- +goose Down
ALTER TABLE messages DROP COLUMN trace_parent;
ALTER TABLE escalations DROP COLUMN trace_parent;
