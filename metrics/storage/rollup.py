"""Rollups: small aggregate tables beside the base tables, derived from the catalogue's measures and kept in
the same transaction as every write to the base tables, so the engine can answer a KPI without scanning
millions of records (docs/rollups.md).

Two shapes, both worked out from the catalogue (`shapes`), never listed by hand:

- a *daily* rollup per record type and date column: one row per district and day, with the row count and
  one column per distinct count / sum / mean measure (its filters applied), e.g. `rollup_placements_by_placement_date`;
- a *distinct* rollup per count-distinct measure and window anchor (year, month or a fixed start date): per
  district and anchor, how many values had their first qualifying day on each day. A count of distinct values
  over [anchor, D] is then the sum up to D, exactly.

Writes call `touch` (before changing rows: which district-days the old and new rows fall on) and `refresh`
(after: those groups deleted and recomputed from the base tables). `ensure` (run by Store.migrate) builds
or rebuilds the tables when the catalogue changes; `verify` recomputes everything and lists differences.
The registry table `rollups` (migration 0012) holds each table's definition, so writes need no catalogue.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
from pydantic import TypeAdapter

from metrics.catalogue.models import (
    Catalogue,
    CountDistinctMeasure,
    CountMeasure,
    Filter,
    Kpi,
    MeanMeasure,
    RatioMeasure,
    SumMeasure,
)
from metrics.contract.records import DERIVED_COLUMNS, RECORD_TYPES
from metrics.storage import clock
from metrics.storage.compile import Params, filter_sql, ident, relation

__all__ = [
    "Difference",
    "Rollup",
    "Touched",
    "anchor_of",
    "build_all",
    "catalogue_fingerprint",
    "column_of",
    "ensure",
    "measure_key",
    "rebuild",
    "rebuild_record",
    "refresh",
    "registered",
    "shapes",
    "touch",
    "verify",
]

# The migration that creates the registry: Store.migrate calls `ensure` once it is applied.
ROLLUP_MIGRATION = 12
# Bump when the rollup tables' layout changes: `ensure` then rebuilds every table.
FORMAT = 2
# Record types whose rollups are never built: progress_reports are read whole by reported measures, and their
# writer (metrics.ledger) is above storage.
NOT_ROLLED_UP = frozenset({"progress_reports"})
_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
_FILTERS = TypeAdapter(list[Filter])
Simple = CountMeasure | CountDistinctMeasure | SumMeasure | MeanMeasure


# --------------------------------------------------------------------------- shapes from the catalogue


def measure_key(m: Simple) -> dict[str, Any]:
    """What identifies a measure's rollup column: record type, date column, kind, column, filters."""
    date_col = m.date_column or RECORD_TYPES[m.source].date_column
    return {
        "source": m.source,
        "date_column": date_col,
        "kind": m.kind,
        "column": getattr(m, "column", None),
        "filters": [f.model_dump(mode="json") for f in m.filters],
    }


def _digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:12]


def column_of(key: dict[str, Any]) -> str:
    """The rollup column (daily) of a measure key."""
    return f"m_{_digest(key)}"


def anchor_of(kpi: Kpi, programme_start: dt.date) -> str:
    """Where the KPI's window starts (docs/kpi-semantics.md, metrics/kpi/status.py window_for): 'year',
    'month' or 'from:<date>'. The engine checks a window against the anchor and scans when they differ."""
    t = kpi.target
    if t is None or t.period == "year":
        return "year"
    if t.period == "month" or t.window == "month_to_date":
        return "month"
    if t.period == "cumulative":
        assert t.start is not None
        return f"from:{t.start.isoformat()}"
    if t.window == "cumulative":
        return f"from:{(t.start or programme_start).isoformat()}"
    return "year"


@dataclass(frozen=True)
class Rollup:
    """One rollup table: its name, record type, date column, kind and what its columns hold."""

    name: str
    record: str
    date_column: str
    kind: str  # "daily" or "distinct"
    definition: dict[str, Any] = field(default_factory=dict, compare=True, hash=False)

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"bad rollup name {self.name!r}")

    def same_as(self, other: Rollup) -> bool:
        return (self.name, self.record, self.date_column, self.kind, _digest(self.definition)) == (
            other.name,
            other.record,
            other.date_column,
            other.kind,
            _digest(other.definition),
        )


