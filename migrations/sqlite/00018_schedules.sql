-- +goose Up
-- On-call schedules (issue 6).
--
-- A team has schedules (name unique per team, an IANA time zone). A
-- schedule has rotations (layers): members take turns, one shift each
-- (hourly, daily or weekly, shift_count of them), handing off at
-- handoff_time (HH:MM, wall clock in the rotation zone, else the schedule
-- zone) on handoff_weekday for weekly shifts, the first shift on
-- start_date (YYYY-MM-DD). windows is a JSON list of weekly restriction
-- windows, empty for none. When two rotations of a role cover an instant
-- the higher layer wins.
CREATE TABLE schedules (
    id         TEXT PRIMARY KEY,
    team_id    TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    time_zone  TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL,
    UNIQUE (team_id, name)
);

CREATE TABLE schedule_rotations (
    id              TEXT PRIMARY KEY,
    schedule_id     TEXT NOT NULL REFERENCES schedules (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    role            TEXT NOT NULL,
    layer           INTEGER NOT NULL,
    shift_kind      TEXT NOT NULL,
    shift_count     INTEGER NOT NULL DEFAULT 1,
    handoff_time    TEXT NOT NULL,
    handoff_weekday TEXT NOT NULL DEFAULT '',
    start_date      TEXT NOT NULL,
    time_zone       TEXT NOT NULL DEFAULT '',
    windows         TEXT NOT NULL DEFAULT '',
    created_at      DATETIME NOT NULL,
    updated_at      DATETIME NOT NULL,
    UNIQUE (schedule_id, name)
);

-- The turns of a rotation in order. A row per member (not a JSON list)
-- so that a person leaving the directory leaves their rotations, and a
-- person rotations are found by index.
CREATE TABLE rotation_members (
    rotation_id TEXT NOT NULL REFERENCES schedule_rotations (id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    person_id   TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    PRIMARY KEY (rotation_id, position)
);
CREATE INDEX rotation_members_person_idx ON rotation_members (person_id);

-- Overrides put person_id on call for a role from starts_at until ends_at,
-- beating every rotation, only where replaced_person_id would be on call
-- when it is set. A swap is two overrides sharing swap_id.
CREATE TABLE schedule_overrides (
    id                 TEXT PRIMARY KEY,
    schedule_id        TEXT NOT NULL REFERENCES schedules (id) ON DELETE CASCADE,
    role               TEXT NOT NULL,
    person_id          TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    replaced_person_id TEXT REFERENCES people (id) ON DELETE CASCADE,
    swap_id            TEXT,
    starts_at          DATETIME NOT NULL,
    ends_at            DATETIME NOT NULL,
    reason             TEXT NOT NULL DEFAULT '',
    created_by         TEXT NOT NULL,
    created_at         DATETIME NOT NULL
);
CREATE INDEX schedule_overrides_schedule_idx ON schedule_overrides (schedule_id, ends_at);
CREATE INDEX schedule_overrides_swap_idx ON schedule_overrides (swap_id) WHERE swap_id IS NOT NULL;

-- A person away: their shifts go to the next member of each rotation.
CREATE TABLE time_off (
    id         TEXT PRIMARY KEY,
    person_id  TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    starts_at  DATETIME NOT NULL,
    ends_at    DATETIME NOT NULL,
    reason     TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL,
    created_at DATETIME NOT NULL
);
CREATE INDEX time_off_person_idx ON time_off (person_id, ends_at);

-- Which schedule and rotation (or fallback) put the person of a page on
-- call, shown where paging is described: primary, Payments weekly.
ALTER TABLE messages ADD COLUMN recipient_source TEXT NOT NULL DEFAULT '';

-- Schedule changes are audited outside incidents: actor names who made
-- them (not always a Slack user), subject what they were to.
ALTER TABLE audit_log ADD COLUMN actor TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN subject TEXT NOT NULL DEFAULT '';
CREATE INDEX audit_log_subject_idx ON audit_log (subject, at) WHERE subject <> '';

-- Bumped by every schedule change: cached on-call lookups on every
-- replica compare it to notice changes.
INSERT INTO counters (name, value) VALUES ('schedules', 0);

-- +goose Down
DELETE FROM counters WHERE name = 'schedules';
DROP INDEX audit_log_subject_idx;
ALTER TABLE audit_log DROP COLUMN subject;
ALTER TABLE audit_log DROP COLUMN actor;
ALTER TABLE messages DROP COLUMN recipient_source;
DROP TABLE time_off;
DROP TABLE schedule_overrides;
DROP TABLE rotation_members;
DROP TABLE schedule_rotations;
DROP TABLE schedules;
