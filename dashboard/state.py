"""Shared app state: the store (one per process), cached KPI results keyed by the data version.

Caches hold small aggregated results only, keyed by the store's data version so every import
invalidates them; the process warms the cache at start so the first visitor does not pay for it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import streamlit as st

from metrics.catalogue import Catalogue, load_catalogues
from metrics.engine import Engine
from metrics.store import Store, default_db_path


@st.cache_resource(show_spinner=False)
def _open_store(path: str) -> Store:
    return Store.open(path)


def store() -> Store | None:
    """The process's store for `KPI_DB` (one writer per process); None until a database exists."""
    path = default_db_path()
    if not path.exists():
        return None
    return _open_store(str(path.resolve()))


def catalogues() -> dict[str, Catalogue]:
    return load_catalogues()


@st.cache_data(show_spinner=False, max_entries=64)
def _results(db: str, data_version: int, as_of: dt.date) -> pd.DataFrame:
    s = _open_store(db)
    rows = [r.as_dict() for r in Engine(s, catalogues()).compute(as_of)]
    return pd.DataFrame(rows)


def results(as_of: dt.date) -> pd.DataFrame:
    """Every KPI's result as of a date, joined with its catalogue fields (names, lead unit, clause)."""
    s = store()
    assert s is not None
    df = _results(str(s.path), s.data_version(), as_of)
    meta = kpi_meta()
    return df.merge(meta, on="kpi_id", how="left")


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