def _simple_parts(kpi: Kpi) -> list[Simple]:
    m = kpi.measure
    if isinstance(m, RatioMeasure):
        return [m.numerator, m.denominator]
    if isinstance(m, CountMeasure | CountDistinctMeasure | SumMeasure | MeanMeasure):
        return [m]
    return []


def shapes(catalogues: dict[str, Catalogue]) -> list[Rollup]:
    """Every rollup the catalogues' count, count-distinct, sum, mean and ratio measures need."""
    daily: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    distinct: dict[str, Rollup] = {}
    for cat in catalogues.values():
        for kpi in cat.kpis:
            for sm in _simple_parts(kpi):
                if sm.source in NOT_ROLLED_UP:
                    continue
                key = measure_key(sm)
                if key["date_column"] is None:
                    continue
                cols = daily.setdefault((sm.source, key["date_column"]), {})
                if isinstance(sm, CountDistinctMeasure):
                    anchor = anchor_of(kpi, cat.programme.valid_from)
                    name = f"rollup_{sm.source}_distinct_{_digest([key, anchor])}"
                    distinct[name] = Rollup(
                        name, sm.source, key["date_column"], "distinct", {"measure": key, "anchor": anchor}
                    )
                else:
                    cols[column_of(key)] = key
    out = [
        Rollup(
            f"rollup_{record}_by_{date_col}",
            record,
            date_col,
            "daily",
            {"columns": [{"name": n, "measure": k} for n, k in sorted(cols.items())]},
        )
        for (record, date_col), cols in sorted(daily.items())
    ]
    return out + [distinct[n] for n in sorted(distinct)]


def catalogue_fingerprint(directory: Path | None = None) -> str:
    """A hash of the catalogue files and the rollup format: unchanged means the shapes are unchanged."""
    from metrics.catalogue import CATALOGUE_DIR

    h = hashlib.sha256(f"rollup format {FORMAT}".encode())
    for p in sorted((directory or CATALOGUE_DIR).glob("*.yaml")):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()


# --------------------------------------------------------------------------- SQL of one rollup


def _where(rt: str, filters: list[dict[str, Any]], p: Params) -> str:
    return filter_sql(rt, _FILTERS.validate_python(filters), p)


def _daily_select(r: Rollup, p: Params, scope: str, src: str | None = None) -> str:
    """SELECT district, day, n_rows, <one aggregate per column> over the base rows meeting `scope`."""
    d = ident(r.record, r.date_column)
    exprs = ["count(*) AS n_rows"]
    for c in r.definition["columns"]:
        key, name = c["measure"], c["name"]
        cond = _where(r.record, key["filters"], p)
        if key["kind"] == "count":
            exprs.append(f"count(*) FILTER (WHERE {cond}) AS {name}")
        elif key["kind"] == "sum":
            exprs.append(f"coalesce(sum({ident(r.record, key['column'])}) FILTER (WHERE {cond}), 0) AS {name}")
        else:  # mean: the sum and the count of values, added up by the engine
            col = ident(r.record, key["column"])
            exprs.append(f"coalesce(sum({col}) FILTER (WHERE {cond}), 0) AS {name}_s")
            exprs.append(f"count({col}) FILTER (WHERE {cond}) AS {name}_c")
    src = src or relation(r.record)
    return (
        f"SELECT district, {d} AS day, {', '.join(exprs)} FROM {src} "  # noqa: S608 - names from the record spec
        f"WHERE {d} IS NOT NULL AND {scope} GROUP BY 1, 2"
    )


def _anchor_sql(anchor: str, d: str, p: Params) -> tuple[str, str]:
    """(the anchor of a row's day, the condition a row needs to count from that anchor)."""
    if anchor == "year":
        return f"date_trunc('year', {d})::DATE", "TRUE"
    if anchor == "month":
        return f"date_trunc('month', {d})::DATE", "TRUE"
    start = p.add(dt.date.fromisoformat(anchor.removeprefix("from:")))
    return f"{start}::DATE", f"{d} >= {start}"


