"""The DuckDB file and time: `Store` (one connection, a cursor per request, one transaction per write),
numbered migrations, backup and restore, the product's one clock (docs/time.md) and the one writer of the
change log (changelog, docs/audit.md).

May import metrics.contract only.
"""
