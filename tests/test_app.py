"""Every page runs under AppTest and shows the engine's numbers for a small fixed database."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from metrics.engine import Engine
from metrics.format import STATUS_LABELS, format_value, status_label
from metrics.store import Store
from tests.conftest import insert

AS_OF = dt.date(2026, 11, 21)
APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")


@pytest.fixture
def small_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = tmp_path / "app.duckdb"
    with Store.open(db) as store:
        insert(
            store,
            "events",
            [
                {
                    "event_id": f"E{i}",
                    "district": "通州区",
                    "event_type": "招聘会",
                    "event_date": dt.date(2026, 1 + i % 10, 5),
                    "title": "招聘会",
                    "organiser": "区人力社保局",
                }
                for i in range(37)
            ],
        )
        insert(
            store,
            "contract_returns",
            [
                {
                    "enterprise_id": "91110112MA00000001",
                    "district": "通州区",
                    "street": "新华街道",
                    "report_month": dt.date(2026, 10, 1),
                    "employees": 200,
                    "contracts_signed": 195,
                },
            ],
        )
    monkeypatch.setenv("KPI_DB", str(db))
    return db


def run_app(lang: str = "zh") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["as_of"] = AS_OF
    at.session_state["lang"] = lang
    at.run()
    assert not at.exception, at.exception
    return at


def test_overview_status_counts_equal_the_engine(small_db: Path) -> None:
    at = run_app()
    with Store.open(small_db) as store:
        results = Engine(store).compute(AS_OF)
    shown = {m.label: m.value for m in at.metric}
    for status in STATUS_LABELS:
        assert shown[status_label(status)] == str(sum(r.status == status for r in results)), status


def test_overview_table_shows_engine_values(small_db: Path) -> None:
    at = run_app()
    with Store.open(small_db) as store:
        engine = Engine(store)
        events = engine.compute_kpi("tz-recruitment-events", AS_OF)
        rate = engine.compute_kpi("tz-contract-signing-rate", AS_OF)
    table = at.dataframe[0].value
    assert events.actual == 37
    row = table[table["指标"] == "年度招聘活动场次"].iloc[0] if "年度招聘活动场次" in set(table["指标"]) else None
    values = set(table["实际"])
    assert format_value(37, "场") in values
    assert format_value(rate.actual, "%") == "97.5%" and "97.5%" in values
    assert row is None or row["状态"] == status_label(events.status)


def test_overview_in_english(small_db: Path) -> None:
    at = run_app("en")
    assert at.title[0].value == "Employment programme KPIs"
    assert "Off track" in {m.label for m in at.metric}


def test_missing_database_says_how_to_build_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KPI_DB", str(tmp_path / "none.duckdb"))
    at = run_app()
    assert "make run" in at.error[0].value