def _distinct_select(r: Rollup, p: Params, scope: str) -> str:
    """SELECT district, anchor, first_day, n: values whose first qualifying day since the anchor is first_day."""
    key = r.definition["measure"]
    d = ident(r.record, r.date_column)
    col = ident(r.record, key["column"])
    anchor, since = _anchor_sql(r.definition["anchor"], d, p)
    cond = _where(r.record, key["filters"], p)
    inner = (
        f"SELECT district, {anchor} AS anchor, {col} AS v, min({d}) AS first_day FROM {relation(r.record)} "  # noqa: S608
        f"WHERE {d} IS NOT NULL AND {col} IS NOT NULL AND {since} AND ({cond}) AND {scope} GROUP BY 1, 2, 3"
    )
    return f"SELECT district, anchor, first_day, count(*)::BIGINT AS n FROM ({inner}) GROUP BY 1, 2, 3"  # noqa: S608


def _select(r: Rollup, p: Params, scope: str = "TRUE") -> str:
    return _daily_select(r, p, scope) if r.kind == "daily" else _distinct_select(r, p, scope)


def _keys(r: Rollup) -> str:
    return "district, day" if r.kind == "daily" else "district, anchor, first_day"


# --------------------------------------------------------------------------- registry and building


def registered(cur: duckdb.DuckDBPyConnection, record: str | None = None) -> list[Rollup]:
    """The rollups this database keeps (all, or one record type's); none before migration 0012."""
    found = cur.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'rollups' AND table_schema = 'main'"
    ).fetchall()[0]
    if not found or not found[0]:
        return []
    rows = cur.execute(
        "SELECT name, record_type, date_column, kind, definition FROM rollups "
        "WHERE $record IS NULL OR record_type = $record ORDER BY name",
        {"record": record},
    ).fetchall()
    return [Rollup(n, rec, d, k, json.loads(defn)) for n, rec, d, k, defn in rows]


def _build(cur: duckdb.DuckDBPyConnection, r: Rollup) -> None:
    p = Params()
    cur.execute(f"DROP TABLE IF EXISTS {r.name}")
    cur.execute(f"CREATE TABLE {r.name} AS {_select(r, p)} ORDER BY {_keys(r)}", p.values)
    cur.execute("DELETE FROM rollups WHERE name = ?", [r.name])
    cur.execute(
        "INSERT INTO rollups (name, record_type, date_column, kind, definition, built_at) VALUES (?, ?, ?, ?, ?, ?)",
        [r.name, r.record, r.date_column, r.kind, json.dumps(r.definition, ensure_ascii=False), clock.now()],
    )


def _drop(cur: duckdb.DuckDBPyConnection, name: str) -> None:
    if not _NAME.match(name):
        raise ValueError(f"bad rollup name {name!r}")
    cur.execute(f"DROP TABLE IF EXISTS {name}")
    cur.execute("DELETE FROM rollups WHERE name = ?", [name])


def _set_fingerprint(cur: duckdb.DuckDBPyConnection, fingerprint: str) -> None:
    cur.execute("DELETE FROM rollup_state")
    cur.execute("INSERT INTO rollup_state (fingerprint, built_at) VALUES (?, ?)", [fingerprint, clock.now()])


def build_all(cur: duckdb.DuckDBPyConnection, wanted: list[Rollup], *, only_changed: bool) -> list[str]:
    """Create the `wanted` rollups from the base tables and drop the others; returns the names built."""
    have = {r.name: r for r in registered(cur)}
    names = {r.name for r in wanted}
    for name in have.keys() - names:
        _drop(cur, name)
    built = []
    for r in wanted:
        if only_changed and r.name in have and have[r.name].same_as(r):
            continue
        _build(cur, r)
        built.append(r.name)
    return built


