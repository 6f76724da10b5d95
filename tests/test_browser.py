"""Real browser tests: the app served on a free loopback port, opened in Debian's Chromium via Playwright.

Required when CI=true; elsewhere skipped (with how to install) if /usr/bin/chromium is missing.
Screenshots land in artifacts/screenshots/ for people to look at.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from metrics.kpi.engine import Engine
from metrics.present.format import format_value
from metrics.storage import clock
from metrics.storage.store import Store

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
DEMO_PASSWORDS = {
    "leader": "demo-leader-2026",
    "press": "demo-press-2026",
    "hrss": "demo-hrss-2026",
    "office": "demo-office-2026",
}
SHOTS = ROOT / "artifacts" / "screenshots"
AS_OF = dt.date(2026, 11, 21)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.browser

if not Path(CHROMIUM).exists():
    if os.environ.get("CI") == "true":
        raise RuntimeError("CI=true but /usr/bin/chromium is missing: .ci/run must apt-get install chromium")
    pytest.skip(
        "Chromium not found: install it with `sudo apt-get install chromium fonts-noto-cjk` to run browser tests",
        allow_module_level=True,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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
        seed_ledger(store, clock.today())
    return db


@pytest.fixture(scope="module")
def expected(demo_db: Path) -> dict[str, object]:
    """The engine's results, computed before the app takes the database's write lock."""
    with Store.open(demo_db, read_only=True) as store:
        return {r.kpi_id: r for r in Engine(store).compute(AS_OF)}


@pytest.fixture(scope="module")
def server(demo_db: Path, expected: dict[str, object], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log = (tmp_path_factory.mktemp("server") / "streamlit.log").open("wb")
    env = {**os.environ, "KPI_DB": str(demo_db), "KPI_AS_OF": AS_OF.isoformat()}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(ROOT / "dashboard" / "app.py"),
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:  # noqa: S310 - loopback
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            raise RuntimeError("streamlit did not start")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def open_page(browser: object, url: str, path: str = "", wait_text: str = "", user: str = "leader") -> object:
    """Open a page as a demo user: the login form first, then the page that was asked for."""
    page = browser.new_page(viewport={"width": 1440, "height": 2400}, locale="zh-CN")  # type: ignore[attr-defined]
    page.goto(f"{url}/{path}")
    login(page, user, DEMO_PASSWORDS[user])
    if wait_text:
        page.get_by_text(wait_text).first.wait_for(timeout=60_000)
    return page


def login(page: object, user: str, password: str) -> None:
    try:
        page.get_by_text("登录就业工作指标看板").first.wait_for(timeout=60_000)  # type: ignore[attr-defined]
    except Exception:
        shot(page, "login_failure")
        raise
    settle(page)
    try:
        page.get_by_label("用户名").fill(user, timeout=15_000)  # type: ignore[attr-defined]
    except Exception:
        shot(page, "login_failure")
        raise
    page.get_by_label("密码").fill(password)  # type: ignore[attr-defined]
    page.get_by_role("button", name="登录").click()  # type: ignore[attr-defined]


def settle(page: object) -> None:
    """Wait until Streamlit has finished running the script and charts are drawn."""
    page.wait_for_function(  # type: ignore[attr-defined]
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000
    )
    page.wait_for_timeout(1500)  # type: ignore[attr-defined]


def shot(page: object, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


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


def test_delivery_page(server: str, browser: object) -> None:
    page = open_page(browser, server, "delivery", wait_text="需复核")
    page.wait_for_selector(".js-plotly-plot", timeout=60_000)  # type: ignore[attr-defined]
    settle(page)
    shot(page, "delivery")
    assert "受理" in page.inner_text("body")  # type: ignore[attr-defined]


def test_wrong_password_is_refused_and_press_sees_releases_only(server: str, browser: object) -> None:
    page = browser.new_page()  # type: ignore[attr-defined]
    page.goto(server)
    login(page, "leader", "wrong-password-1")
    page.get_by_text("用户名或密码错误").first.wait_for(timeout=30_000)
    press = open_page(browser, server, "", wait_text="暂无已发布的统计发布", user="press")
    body = press.inner_text("body")  # type: ignore[attr-defined]
    assert "总览" not in body and "指标详情" not in body
    shot(press, "press")


def test_department_ledger_and_uploads_pages(server: str, browser: object) -> None:
    page = open_page(browser, server, "ledger", wait_text="任务台账", user="hrss")
    settle(page)
    shot(page, "ledger_department")
    body = page.inner_text("body")  # type: ignore[attr-defined]
    assert "建账" in body and "变更记录" not in body  # no audit page for a department
    page.get_by_role("link", name="数据上传").click()  # type: ignore[attr-defined]
    page.get_by_text("下载填报模板").first.wait_for(timeout=60_000)  # type: ignore[attr-defined]
    settle(page)
    shot(page, "uploads_department")


def test_office_sees_overdue_tasks_and_the_audit_trail(server: str, browser: object) -> None:
    page = open_page(browser, server, "", wait_text="逾期任务", user="office")
    settle(page)
    page.get_by_role("link", name="变更记录").click()  # type: ignore[attr-defined]
    page.get_by_text("变更记录（只读").first.wait_for(timeout=60_000)  # type: ignore[attr-defined]
    settle(page)
    shot(page, "audit_office")
