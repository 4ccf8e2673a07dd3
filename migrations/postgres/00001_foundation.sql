-- +goose Up
-- Foundation schema: incidents and the Slack objects around them, durable
-- background jobs and Slack retry de-duplication.

CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('incident_number', 0);

CREATE TABLE external_users (
    id            TEXT PRIMARY KEY,
    slack_user_id TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL DEFAULT '',
    email         BYTEA,
    time_zone     TEXT NOT NULL DEFAULT '',
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE incidents (
    id              BIGSERIAL PRIMARY KEY,
    number          BIGINT NOT NULL UNIQUE,
    title           TEXT NOT NULL,
    summary         TEXT NOT NULL DEFAULT '',
    impact          TEXT NOT NULL DEFAULT '',
    severity        SMALLINT NOT NULL DEFAULT 0 CHECK (severity BETWEEN 0 AND 4),
    status          TEXT NOT NULL,
    source          TEXT NOT NULL DEFAULT '',
    idempotency_key TEXT UNIQUE,
    reporter_id     TEXT REFERENCES external_users (id),
    lead_id         TEXT REFERENCES external_users (id),
    reported_at     TIMESTAMPTZ NOT NULL,
    acknowledged_at TIMESTAMPTZ,
    resolved_at     TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX incidents_status_idx ON incidents (status);

CREATE TABLE comms_channels (
    id           BIGSERIAL PRIMARY KEY,
    incident_id  BIGINT NOT NULL UNIQUE REFERENCES incidents (id) ON DELETE CASCADE,
    channel_id   TEXT NOT NULL UNIQUE,
    channel_name TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    archived_at  TIMESTAMPTZ
);

CREATE TABLE headline_posts (
    id          BIGSERIAL PRIMARY KEY,
    incident_id BIGINT NOT NULL UNIQUE REFERENCES incidents (id) ON DELETE CASCADE,
    channel_id  TEXT NOT NULL,
    message_ts  TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE timeline_events (
    id          BIGSERIAL PRIMARY KEY,
    incident_id BIGINT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    text        TEXT NOT NULL DEFAULT '',
    author_id   TEXT REFERENCES external_users (id),
    source_ref  TEXT,
    occurred_at TIMESTAMPTZ NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX timeline_events_incident_idx ON timeline_events (incident_id, occurred_at);
-- One timeline entry per outside object (a pin, a reaction), however often Slack retries.
CREATE UNIQUE INDEX timeline_events_source_idx ON timeline_events (incident_id, kind, source_ref) WHERE source_ref IS NOT NULL;

CREATE TABLE slack_event_receipts (
    event_id    TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    received_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX slack_event_receipts_received_idx ON slack_event_receipts (received_at);

CREATE TABLE jobs (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    payload      BYTEA, -- NULL: empty payload (encrypted fields store "" as NULL)
    dedup_key    TEXT UNIQUE,
    run_at       TIMESTAMPTZ NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    lease_owner  TEXT,
    lease_until  TIMESTAMPTZ,
    last_error   TEXT NOT NULL DEFAULT '',
    done_at      TIMESTAMPTZ,
    failed_at    TIMESTAMPTZ,
    created_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX jobs_due_idx ON jobs (run_at) WHERE done_at IS NULL AND failed_at IS NULL;

CREATE TABLE recurring_notifications (
    id          BIGSERIAL PRIMARY KEY,
    incident_id BIGINT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    next_run_at TIMESTAMPTZ NOT NULL,
    sent_count  INTEGER NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_until TIMESTAMPTZ,
    done_at     TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL,
    UNIQUE (incident_id, name)
);
CREATE INDEX recurring_notifications_due_idx ON recurring_notifications (next_run_at) WHERE done_at IS NULL;

-- +goose Down
DROP TABLE recurring_notifications;
DROP TABLE jobs;
DROP TABLE slack_event_receipts;
DROP TABLE timeline_events;
DROP TABLE headline_posts;
DROP TABLE comms_channels;
DROP TABLE incidents;
DROP TABLE external_users;
DROP TABLE counters;
