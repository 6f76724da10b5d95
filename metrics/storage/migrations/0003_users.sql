-- Schema version 3: local and OIDC accounts (users) and the append-only access log (logins, refusals).
-- Frozen once released: change the schema with a new numbered migration, never by editing this file.

-- One row per account. A department account is bound to exactly one unit; no other role has a unit.
-- password_hash is an argon2id PHC string, NULL for accounts that only sign in through OIDC.
CREATE TABLE users (
    user_name VARCHAR PRIMARY KEY,
    display_name VARCHAR NOT NULL,
    role VARCHAR NOT NULL CHECK (role IN ('leader', 'office', 'department', 'press', 'admin')),
    unit VARCHAR,
    password_hash VARCHAR CHECK (password_hash IS NULL OR password_hash LIKE '$argon2id$%'),
    oidc_subject VARCHAR UNIQUE,
    active BOOLEAN NOT NULL DEFAULT true,
    created_at TIMESTAMP NOT NULL DEFAULT now(),
    password_changed_at TIMESTAMP,
    failed_logins INTEGER NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
    locked_until TIMESTAMP,
    CHECK ((role = 'department') = (unit IS NOT NULL AND trim(unit) <> ''))
);

-- Append-only: no code path updates or deletes these rows. `logged_at` because AT is reserved in DuckDB.
CREATE SEQUENCE access_seq START 1;
CREATE TABLE access_log (
    access_id BIGINT PRIMARY KEY DEFAULT nextval('access_seq'),
    logged_at TIMESTAMP NOT NULL DEFAULT now(),
    user_name VARCHAR NOT NULL,
    role VARCHAR,
    action VARCHAR NOT NULL,
    unit VARCHAR,
    allowed BOOLEAN NOT NULL,
    detail VARCHAR NOT NULL DEFAULT ''
);
