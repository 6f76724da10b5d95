"""Real browser tests: the app served on a free loopback port, opened in Debian's Chromium via Playwright.

Required when CI=true; elsewhere skipped (with how to install) if /usr/bin/chromium is missing.
Screenshots land in artifacts/screenshots/ for people to look at. The fixtures `server`, `browser` and
`expected` are in tests/conftest.py, the helpers in tests/browser_support.py.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from pathlib import Path

import pytest

from metrics.present.format import format_value
from metrics.storage import clock
from metrics.storage.store import Store
from tests.browser_support import AS_OF, login, open_page, require_chromium, settle, shot

pytestmark = pytest.mark.browser

require_chromium()


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from metrics.demo.generate import build_demo

    db = tmp_path_factory.mktemp("browser") / "demo.duckdb"
    build_demo(db, seed=42, scale=0.05, as_of=AS_OF)
    from metrics.auth.users import create_demo_accounts
    from metrics.demo.ledger import seed_ledger
    from metrics.kpi.snapshots import backfill_snapshots

    with Store.open(db) as store:
        backfill_snapshots(store, AS_OF, weeks=6)  # sparklines and "change since last week"
        create_demo_accounts(store)
        # The ledger as it stood on AS_OF, the date the pages show (KPI_AS_OF): seeded under the clock pinned
        # there, so its overdue milestones are overdue as of AS_OF whatever day the suite runs (make test-dates).
        with clock.pinned(AS_OF):
            seed_ledger(store, AS_OF)
    return db


@pytest.fixture(scope="module", autouse=True)
def facts(demo_db: Path) -> dict[str, object]:
    """What the pages must show, read before the app takes the database's write lock (autouse: module-scoped
    autouse fixtures are set up before the server): the office's overdue tasks, the department's first task
    in the ledger, and the subsidy applications received this year under the first programme."""
    from metrics import ledger
    from metrics.auth.access import Principal
    from metrics.catalogue import load_catalogues
    from metrics.ledger.scorecard import overdue_tasks_frame
    from metrics.reports.delivery import delivery_by_measure

    cats = load_catalogues()
    hrss = Principal("hrss", "department", unit="区人力社保局", district="西城区")
    with Store.open(demo_db, read_only=True) as store:
        overdue = overdue_tasks_frame(store, Principal("office", "office"), AS_OF, catalogues=cats)
        tasks = ledger.task_ledger(store, hrss, as_of=clock.today(), catalogues=cats)
        received = delivery_by_measure(store, next(iter(cats.values())), dt.date(AS_OF.year, 1, 1), AS_OF)
    assert not overdue.empty and not tasks.empty  # the demo ledger has overdue milestones and hrss's tasks
    return {
        "overdue_titles": list(overdue["title"]),
        "hrss_first_task": str(tasks["title"].iloc[0]),
        "received": int(received["received"].sum()),
    }


def test_overview_page_shows_engine_values(server: str, browser: object, expected: dict) -> None:
    results = expected
    page = open_page(browser, server, "", wait_text="目标指标")
    page.get_by_text("企业职工劳动合同签订率").first.wait_for(timeout=60_000)  # type: ignore[attr-defined]
    settle(page)
    shot(page, "overview")
    body = page.inner_text("body")  # type: ignore[attr-defined]
    for kpi_id in ("tz-recruitment-events", "tz-contract-signing-rate", "tz-vacancies-collected"):
        assert format_value(results[kpi_id].actual, results[kpi_id].unit) in body, kpi_id
    n_off = sum(r.status == "off_track" for r in results.values())
    assert re.search(rf"滞后\s+{n_off}\s", body), body[:400]


def test_overview_in_english(server: str, browser: object) -> None:
    page = open_page(browser, server, "", wait_text="目标指标")
    page.get_by_text("English").first.click()  # type: ignore[attr-defined]
    page.get_by_text("Employment programme KPIs").first.wait_for(timeout=60_000)  # type: ignore[attr-defined]
    settle(page)
    shot(page, "overview_en")
    assert "Off track" in page.inner_text("body")  # type: ignore[attr-defined]


def test_kpi_detail_page_draws_charts(server: str, browser: object, expected: dict) -> None:
    r = expected["tz-contract-signing-rate"]
    page = open_page(browser, server, "kpi?kpi=tz-contract-signing-rate", wait_text="口径说明")
    page.wait_for_selector(".js-plotly-plot", timeout=60_000)  # type: ignore[attr-defined]
    settle(page)
    shot(page, "kpi_detail")
    body = page.inner_text("body")  # type: ignore[attr-defined]
    assert format_value(r.actual, "%") in body and "劳动合同签订率达98%" in body.replace(" ", "")


def test_programmes_page(server: str, browser: object) -> None:
    page = open_page(browser, server, "programmes", wait_text="重点任务")
    settle(page)
    shot(page, "programmes")
    from metrics.catalogue import load_catalogues

    cat = load_catalogues()["changping-huitian-2022"]
    body = page.inner_text("body")  # type: ignore[attr-defined]
    assert f"补贴与奖励标准（{len(cat.subsidies)}）" in body
    assert all(task.title in body for task in cat.tasks)


def test_delivery_page(server: str, browser: object, facts: dict) -> None:
    page = open_page(browser, server, "delivery", wait_text="需复核")
    page.wait_for_selector(".js-plotly-plot", timeout=60_000)  # type: ignore[attr-defined]
    settle(page)
    shot(page, "delivery")
    body = page.inner_text("body")  # type: ignore[attr-defined]
    assert facts["received"] > 0
    assert re.search(rf"受理\s+{facts['received']:,}\s", body), body[:600]  # the tile, not the title's 受理


def test_wrong_password_is_refused_and_press_sees_releases_only(server: str, browser: object) -> None:
    page = browser.new_page()  # type: ignore[attr-defined]
    page.goto(server)
    login(page, "leader", "wrong-password-1")
    page.get_by_text("用户名或密码错误").first.wait_for(timeout=30_000)
    press = open_page(browser, server, "", wait_text="暂无已发布的统计发布", user="press")
    body = press.inner_text("body")  # type: ignore[attr-defined]
    assert "总览" not in body and "指标详情" not in body
    shot(press, "press")


def test_department_ledger_and_uploads_pages(server: str, browser: object, facts: dict) -> None:
    page = open_page(browser, server, "ledger", wait_text="任务台账", user="hrss")
    settle(page)
    shot(page, "ledger_department")
    body = page.inner_text("body")  # type: ignore[attr-defined]
    assert "本账号（西城区 区人力社保局）" in body  # the department's own district and unit
    assert facts["hrss_first_task"] in body  # its first task, chosen in the task box
    assert "变更记录" not in body  # no audit page for a department
    page.get_by_role("link", name="数据上传").click()  # type: ignore[attr-defined]
    page.get_by_text("下载填报模板").first.wait_for(timeout=60_000)  # type: ignore[attr-defined]
    settle(page)
    shot(page, "uploads_department")


def test_office_sees_overdue_tasks_and_the_audit_trail(server: str, browser: object, facts: dict) -> None:
    page = open_page(browser, server, "", wait_text="逾期任务", user="office")
    settle(page)
    shot(page, "overview_office")
    assert "暂无逾期任务" not in page.inner_text("body")  # type: ignore[attr-defined]
    # Under load the data grids fill in seconds after the script has finished (their cells are drawn by the
    # browser, not sent by the script): poll them, rather than read once after settle's fixed pause.
    deadline = time.monotonic() + 30
    while True:
        grids = "\n".join(page.locator("[data-testid='stDataFrame']").all_text_contents())  # type: ignore[attr-defined]
        missing = [title for title in facts["overdue_titles"] if title not in grids]
        if not missing or time.monotonic() > deadline:
            break
        page.wait_for_timeout(500)  # type: ignore[attr-defined]
    assert missing == [], grids[:600]
    page.get_by_role("link", name="变更记录").click()  # type: ignore[attr-defined]
    page.get_by_text("变更记录（只读").first.wait_for(timeout=60_000)  # type: ignore[attr-defined]
    settle(page)
    shot(page, "audit_office")
