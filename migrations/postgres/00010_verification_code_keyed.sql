-- +goose Up
-- Verification codes are sealed with ENCRYPTED_FIELD_KEY (bound to their
-- row, like every encrypted column) instead of hashed: a code has six
-- digits, so an unkeyed hash in a database dump gave it away. Codes still
-- pending (15 minutes at most) are dropped; a new one is sent on request.
UPDATE contact_methods SET verify_expires_at = NULL, verify_attempts = 0 WHERE verify_code_hash IS NOT NULL;
ALTER TABLE contact_methods DROP COLUMN verify_code_hash;
ALTER TABLE contact_methods ADD COLUMN verify_code BYTEA;

-- +goose Down
UPDATE contact_methods SET verify_expires_at = NULL, verify_attempts = 0 WHERE verify_code IS NOT NULL;
ALTER TABLE contact_methods DROP COLUMN verify_code;
ALTER TABLE contact_methods ADD COLUMN verify_code_hash TEXT;
