-- +goose Up
-- Set when a replica re-queued the message because the sender that
-- leased it stopped mid-send (its lease ran out): the vendor may already
-- have it, so the next send asks the vendor first. Never cleared: it is
-- the message's history.
ALTER TABLE messages ADD COLUMN taken_over BOOLEAN NOT NULL DEFAULT FALSE;

-- +goose Down
ALTER TABLE messages DROP COLUMN taken_over;
