-- Schema version 12: the registry of rollups, aggregate tables derived from the catalogue's measures and kept
-- in the same transaction as every write to the base tables (docs/rollups.md). The rollup tables themselves
-- are shaped by the catalogue, so they are not created here: after the migrations, Store.migrate calls
-- metrics.storage.rollup.ensure, which finds rollup_state empty, creates every rollup and fills it from the
-- base tables (an existing database gets its rollups on the first open by this code).
CREATE TABLE rollups (
    name VARCHAR NOT NULL,          -- the rollup table, e.g. rollup_placements_by_placement_date
    record_type VARCHAR NOT NULL,   -- the base table it aggregates
    date_column VARCHAR NOT NULL,   -- the date column its days come from
    kind VARCHAR NOT NULL,          -- 'daily' or 'distinct'
    definition JSON NOT NULL,       -- its columns and the measures (filters) behind them
    built_at TIMESTAMP NOT NULL     -- naive Beijing time from metrics.storage.clock
);

-- One row: a hash of the catalogue files the rollups were shaped by (unchanged: nothing to rebuild).
CREATE TABLE rollup_state (fingerprint VARCHAR NOT NULL, built_at TIMESTAMP NOT NULL);
