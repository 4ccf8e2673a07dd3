-- +goose Up
-- Calendar feed tokens (issue 6): the secret in the URL of an iCalendar
-- feed of one schedule (kind schedule, subject_id a schedule id) or of
-- one person (kind person, subject_id a person id). Only the SHA-256 of
-- the token is kept; the id is the token part that finds the row. A
-- subject has at most one token in force: rotating revokes the old one.
CREATE TABLE calendar_tokens (
    id         TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ
);
CREATE UNIQUE INDEX calendar_tokens_active_idx ON calendar_tokens (kind, subject_id) WHERE revoked_at IS NULL;

-- +goose Down
DROP TABLE calendar_tokens;
