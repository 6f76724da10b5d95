"""The DuckDB file and time: `Store` (one connection, a cursor per request, one transaction per write),
numbered migrations, backup and restore, and the product's one clock (docs/time.md).

May import metrics.contract only.
"""
