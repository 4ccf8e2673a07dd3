-- +goose Up
-- Verifying a contact by code: only a hash of the code is kept, with when
-- it expires and how many wrong tries it has had.
ALTER TABLE contact_methods ADD COLUMN verify_code_hash TEXT;
ALTER TABLE contact_methods ADD COLUMN verify_expires_at TIMESTAMPTZ;
ALTER TABLE contact_methods ADD COLUMN verify_attempts INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE contact_methods DROP COLUMN verify_attempts;
ALTER TABLE contact_methods DROP COLUMN verify_expires_at;
ALTER TABLE contact_methods DROP COLUMN verify_code_hash;
