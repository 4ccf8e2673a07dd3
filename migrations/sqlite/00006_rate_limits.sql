-- +goose Up
-- Per-mode send budgets shared by every replica: one row per mode and
-- fixed window, counting the sends taken from it. Rows of past windows are
-- deleted as new windows open.
CREATE TABLE rate_limits (
    mode         TEXT NOT NULL,
    window_start DATETIME NOT NULL,
    used         INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (mode, window_start)
);

-- +goose Down
DROP TABLE rate_limits;
