-- Schema version 11: the outlier warnings an upload was imported with, and who accepted them
-- (docs/uploads.md, "Outlier warnings"). Frozen once released: change the schema with a new numbered
-- migration, never by editing this file.

-- One row per warning, written in the import's transaction with its uploads row. Append-only: no code path
-- updates or deletes these rows. kind is 'count' (a street's or district's monthly count against its last 12
-- months), 'amount_standard' (an amount above the catalogue's subsidy standard) or 'amount_history' (an
-- amount against the measure's amounts of the last 12 months). reference is the median of the history or
-- the standard's amount; ratio is value ÷ reference; z is the modified z-score (NULL when the history does
-- not vary). accepted_at comes from the one clock (no DEFAULT: see migration 0007).
CREATE SEQUENCE upload_warning_seq START 1;
CREATE TABLE upload_warnings (
    warning_id BIGINT PRIMARY KEY DEFAULT nextval('upload_warning_seq'),
    upload_id BIGINT NOT NULL,
    kind VARCHAR NOT NULL CHECK (kind IN ('count', 'amount_standard', 'amount_history')),
    subject VARCHAR NOT NULL,
    period DATE,
    measure VARCHAR NOT NULL,
    value DOUBLE NOT NULL,
    reference DOUBLE NOT NULL,
    ratio DOUBLE,
    z DOUBLE,
    file_row BIGINT,
    message_zh VARCHAR NOT NULL,
    message_en VARCHAR NOT NULL,
    accepted_by VARCHAR NOT NULL,
    accepted_at TIMESTAMP NOT NULL
);
CREATE INDEX upload_warnings_upload ON upload_warnings (upload_id);
