-- +goose Up
-- PostgreSQL moves incident numbers to a sequence here; SQLite has one
-- writer, so its counter row never makes creations wait on each other.
SELECT 1;

-- +goose Down
SELECT 1;
