-- +goose Up
-- A number whose owner texted STOP is opted out: Herald pages it no more
-- (Twilio blocks it at the carrier anyway) until they text START.
ALTER TABLE contact_methods ADD COLUMN opted_out_at TIMESTAMPTZ;

-- +goose Down
ALTER TABLE contact_methods DROP COLUMN opted_out_at;
