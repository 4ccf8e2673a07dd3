-- +goose Up
-- The escalation engine: people and how to reach them, teams, versioned
-- plans, escalations and every message attempt with its change log.

CREATE TABLE people (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    full_name     TEXT NOT NULL DEFAULT '',
    slack_user_id TEXT UNIQUE,
    time_zone     TEXT NOT NULL DEFAULT '',
    active        BOOLEAN NOT NULL DEFAULT TRUE,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE contact_methods (
    id          TEXT PRIMARY KEY,
    person_id   TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    mode        TEXT NOT NULL,
    destination BYTEA,
    verified_at TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX contact_methods_person_idx ON contact_methods (person_id, mode);

CREATE TABLE teams (
    id               TEXT PRIMARY KEY,
    name             TEXT NOT NULL UNIQUE,
    slack_channel_id TEXT NOT NULL DEFAULT '',
    manager_id       TEXT REFERENCES people (id) ON DELETE SET NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);

CREATE TABLE team_members (
    team_id   TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    person_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    PRIMARY KEY (team_id, person_id)
);

-- Static on-call roles per team until schedules exist.
CREATE TABLE oncall_assignments (
    team_id   TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    role      TEXT NOT NULL,
    person_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    PRIMARY KEY (team_id, role)
);

-- How a person wants to be reached at each priority; application '' is the
-- global preference, a service name overrides it.
CREATE TABLE priority_modes (
    person_id   TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    priority    TEXT NOT NULL,
    application TEXT NOT NULL DEFAULT '',
    modes       TEXT NOT NULL,
    PRIMARY KEY (person_id, priority, application)
);

CREATE TABLE plans (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL UNIQUE,
    team_id        TEXT REFERENCES teams (id) ON DELETE SET NULL,
    owner_id       TEXT REFERENCES people (id) ON DELETE SET NULL,
    active_version INTEGER NOT NULL DEFAULT 0,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL
);

-- A published plan version never changes: running escalations keep theirs.
CREATE TABLE plan_versions (
    id         BIGSERIAL PRIMARY KEY,
    plan_id    TEXT NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
    version    INTEGER NOT NULL,
    definition TEXT NOT NULL,
    created_by TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (plan_id, version)
);

CREATE TABLE message_templates (
    name       TEXT PRIMARY KEY,
    definition TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE escalations (
    id              BIGSERIAL PRIMARY KEY,
    incident_id     BIGINT NOT NULL UNIQUE REFERENCES incidents (id) ON DELETE CASCADE,
    plan_version_id BIGINT NOT NULL REFERENCES plan_versions (id),
    state           TEXT NOT NULL,
    step            INTEGER NOT NULL DEFAULT 0,
    step_started_at TIMESTAMPTZ NOT NULL,
    next_check_at   TIMESTAMPTZ,
    claimed_by      TEXT NOT NULL DEFAULT '',
    claimed_at      TIMESTAMPTZ,
    lease_owner     TEXT,
    lease_until     TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX escalations_due_idx ON escalations (next_check_at) WHERE state = 'active';

CREATE TABLE messages (
    id              BIGSERIAL PRIMARY KEY,
    incident_id     BIGINT REFERENCES incidents (id) ON DELETE CASCADE,
    escalation_id   BIGINT REFERENCES escalations (id) ON DELETE CASCADE,
    plan_version_id BIGINT REFERENCES plan_versions (id),
    step            INTEGER NOT NULL DEFAULT 0,
    notification    INTEGER NOT NULL DEFAULT 0,
    send_index      INTEGER NOT NULL DEFAULT 0,
    person_id       TEXT REFERENCES people (id) ON DELETE SET NULL,
    role            TEXT NOT NULL DEFAULT '',
    target          TEXT NOT NULL DEFAULT '',
    mode            TEXT NOT NULL,
    priority        TEXT NOT NULL,
    subject         TEXT NOT NULL DEFAULT '',
    body            TEXT NOT NULL DEFAULT '',
    claim_code      TEXT NOT NULL DEFAULT '',
    optional        BOOLEAN NOT NULL DEFAULT FALSE,
    out_of_band     BOOLEAN NOT NULL DEFAULT FALSE,
    application     TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL,
    vendor          TEXT NOT NULL DEFAULT '',
    vendor_id       TEXT NOT NULL DEFAULT '',
    error           TEXT NOT NULL DEFAULT '',
    attempts        INTEGER NOT NULL DEFAULT 0,
    not_before      TIMESTAMPTZ NOT NULL,
    lease_owner     TEXT,
    lease_until     TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL,
    sent_at         TIMESTAMPTZ,
    delivered_at    TIMESTAMPTZ
);
-- Planning a send twice (two engines, a retry) inserts nothing the second time.
CREATE UNIQUE INDEX messages_plan_idx ON messages (escalation_id, step, notification, send_index, person_id, mode)
    WHERE escalation_id IS NOT NULL;
CREATE INDEX messages_queue_idx ON messages (not_before) WHERE status = 'queued';
CREATE INDEX messages_sending_idx ON messages (lease_until) WHERE status = 'sending';
CREATE INDEX messages_incident_idx ON messages (incident_id);
CREATE INDEX messages_claim_code_idx ON messages (claim_code) WHERE claim_code <> '';

CREATE TABLE message_changes (
    id          BIGSERIAL PRIMARY KEY,
    message_id  BIGINT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    at          TIMESTAMPTZ NOT NULL,
    from_status TEXT NOT NULL,
    to_status   TEXT NOT NULL,
    detail      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX message_changes_message_idx ON message_changes (message_id);

-- +goose Down
DROP TABLE message_changes;
DROP TABLE messages;
DROP TABLE escalations;
DROP TABLE message_templates;
DROP TABLE plan_versions;
DROP TABLE plans;
DROP TABLE priority_modes;
DROP TABLE oncall_assignments;
DROP TABLE team_members;
DROP TABLE teams;
DROP TABLE contact_methods;
DROP TABLE people;
