-- +goose Up
-- Web UI sign-in (issue 7). web_users are the people who sign in to the
-- web pages, found by subject (slack:<user id>, oidc:<issuer>#<sub>,
-- link:<name>); a web user may be linked to a person Herald pages. The
-- e-mail is sealed (bound to the row id). Roles are admin, member and
-- viewer; team admins are listed in web_team_admins. Sessions and
-- one-time login links keep only the SHA-256 of their token.
CREATE TABLE web_users (
    id            TEXT PRIMARY KEY,
    subject       TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    email         BYTEA,
    person_id     TEXT REFERENCES people (id) ON DELETE SET NULL,
    role          TEXT NOT NULL DEFAULT 'viewer',
    time_zone     TEXT NOT NULL DEFAULT '',
    created_at    TIMESTAMPTZ NOT NULL,
    last_login_at TIMESTAMPTZ,
    disabled_at   TIMESTAMPTZ
);
CREATE INDEX web_users_person_idx ON web_users (person_id);

CREATE TABLE web_team_admins (
    web_user_id TEXT NOT NULL REFERENCES web_users (id) ON DELETE CASCADE,
    team_id     TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    PRIMARY KEY (web_user_id, team_id)
);

CREATE TABLE web_sessions (
    token_hash   TEXT PRIMARY KEY,
    web_user_id  TEXT NOT NULL REFERENCES web_users (id) ON DELETE CASCADE,
    csrf_token   TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX web_sessions_user_idx ON web_sessions (web_user_id);
CREATE INDEX web_sessions_expiry_idx ON web_sessions (expires_at);

CREATE TABLE web_login_tokens (
    token_hash  TEXT PRIMARY KEY,
    web_user_id TEXT NOT NULL REFERENCES web_users (id) ON DELETE CASCADE,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ
);

CREATE INDEX audit_log_at_idx ON audit_log (at);

-- +goose Down
DROP INDEX audit_log_at_idx;
DROP TABLE web_login_tokens;
DROP TABLE web_sessions;
DROP TABLE web_team_admins;
DROP TABLE web_users;
