-- Schema version 6: department accounts are bound to a district as well as a unit, and uploads record the
-- district they were made for. (Version 5 is kept for the releases migration.)
-- Frozen once released: change the schema with a new numbered migration, never by editing this file.

-- The four programmes are in different districts and share unit names (each has a 区人力社保局), so a
-- department's unit alone does not say whose task accounts and records it may write. Accounts made before
-- this migration have no district and are refused every district-bound write until an administrator binds
-- one (`kpi user district NAME DISTRICT`); metrics/users.py requires it for new department accounts.
-- DuckDB cannot add a CHECK constraint to an existing table, so the rule lives in metrics/users.py.
ALTER TABLE users ADD COLUMN district VARCHAR;

-- The district a department's upload was checked against (NULL for office, admin and CLI imports), so a
-- department's upload history shows its own district's uploads only.
ALTER TABLE uploads ADD COLUMN district VARCHAR;
