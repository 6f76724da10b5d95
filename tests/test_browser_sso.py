"""Single sign-on end to end (issue 11 item 3): Streamlit's st.login against a real OpenID Connect provider.

The provider is `oidc-provider-mock` (a real OIDC provider: discovery, the authorization-code flow, ID
tokens signed RS256 with its JWKS, nonces required, a form where the person picks the subject), run by this
test in a process of its own on 127.0.0.1. The server takes its [auth] settings from the secrets file
KPI_SECRETS names (docs/server.md, "Single sign-on"): dashboard/server.py hands it to st.App, /signin reads
it for its SSO link. An SSO user mapped to a local account lands on the overview with that
account's role; an unknown one is refused politely, in Chinese, and the refusal is in the access log.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from metrics.storage.store import Store
from tests.browser_support import AS_OF, ROOT, Served, body, free_port, require_chromium, serve, shot, wait_text

pytestmark = pytest.mark.browser

require_chromium()

# provider subject → (e-mail claim, the local account it maps to or None, that account's role)
LEADER = ("sso-wang-fang", "wang.fang@haidian.gov.cn")  # mapped by user_name = e-mail
OFFICE = ("sso-li-qiang", "li.qiang@example.org")  # mapped by the account's bound oidc_subject
STRANGER = ("sso-stranger", "stranger@example.org")  # no account
OFF_MACHINE = re.compile(r"^(?!https?://127\.0\.0\.1[:/])")  # the browser reaches nothing but loopback


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from metrics.auth.accounts import add_user
    from metrics.demo.generate import build_demo

    db = tmp_path_factory.mktemp("sso") / "demo.duckdb"
    build_demo(db, seed=42, scale=0.02, as_of=AS_OF)
    with Store.open(db) as store:  # SSO-only accounts: no password
        add_user(store, None, LEADER[1], "leader", display_name="王芳")
        add_user(store, None, "li.qiang", "office", display_name="李强", oidc_subject=OFFICE[0])
    return db


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """oidc-provider-mock in a process of its own on a free loopback port (nonces required), offering the
    three identities on its form."""
    port = free_port()
    claims = [f'{{"sub": "{sub}", "email": "{email}"}}' for sub, email in (LEADER, OFFICE, STRANGER)]
    log = (tmp_path_factory.mktemp("provider") / "provider.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "oidc_provider_mock", "--host", "127.0.0.1", "--port", str(port), "--require-nonce"]
        + [arg for c in claims for arg in ("--user-claims", c)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url + "/.well-known/openid-configuration", proc)
        yield url
    finally:
        stop(proc)
        log.close()


def wait_until_up(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:  # noqa: S310 - loopback
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not come up")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def sso_server(demo_db: Path, provider: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`python -m dashboard.serve` run from a folder like a deployment's (.streamlit/config.toml from the
    repository), its [auth] naming the provider in the secrets file KPI_SECRETS names."""
    port = free_port()
    home = tmp_path_factory.mktemp("site")
    (home / ".streamlit").mkdir()
    shutil.copy(ROOT / ".streamlit" / "config.toml", home / ".streamlit" / "config.toml")
    secrets = home / "secrets" / "kpi.toml"  # e.g. /etc/kpi-dashboard/secrets.toml
    secrets.parent.mkdir()
    secrets.write_text(
        "[auth]\n"
        f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        f'cookie_secret = "{os.urandom(24).hex()}"\n'
        'client_id = "kpi-dashboard"\n'
        f'client_secret = "{os.urandom(16).hex()}"\n'
        f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n',
        encoding="utf-8",
    )
    env = {"KPI_DB": str(demo_db), "KPI_AS_OF": AS_OF.isoformat(), "KPI_SCHEDULER": "off", "KPI_SECRETS": str(secrets)}
    with serve(env, home / "server.log", cwd=home, port=port) as served:
        yield served


def sign_in_with_sso(browser: Any, url: str, provider: str, subject: str) -> Any:
    """A fresh browser: open the app, choose single sign-on, pick `subject` on the provider's form."""
    context = browser.new_context(viewport={"width": 1280, "height": 1600}, locale="zh-CN")
    context.route(OFF_MACHINE, lambda route: route.abort())  # web fonts, the provider's CDN stylesheet
    page = context.new_page()
    page.goto(url + "/")
    sso = page.get_by_text("统一身份认证登录").first  # the /signin page's link, or the in-app button
    sso.wait_for(timeout=60_000)
    sso.click()
    page.wait_for_url(f"{provider}/oauth2/authorize*", timeout=60_000)
    page.get_by_role("button", name=subject, exact=True).click()
    page.wait_for_url(f"{url}/**", timeout=60_000)
    return page


@pytest.mark.parametrize(("who", "role"), [(LEADER, "领导小组"), (OFFICE, "就业办")])
def test_mapped_sso_user_lands_on_the_overview_with_the_accounts_role(
    sso_server: Served, provider: str, browser: Any, who: tuple[str, str], role: str
) -> None:
    page = sign_in_with_sso(browser, sso_server.url, provider, who[0])
    wait_text(page, "就业工作指标总览")
    shot(page, f"sso-{who[0]}")
    text = body(page)
    assert role in text, text[:800]
    assert "未登记" not in text
    page.reload()  # Streamlit's own signed cookie keeps an SSO user signed in across a reload
    wait_text(page, "就业工作指标总览")
    page.context.close()


def test_unknown_sso_user_is_refused_politely_and_logged(
    sso_server: Served, provider: str, browser: Any, demo_db: Path
) -> None:
    page = sign_in_with_sso(browser, sso_server.url, provider, STRANGER[0])
    wait_text(page, "尚未在本系统登记")
    shot(page, "sso-unknown")
    text = body(page)
    assert STRANGER[1] in text
    assert "就业工作指标总览" not in text
    page.context.close()
    # the refusal is in the access log: read once the server (the file's one writer) has stopped. Runs last.
    sso_server.stop()
    with Store.open(demo_db, read_only=True) as store:
        rows = (
            store.cursor()
            .execute("SELECT user_name, allowed, detail FROM access_log WHERE action = 'login_oidc' ORDER BY access_id")
            .fetchall()
        )
    assert (STRANGER[1], False, "未登记的 OIDC 身份") in rows, rows
    # one row per page load (a Streamlit session), not one per script run: each mapped user loaded twice
    # (after the provider, then the reload), the stranger once, however many runs the pages made
    assert [u for u, _, _ in rows].count(STRANGER[1]) == 1, rows
    for user in (LEADER[1], "li.qiang"):
        assert [(u, ok) for u, ok, _ in rows if u == user] == [(user, True)] * 2, rows