def ensure(cur: duckdb.DuckDBPyConnection) -> list[str]:
    """Bring the rollups in line with the catalogue files (Store.migrate calls this in one transaction).

    A fingerprint of the files is compared first, so an unchanged catalogue costs one small query. A catalogue
    that does not load leaves the rollups as they are: they stay exact for the measures they hold, and the
    engine scans the base tables for the others.
    """
    from metrics.catalogue import CatalogueError, load_catalogues

    fp = catalogue_fingerprint()
    row = cur.execute("SELECT max(fingerprint) FROM rollup_state").fetchall()[0]
    if row and row[0] == fp:
        return []
    try:
        cats = load_catalogues()
    except CatalogueError:
        return []
    built = build_all(cur, shapes(cats), only_changed=True)
    _set_fingerprint(cur, fp)
    return built


def rebuild_record(cur: duckdb.DuckDBPyConnection, record: str) -> None:
    """Every rollup of one record type recomputed whole (after loading an empty table: cheaper than by day)."""
    for r in registered(cur, record):
        _build(cur, r)


def rebuild(cur: duckdb.DuckDBPyConnection) -> list[str]:
    """Every rollup recomputed from the base tables (`kpi rollup rebuild`)."""
    from metrics.catalogue import load_catalogues

    built = build_all(cur, shapes(load_catalogues()), only_changed=False)
    _set_fingerprint(cur, catalogue_fingerprint())
    return built


# --------------------------------------------------------------------------- maintenance at every write


@dataclass
class Touched:
    """Temporary tables of (district, day) per date column that a write touches, old rows and new."""

    record: str
    tables: dict[str, str] = field(default_factory=dict)  # date column -> temp table
    rollups: list[Rollup] = field(default_factory=list)
    incoming: str | None = None  # the table of incoming rows, whose natural keys the write touches
    old: dict[str, str] = field(default_factory=dict)  # additive daily rollup -> temp table of its old rows' sums


def touch(cur: duckdb.DuckDBPyConnection, record: str, incoming: str | None, *, replaces: bool = True) -> Touched:
    """Before a write: remember the district-days of the stored rows the write may change and of the
    incoming rows (`incoming`: a table with the record type's columns as they will be stored; None: the whole
    record type). `replaces`: the write replaces the stored rows of the incoming keys (an upsert), rather
    than appending beside them (bulk_insert)."""
    rollups = registered(cur, record)
    t = Touched(record, rollups=rollups)
    if not rollups:
        return t
    rt = RECORD_TYPES[record]
    if incoming is not None and not _NAME.match(incoming):
        raise ValueError(f"bad table name {incoming!r}")
    on = " AND ".join(f"i.{k} = b.{k}" for k in rt.natural_key)
    for date_col in sorted({r.date_column for r in rollups}):
        d = ident(record, date_col)
        name = f"_rollup_touched_{record}_{date_col}"
        if incoming is None:
            sql = f"SELECT DISTINCT district, {d} AS day FROM {record} WHERE {d} IS NOT NULL"  # noqa: S608
        else:
            sql = (
                f"SELECT district, {d} AS day FROM {incoming} WHERE {d} IS NOT NULL "  # noqa: S608
                f"UNION SELECT b.district, b.{d} FROM {incoming} i JOIN {record} b ON {on} WHERE b.{d} IS NOT NULL"
            )
        cur.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}")
        t.tables[date_col] = name
    if incoming is not None:
        t.incoming = incoming
        for r in rollups:
            if _additive(r):  # the replaced rows' share of each group, taken out again after the write
                p = Params()
                old = f"_rollup_old_{r.name}"
                sql = _daily_select(r, p, "TRUE" if replaces else "FALSE", _keyed(r.record, incoming))
                cur.execute(f"CREATE OR REPLACE TEMP TABLE {old} AS {sql}", p.values)
                t.old[r.name] = old
    return t


def _keyed(record: str, incoming: str) -> str:
    """The FROM item of the base rows whose natural key is one of the incoming rows', derived columns added
    after the semi join (so a derived distance is computed for those rows only)."""
    on = " AND ".join(f"i.{k} = b.{k}" for k in RECORD_TYPES[record].natural_key)
    derived = "".join(f", {expr} AS {name}" for name, expr in DERIVED_COLUMNS.get(record, {}).items())
    rows = f"SELECT b.* FROM {record} b WHERE EXISTS (SELECT 1 FROM {incoming} i WHERE {on})"  # noqa: S608
    return f"(SELECT *{derived} FROM ({rows})) AS {record}"  # noqa: S608 - names from the record spec


