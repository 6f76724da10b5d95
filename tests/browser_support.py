"""What the browser tests share: Debian's Chromium, the demo passwords, signing in, waiting for Streamlit,
screenshots. The fixtures (the app served on a module's `demo_db`, Chromium itself) are in tests/conftest.py.

A browser test module calls `require_chromium()` at import: required when CI=true; elsewhere the module is
skipped, with how to install, if /usr/bin/chromium is missing. Screenshots land in artifacts/screenshots/.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
DEMO_PASSWORDS = {
    "leader": "demo-leader-2026",
    "press": "demo-press-2026",
    "hrss": "demo-hrss-2026",
    "office": "demo-office-2026",
    "admin": "demo-admin-2026",
    "commerce": "demo-commerce-2026",
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


def require_chromium() -> None:
    """Call at a browser test module's import: raise under CI=true, else skip the module, if Chromium is missing."""
    if Path(CHROMIUM).exists():
        return
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


class Served:
    """A running server: its address, process and log; stop() (idempotent) lets a test read the database it held."""

    def __init__(self, url: str, port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
        self.url, self.port, self.proc, self.log = url, port, proc, log

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: the lifespan's shut-down runs (scheduler, token file)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@contextlib.contextmanager
def serve(
    env: dict[str, str],
    log: Path,
    *,
    cwd: Path = ROOT,
    port: int | None = None,
    ready: Callable[[Served], bool] = lambda served: True,
    timeout: float = 90,
) -> Iterator[Served]:
    """`python -m dashboard.serve` (what `make run` runs) on a loopback port (a free one unless given) with
    `env` over this process's environment; yields once Streamlit answers its health check and `ready` holds,
    and stops the server after."""
    port = port or free_port()
    args = ["--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true"]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "dashboard.serve", *args],
            cwd=cwd,
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        served = Served(f"http://127.0.0.1:{port}", port, proc, log)
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    with urllib.request.urlopen(served.url + "/_stcore/health", timeout=2) as r:  # noqa: S310
                        if r.status == 200 and ready(served):
                            break
                except OSError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the server did not start: " + log.read_text(errors="replace")[-3000:])
                time.sleep(0.3)
            yield served
        finally:
            served.stop()


def open_page(browser: Any, url: str, path: str = "", wait_text: str = "", user: str = "leader") -> Any:
    """Open a page as a demo user: the server sends the browser to /signin first, then to the page asked for."""
    page = browser.new_page(viewport={"width": 1440, "height": 2400}, locale="zh-CN")
    page.goto(f"{url}/{path}")
    login(page, user, DEMO_PASSWORDS[user])
    if wait_text:
        page.get_by_text(wait_text).first.wait_for(timeout=60_000)
    return page


def login(page: Any, user: str, password: str) -> None:
    """Fill the sign-in form at /signin (dashboard/web/signin.py) and submit it; on success the browser goes on
    to the page it asked for with the kpi_session cookie set."""
    try:
        page.wait_for_url("**/signin**", timeout=60_000)
        page.get_by_label("用户名").fill(user, timeout=15_000)
    except Exception:
        shot(page, "login_failure")
        raise
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()


def settle(page: Any) -> None:
    """Wait until Streamlit has finished running the script and charts are drawn."""
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)
    page.wait_for_timeout(1500)


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def body(page: Any) -> str:
    return str(page.inner_text("body"))


def wait_text(page: Any, text: str, timeout: int = 60_000) -> None:
    """Wait for a visible `text`, then for the script to finish; a screenshot if it never comes."""
    try:
        page.get_by_text(text).filter(visible=True).first.wait_for(timeout=timeout)
    except Exception:
        shot(page, "wait-text-failure")
        raise
    settle(page)


def attach(page: Any, uploader_label: str, name: str, content: bytes, mime: str = "text/plain") -> None:
    """Put a file into the visible file uploader whose text contains `uploader_label`."""
    zone = page.locator("[data-testid='stFileUploader']").filter(has_text=uploader_label).filter(visible=True).first
    zone.locator("input[type=file]").set_input_files(files=[{"name": name, "mimeType": mime, "buffer": content}])
    zone.get_by_text(name).first.wait_for(timeout=30_000)
    settle(page)
