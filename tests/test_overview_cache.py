"""The overview's view model (dashboard/components/tiles.py): built once per data version, date, language and
scope; the start-up warm-up (dashboard/lifecycle.py) builds the one a new session's first overview reads; a
rerun with unchanged inputs computes, formats and reads nothing; an import or a restore moves it on. A run
resolves the session once (app.py hands the principal to the page gate) and still on every run."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import auth, lifecycle, process, service, state
from dashboard.components import tables, tiles
from metrics.auth.access import Principal
from metrics.auth.users import add_user, disable_user
from metrics.kpi import freshness
from metrics.kpi.engine import Engine
from metrics.ledger import scorecard
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


def test_a_run_resolves_the_session_once_and_a_rerun_reads_the_overdue_tasks_from_memory(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: Counter[str] = Counter()
    for owner, name in ((service, "refresh_principal"), (scorecard, "overdue_tasks_frame")):
        real = getattr(owner, name)

        def counted(*args: Any, _real: Any = real, _name: str = name, **kwargs: Any) -> Any:
            calls[_name] += 1
            return _real(*args, **kwargs)

        monkeypatch.setattr(owner, name, counted)
    at = session()
    at.run()
    assert not at.exception, at.exception
    assert at.title[0].value == "就业工作指标总览"
    assert calls == {"refresh_principal": 1, "overdue_tasks_frame": 1}  # app.py's look-up; the gate took it
    at.run()
    assert calls == {"refresh_principal": 2, "overdue_tasks_frame": 1}  # resolved again; the frame kept
    store = process.store()
    assert store is not None
    add_user(store, None, "office", "office")  # a logged write: the change log grows, the tasks are read again
    at.run()
    assert calls == {"refresh_principal": 3, "overdue_tasks_frame": 2}


def test_an_account_disabled_between_runs_sees_no_data_on_the_next_run(db: Path) -> None:
    at = session()
    at.run()
    assert tile_values(at)["年度招聘活动场次"] == "37场"
    store = process.store()
    assert store is not None
    disable_user(store, None, "leader")
    at.run()
    assert not at.exception, at.exception
    assert [x.value for x in at.title] == [
        "登录就业工作指标看板"
    ]  # the way to /signin only: no page, no tile, no table
    assert not at.metric and not at.dataframe and not at.get("page_link")


def test_the_principal_handed_to_the_page_lives_only_inside_app_pys_block(monkeypatch: pytest.MonkeyPatch) -> None:
    looked_up: list[str] = []

    def current() -> Principal:
        looked_up.append("current")
        return Principal("office", "office")

    monkeypatch.setattr(auth, "current", current)
    assert auth.for_page() == Principal("office", "office") and looked_up == ["current"]  # no block: resolves
    with auth.resolved(LEADER):
        assert auth.for_page() is LEADER
        seen: list[Principal | None] = []
        other = threading.Thread(target=lambda: seen.append(auth.for_page()))  # another session's thread
        other.start()
        other.join()
        assert seen == [Principal("office", "office")] and len(looked_up) == 2
    with auth.resolved(None):
        assert auth.for_page() is None  # resolved as nobody: not looked up again
    with pytest.raises(RuntimeError), auth.resolved(LEADER):
        raise RuntimeError("st.stop, st.rerun and errors leave the block too")
    assert auth.for_page() == Principal("office", "office") and len(looked_up) == 3
