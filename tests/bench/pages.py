"""Page timings: server-side script runs (AppTest) and a real browser (Debian Chromium via Playwright).

Targets (issue 12, scale-100 data): the first overview after the server starts (its warm-up done, as
dashboard/lifecycle.py does at start) ≤ 300 ms and an overview rerun with unchanged inputs ≤ 30 ms (issue 3: in
the browser on a warm server all overview tiles visible ≤ 1.5 s and KPI detail charts ≤ 3 s).

`python -m tests.bench.pages [--db PATH] [--runs N]` prints the script-run figures alone (no browser), with
the load average before and after: what docs/page-speed.md compares, version against version, in alternating
pairs on a shared machine.
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

from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, DEMO_PASSWORDS, login

ROOT = Path(__file__).resolve().parents[2]


def script_runs(db: Path, as_of: dt.date, runs: int = 15) -> tuple[float, float, float, float]:
    """(the server's start-up warm-up, the first overview after it, a run with a new session, a rerun in the
    same session) in seconds, the last two medians. The warm-up is dashboard.lifecycle.warm, what the server
    runs when it starts."""
    from streamlit import config
    from streamlit.components.v2.component_manager import BidiComponentManager
    from streamlit.runtime.scriptrunner.script_cache import ScriptCache
    from streamlit.testing.v1 import AppTest, app_test, local_script_runner

    logging.disable(logging.WARNING)
    os.environ["KPI_DB"] = str(db)
    app = str(ROOT / "dashboard" / "app.py")

    from metrics.auth.access import Principal

    # AppTest stands in for the server's Runtime, which reads its config, compiles each page script once and
    # scans the installed components once at start. AppTest reads the config in the first run, compiles the
    # scripts again for every run (a new ScriptCache) and scans for every AppTest (~400 package metadata
    # files, ~0.4 s): costs the server never pays per page. The config read, one ScriptCache and one scan,
    # made before the warm-up as the server makes them, keep them out of the page figures (docs/page-speed.md).
    config.get_config_options()
    script_cache = ScriptCache()
    app_test.ScriptCache = local_script_runner.ScriptCache = lambda: script_cache  # type: ignore[assignment,misc]
    components = BidiComponentManager()
    components.discover_and_register_components(start_file_watching=False)

    def session() -> AppTest:
        at = AppTest.from_file(app, default_timeout=300)
        at._bidi_component_manager = components  # the Runtime's one registry
        at.session_state["as_of"] = as_of
        at.session_state["principal"] = Principal("leader", "leader")
        return at

    from dashboard import lifecycle

    t0 = time.perf_counter()
    lifecycle.warm(as_of)
    warm_up = time.perf_counter() - t0
    first = session()
    t0 = time.perf_counter()
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
    return warm_up, cold, statistics.median(warm), statistics.median(rerun)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def browser_times(db: Path, as_of: dt.date, n_tiles: int, runs: int = 3) -> tuple[float, float]:
    """(overview: all tiles visible, KPI detail: charts drawn) in seconds, medians over runs.

    Signed in once as the demo leader; each timing is a navigation inside the session (a page reload would
    be a new session and show the sign-in form), from the click to the last tile or chart drawn.
    """
    from playwright.sync_api import sync_playwright

    from metrics.auth.users import create_demo_accounts
    from metrics.storage.store import Store

    with Store.open(db) as store:  # the benchmark signs in as the demo leader
        create_demo_accounts(store)
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
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            page.goto(url)  # the server sends the browser to /signin (dashboard/web/signin.py)
            login(page, "leader", DEMO_PASSWORDS["leader"])
            page.wait_for_function(
                f"document.querySelectorAll('[data-testid=stMetric]').length >= {n_tiles}", timeout=300_000
            )
            page.get_by_role("link", name="指标详情").click()
            page.wait_for_function(
                "document.querySelectorAll('.js-plotly-plot .main-svg').length >= 2", timeout=300_000
            )
            for _ in range(runs):
                page.wait_for_timeout(500)
                t0 = time.perf_counter()
                page.get_by_role("link", name="总览").click()
                page.wait_for_function(
                    f"document.querySelectorAll('[data-testid=stMetric]').length >= {n_tiles}", timeout=60_000
                )
                overview.append(time.perf_counter() - t0)
                page.wait_for_timeout(500)
                t0 = time.perf_counter()
                page.get_by_role("link", name="指标详情").click()
                page.wait_for_function(
                    "document.querySelectorAll('.js-plotly-plot .main-svg').length >= 2", timeout=60_000
                )
                detail.append(time.perf_counter() - t0)
            browser.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:  # a server busy with a big database: it must let go of the file
            proc.kill()
            proc.wait(timeout=20)
    return statistics.median(overview), statistics.median(detail)


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(description="The overview's script-run figures (AppTest), no browser.")
    ap.add_argument("--db", type=Path, default=ROOT / "data" / "bench" / "kpi-scale100.duckdb")
    ap.add_argument("--as-of", type=dt.date.fromisoformat, default=dt.date(2026, 11, 21))
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    load = os.getloadavg()[0]
    warm_up, first, warm, rerun = script_runs(args.db, args.as_of, args.runs)
    print(
        f"load {load:.1f}-{os.getloadavg()[0]:.1f}: warm-up {warm_up * 1000:.0f} ms, first overview {first * 1000:.0f} ms, "
        f"new session {warm * 1000:.1f} ms, rerun {rerun * 1000:.1f} ms (medians of {args.runs})"
    )


if __name__ == "__main__":
    main()
