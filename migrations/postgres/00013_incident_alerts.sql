-- +goose Up
-- The alerts of a monitoring system's alert group (Alertmanager, Grafana,
-- the generic webhook), tracked by fingerprint inside the incident the
-- group raised: a new fingerprint or a status change is a transition,
-- recorded once on the timeline however often the group is re-sent.
-- labels and annotations are JSON objects.
CREATE TABLE incident_alerts (
    id          BIGSERIAL PRIMARY KEY,
    incident_id BIGINT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    fingerprint TEXT NOT NULL,
    status      TEXT NOT NULL,
    labels      TEXT NOT NULL DEFAULT '{}',
    annotations TEXT NOT NULL DEFAULT '{}',
    starts_at   TIMESTAMPTZ,
    ends_at     TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    UNIQUE (incident_id, fingerprint)
);
-- The latest incident of an alert group (open first) is looked up by
-- service and dedup key on every notification.
CREATE INDEX incidents_dedup_lookup_idx ON incidents (service_id, dedup_key, id) WHERE dedup_key IS NOT NULL;

-- +goose Down
DROP INDEX incidents_dedup_lookup_idx;
DROP TABLE incident_alerts;
