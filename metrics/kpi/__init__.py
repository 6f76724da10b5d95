"""KPIs from records: the engine (actual, target, expected, pace, status, projection, breakdowns; from the
rollups or the base tables, with measures compiled by metrics.storage.compile), the named queries in kpi/sql/,
the status rule, weekly snapshots and data freshness (docs/kpi-semantics.md, docs/rollups.md).

May import metrics.storage, metrics.catalogue, metrics.contract and metrics.present.
"""
