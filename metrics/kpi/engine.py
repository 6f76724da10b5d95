"""The KPI engine: every catalogue KPI's actual, target, expected, pace and status as of a date.

Queries are batched: all simple and ratio KPIs of a programme over one record type are one scan with
FILTER clauses. Rates are Σ numerator / Σ denominator, never averages of percentages. Each result
carries its explanation (formula, inputs, window, rule).

Counts, sums, means and count-distincts are answered from the rollups (docs/rollups.md) when the database
keeps one for the measure, and from the base tables otherwise; `path="base"` always scans, so a test or the
benchmark can compare both paths. `engine.routes` says which path answered each KPI of the last call.

The SQL runs on a `Backend`: DuckDB on the Store by default, or Apache Spark over a data lake
(`metrics.lake.spark`, docs/spark.md), which gets the same statements transpiled. The status, pace and
projection rules run here on the results, whatever answered the SQL.

    >>> engine = Engine(store)              # path="auto"
    >>> results = engine.compute(dt.date(2026, 11, 21))
    >>> engine.breakdown("tz-contract-signing-rate", "street", dt.date(2026, 11, 21))
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from metrics.catalogue import SQL_DIR, Catalogue, Kpi, load_catalogues
from metrics.catalogue.models import (
    CountDistinctMeasure,
    CountMeasure,
    CoverageMeasure,
    MeanMeasure,
    RatioMeasure,
    ReportedMeasure,
    SqlMeasure,
    SumMeasure,
)
from metrics.kpi.status import Assessment, Window, assess, expected_by, window_for
from metrics.storage import rollup
from metrics.storage.compile import (
    Params,
    aggregate_sql,
    date_column,
    filter_sql,
    ident,
    relation,
    window_sql,
)
from metrics.storage.store import Store

if TYPE_CHECKING:  # pandas is imported by the two methods that return frames: `kpi compute` starts faster
    import pandas as pd

__all__ = ["Backend", "DuckDBBackend", "Engine", "KpiResult", "Path"]

Path = Literal["auto", "base", "rollup"]
Simple = CountMeasure | CountDistinctMeasure | SumMeasure | MeanMeasure


class Backend(Protocol):
    """Where the engine's SQL runs. Statements are DuckDB SQL with `$name` parameters; `kpis` names the KPIs a
    statement answers, for a backend's error messages (docs/spark.md)."""

    name: str
    rollups: bool  # whether rollup tables can be read (only the DuckDB file keeps them)

    def rows(self, sql: str, params: dict[str, Any], kpis: Sequence[str]) -> list[tuple[Any, ...]]: ...

    def frame(self, sql: str, params: dict[str, Any], kpis: Sequence[str], columns: Sequence[str]) -> pd.DataFrame:
        """The rows as a frame with these column names."""
        ...


class DuckDBBackend:
    """The Store's DuckDB file: the district's own database, rollups included."""

    name = "duckdb"
    rollups = True

    def __init__(self, store: Store):
        self.store = store

    def rows(self, sql: str, params: dict[str, Any], kpis: Sequence[str]) -> list[tuple[Any, ...]]:
        return self.store.cursor().execute(sql, params).fetchall()

    def frame(self, sql: str, params: dict[str, Any], kpis: Sequence[str], columns: Sequence[str]) -> pd.DataFrame:
        df = self.store.cursor().execute(sql, params).df()
        df.columns = list(columns)
        return df


