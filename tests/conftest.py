"""Shared fixtures: a real DuckDB file in a temp folder; for the browser tests, the app served on the
requesting module's own `demo_db` fixture, and Chromium; one local SparkSession. Helpers are in tests/support.py and
tests/browser_support.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from metrics.storage.store import Store
from tests.browser_support import AS_OF, CHROMIUM, CHROMIUM_ARGS, serve


@pytest.fixture
def tiny_duck(tmp_path: Path) -> Store:
    """An empty, migrated DuckDB file (not in memory: the real thing)."""
    store = Store.open(tmp_path / "tiny.duckdb")
    yield store
    store.close()


@pytest.fixture(scope="session")
def spark() -> Iterator[object]:
    """One local SparkSession for the whole run (local[1], shuffle partitions 1, UI off): tests/spark_support.py
    skips, or fails under CI=true, where Java or PySpark is missing."""
    from tests.spark_support import require_spark

    require_spark()
    from metrics.lake.spark import session

    s = session("local[1]")
    yield s
    s.stop()


# --------------------------------------------------------------------------- browser tests
# Each browser module defines its own module-scoped `demo_db`; `server` below requests it by name, so every
# module is served its own database.


@pytest.fixture(scope="module")
def expected(demo_db: Path) -> dict[str, object]:
    """The engine's results, computed before the app takes the database's write lock."""
    from metrics.kpi.engine import Engine

    with Store.open(demo_db, read_only=True) as store:
        return {r.kpi_id: r for r in Engine(store).compute(AS_OF)}


@pytest.fixture(scope="module")
def server(
    demo_db: Path, expected: dict[str, object], tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[str]:
    """The server (dashboard/server.py: Streamlit through st.App, with /signin and the other routes) on a free
    loopback port, on this module's `demo_db`. A module may set SERVER_ENV = {...} for extra variables."""
    extra = getattr(request.module, "SERVER_ENV", {})
    # no scheduler: its catch-up (a snapshot and a backup) would take the cores the pages under test need;
    # tests/test_ops.py runs the server with it
    env = {"KPI_DB": str(demo_db), "KPI_AS_OF": AS_OF.isoformat(), "KPI_SCHEDULER": "off", **extra}
    with serve(env, tmp_path_factory.mktemp("server") / "streamlit.log") as served:
        yield served.url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's Chromium through Playwright (modules using it call browser_support.require_chromium())."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()
