"""Cached data access: the store (one per process), cached KPI results keyed by the data version.

Caches hold small aggregated results only, keyed by the store's data version so every import
invalidates them; the process warms the cache at start so the first visitor does not pay for it.
Knows nothing of sessions or pages: dashboard.auth (who is signed in) and dashboard.service (what pages
call) sit above it, and import-linter keeps it that way (pyproject.toml).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import process
from metrics.catalogue import Catalogue, load_catalogues
from metrics.kpi.engine import Engine
from metrics.storage.store import Store


def _open_store(path: str) -> Store:
    found = process.store()
    if found is None or str(found.path) != path:
        raise RuntimeError(f"the database {path} is not the server's ({found and found.path})")
    return found


def store() -> Store | None:
    """The process's store for `KPI_DB` (one writer per process, shared with the routes and the scheduler:
    dashboard.process); None until a database exists."""
    return process.store()


def clear_caches() -> None:
    """Forget every cached result: after a restore the data version may repeat one the old file had."""
    st.cache_data.clear()
    st.cache_resource.clear()  # the overview's view models (dashboard.components.tiles), the overdue tasks


def data_key() -> tuple[str, int]:
    """(database path, data version): a cache key that every import moves on."""
    s = store()
    assert s is not None
    return str(s.path), s.data_version()


def catalogues() -> dict[str, Catalogue]:
    return load_catalogues()


@st.cache_data(show_spinner=False, max_entries=64)
def _results(db: str, data_version: int, as_of: dt.date) -> pd.DataFrame:
    s = _open_store(db)
    rows = [r.as_dict() for r in Engine(s, catalogues()).compute(as_of)]
    return pd.DataFrame(rows).merge(kpi_meta(), on="kpi_id", how="left")


def results(as_of: dt.date) -> pd.DataFrame:
    """Every KPI's result as of a date, joined with its catalogue fields (names, lead unit, clause)."""
    s = store()
    assert s is not None
    return _results(str(s.path), s.data_version(), as_of)


@st.cache_data(show_spinner=False)
def kpi_meta() -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    for pid, cat in catalogues().items():
        for k in cat.kpis:
            rows.append(
                {
                    "kpi_id": k.id,
                    "programme_title_zh": cat.programme.short_title_zh,
                    "programme_title_en": cat.programme.short_title_en,
                    "name_zh": k.name_zh,
                    "name_en": k.name_en,
                    "lead_unit": k.lead_unit,
                    "clause": k.clause,
                    "quote": k.quote,
                    "task": k.task,
                    "district": cat.programme.district,
                    "programme_id": pid,
                }
            )
    return pd.DataFrame(rows)


@st.cache_data(show_spinner=False, max_entries=16)
def _tile_context(db: str, data_version: int, as_of: dt.date) -> tuple[dict[str, list[float]], dict[str, float | None]]:
    from metrics.kpi.snapshots import load_snapshot, previous_snapshot_date, snapshot_history

    s = _open_store(db)
    hist = snapshot_history(s, as_of, weeks=12)
    histories = {str(k): [float(v) for v in g["actual"].dropna()] for k, g in hist.groupby("kpi_id")}
    prev = previous_snapshot_date(s, as_of)
    before: dict[str, float | None] = {}
    if prev is not None:
        snap = load_snapshot(s, prev)
        before = {k: (None if pd.isna(v) else float(v)) for k, v in zip(snap["kpi_id"], snap["actual"], strict=True)}
    return histories, before


def tile_context(as_of: dt.date) -> tuple[dict[str, list[float]], dict[str, float | None]]:
    """Sparkline values (stored weekly snapshots, last 12 weeks) and last week's stored value per KPI."""
    s = store()
    assert s is not None
    return _tile_context(str(s.path), s.data_version(), as_of)


def stale(as_of: dt.date) -> pd.DataFrame:
    """Record types not updated within their expected frequency."""
    s = store()
    assert s is not None
    return _stale(str(s.path), s.data_version(), as_of)