@dataclass
class KpiResult:
    """One KPI as of a date. Rates are fractions; None where a field does not apply."""

    programme: str
    kpi_id: str
    actual: float | None
    target: float | None
    expected: float | None
    pace: float | None
    status: str
    window_start: dt.date
    window_end: dt.date
    numerator: float | None
    denominator: float | None
    comparator: str | None = None
    period: str | None = None
    unit: str = ""
    projection: float | None = None
    required_weekly: float | None = None
    formula_zh: str = ""
    formula_en: str = ""
    rule_zh: str = ""
    rule_en: str = ""
    inputs: dict[str, Any] = field(default_factory=dict)

    CONTRACT_FIELDS = (
        "programme",
        "kpi_id",
        "actual",
        "target",
        "expected",
        "pace",
        "status",
        "window_start",
        "window_end",
        "numerator",
        "denominator",
    )

    def contract(self) -> dict[str, Any]:
        """The `kpi compute --format json` record (dates as ISO strings)."""
        d = asdict(self)
        out = {k: d[k] for k in self.CONTRACT_FIELDS}
        out["window_start"] = self.window_start.isoformat()
        out["window_end"] = self.window_end.isoformat()
        return out

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Raw:
    """What the database said about one KPI before the status rules."""

    value: float | None
    numerator: float | None = None
    denominator: float | None = None
    has_data: bool = False
    inputs: dict[str, Any] = field(default_factory=dict)


def _formula(kpi: Kpi) -> tuple[str, str]:
    m = kpi.measure
    if isinstance(m, CountMeasure):
        return f"{m.source} 记录条数（按筛选条件）", f"count of {m.source} rows (filtered)"
    if isinstance(m, CountDistinctMeasure):
        return f"{m.source}.{m.column} 去重计数", f"distinct count of {m.source}.{m.column}"
    if isinstance(m, SumMeasure):
        return f"{m.source}.{m.column} 合计", f"sum of {m.source}.{m.column}"
    if isinstance(m, MeanMeasure):
        return f"{m.source}.{m.column} 平均值", f"mean of {m.source}.{m.column}"
    if isinstance(m, RatioMeasure):
        return "Σ分子 ÷ Σ分母（比率由分子分母合计得出，不平均百分比）", "Σ numerator ÷ Σ denominator"
    if isinstance(m, CoverageMeasure):
        return (
            f"截至统计日各{m.unit_column}最新一条记录中满足条件的占比",
            f"share of {m.unit_column} whose latest row meets the condition",
        )
    if isinstance(m, ReportedMeasure):
        if m.value_is == "cumulative":
            return "统计期内最近一次填报的累计数", "latest cumulative value reported in the window"
        return "统计期内各期填报数之和", "sum of values reported for periods in the window"
    assert isinstance(m, SqlMeasure)
    if m.file in SQL_FORMULAS:
        return SQL_FORMULAS[m.file]
    doc = (SQL_DIR / m.file).read_text(encoding="utf-8").splitlines()
    comment = " ".join(line.lstrip("- ").strip() for line in doc if line.startswith("--"))
    return comment, f"named query metrics/kpi/sql/{m.file}"


# The definitions of docs/kpi-semantics.md in words, for the named queries under metrics/kpi/sql/.
SQL_FORMULAS: dict[str, tuple[str, str]] = {
    "contract_signing_rate.sql": (
        "Σ签订劳动合同人数 ÷ Σ职工人数，每家企业只取统计期内最近一期报表",
        "Σ contracts signed ÷ Σ employees, over each enterprise's latest return in the window",
    ),
    "dispute_closure_rate.sql": (
        "统计期内结案数 ÷（统计期内受理数 + 期初未结案数）",
        "cases closed in the window ÷ (cases accepted in the window + cases open at its start)",
    ),
    "mediation_closure_rate.sql": (
        "统计期内以调解方式结案数 ÷ 统计期内结案数",
        "cases closed by mediation in the window ÷ cases closed in the window",
    ),
}


@dataclass(frozen=True)
class _Part:
    """One simple measure of a KPI to evaluate: the KPI's value, or its numerator or denominator."""

    kpi_id: str
    role: str  # "value", "num" or "den"
    measure: Simple
    window: Window
    district: str


@dataclass
class _Rollups:
    """Which rollup table answers which measure, read from the registry once per computation."""

    daily: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # measure key -> (table, column, kind)
    rows: dict[tuple[str, str], str] = field(default_factory=dict)  # (record, date column) -> daily table
    distinct: dict[tuple[str, str], str] = field(default_factory=dict)  # (measure key, anchor) -> table

    @classmethod
    def read(cls, store: Store) -> _Rollups:
        out = cls()
        for r in rollup.registered(store.cursor()):
            if r.kind == "daily":
                out.rows[(r.record, r.date_column)] = r.name
                for c in r.definition["columns"]:
                    out.daily[_key_text(c["measure"])] = (r.name, c["name"], c["measure"]["kind"])
            else:
                out.distinct[(_key_text(r.definition["measure"]), r.definition["anchor"])] = r.name
        return out


