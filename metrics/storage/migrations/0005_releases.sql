-- Schema version 5: press releases (统计发布). The office freezes a weekly snapshot into a draft, reviews
-- it and publishes it; a published release is numbered and never changes again.
-- Frozen once released: change the schema with a new numbered migration, never by editing this file.
-- `content` is the canonical JSON of everything the press sees (tables already suppressed and rounded),
-- `content_hash` its SHA-256; metrics/releases.py checks the hash on every read. Only drafts are updated
-- (publish sets the number once; discard marks a draft discarded); no code path deletes a row.
CREATE SEQUENCE release_seq START 1;
CREATE TABLE releases (
    release_id BIGINT PRIMARY KEY DEFAULT nextval('release_seq'),
    as_of DATE NOT NULL,                 -- the weekly snapshot the release is made from
    title VARCHAR NOT NULL,
    state VARCHAR NOT NULL CHECK (state IN ('draft', 'published', 'discarded')),
    release_no VARCHAR,                  -- '2026-003' (2026年第3期), set on publishing
    threshold INTEGER NOT NULL CHECK (threshold >= 3),
    content VARCHAR NOT NULL,
    content_hash VARCHAR NOT NULL CHECK (length(content_hash) = 64),
    data_version BIGINT NOT NULL,
    created_by VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL,
    published_by VARCHAR,
    published_at TIMESTAMP,
    CHECK ((state = 'published') = (release_no IS NOT NULL))
);
