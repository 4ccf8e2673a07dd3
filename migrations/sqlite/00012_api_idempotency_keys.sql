-- +goose Up
-- The first answer to an incidents API create sent with an
-- Idempotency-Key header, per integration: a retry gets it back unchanged
-- (and adds no occurrence). Answers are kept a day.
CREATE TABLE api_idempotency_keys (
    integration_id  TEXT NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    idempotency_key TEXT NOT NULL,
    status          INTEGER NOT NULL,
    body            TEXT NOT NULL,
    created_at      DATETIME NOT NULL,
    PRIMARY KEY (integration_id, idempotency_key)
);
CREATE INDEX api_idempotency_keys_created_idx ON api_idempotency_keys (created_at);

-- +goose Down
DROP INDEX api_idempotency_keys_created_idx;
DROP TABLE api_idempotency_keys;