def _key_text(key: dict[str, Any]) -> str:
    import json

    return json.dumps(key, sort_keys=True, ensure_ascii=False)


def _anchors(w: Window) -> list[str]:
    """The distinct-rollup anchors that cover exactly the window [start, end] (see rollup.anchor_of)."""
    out = [f"from:{w.start.isoformat()}"]
    if w.start.month == 1 and w.start.day == 1 and w.end.year == w.start.year:
        out.append("year")
    if w.start.day == 1 and (w.end.year, w.end.month) == (w.start.year, w.start.month):
        out.append("month")
    return out


class Engine:
    """Computes KPI results from a Store. Stateless apart from the catalogue it was given and `routes`."""

    def __init__(
        self,
        store: Store | None,
        catalogues: dict[str, Catalogue] | None = None,
        *,
        path: Path = "auto",
        backend: Backend | None = None,
    ):
        if path not in ("auto", "base", "rollup"):
            raise ValueError(f"path must be auto, base or rollup, not {path!r}")
        if backend is None:
            if store is None:
                raise ValueError("an engine needs a store or a backend")
            backend = DuckDBBackend(store)
        if not backend.rollups:
            if path == "rollup":
                raise ValueError(f"the {backend.name} backend keeps no rollups: use path='base'")
            path = "base"
        self.store = store
        self.backend = backend
        self.catalogues = catalogues if catalogues is not None else load_catalogues()
        self.path = path
        self.routes: dict[str, str] = {}  # KPI id -> "rollup" or "base", for the KPIs of the last call
        self._index: _Rollups | None = None  # the rollup registry, read once per computation

    @contextlib.contextmanager
    def _reading(self) -> Iterator[None]:
        """Read the rollup registry once for a whole computation (all programmes, every trend point)."""
        outer = self._index is None
        if outer and self.path != "base":
            self._index = _Rollups.read(self._store())
        try:
            yield
        finally:
            if outer:
                self._index = None

    def _store(self) -> Store:
        """The DuckDB store, for the rollup registry (only a DuckDB backend has rollups: see __init__)."""
        assert self.store is not None
        return self.store

    # ------------------------------------------------------------------ lookup

    def kpi(self, kpi_id: str) -> tuple[Catalogue, Kpi]:
        for cat in self.catalogues.values():
            for k in cat.kpis:
                if k.id == kpi_id:
                    return cat, k
        raise KeyError(f"unknown KPI {kpi_id!r}")

    def window(self, cat: Catalogue, kpi: Kpi, as_of: dt.date) -> Window:
        return window_for(kpi.target, as_of, cat.programme.valid_from)

    # ------------------------------------------------------------------ compute

    def compute(self, as_of: dt.date, programme: str | None = None) -> list[KpiResult]:
        """Every KPI of every programme (or one), in catalogue order."""
        if programme is not None and programme not in self.catalogues:
            raise KeyError(f"unknown programme {programme!r}; known: {', '.join(self.catalogues)}")
        cats = [cat for pid, cat in self.catalogues.items() if programme is None or pid == programme]
        with self._reading():
            raws = self._raw_all([(cat, cat.kpis) for cat in cats], as_of)
        return [self._result(cat, k, raws[k.id], as_of) for cat in cats for k in cat.kpis]

    def compute_kpi(self, kpi_id: str, as_of: dt.date) -> KpiResult:
        cat, kpi = self.kpi(kpi_id)
        with self._reading():
            raw = self._raw(cat, [kpi], as_of)[kpi.id]
        return self._result(cat, kpi, raw, as_of)

    def _result(self, cat: Catalogue, kpi: Kpi, raw: _Raw, as_of: dt.date) -> KpiResult:
        w = self.window(cat, kpi, as_of)
        a: Assessment = assess(kpi.target, raw.value, w, as_of, has_data=raw.has_data)
        fz, fe = _formula(kpi)
        return KpiResult(
            programme=cat.programme.id,
            kpi_id=kpi.id,
            actual=raw.value if raw.has_data else None,
            target=kpi.target.value if kpi.target else None,
            expected=a.expected,
            pace=a.pace,
            status=a.status,
            window_start=w.start,
            window_end=w.end,
            numerator=raw.numerator if raw.has_data else None,
            denominator=raw.denominator if raw.has_data else None,
            comparator=kpi.target.comparator if kpi.target else None,
            period=kpi.target.period if kpi.target else None,
            unit=kpi.unit,
            projection=a.projection,
            required_weekly=a.required_weekly,
            formula_zh=fz,
            formula_en=fe,
            rule_zh=a.rule_zh,
            rule_en=a.rule_en,
            inputs={"district": cat.programme.district, **raw.inputs},
        )

    # ------------------------------------------------------------------ raw values

    def _raw(self, cat: Catalogue, kpis: Iterable[Kpi], as_of: dt.date) -> dict[str, _Raw]:
        return self._raw_all([(cat, kpis)], as_of)

    def _raw_all(self, programmes: list[tuple[Catalogue, Iterable[Kpi]]], as_of: dt.date) -> dict[str, _Raw]:
        """The raw values of the KPIs of several programmes: the rollup parts of all of them in one query."""
        out: dict[str, _Raw] = {}
        parts: list[_Part] = []
        kpis: list[Kpi] = []
        for cat, group in programmes:
            district = cat.programme.district
            reported: list[Kpi] = []
            for k in group:
                kpis.append(k)
                m = k.measure
                self.routes[k.id] = "base"
                if isinstance(m, CountMeasure | CountDistinctMeasure | SumMeasure | MeanMeasure):
                    parts.append(_Part(k.id, "value", m, self.window(cat, k, as_of), district))
                elif isinstance(m, RatioMeasure):
                    w = self.window(cat, k, as_of)
                    parts += [
                        _Part(k.id, "num", m.numerator, w, district),
                        _Part(k.id, "den", m.denominator, w, district),
                    ]
                elif isinstance(m, ReportedMeasure):
                    reported.append(k)
                elif isinstance(m, CoverageMeasure):
                    out[k.id] = self._coverage(cat, k, as_of)
                elif isinstance(m, SqlMeasure):
                    out[k.id] = self._sql(cat, k, as_of)
            if reported:
                out.update(self._reported(cat, reported, as_of))
        partial: dict[str, dict[str, Any]] = defaultdict(dict)
        base = self._from_rollups(parts, partial) if self.path != "base" and parts else parts
        by_source: dict[tuple[str, str], list[_Part]] = defaultdict(list)
        for part in base:
            by_source[(part.measure.source, part.district)].append(part)
        for (source, district), same in by_source.items():
            self._scan(source, same, district, partial)
        scanned = {b.kpi_id for b in base}
        for part in parts:
            if part.kpi_id not in scanned:
                self.routes[part.kpi_id] = "rollup"
        for k in kpis:
            if k.id in partial:
                out[k.id] = self._assemble(k, partial[k.id])
        return out

    def _from_rollups(self, parts: list[_Part], partial: dict[str, dict[str, Any]]) -> list[_Part]:
        """Answer the parts a rollup holds (docs/rollups.md), all in one query; returns those left for the base
        tables. A KPI is answered whole from rollups or whole from the base tables: a ratio never mixes them."""
        index = self._index if self._index is not None else _Rollups.read(self._store())
        # table -> [(part, column, kind)]; kind "distinct" reads a distinct rollup, "rows" only counts rows
        reads: dict[str, list[tuple[_Part, str, str]]] = defaultdict(list)
        left: set[str] = set()
        for part in parts:
            key = rollup.measure_key(part.measure)
            rows_table = index.rows.get((key["source"], key["date_column"]))
            found: list[tuple[str, str, str]] = []
            if rows_table is None:
                pass
            elif isinstance(part.measure, CountDistinctMeasure):
                anchor = next((a for a in _anchors(part.window) if (_key_text(key), a) in index.distinct), None)
                if anchor is not None:
                    found = [(index.distinct[(_key_text(key), anchor)], "", "distinct"), (rows_table, "", "rows")]
            elif _key_text(key) in index.daily:
                table, column, kind = index.daily[_key_text(key)]
                found = [(table, column, kind)]
            if not found:
                if self.path == "rollup" and part.measure.source not in rollup.NOT_ROLLED_UP:
                    raise LookupError(f"{part.kpi_id}: no rollup holds {key}")
                left.add(part.kpi_id)
                continue
            for table, column, kind in found:
                reads[table].append((part, column, kind))
        params = Params()
        selects: list[str] = []
        names: list[list[tuple[str, str]]] = []
        for table, items in reads.items():
            # one SELECT per district and window: plain sums over that district's days, no FILTER per value
            groups: dict[tuple[str, dt.date, dt.date], list[tuple[_Part, str, str]]] = defaultdict(list)
            for item in items:
                if item[0].kpi_id not in left:
                    groups[(item[0].district, item[0].window.start, item[0].window.end)].append(item)
            for (district, start, end), same in groups.items():
                sql, labels = self._rollup_select(table, district, start, end, same, params)
                selects.append(f"SELECT {len(selects)} AS i, {sql}")
                names.append(labels)
        if selects:
            sql = " UNION ALL ".join(selects)  # one statement: the cost of a query is mostly its own overhead
            served = sorted({p.kpi_id for p in parts if p.kpi_id not in left})
            for i, values in self.backend.rows(sql, params.values, served):
                for (kid, role), v in zip(names[i], values, strict=True):
                    partial[kid][role] = float(v) if v is not None else None
        return [p for p in parts if p.kpi_id in left]

    @staticmethod
    def _rollup_select(
        table: str, district: str, start: dt.date, end: dt.date, items: list[tuple[_Part, str, str]], params: Params
    ) -> tuple[str, list[tuple[str, str]]]:
        """`[values…] AS v FROM table WHERE …`: the parts one rollup answers for one district and window, and what
        each value is. Table and column names come from the rollup registry (checked identifiers); values are bound.
        """
        exprs: list[str] = []
        labels: list[tuple[str, str]] = []
        for part, column, kind in items:
            if kind in ("count", "sum", "distinct"):
                exprs.append(f"coalesce(sum({'n' if kind == 'distinct' else column}), 0)::DOUBLE")
                labels.append((part.kpi_id, part.role))
            elif kind == "mean":
                exprs.append(f"sum({column}_s)::DOUBLE / nullif(sum({column}_c), 0)")
                labels.append((part.kpi_id, part.role))
            if kind != "distinct":
                exprs.append("coalesce(sum(n_rows), 0)::DOUBLE")
                labels.append((part.kpi_id, f"rows_{part.role}"))
        if items[0][2] == "distinct":  # every anchor a window matches (_anchors) is its first day
            where = f"anchor = {params.add(start)} AND first_day <= {params.add(end)}"
        else:
            where = f"day BETWEEN {params.add(start)} AND {params.add(end)}"
        return f"[{', '.join(exprs)}] AS v FROM {table} WHERE district = {params.add(district)} AND {where}", labels

    def _scan(self, source: str, parts: list[_Part], district: str, partial: dict[str, dict[str, Any]]) -> None:
        """One query over one record type for all its parts: value, numerator, denominator, rows."""
        params = Params()
        exprs: list[str] = []
        names: list[tuple[str, str]] = []
        # The outer WHERE bounds every date column used to the union of the windows, so DuckDB's zone maps
        # can skip row groups outside them (uploads arrive by district and date, so tables are clustered).
        spans: dict[str, tuple[dt.date, dt.date]] = {}
        for part in parts:
            w = part.window
            col = date_column(part.measure)
            lo, hi = spans.get(col, (w.start, w.end))
            spans[col] = (min(lo, w.start), max(hi, w.end))
        for part in parts:
            w = part.window
            win = window_sql(part.measure, w.start, w.end, params)
            cond = f"{win} AND {filter_sql(source, part.measure.filters, params)}"
            exprs.append(aggregate_sql(part.measure, cond))
            names.append((part.kpi_id, part.role))
            exprs.append(f"count(*) FILTER (WHERE {win})")
            names.append((part.kpi_id, f"rows_{part.role}"))
        bounds = " OR ".join(f"{col} BETWEEN {params.add(lo)} AND {params.add(hi)}" for col, (lo, hi) in spans.items())
        where = f"district = {params.add(district)} AND ({bounds or 'TRUE'})"
        sql = f"SELECT {', '.join(exprs)} FROM {relation(source)} WHERE {where}"  # noqa: S608
        row = self.backend.rows(sql, params.values, sorted({p.kpi_id for p in parts}))[0]
        for (kid, role), v in zip(names, row, strict=True):
            partial[kid][role] = float(v) if v is not None else None

    @staticmethod
    def _assemble(kpi: Kpi, p: dict[str, Any]) -> _Raw:
        if isinstance(kpi.measure, RatioMeasure):
            num, den = p.get("num") or 0.0, p.get("den") or 0.0
            return _Raw(
                num / den if den else None,
                num,
                den,
                has_data=den > 0,
                inputs={"numerator": num, "denominator": den},
            )
        rows = p.get("rows_value") or 0
        value = p.get("value")
        if isinstance(kpi.measure, MeanMeasure):
            return _Raw(value, has_data=value is not None, inputs={"rows": rows})
        return _Raw(value, has_data=rows > 0, inputs={"rows_in_window": rows})

    def _sql(self, cat: Catalogue, kpi: Kpi, as_of: dt.date) -> _Raw:
        m = kpi.measure
        assert isinstance(m, SqlMeasure)
        w = self.window(cat, kpi, as_of)
        body = (SQL_DIR / m.file).read_text(encoding="utf-8")
        sql = f"SELECT sum(numerator), sum(denominator), count(*) FROM ({body})"  # noqa: S608 - file under metrics/kpi/sql
        params = {"district": cat.programme.district, "window_start": w.start, "window_end": w.end}
        num, den, rows = self.backend.rows(sql, params, [kpi.id])[0]
        num, den = float(num or 0), float(den or 0)
        if m.ratio:
            return _Raw(
                num / den if den else None,
                num,
                den,
                has_data=den > 0,
                inputs={"numerator": num, "denominator": den, "rows": rows},
            )
        return _Raw(num, has_data=rows > 0, inputs={"rows": rows})

    def _coverage(self, cat: Catalogue, kpi: Kpi, as_of: dt.date) -> _Raw:
        m = kpi.measure
        assert isinstance(m, CoverageMeasure)
        sql, params = self._coverage_sql(cat, kpi, as_of, group_by=None)
        met, units = self.backend.rows(sql, params, [kpi.id])[0]
        met, units = float(met or 0), float(units or 0)
        return _Raw(
            met / units if units else None,
            met,
            units,
            has_data=units > 0,
            inputs={"units_meeting": met, "units": units, "as_of": as_of.isoformat()},
        )

    def _coverage_sql(
        self, cat: Catalogue, kpi: Kpi, as_of: dt.date, group_by: str | None
    ) -> tuple[str, dict[str, Any]]:
        m = kpi.measure
        assert isinstance(m, CoverageMeasure)
        p = Params()
        unit = ident(m.source, m.unit_column)
        # With a snapshot column each unit's latest row as of D counts; without one, the unit's single row
        # (a register such as graduate follow-ups, where an unvisited graduate has no date at all).
        snap = ident(m.source, m.snapshot_column) if m.snapshot_column else None
        cond = filter_sql(m.source, m.condition, p)
        where = filter_sql(m.source, m.filters, p)
        dim = f"{ident(m.source, group_by)}, " if group_by else ""
        as_of_cond = f"{snap} <= {p.add(as_of)}" if snap else "TRUE"
        # Ties (two rows of a unit on its latest date: only data that did not come through the upload checks,
        # e.g. a lake) go to the row meeting the condition, so every engine picks the same (docs/spark.md).
        order = f"{snap} DESC, {cond} DESC" if snap else f"{cond} DESC"
        sql = f"""
            WITH latest AS (
                SELECT * FROM {relation(m.source)}
                WHERE district = {p.add(cat.programme.district)} AND {as_of_cond} AND {where}
                QUALIFY row_number() OVER (PARTITION BY {unit} ORDER BY {order}) = 1
            )
            SELECT {dim}count(*) FILTER (WHERE {cond}), count(*) FROM latest
            {"GROUP BY " + dim.rstrip(", ") + " ORDER BY 1" if group_by else ""}
        """  # noqa: S608
        return sql, p.values

    def _reported(self, cat: Catalogue, kpis: list[Kpi], as_of: dt.date) -> dict[str, _Raw]:
        ids = [k.id for k in kpis]
        rows = self.backend.rows(
            "SELECT kpi_id, period_end, value FROM progress_reports "
            "WHERE district = $district AND list_contains($ids, kpi_id) AND period_end <= $as_of "
            "ORDER BY kpi_id, period_end",
            {"district": cat.programme.district, "ids": ids, "as_of": as_of},
            ids,
        )
        by_kpi: dict[str, list[tuple[dt.date, float]]] = defaultdict(list)
        for kid, period_end, value in rows:
            by_kpi[kid].append((period_end, float(value)))
        out = {}
        for k in kpis:
            m = k.measure
            assert isinstance(m, ReportedMeasure)
            w = self.window(cat, k, as_of)
            in_window = [(d, v) for d, v in by_kpi.get(k.id, []) if w.start <= d <= w.end]
            if not in_window:
                out[k.id] = _Raw(None, has_data=False, inputs={"reports": 0})
            elif m.value_is == "cumulative":
                d, v = in_window[-1]
                out[k.id] = _Raw(v, has_data=True, inputs={"reports": len(in_window), "latest_report": d.isoformat()})
            else:
                out[k.id] = _Raw(sum(v for _, v in in_window), has_data=True, inputs={"reports": len(in_window)})
        return out

    # ------------------------------------------------------------------ trends

    def series(self, kpi_id: str, as_of: dt.date, grain: str = "week") -> pd.DataFrame:
        """The KPI as it stood at each week or month end of its current window, with the expected line.

        Columns: date, actual, expected, numerator, denominator. Each point is the value a leader would
        have seen computing the KPI on that date over the same window (same start).
        """
        import pandas as pd

        cat, kpi = self.kpi(kpi_id)
        w = self.window(cat, kpi, as_of)
        rows = []
        with self._reading():
            ends = bucket_ends(w.start, w.end, grain)
            raws = [self._raw_at(cat, kpi, as_of, end) for end in ends]
        for end, raw in zip(ends, raws, strict=True):
            expected = None
            if kpi.target is not None:
                expected = expected_by(kpi.target, Window(w.start, end, w.period_start, w.period_end), end)
            rows.append(
                {
                    "date": end,
                    "actual": raw.value if raw.has_data else None,
                    "expected": expected,
                    "numerator": raw.numerator,
                    "denominator": raw.denominator,
                }
            )
        return pd.DataFrame(rows)

    def _raw_at(self, cat: Catalogue, kpi: Kpi, as_of: dt.date, end: dt.date) -> _Raw:
        """The raw value over the window of `as_of`, cut at `end` (for trend points)."""
        w = self.window(cat, kpi, as_of)
        pinned = Catalogue.model_construct(programme=cat.programme, tasks=cat.tasks, kpis=[kpi], subsidies=[])
        engine = _PinnedWindow(self.store, {cat.programme.id: pinned}, w.start, path=self.path, backend=self.backend)
        engine._index = self._index
        return engine._raw(pinned, [kpi], end)[kpi.id]

    # ------------------------------------------------------------------ breakdowns

    def breakdown(self, kpi_id: str, dimension: str, as_of: dt.date) -> pd.DataFrame:
        """The KPI's value by one dimension over its window: columns [dimension, numerator, denominator, value].

        For counts and sums, numerator is the value and denominator is empty; rates are Σnum/Σden per group.
        """
        import pandas as pd

        cat, kpi = self.kpi(kpi_id)
        if dimension not in kpi.dimensions:
            raise ValueError(f"{kpi_id} has no dimension {dimension!r}; it has {kpi.dimensions}")
        w = self.window(cat, kpi, as_of)
        m = kpi.measure
        district = cat.programme.district
        if isinstance(m, CoverageMeasure):
            sql, params = self._coverage_sql(cat, kpi, as_of, group_by=dimension)
            df = self.backend.frame(sql, params, [kpi_id], [dimension, "numerator", "denominator"])
        elif isinstance(m, SqlMeasure):
            body = (SQL_DIR / m.file).read_text(encoding="utf-8")
            col = ident(m.source, dimension)
            sql = f"SELECT {col}, sum(numerator), sum(denominator) FROM ({body}) GROUP BY 1 ORDER BY 1"  # noqa: S608
            params = {"district": district, "window_start": w.start, "window_end": w.end}
            df = self.backend.frame(sql, params, [kpi_id], [dimension, "numerator", "denominator"])
        elif isinstance(m, RatioMeasure | CountMeasure | CountDistinctMeasure | SumMeasure | MeanMeasure):
            parts = [m.numerator, m.denominator] if isinstance(m, RatioMeasure) else [m]
            frames = []
            for sm in parts:
                p = Params()
                col = ident(sm.source, dimension)
                cond = f"{window_sql(sm, w.start, w.end, p)} AND {filter_sql(sm.source, sm.filters, p)}"
                sql = (
                    f"SELECT {col} AS dim, {aggregate_sql(sm, 'TRUE')} AS v FROM {relation(sm.source)} "  # noqa: S608
                    f"WHERE district = {p.add(district)} AND {cond} GROUP BY 1"
                )
                frames.append(self.backend.frame(sql, p.values, [kpi_id], ["dim", "v"]).set_index("dim")["v"])
            if isinstance(m, RatioMeasure):
                df = pd.concat(frames, axis=1, keys=["numerator", "denominator"]).fillna(0.0)
            else:
                df = frames[0].to_frame("numerator")
                df["denominator"] = None
            df = df.reset_index(names=dimension).sort_values(dimension)
        else:
            raise ValueError(f"{kpi_id}: reported values have no breakdown by {dimension}")
        df["numerator"] = df["numerator"].astype("float64")
        if df["denominator"].notna().any():
            den = df["denominator"].astype("float64")
            df["value"] = df["numerator"].where(den > 0) / den.where(den > 0)
        else:
            df["value"] = df["numerator"]
        return df.reset_index(drop=True)


class _PinnedWindow(Engine):
    """An engine whose windows start on a fixed date (trend points within one period)."""

    def __init__(
        self,
        store: Store | None,
        catalogues: dict[str, Catalogue],
        start: dt.date,
        *,
        path: Path = "auto",
        backend: Backend | None = None,
    ):
        super().__init__(store, catalogues, path=path, backend=backend)
        self._start = start

    def window(self, cat: Catalogue, kpi: Kpi, as_of: dt.date) -> Window:
        w = super().window(cat, kpi, as_of)
        return Window(self._start, as_of, w.period_start, w.period_end)


def bucket_ends(start: dt.date, end: dt.date, grain: str) -> list[dt.date]:
    """Week (Sunday) or month ends from start to end; the last bucket ends at `end` itself."""
    out: list[dt.date] = []
    if grain == "week":
        d = start + dt.timedelta(days=(6 - start.weekday()))
        while d < end:
            out.append(d)
            d += dt.timedelta(days=7)
    elif grain == "month":
        d = start
        while True:
            nxt = (d.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
            last = nxt - dt.timedelta(days=1)
            if last >= end:
                break
            out.append(last)
            d = nxt
    else:
        raise ValueError(f"grain must be week or month, not {grain!r}")
    out.append(end)
    return out
