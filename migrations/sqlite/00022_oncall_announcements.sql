-- +goose Up
-- On-call announcements in Slack (issue 6).
--
-- oncall_announcements: per team and role, who Herald last announced as
-- on call in the team channel and by DM. A handoff replaces the row only
-- where it still names the person read before, in the same transaction
-- as the jobs that post the announcement, so a restart or a second
-- replica neither repeats nor skips one. person_id has no foreign key:
-- a person removed from the directory stays the previous person.
CREATE TABLE oncall_announcements (
    team_id      TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    role         TEXT NOT NULL,
    person_id    TEXT NOT NULL,
    shift_start  DATETIME NOT NULL,
    announced_at DATETIME NOT NULL,
    PRIMARY KEY (team_id, role)
);

-- oncall_summaries: one row per firing of HERALD_ONCALL_ANNOUNCE_CRON.
-- The replica whose insert wins posts the summaries of that firing.
CREATE TABLE oncall_summaries (
    fire_at    DATETIME PRIMARY KEY,
    owner      TEXT NOT NULL,
    created_at DATETIME NOT NULL
);

-- +goose Down
DROP TABLE oncall_summaries;
DROP TABLE oncall_announcements;
