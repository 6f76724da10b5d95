-- Schema version 8: browser sessions that survive a reload, and sign-in attempts for throttling
-- (docs/server.md, "Sign-in and sessions").
-- Frozen once released: change the schema with a new numbered migration, never by editing this file.

-- One row per sign-in. The browser holds a random token in the HttpOnly cookie kpi_session; the table holds
-- only its SHA-256 (hex), so a copy of the database signs no one in. Stamps are naive Beijing time from the
-- product's clock (docs/time.md): no DEFAULT on them. A row is never deleted; revoked_at ends it.
CREATE TABLE web_sessions (
    token_hash VARCHAR PRIMARY KEY CHECK (length(token_hash) = 64),
    user_name VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP,
    revoked_by VARCHAR,
    revoke_reason VARCHAR,
    client VARCHAR,
    user_agent VARCHAR,
    CHECK ((revoked_at IS NULL) = (revoked_by IS NULL))
);
CREATE INDEX web_sessions_user ON web_sessions (user_name);

-- One row per password check that ran (throttled attempts are refused before the check and only go to
-- access_log). A row is written as a failure before the check and marked ok after a correct password, so
-- parallel guesses are counted before any of them is checked. user_name is what was typed, normalised, even
-- when no such account exists; client is the address the request came from.
CREATE SEQUENCE login_attempt_seq START 1;
CREATE TABLE login_attempts (
    attempt_id BIGINT PRIMARY KEY DEFAULT nextval('login_attempt_seq'),
    attempted_at TIMESTAMP NOT NULL,
    user_name VARCHAR NOT NULL,
    client VARCHAR NOT NULL,
    ok BOOLEAN NOT NULL
);
CREATE INDEX login_attempts_client ON login_attempts (client, attempted_at);
CREATE INDEX login_attempts_user ON login_attempts (user_name, attempted_at);
