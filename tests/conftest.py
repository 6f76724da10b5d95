"""Shared fixtures: a real DuckDB file in a temp folder, and a tiny hand-checked catalogue."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from metrics.catalogue.models import Catalogue
from metrics.contract.records import RECORD_TYPES
from metrics.storage.store import Store

D = dt.date


@pytest.fixture
def tiny_duck(tmp_path: Path) -> Store:
    """An empty, migrated DuckDB file (not in memory: the real thing)."""
    store = Store.open(tmp_path / "tiny.duckdb")
    yield store
    store.close()


def rows_to_table(record: str, rows: list[dict[str, Any]]) -> pa.Table:
    """Fill absent columns with None so tests only spell out what matters."""
    cols = RECORD_TYPES[record].column_names
    return pa.Table.from_pylist([{c: r.get(c) for c in cols} for r in rows])


def insert(store: Store, record: str, rows: list[dict[str, Any]]) -> None:
    store.bulk_insert(record, rows_to_table(record, rows))


def tiny_catalogue(kpis: list[dict[str, Any]], district: str = "通州区") -> Catalogue:
    return Catalogue.model_validate(
        {
            "programme": {
                "id": "tiny",
                "title": "测试方案",
                "short_title_zh": "测试",
                "short_title_en": "Tiny",
                "issuer": "测试",
                "district": district,
                "valid_from": D(2025, 1, 1),
                "valid_to": D(2027, 12, 31),
            },
            "tasks": [{"id": "t1", "clause": "1", "title": "任务", "lead_units": ["区人力社保局"]}],
            "kpis": [
                {
                    "task": "t1",
                    "clause": "1",
                    "quote": "测试引文测试",
                    "name_zh": k["id"],
                    "name_en": k["id"],
                    "unit": "个",
                    "lead_unit": "区人力社保局",
                    **k,
                }
                for k in kpis
            ],
        }
    )
