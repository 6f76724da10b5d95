"""Real browser tests: the app served on a free loopback port, opened in Debian's Chromium via Playwright.

Required when CI=true; elsewhere skipped (with how to install) if /usr/bin/chromium is missing.
Screenshots land in artifacts/screenshots/ for people to look at.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from metrics.engine import Engine
from metrics.format import format_value
from metrics.store import Store

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
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
    from metrics.demo import build_demo

    db = tmp_path_factory.mktemp("browser") / "demo.duckdb"
    build_demo(db, seed=42, scale=0.05, as_of=AS_OF)
    return db


@pytest.fixture(scope="module")
def server(demo_db: Path) -> Iterator[str]:
    port = free_port()
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
        stdout=subprocess.PIPE,
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


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def open_page(browser: object, url: str, path: str = "", lang: str = "zh") -> object:
    page = browser.new_page(viewport={"width": 1440, "height": 1000}, locale="zh-CN")  # type: ignore[attr-defined]
    page.goto(f"{url}/{path}")
    page.wait_for_selector("[data-testid='stAppViewContainer']", timeout=60_000)
    return page


def shot(page: object, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def test_overview_page_shows_engine_values(server: str, browser: object, demo_db: Path) -> None:
    with Store.open(demo_db, read_only=True) as store:
        events = Engine(store).compute_kpi("tz-recruitment-events", AS_OF)
    page = open_page(browser, server)
    page.get_by_text("就业工作指标总览").first.wait_for(timeout=60_000)  # type: ignore[attr-defined]
    page.get_by_text("已达标").first.wait_for(timeout=30_000)  # type: ignore[attr-defined]
    page.wait_for_timeout(1500)  # type: ignore[attr-defined]
    shot(page, "overview")
    assert format_value(events.actual, "场") in page.content()  # type: ignore[attr-defined]


def test_chromium_is_usable_without_a_download() -> None:
    assert shutil.which("chromium") or Path(CHROMIUM).exists()
