"""Page timings: server-side script runs (AppTest) and a real browser (Debian Chromium via Playwright).

Targets (issue 3, scale-100 data): overview script run ≤ 300 ms warm and ≤ 100 ms on a rerun with unchanged
inputs; in the browser on a warm server all overview tiles visible ≤ 1.5 s and KPI detail charts ≤ 3 s.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def script_runs(db: Path, as_of: dt.date, runs: int = 5) -> tuple[float, float, float]:
    """(first run, warm run with a new session, rerun in the same session) in seconds, medians."""
    from streamlit.testing.v1 import AppTest

    logging.disable(logging.WARNING)
    os.environ["KPI_DB"] = str(db)
    app = str(ROOT / "dashboard" / "app.py")

    def session() -> AppTest:
        at = AppTest.from_file(app, default_timeout=300)
        at.session_state["as_of"] = as_of
        return at

    t0 = time.perf_counter()
    first = session()
    first.run()
    cold = time.perf_counter() - t0
    warm, rerun = [], []
    for _ in range(runs):
        at = session()
        t0 = time.perf_counter()
        at.run()
        warm.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        at.run()
        rerun.append(time.perf_counter() - t0)
    logging.disable(logging.NOTSET)
    return cold, statistics.median(warm), statistics.median(rerun)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def browser_times(db: Path, as_of: dt.date, n_tiles: int, runs: int = 3) -> tuple[float, float]:
    """(overview: all tiles visible, KPI detail: charts drawn) in seconds, medians over runs."""
    from playwright.sync_api import sync_playwright

    port = _free_port()
    env = {**os.environ, "KPI_DB": str(db), "KPI_AS_OF": as_of.isoformat()}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dashboard.serve",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2):  # noqa: S310 - loopback
                    break
            except OSError:
                time.sleep(0.5)
        overview, detail = [], []
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            page.goto(url)  # warm-up visit: the server's caches and the browser's asset cache
            page.wait_for_function(
                f"document.querySelectorAll('[data-testid=stMetric]').length >= {n_tiles}", timeout=300_000
            )
            page.goto(url + "/kpi?kpi=tz-recruitment-events")
            page.wait_for_function(
                "document.querySelectorAll('.js-plotly-plot .main-svg').length >= 2", timeout=300_000
            )
            for _ in range(runs):
                t0 = time.perf_counter()
                page.goto(url)
                page.wait_for_function(
                    f"document.querySelectorAll('[data-testid=stMetric]').length >= {n_tiles}", timeout=60_000
                )
                overview.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                page.goto(url + "/kpi?kpi=tz-recruitment-events")
                page.wait_for_function(
                    "document.querySelectorAll('.js-plotly-plot .main-svg').length >= 2", timeout=60_000
                )
                detail.append(time.perf_counter() - t0)
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    return statistics.median(overview), statistics.median(detail)
