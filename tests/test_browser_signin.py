"""Sign-in in a real browser (Chromium) against the real server (dashboard/server.py): a reload and a new tab
stay signed in; signing out in one tab signs the other out on its next action; an idle session and a forged
cookie return to /signin with the reason in Chinese; CSRF posts without the token or from another site are
refused; the session cookie is HttpOnly (docs/server.md, "Sign-in and sessions")."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from metrics.storage.store import Store
from tests.browser_support import AS_OF, DEMO_PASSWORDS, body, login, require_chromium, shot, wait_text

require_chromium()
pytestmark = pytest.mark.browser

IDLE_MINUTES = 1
SERVER_ENV = {"KPI_SESSION_IDLE_MINUTES": str(IDLE_MINUTES)}  # read by the `server` fixture (tests/conftest.py)
KPI_PAGE = "kpi?kpi=tz-contract-signing-rate"


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from metrics.auth.users import create_demo_accounts
    from metrics.demo.generate import build_demo

    db = tmp_path_factory.mktemp("browser-signin") / "demo.duckdb"
    build_demo(db, seed=42, scale=0.05, as_of=AS_OF)
    with Store.open(db) as store:
        create_demo_accounts(store)
    return db


def new_context(browser: Any) -> Any:
    return browser.new_context(viewport={"width": 1280, "height": 1600}, locale="zh-CN")


def session_cookie(context: Any) -> dict[str, Any]:
    (found,) = [c for c in context.cookies() if c["name"] == "kpi_session"]
    return dict(found)


def test_reload_and_a_new_tab_stay_signed_in_and_sign_out_in_one_tab_ends_the_other(server: str, browser: Any) -> None:
    context = new_context(browser)
    first = context.new_page()
    first.goto(f"{server}/{KPI_PAGE}")
    assert "/signin?next=" in first.url  # no session: the server asks for one first
    started = time.monotonic()
    login(first, "leader", DEMO_PASSWORDS["leader"])
    wait_text(first, "口径说明")
    print(f"\nsign-in to the KPI page drawn: {time.monotonic() - started:.1f} s")
    assert first.url == f"{server}/{KPI_PAGE}"  # back where the link pointed
    cookie = session_cookie(context)
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["path"] == "/"
    assert "kpi_session" not in first.evaluate("document.cookie")  # no JavaScript can read it
    assert cookie["value"] not in first.url

    first.reload()
    wait_text(first, "口径说明")  # F5: still signed in, same page
    assert "/signin" not in first.url

    second = context.new_page()  # a new tab of the same browser, the overview's address typed by hand
    second.goto(f"{server}/overview")
    wait_text(second, "目标指标")
    assert second.url == f"{server}/"  # served at the root, where Streamlit keeps a role's home page
    assert "Page not found" not in body(second) and "找不到" not in body(second)
    shot(second, "signin-second-tab")
    second.get_by_role("button", name="退出登录").click()
    wait_text(second, "已退出登录，请重新登录。")
    assert "目标指标" not in body(second)

    # the first tab still shows its page; its next action finds the session ended, and shows no data
    first.get_by_role("link", name="总览").first.click()
    wait_text(first, "已退出登录，请重新登录。")
    text = body(first)
    assert "目标指标" not in text and "口径说明" not in text
    shot(first, "signin-other-tab-signed-out")
    first.get_by_role("link", name="前往登录页面").click()
    first.wait_for_url("**/signin?next=*")
    assert first.get_by_label("用户名").is_visible()
    context.close()


def test_an_idle_session_returns_to_signin_with_the_chinese_message(server: str, browser: Any) -> None:
    context = new_context(browser)
    page = context.new_page()
    page.goto(f"{server}/")
    login(page, "office", DEMO_PASSWORDS["office"])
    wait_text(page, "目标指标")
    page.wait_for_timeout(IDLE_MINUTES * 60_000 + 5_000)  # no page run for longer than the idle timeout
    page.get_by_role("link", name="任务台账").first.click()
    wait_text(page, "长时间未操作，会话已过期，请重新登录。")
    assert "目标指标" not in body(page) and "任务台账：" not in body(page)
    shot(page, "signin-idle-expired")
    page.reload()  # the server itself now sends the browser to /signin, saying why
    page.wait_for_url("**/signin?**reason=idle**")
    assert "长时间未操作，会话已过期，请重新登录。" in body(page)
    context.close()


def test_a_forged_cookie_goes_to_signin(server: str, browser: Any) -> None:
    context = new_context(browser)
    context.add_cookies([{"name": "kpi_session", "value": "forged-" + "A" * 40, "url": server}])
    page = context.new_page()
    page.goto(f"{server}/ledger")
    page.wait_for_url("**/signin?next=%2Fledger&reason=unknown")
    assert "会话无效，请重新登录。" in body(page)
    login(page, "leader", DEMO_PASSWORDS["leader"])
    page.wait_for_url(f"{server}/ledger")
    assert session_cookie(context)["value"] != "forged-" + "A" * 40  # replaced by a fresh token
    context.close()


def test_csrf_posts_without_the_token_or_from_another_site_are_refused(server: str, browser: Any) -> None:
    context = new_context(browser)
    page = context.new_page()
    page.goto(f"{server}/signin")
    page.evaluate("document.querySelector('input[name=csrf]').remove()")  # the form token stripped
    page.get_by_label("用户名").fill("leader")
    page.get_by_label("密码").fill(DEMO_PASSWORDS["leader"])
    with page.expect_response(f"{server}/signin") as answer:
        page.get_by_role("button", name="登录").click()
    assert answer.value.status == 403
    assert "表单已过期或缺少校验码" in body(page)
    assert not [c for c in context.cookies() if c["name"] == "kpi_session"]

    # a page on another site that posts the right user name and password to /signin
    evil = "http://evil.example/"
    form = (
        f'<form method="post" action="{server}/signin"><input name="user_name" value="leader">'
        f'<input name="password" value="{DEMO_PASSWORDS["leader"]}"><button>go</button></form>'
    )
    page.route(evil, lambda route: route.fulfill(body=form, content_type="text/html"))
    page.goto(evil)
    with page.expect_response(f"{server}/signin") as answer:
        page.get_by_role("button", name="go").click()
    assert answer.value.status == 403
    assert "跨站请求保护" in body(page)
    assert not [c for c in context.cookies() if c["name"] == "kpi_session"]
    context.close()


def test_the_signin_page_reads_well_on_a_phone(server: str, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{server}/signin")
    settle_plain(page)
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1]  # no sideways scrolling
    box = page.get_by_role("button", name="登录").bounding_box()
    assert box["width"] > 300 and box["height"] >= 40  # a thumb-sized button across the screen
    shot(page, "signin-phone")
    context.close()


def settle_plain(page: Any) -> None:
    page.wait_for_load_state("networkidle")
