-- +goose Up
-- Incident numbers come from a sequence: the counter row was locked by
-- every creating transaction until its commit, so incidents raised at once
-- (an alert storm over the API) were created one at a time. A sequence
-- never waits; a creation that rolls back leaves a gap in the numbers.
CREATE SEQUENCE incident_numbers;
SELECT setval('incident_numbers', GREATEST(value, 1), value > 0) FROM counters WHERE name = 'incident_number';

-- +goose Down
UPDATE counters SET value = (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM incident_numbers) WHERE name = 'incident_number';
DROP SEQUENCE incident_numbers;
