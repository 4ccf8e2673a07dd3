-- +goose Up
-- Incidents raised through the Iris-compatible API (/v0): the plan they
-- named (GET /v0/incidents/{id} shows it even when nothing escalated, e.g.
-- held by a maintenance window) and the owner an Iris client claimed them
-- for (when no escalation recorded the claim).
CREATE TABLE iris_incidents (
    incident_id INTEGER PRIMARY KEY REFERENCES incidents (id) ON DELETE CASCADE,
    plan        TEXT NOT NULL,
    owner       TEXT,
    created_at  DATETIME NOT NULL,
    updated_at  DATETIME NOT NULL
);

-- +goose Down
DROP TABLE iris_incidents;
