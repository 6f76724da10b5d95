"""KPIs from records: the one compiler from catalogue measures to DuckDB SQL (with the named queries in
kpi/sql/), the engine (actual, target, expected, pace, status, projection, breakdowns), the status rule,
weekly snapshots and data freshness (docs/kpi-semantics.md).

May import metrics.storage, metrics.catalogue, metrics.contract and metrics.present.
"""
