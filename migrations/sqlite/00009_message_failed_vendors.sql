-- +goose Up
-- The vendors whose delivery reports said they failed to deliver a
-- message (a JSON array of vendor names, '' for none): a message re-queued
-- after such a report goes to the next vendor of its mode, never back to
-- one of these.
ALTER TABLE messages ADD COLUMN failed_vendors TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE messages DROP COLUMN failed_vendors;
