"""The overview's view model (dashboard/components/tiles.py): built once per data version, date, language and
scope; the start-up warm-up (dashboard/lifecycle.py) builds the one a new session's first overview reads; a
rerun with unchanged inputs computes, formats and reads nothing; an import or a restore moves it on."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import lifecycle, process, state
from dashboard.components import tables, tiles
from metrics.auth.access import Principal
from metrics.auth.users import add_user
from metrics.kpi import freshness
from metrics.kpi.engine import Engine
from metrics.storage.store import Store
from tests.support import insert

AS_OF = dt.date(2026, 11, 21)
APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")
LEADER = Principal("leader", "leader")


def event(i: int) -> dict[str, Any]:
    return {
        "event_id": f"E{i}",
        "district": "通州区",
        "event_type": "招聘会",
        "event_date": dt.date(2026, 1 + i % 10, 5),
        "title": "招聘会",
        "organiser": "区人力社保局",
    }


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "overview.duckdb"
    with Store.open(path) as store:
        insert(store, "events", [event(i) for i in range(37)])
        add_user(store, None, "leader", "leader")  # no password: AppTest names the principal
    monkeypatch.setenv("KPI_DB", str(path))
    return path


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How often this test computed KPIs, read freshness and formatted a tile (spies on the real functions)."""
    calls: Counter[str] = Counter()

    def spy(owner: Any, name: str) -> None:
        real = getattr(owner, name)

        def counted(*args: Any, **kwargs: Any) -> Any:
            calls[name] += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(owner, name, counted)

    spy(Engine, "compute")
    spy(freshness, "stale_data")
    spy(tiles, "tile_view")
    return calls


def session(lang: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["as_of"] = AS_OF
    at.session_state["principal"] = LEADER
    if lang is not None:
        at.session_state["lang"] = lang
    return at


def tile_values(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_first_overview_after_the_warm_up_builds_nothing(db: Path, built: Counter[str]) -> None:
    lifecycle.warm(AS_OF)
    warmed = dict(built)
    assert warmed["compute"] == 1 and warmed["stale_data"] == 1 and warmed["tile_view"] > 0
    at = session()  # a new session: no language chosen yet, every programme and district
    at.run()
    assert not at.exception, at.exception
    assert dict(built) == warmed  # the warm-up's keys are the first run's
    assert tile_values(at)["年度招聘活动场次"] == "37场"
    at.run()
    assert dict(built) == warmed  # a rerun with unchanged inputs builds nothing either


def test_a_warm_up_for_another_day_does_not_serve_the_first_overview(db: Path, built: Counter[str]) -> None:
    lifecycle.warm(AS_OF - dt.timedelta(days=1))
    before = built["tile_view"]
    at = session()
    at.run()
    assert not at.exception, at.exception
    assert built["tile_view"] > before


def test_language_and_an_import_each_have_their_own_view(db: Path, built: Counter[str]) -> None:
    lifecycle.warm(AS_OF)
    at = session("en")
    at.run()
    assert not at.exception, at.exception
    english = built["tile_view"]
    assert english > 0 and "Off track" in tile_values(at)
    store = process.store()
    assert store is not None
    insert(store, "events", [event(i) for i in range(37, 40)])  # a write moves the data version on
    at.run()
    assert built["tile_view"] > english
    assert tile_values(at)["Recruitment events per year"] == "40"


def test_a_restore_forgets_the_views(db: Path, built: Counter[str]) -> None:
    lifecycle.warm(AS_OF)
    n = built["tile_view"]
    state.clear_caches()  # what the in-server restore calls (dashboard.process.replace_database)
    lifecycle.warm(AS_OF)
    assert built["tile_view"] == 2 * n


def test_filtered_views_keep_urgency_order_and_their_monitoring_table(db: Path) -> None:
    view = tiles.overview(AS_OF, "zh", [], [])
    order = tables.filter_results(state.results(AS_OF), programmes=[], lead_units=[], statuses=[])
    assert [v.kpi_id for v in view.tiles] == list(order["kpi_id"])
    every = tuple(v.kpi_id for v in view.tiles if v.status == "monitoring")
    assert view.monitoring_table(AS_OF, "zh", every) is view.monitoring
    assert len(view.monitoring) == len(every)
    unit = next(v.lead_unit for v in view.tiles if v.status == "monitoring" and v.lead_unit)
    chosen = view.select([unit], ["monitoring"])
    assert chosen and all(v.lead_unit == unit and v.status == "monitoring" for v in chosen)
    ids = tuple(v.kpi_id for v in chosen)
    pd.testing.assert_frame_equal(view.monitoring_table(AS_OF, "zh", ids), tables.monitoring_table(AS_OF, "zh", ids))
    if len(ids) < len(every):
        assert len(view.monitoring_table(AS_OF, "zh", ids)) == len(ids)
    assert view.select([], []) == list(view.tiles)
