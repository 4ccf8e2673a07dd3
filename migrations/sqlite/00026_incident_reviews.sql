-- +goose Up
-- The web UI incident doc (issue 7): each incident's post-incident review
-- (what happened, contributing factors, lessons learned), and an index for
-- the incident list's date range filter.
CREATE TABLE incident_reviews (
    incident_id          INTEGER PRIMARY KEY REFERENCES incidents (id) ON DELETE CASCADE,
    what_happened        TEXT NOT NULL DEFAULT '',
    contributing_factors TEXT NOT NULL DEFAULT '',
    lessons_learned      TEXT NOT NULL DEFAULT '',
    updated_by           TEXT NOT NULL DEFAULT '',
    updated_at           DATETIME NOT NULL
);
CREATE INDEX incidents_reported_at_idx ON incidents (reported_at);
CREATE INDEX incidents_severity_idx ON incidents (severity, number);

-- +goose Down
DROP INDEX incidents_severity_idx;
DROP INDEX incidents_reported_at_idx;
DROP TABLE incident_reviews;
