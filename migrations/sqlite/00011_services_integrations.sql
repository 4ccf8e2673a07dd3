-- +goose Up
-- Services belong to teams and name the plan their incidents escalate
-- with; integrations (Iris "applications") are the monitoring sources
-- that raise incidents over HTTP, each scoped to some services.
-- working_hours_only: low-urgency (SEV3/SEV4) alerts page only in the
-- working hours of the team, and are recorded without paging outside them.
-- key_hash is the SHA-256 of a key (bearer lookups), key_sealed the key
-- sealed with ENCRYPTED_FIELD_KEY (Iris HMAC needs it raw).
-- generic_config holds the JSON paths of the generic webhook.
CREATE TABLE services (
    id               TEXT PRIMARY KEY,
    name             TEXT NOT NULL UNIQUE,
    description      TEXT NOT NULL DEFAULT '',
    team_id          TEXT REFERENCES teams (id) ON DELETE SET NULL,
    plan_id          TEXT REFERENCES plans (id) ON DELETE SET NULL,
    default_severity INTEGER NOT NULL DEFAULT 3,
    working_hours_only BOOLEAN NOT NULL DEFAULT FALSE,
    created_at       DATETIME NOT NULL,
    updated_at       DATETIME NOT NULL
);

CREATE TABLE integrations (
    id                 TEXT PRIMARY KEY,
    name               TEXT NOT NULL UNIQUE,
    key_hash           TEXT,
    key_sealed         BLOB,
    secondary_key_hash TEXT,
    secondary_key_sealed BLOB,
    quota_per_minute   INTEGER NOT NULL DEFAULT 0,
    generic_config     TEXT NOT NULL DEFAULT '',
    revoked_at         DATETIME,
    last_used_at       DATETIME,
    created_at         DATETIME NOT NULL,
    updated_at         DATETIME NOT NULL
);

CREATE TABLE integration_services (
    integration_id TEXT NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    service_id     TEXT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    PRIMARY KEY (integration_id, service_id)
);

ALTER TABLE incidents ADD COLUMN service_id TEXT REFERENCES services (id) ON DELETE SET NULL;
ALTER TABLE incidents ADD COLUMN dedup_key TEXT;
ALTER TABLE incidents ADD COLUMN occurrences INTEGER NOT NULL DEFAULT 1;
ALTER TABLE incidents ADD COLUMN last_seen_at DATETIME;
ALTER TABLE incidents ADD COLUMN detected_at DATETIME;
ALTER TABLE incidents ADD COLUMN context TEXT NOT NULL DEFAULT '';
-- One open incident per service and dedup key: a repeat of the alert adds
-- an occurrence instead (and concurrent repeats cannot both create one).
CREATE UNIQUE INDEX incidents_open_dedup_idx ON incidents (service_id, dedup_key)
    WHERE dedup_key IS NOT NULL AND resolved_at IS NULL;
CREATE INDEX incidents_service_idx ON incidents (service_id, created_at);

-- +goose Down
DROP INDEX incidents_service_idx;
DROP INDEX incidents_open_dedup_idx;
ALTER TABLE incidents DROP COLUMN context;
ALTER TABLE incidents DROP COLUMN detected_at;
ALTER TABLE incidents DROP COLUMN last_seen_at;
ALTER TABLE incidents DROP COLUMN occurrences;
ALTER TABLE incidents DROP COLUMN dedup_key;
ALTER TABLE incidents DROP COLUMN service_id;
DROP TABLE integration_services;
DROP TABLE integrations;
DROP TABLE services;
