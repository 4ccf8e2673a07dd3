-- +goose Up
-- Observability (issue 8).
--
-- escalations.first_page_at: when a vendor first accepted one of the
-- escalation's pages. Set once (the update requires it NULL), so the time
-- to the first page is measured once per escalation however many replicas
-- send its pages.
ALTER TABLE escalations ADD COLUMN first_page_at DATETIME;

-- deadman_runs: the dead-man switch, Herald paging itself on a schedule.
-- One row per scheduled period: the replica whose insert wins sends that
-- period's test page (message_ids, a JSON list), and the outcome follows
-- those messages: succeeded once a vendor accepted one (succeeded_at),
-- failed when none can be sent.
CREATE TABLE deadman_runs (
    period_start DATETIME PRIMARY KEY,
    owner        TEXT NOT NULL,
    message_ids  TEXT NOT NULL DEFAULT '',
    outcome      TEXT NOT NULL DEFAULT 'pending',
    detail       TEXT NOT NULL DEFAULT '',
    created_at   DATETIME NOT NULL,
    succeeded_at DATETIME
);
CREATE INDEX deadman_runs_pending_idx ON deadman_runs (period_start) WHERE outcome = 'pending';

-- +goose Down
DROP TABLE deadman_runs;
ALTER TABLE escalations DROP COLUMN first_page_at;
