"""The DuckDB file and time: `Store` (one connection, a cursor per request, one transaction per write),
numbered migrations, backup and restore, the product's one clock (docs/time.md), the one writer of the
change log (changelog, docs/audit.md), catalogue measures compiled to SQL (compile) and the rollups kept
beside the base tables at every write (rollup, docs/rollups.md).

May import metrics.catalogue and metrics.contract.
"""