def _additive(r: Rollup) -> bool:
    """A daily rollup whose every column adds up exactly (counts; sums of integers and amounts): it can be
    kept by adding the new rows' sums and taking out the old rows'. Sums of DOUBLE columns are recomputed."""
    if r.kind != "daily":
        return False
    rt = RECORD_TYPES[r.record]
    return all(
        c["measure"]["kind"] == "count" or rt.column(c["measure"]["column"]).kind in ("int", "amount")
        for c in r.definition["columns"]
    )


def _physical(r: Rollup) -> list[str]:
    """The value columns of a daily rollup, in table order."""
    out = ["n_rows"]
    for c in r.definition["columns"]:
        out += [f"{c['name']}_s", f"{c['name']}_c"] if c["measure"]["kind"] == "mean" else [c["name"]]
    return out


def _written(record: str, incoming: str) -> str:
    """The FROM item of the incoming rows as written (their record columns, derived columns added)."""
    cols = ", ".join(RECORD_TYPES[record].column_names)
    derived = "".join(f", {expr} AS {name}" for name, expr in DERIVED_COLUMNS.get(record, {}).items())
    return f"(SELECT *{derived} FROM (SELECT {cols} FROM {incoming})) AS {record}"  # noqa: S608 - spec names


def _apply_delta(cur: duckdb.DuckDBPyConnection, r: Rollup, old: str, incoming: str) -> None:
    """Add the written rows' sums to their groups and take the replaced rows' out; drop emptied groups."""
    p = Params()
    sql = _daily_select(r, p, "TRUE", _written(r.record, incoming))
    cur.execute(f"CREATE OR REPLACE TEMP TABLE _rollup_new AS {sql}", p.values)
    cols = _physical(r)
    delta = ", ".join(f"sum({c}) AS {c}" for c in cols)
    negated = ", ".join(f"-{c}" for c in cols)
    cur.execute(
        f"CREATE OR REPLACE TEMP TABLE _rollup_delta AS SELECT district, day, {delta} FROM "  # noqa: S608
        f"(SELECT * FROM _rollup_new UNION ALL SELECT district, day, {negated} FROM {old}) GROUP BY 1, 2"
    )
    merged = ", ".join(f"coalesce(r.{c}, 0) + d.{c} AS {c}" for c in cols)
    cur.execute(
        f"CREATE OR REPLACE TEMP TABLE _rollup_merged AS SELECT d.district, d.day, {merged} "  # noqa: S608
        f"FROM _rollup_delta d LEFT JOIN {r.name} r ON r.district = d.district AND r.day = d.day"
    )
    cur.execute(
        f"DELETE FROM {r.name} AS r WHERE EXISTS "  # noqa: S608
        "(SELECT 1 FROM _rollup_delta d WHERE d.district = r.district AND d.day = r.day)"
    )
    cur.execute(f"INSERT INTO {r.name} SELECT * FROM _rollup_merged WHERE n_rows <> 0")  # noqa: S608
    for tmp in (old, "_rollup_new", "_rollup_delta", "_rollup_merged"):
        cur.execute(f"DROP TABLE IF EXISTS {tmp}")


