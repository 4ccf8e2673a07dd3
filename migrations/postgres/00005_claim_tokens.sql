-- +goose Up
-- Claim links are single-use: each use is recorded here, keyed on a hash of
-- the link's signature (never the link itself). Rows older than the links'
-- lifetime can be deleted at will.
CREATE TABLE claim_tokens (
    token_hash TEXT PRIMARY KEY,
    used_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX claim_tokens_used_at_idx ON claim_tokens (used_at);

-- +goose Down
DROP TABLE claim_tokens;
