-- +goose Up
-- Plan versions saved in the web UI are drafts until published: a draft
-- is never the active version. Versions written by herald apply are
-- published when created (the default).
ALTER TABLE plan_versions ADD COLUMN draft BOOLEAN NOT NULL DEFAULT FALSE;

-- +goose Down
ALTER TABLE plan_versions DROP COLUMN draft;