def _anchor_span(anchor: str, lo: dt.date, hi: dt.date) -> tuple[dt.date, dt.date]:
    """The days whose rows can count for the anchors of the touched days lo..hi (to skip row groups)."""
    if anchor == "year":
        return dt.date(lo.year, 1, 1), dt.date(hi.year, 12, 31)
    if anchor == "month":
        nxt = dt.date(hi.year + hi.month // 12, hi.month % 12 + 1, 1)
        return lo.replace(day=1), nxt - dt.timedelta(days=1)
    return dt.date.fromisoformat(anchor.removeprefix("from:")), dt.date.max


def refresh(cur: duckdb.DuckDBPyConnection, touched: Touched) -> None:
    """After a write: bring every rollup of the record type up to date. An additive daily rollup adds the
    written rows' sums and takes out those of the rows they replaced (it reads only the rows of the file's
    keys); the others delete the touched groups and recompute them from the base table."""
    for r in touched.rollups:
        if r.name in touched.old and touched.incoming is not None:
            _apply_delta(cur, r, touched.old[r.name], touched.incoming)
            continue
        tmp = touched.tables[r.date_column]
        row = cur.execute(f"SELECT min(day), max(day), count(*) FROM {tmp}").fetchall()[0]  # noqa: S608
        assert row is not None
        lo, hi, n = row
        if not n:
            continue
        p = Params()
        d = ident(r.record, r.date_column)
        if r.kind == "daily":
            cur.execute(
                f"DELETE FROM {r.name} AS r WHERE EXISTS "  # noqa: S608
                f"(SELECT 1 FROM {tmp} t WHERE t.district = r.district AND t.day = r.day)"
            )
            # the day range lets DuckDB skip row groups by their min/max before the join
            scope = (
                f"{d} BETWEEN {p.add(lo)} AND {p.add(hi)} AND EXISTS "  # noqa: S608 - names from the record spec
                f"(SELECT 1 FROM {tmp} t WHERE t.district = {r.record}.district AND t.day = {r.record}.{d})"
            )
        else:
            # a distinct rollup's groups are (district, anchor): every row of a touched anchor is recomputed
            q = Params()
            anchor, since = _anchor_sql(r.definition["anchor"], "t.day", q)
            cur.execute(
                f"CREATE OR REPLACE TEMP TABLE _rollup_anchors AS SELECT DISTINCT t.district, {anchor} AS anchor "  # noqa: S608
                f"FROM {tmp} t WHERE {since}",
                q.values,
            )
            cur.execute(
                f"DELETE FROM {r.name} AS r WHERE EXISTS "  # noqa: S608
                "(SELECT 1 FROM _rollup_anchors a WHERE a.district = r.district AND a.anchor = r.anchor)"
            )
            a_expr, _ = _anchor_sql(r.definition["anchor"], f"{r.record}.{d}", p)
            first, last = _anchor_span(r.definition["anchor"], lo, hi)
            scope = (
                f"{d} BETWEEN {p.add(first)} AND {p.add(last)} AND "  # noqa: S608 - names from the record spec
                f"EXISTS (SELECT 1 FROM _rollup_anchors a WHERE a.district = {r.record}.district "
                f"AND a.anchor = {a_expr})"
            )
        cur.execute(f"INSERT INTO {r.name} {_select(r, p, scope)}", p.values)
    for tmp in touched.tables.values():
        cur.execute(f"DROP TABLE IF EXISTS {tmp}")
    cur.execute("DROP TABLE IF EXISTS _rollup_anchors")


# --------------------------------------------------------------------------- verify


@dataclass(frozen=True)
class Difference:
    """A rollup that disagrees with its base table: rows missing from it, rows it should not have, examples."""

    rollup: str
    missing: int  # groups the base tables give that the rollup lacks or holds with other values
    extra: int  # groups the rollup holds that the base tables do not give
    examples: list[tuple[Any, ...]]


def verify(cur: duckdb.DuckDBPyConnection) -> list[Difference]:
    """Recompute every rollup from the base tables and compare group by group (`kpi rollup verify`)."""
    out = []
    for r in registered(cur):
        p = Params()
        fresh = _select(r, p)
        cur.execute(f"CREATE OR REPLACE TEMP TABLE _rollup_fresh AS {fresh}", p.values)
        missing = cur.execute(f"SELECT * FROM _rollup_fresh EXCEPT ALL SELECT * FROM {r.name}").fetchall()  # noqa: S608
        extra = cur.execute(f"SELECT * FROM {r.name} EXCEPT ALL SELECT * FROM _rollup_fresh").fetchall()  # noqa: S608
        cur.execute("DROP TABLE _rollup_fresh")
        if missing or extra:
            out.append(Difference(r.name, len(missing), len(extra), [*missing[:3], *extra[:3]]))
    return out