@st.cache_data(show_spinner=False, max_entries=16)
def _stale(db: str, data_version: int, as_of: dt.date) -> pd.DataFrame:
    from metrics.kpi.freshness import stale_data

    df = stale_data(_open_store(db), as_of)
    return df[df["stale"]] if "stale" in df else df


@st.cache_data(show_spinner=False, max_entries=256)
def _series(db: str, data_version: int, kpi_id: str, as_of: dt.date, grain: str) -> pd.DataFrame:
    return Engine(_open_store(db), catalogues()).series(kpi_id, as_of, grain)


def series(kpi_id: str, as_of: dt.date, grain: str) -> pd.DataFrame:
    s = store()
    assert s is not None
    return _series(str(s.path), s.data_version(), kpi_id, as_of, grain)


@st.cache_data(show_spinner=False, max_entries=256)
def _breakdown(db: str, data_version: int, kpi_id: str, dimension: str, as_of: dt.date) -> pd.DataFrame:
    return Engine(_open_store(db), catalogues()).breakdown(kpi_id, dimension, as_of)


def breakdown(kpi_id: str, dimension: str, as_of: dt.date) -> pd.DataFrame:
    s = store()
    assert s is not None
    return _breakdown(str(s.path), s.data_version(), kpi_id, dimension, as_of)


def result(kpi_id: str, as_of: dt.date) -> pd.Series:
    """One KPI's row of `results` (shares the overview's cache)."""
    df = results(as_of)
    return df[df["kpi_id"] == kpi_id].iloc[0]


def engine_kpi(kpi_id: str) -> tuple[Catalogue, Any]:
    """The catalogue entry of a KPI (programme and Kpi model)."""
    for cat in catalogues().values():
        for k in cat.kpis:
            if k.id == kpi_id:
                return cat, k
    raise KeyError(kpi_id)


@st.cache_data(show_spinner=False, max_entries=32)
def _delivery(db: str, data_version: int, pid: str, start: dt.date, end: dt.date) -> tuple[pd.DataFrame, ...]:
    from metrics.reports.delivery import delivery_by_measure, manual_review, review_list

    s, cat = _open_store(db), catalogues()[pid]
    return (
        delivery_by_measure(s, cat, start, end),
        review_list(s, cat, start, end),
        manual_review(s, cat, start, end),
    )


def delivery(pid: str, start: dt.date, end: dt.date) -> tuple[pd.DataFrame, ...]:
    """(by measure, review list, manual review) for one programme's subsidy applications."""
    s = store()
    assert s is not None
    return _delivery(str(s.path), s.data_version(), pid, start, end)


def briefing(as_of: dt.date, lang: str, principal: Any) -> str:
    """The weekly briefing HTML (same as `kpi report weekly`), with the overdue tasks the principal may see."""
    from metrics.reports.briefing import weekly_briefing

    s = store()
    assert s is not None
    return weekly_briefing(s, as_of, catalogues=catalogues(), lang=lang, overdue_tasks=overdue_tasks(principal, as_of))


# A resource, not cache_data: a hit hands back the one frame instead of unpickling it on every run (the
# overview asks on every rerun, docs/page-speed.md). Shared by the runs that ask for the same key, so the
# callers only display it or derive new frames from it, never change it. Forgotten by `clear_caches`.
@st.cache_resource(show_spinner=False, max_entries=64)
def _overdue_tasks(
    db: str, change_version: int, _principal: Any, who: tuple[str, str, str | None, str | None], as_of: dt.date
) -> pd.DataFrame:
    from metrics.ledger.scorecard import overdue_tasks_frame

    return overdue_tasks_frame(_open_store(db), _principal, as_of, catalogues=catalogues())


def overdue_tasks(principal: Any, as_of: dt.date) -> pd.DataFrame:
    """Tasks with overdue milestones, cached until the change log grows (every ledger write appends to it).
    The frame is shared: read it, do not change it."""
    s = store()
    assert s is not None
    who = (principal.user, principal.role, principal.unit, principal.district)
    return _overdue_tasks(str(s.path), s.change_version(), principal, who, as_of)
