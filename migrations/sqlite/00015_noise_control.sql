-- +goose Up
-- Noise control (issue 5): maintenance windows, heartbeat monitors, and a
-- small lease table so one replica runs their periodic checks.
--
-- A maintenance window holds the pages of alerts for one service (NULL:
-- every service) whose labels match `matchers` (a JSON object, label →
-- value, all must match; '' matches everything), from starts_at until
-- ends_at (NULL: open-ended, only for weekly windows). With `weekdays`
-- ("mon,thu") it recurs weekly at start_time (HH:MM) in time_zone for
-- duration_seconds, within [starts_at, ends_at). cancel_pending: when it
-- starts, the running escalations of matching open incidents stop;
-- swept_start is the occurrence whose escalations were stopped, so each is
-- done once. managed_by: 'config' windows belong to `herald apply` (export,
-- prune), 'api' ones to the admin API.
CREATE TABLE maintenance_windows (
    id               TEXT PRIMARY KEY,
    name             TEXT NOT NULL UNIQUE,
    service_id       TEXT REFERENCES services (id) ON DELETE CASCADE,
    matchers         TEXT NOT NULL DEFAULT '',
    starts_at        DATETIME NOT NULL,
    ends_at          DATETIME,
    weekdays         TEXT NOT NULL DEFAULT '',
    start_time       TEXT NOT NULL DEFAULT '',
    duration_seconds INTEGER NOT NULL DEFAULT 0,
    time_zone        TEXT NOT NULL DEFAULT '',
    reason           TEXT NOT NULL,
    created_by       TEXT NOT NULL,
    cancel_pending   BOOLEAN NOT NULL DEFAULT FALSE,
    managed_by       TEXT NOT NULL DEFAULT 'api',
    swept_start      DATETIME,
    created_at       DATETIME NOT NULL,
    updated_at       DATETIME NOT NULL
);
CREATE INDEX maintenance_windows_service_idx ON maintenance_windows (service_id, starts_at);

-- A heartbeat monitor: the integration must check in for the service every
-- interval_seconds, else an incident of `severity` opens. missed_at is set
-- while an outage's incident is open (one incident per outage); a check-in
-- clears it and resolves that incident.
CREATE TABLE heartbeats (
    integration_id   TEXT NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    service_id       TEXT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    interval_seconds INTEGER NOT NULL,
    severity         INTEGER NOT NULL DEFAULT 2,
    last_seen_at     DATETIME,
    missed_at        DATETIME,
    created_at       DATETIME NOT NULL,
    updated_at       DATETIME NOT NULL,
    PRIMARY KEY (integration_id, service_id)
);

-- periodic_leases: who runs a cluster-wide periodic check until when.
CREATE TABLE periodic_leases (
    name        TEXT PRIMARY KEY,
    owner       TEXT NOT NULL,
    lease_until DATETIME NOT NULL
);

-- +goose Down
DROP TABLE periodic_leases;
DROP TABLE heartbeats;
DROP INDEX maintenance_windows_service_idx;
DROP TABLE maintenance_windows;
