-- +goose Up
-- Slack coordination: versions for headline refreshes, comms channels,
-- roles, action items, participants, keyword cool-downs and the audit log.

ALTER TABLE incidents ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE incidents ADD COLUMN is_report BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE incidents ADD COLUMN affected_services TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN resolved_by_id TEXT REFERENCES external_users (id);

-- The headline post row exists from declaration; posting_until is a short
-- lease so two replicas never post the same headline twice.
ALTER TABLE headline_posts ADD COLUMN rendered_version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE headline_posts ADD COLUMN posting_until TIMESTAMPTZ;

ALTER TABLE comms_channels ADD COLUMN private BOOLEAN NOT NULL DEFAULT FALSE;
-- The pinned summary message, once posted: set-up resumes without posting it twice.
ALTER TABLE comms_channels ADD COLUMN summary_ts TEXT NOT NULL DEFAULT '';

ALTER TABLE timeline_events ADD COLUMN removed_at TIMESTAMPTZ;

CREATE TABLE incident_roles (
    id          BIGSERIAL PRIMARY KEY,
    incident_id BIGINT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    role        TEXT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES external_users (id),
    assigned_by TEXT REFERENCES external_users (id),
    assigned_at TIMESTAMPTZ NOT NULL,
    UNIQUE (incident_id, role)
);

CREATE TABLE action_items (
    id            BIGSERIAL PRIMARY KEY,
    incident_id   BIGINT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    text          TEXT NOT NULL,
    owner_id      TEXT REFERENCES external_users (id),
    created_by_id TEXT REFERENCES external_users (id),
    done_at       TIMESTAMPTZ,
    created_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX action_items_incident_idx ON action_items (incident_id);

CREATE TABLE participants (
    id              BIGSERIAL PRIMARY KEY,
    incident_id     BIGINT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL REFERENCES external_users (id),
    joined_at       TIMESTAMPTZ NOT NULL,
    message_count   INTEGER NOT NULL DEFAULT 0,
    last_message_at TIMESTAMPTZ,
    UNIQUE (incident_id, user_id)
);

CREATE TABLE keyword_cooldowns (
    channel_id   TEXT NOT NULL,
    keyword      TEXT NOT NULL,
    last_sent_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (channel_id, keyword)
);

CREATE TABLE audit_log (
    id          BIGSERIAL PRIMARY KEY,
    at          TIMESTAMPTZ NOT NULL,
    actor_id    TEXT REFERENCES external_users (id),
    incident_id BIGINT REFERENCES incidents (id) ON DELETE SET NULL,
    action      TEXT NOT NULL,
    before      TEXT NOT NULL DEFAULT '',
    after       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_incident_idx ON audit_log (incident_id, at);

-- +goose Down
DROP TABLE audit_log;
DROP TABLE keyword_cooldowns;
DROP TABLE participants;
DROP TABLE action_items;
DROP TABLE incident_roles;
ALTER TABLE timeline_events DROP COLUMN removed_at;
ALTER TABLE comms_channels DROP COLUMN summary_ts;
ALTER TABLE comms_channels DROP COLUMN private;
ALTER TABLE headline_posts DROP COLUMN posting_until;
ALTER TABLE headline_posts DROP COLUMN rendered_version;
ALTER TABLE incidents DROP COLUMN resolved_by_id;
ALTER TABLE incidents DROP COLUMN affected_services;
ALTER TABLE incidents DROP COLUMN is_report;
ALTER TABLE incidents DROP COLUMN version;
