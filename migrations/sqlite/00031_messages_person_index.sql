-- +goose Up
-- A person's pages, newest first (the web UI's notification history):
-- without it every person page scanned the whole messages table.
CREATE INDEX messages_person_idx ON messages (person_id, id);

-- +goose Down
DROP INDEX messages_person_idx;
