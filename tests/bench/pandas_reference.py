"""The KPI definitions of docs/kpi-semantics.md written again in plain pandas, independently of the SQL compiler.

Two uses: a cross-check (the engine and this must agree on the demo database) and the baseline that
`make bench` compares the engine's speed with. Deliberately straightforward pandas, no DuckDB.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from metrics.catalogue import Catalogue
from metrics.catalogue.models import (
    CountDistinctMeasure,
    CountMeasure,
    CoverageMeasure,
    Filter,
    Kpi,
    MeanMeasure,
    RatioMeasure,
    ReportedMeasure,
    SqlMeasure,
    SumMeasure,
)
from metrics.contract.records import HUITIAN_CENTRE, RECORD_TYPES
from metrics.kpi.status import window_for


def load_frames(con: Any, tables: list[str] | None = None) -> dict[str, pd.DataFrame]:
    """Every record table as a DataFrame (dates as datetime64), read through a DuckDB connection."""
    out = {}
    for name in tables or list(RECORD_TYPES):
        df = con.execute(f"SELECT * FROM {name}").df()  # noqa: S608
        out[name] = df
    return out


def _with_derived(df: pd.DataFrame, source: str) -> pd.DataFrame:
    if source == "placements" and "huitian_distance_km" not in df.columns:
        lat0, lon0 = np.radians(HUITIAN_CENTRE[0]), HUITIAN_CENTRE[1]
        lat = np.radians(df["work_lat"].astype("float64"))
        dlat = lat - lat0
        dlon = np.radians(df["work_lon"].astype("float64") - lon0)
        a = np.sin(dlat / 2) ** 2 + np.cos(lat0) * np.cos(lat) * np.sin(dlon / 2) ** 2
        df = df.assign(huitian_distance_km=6371.0 * 2 * np.arcsin(np.sqrt(a)))
    return df


def _mask(df: pd.DataFrame, filters: list[Filter]) -> pd.Series:
    m = pd.Series(True, index=df.index)
    for f in filters:
        col = df[f.column]
        if f.op == "is_null":
            m &= col.isna()
        elif f.op == "not_null":
            m &= col.notna()
        elif f.op == "in":
            m &= col.isin(f.values or [])
        elif f.op == "not_in":
            m &= ~col.isin(f.values or []) & col.notna()
        elif f.op == "eq":
            m &= (col == f.value).fillna(False).astype(bool)
        elif f.op == "ne":
            m &= (col != f.value) & col.notna()
        else:
            op = {"ge": "__ge__", "gt": "__gt__", "le": "__le__", "lt": "__lt__"}[f.op]
            m &= getattr(col, op)(f.value).fillna(False).astype(bool)
    return m


def _ts(d: dt.date) -> pd.Timestamp:
    return pd.Timestamp(d)


def _simple(
    frames: dict[str, pd.DataFrame], m: Any, district: str, start: dt.date, end: dt.date
) -> tuple[float | None, int]:
    df = _with_derived(frames[m.source], m.source)
    date_col = m.date_column or RECORD_TYPES[m.source].date_column
    dates = pd.to_datetime(df[date_col])
    in_window = (df["district"] == district) & (dates >= _ts(start)) & (dates <= _ts(end))
    rows = int(in_window.sum())
    sel = df[in_window & _mask(df, m.filters)]
    if isinstance(m, CountMeasure):
        return float(len(sel)), rows
    if isinstance(m, CountDistinctMeasure):
        return float(sel[m.column].nunique()), rows
    if isinstance(m, SumMeasure):
        return float(sel[m.column].astype("float64").sum()), rows
    assert isinstance(m, MeanMeasure)
    v = sel[m.column].astype("float64").mean()
    return (None if pd.isna(v) else float(v)), rows


def kpi_value(frames: dict[str, pd.DataFrame], cat: Catalogue, kpi: Kpi, as_of: dt.date) -> dict[str, Any]:
    """actual, numerator, denominator and has_data of one KPI, computed in pandas."""
    w = window_for(kpi.target, as_of, cat.programme.valid_from)
    district = cat.programme.district
    m = kpi.measure
    if isinstance(m, CountMeasure | CountDistinctMeasure | SumMeasure):
        v, rows = _simple(frames, m, district, w.start, w.end)
        return {"actual": v if rows else None, "numerator": v if rows else None, "denominator": None}
    if isinstance(m, MeanMeasure):
        v, _ = _simple(frames, m, district, w.start, w.end)
        return {"actual": v, "numerator": None, "denominator": None}
    if isinstance(m, RatioMeasure):
        num, _ = _simple(frames, m.numerator, district, w.start, w.end)
        den, _ = _simple(frames, m.denominator, district, w.start, w.end)
        return _share(num or 0.0, den or 0.0)
    if isinstance(m, CoverageMeasure):
        df = frames[m.source]
        sel = df[(df["district"] == district) & _mask(df, m.filters)]
        if m.snapshot_column:
            sel = sel[pd.to_datetime(sel[m.snapshot_column]) <= _ts(as_of)]
            sel = sel.sort_values(m.snapshot_column).groupby(m.unit_column).tail(1)
        else:
            sel = sel.assign(_meets=_mask(sel, m.condition)).sort_values("_meets").groupby(m.unit_column).tail(1)
        return _share(float(_mask(sel, m.condition).sum()), float(len(sel)))
    if isinstance(m, ReportedMeasure):
        df = frames["progress_reports"]
        pe = pd.to_datetime(df["period_end"])
        sel = df[(df["kpi_id"] == kpi.id) & (df["district"] == district) & (pe >= _ts(w.start)) & (pe <= _ts(w.end))]
        if sel.empty:
            return {"actual": None, "numerator": None, "denominator": None}
        if m.value_is == "cumulative":
            v = float(sel.sort_values("period_end")["value"].iloc[-1])
        else:
            v = float(sel["value"].sum())
        return {"actual": v, "numerator": None, "denominator": None}
    assert isinstance(m, SqlMeasure)
    return _named(frames, m.file, district, w.start, w.end)


def _share(num: float, den: float) -> dict[str, Any]:
    if den <= 0:
        return {"actual": None, "numerator": None, "denominator": None}
    return {"actual": num / den, "numerator": num, "denominator": den}


def _named(frames: dict[str, pd.DataFrame], file: str, district: str, start: dt.date, end: dt.date) -> dict[str, Any]:
    s, e = _ts(start), _ts(end)
    if file == "contract_signing_rate.sql":
        df = frames["contract_returns"]
        rm = pd.to_datetime(df["report_month"])
        sel = df[(df["district"] == district) & (rm >= s.replace(day=1)) & (rm <= e)]
        latest = sel.sort_values("report_month").groupby("enterprise_id").tail(1)
        return _share(float(latest["contracts_signed"].sum()), float(latest["employees"].sum()))
    df = frames["disputes"]
    df = df[df["district"] == district]
    acc, clo = pd.to_datetime(df["accepted_date"]), pd.to_datetime(df["closed_date"])
    closed_in = (clo >= s) & (clo <= e)
    if file == "dispute_closure_rate.sql":
        accepted_in = (acc >= s) & (acc <= e)
        open_at_start = (acc < s) & (clo.isna() | (clo >= s))
        return _share(float(closed_in.sum()), float((accepted_in | open_at_start).sum()))
    if file == "mediation_closure_rate.sql":
        return _share(float((closed_in & (df["closure_method"] == "调解")).sum()), float(closed_in.sum()))
    raise ValueError(f"no pandas reference for {file}")


def compute_all(
    frames: dict[str, pd.DataFrame], cats: dict[str, Catalogue], as_of: dt.date
) -> dict[str, dict[str, Any]]:
    return {k.id: kpi_value(frames, cat, k, as_of) for cat in cats.values() for k in cat.kpis}
