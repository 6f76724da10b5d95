-- Time stamps come from the product's one clock (Beijing time, docs/time.md), bound by the code that writes
-- the row. Without a DEFAULT, a write that forgets its stamp fails loudly instead of taking DuckDB's clock.
ALTER TABLE uploads ALTER COLUMN uploaded_at DROP DEFAULT;
ALTER TABLE change_log ALTER COLUMN changed_at DROP DEFAULT;
ALTER TABLE kpi_snapshots ALTER COLUMN taken_at DROP DEFAULT;
ALTER TABLE users ALTER COLUMN created_at DROP DEFAULT;
ALTER TABLE access_log ALTER COLUMN logged_at DROP DEFAULT;
