-- +goose Up
-- Escalation checks take turns between applications too (the messages
-- did already, 00008): a noisy application's backlog of checks must not
-- hold back another's first page.
ALTER TABLE escalations ADD COLUMN application TEXT NOT NULL DEFAULT '';
CREATE INDEX escalations_fair_due_idx ON escalations (application, next_check_at) WHERE state = 'active';

-- +goose Down
DROP INDEX escalations_fair_due_idx;
ALTER TABLE escalations DROP COLUMN application;
