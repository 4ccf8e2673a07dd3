-- +goose Up
-- The application (integration) that raised an incident: messages are
-- leased in turns between applications, and a person's priority → mode
-- preferences can differ per application.
ALTER TABLE incidents ADD COLUMN application TEXT NOT NULL DEFAULT '';
-- Fair leasing walks the due queue application by application.
CREATE INDEX messages_fair_queue_idx ON messages (application, not_before, id)
    WHERE status = 'queued' AND NOT out_of_band;
-- Aggregation: pages of a plan in an alert storm wait in a batch (one per
-- plan, person and mode) and go out as one message.
ALTER TABLE messages ADD COLUMN batch_key TEXT NOT NULL DEFAULT '';
CREATE INDEX messages_batch_idx ON messages (batch_key) WHERE status = 'queued' AND batch_key <> '';
-- Counting a plan's recent escalations (aggregation threshold).
CREATE INDEX escalations_plan_recent_idx ON escalations (plan_version_id, created_at);

-- +goose Down
DROP INDEX escalations_plan_recent_idx;
DROP INDEX messages_batch_idx;
ALTER TABLE messages DROP COLUMN batch_key;
DROP INDEX messages_fair_queue_idx;
ALTER TABLE incidents DROP COLUMN application;
