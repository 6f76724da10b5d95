"""The sign-in routes and the session middleware (dashboard/web/signin.py) through Starlette's TestClient on
a real database file: CSRF (Origin and form token), cookie flags, `next`, throttling, sign-out, and the
redirect of a page request without a session. The same in Chromium: tests/test_browser_signin.py."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

import metrics.auth.passwords as passwords_mod
from dashboard.web import signin
from metrics.auth.users import add_user, disable_user
from metrics.auth.web_sessions import token_hash
from metrics.storage.store import Store

with warnings.catch_warnings():  # Starlette asks for httpx2 and warns on httpx; authlib's OIDC client needs httpx
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

HOST = "testserver"
ORIGIN = f"http://{HOST}"
PW = "demo-leader-2026"


@pytest.fixture(autouse=True)
def fast_hasher(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords_mod, "HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


async def app_page(request: Request) -> PlainTextResponse:
    return PlainTextResponse("the app page")


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    """A real database file as the server's store (dashboard.process opens it from KPI_DB)."""
    from dashboard import process

    path = tmp_path / "kpi.duckdb"
    with Store.open(path) as store:
        add_user(store, None, "leader", "leader", password=PW)
        add_user(store, None, "root", "admin", password="demo-admin-2026")
    monkeypatch.setenv("KPI_DB", str(path))
    store = process.store()
    assert store is not None
    yield store
    process._stores.pop(str(path.resolve())).close()


@pytest.fixture
def client(db: Store) -> TestClient:
    app = Starlette(
        routes=[*signin.ROUTES, Route("/{page:path}", app_page)],
        middleware=[Middleware(signin.RequireSession)],
    )
    return TestClient(app, base_url=ORIGIN, follow_redirects=False)


def form_token(client: TestClient, path: str = "/signin") -> str:
    page = client.get(path)
    assert page.status_code == 200
    found = re.search(r'name="csrf" value="([0-9a-f]{64})"', page.text)
    assert found, page.text
    return found.group(1)


def post_signin(client: TestClient, user: str = "leader", password: str = PW, **extra: str) -> object:
    data = {"csrf": form_token(client), "user_name": user, "password": password, "next": "/kpi?kpi=a"} | extra
    return client.post("/signin", data=data, headers={"Origin": ORIGIN})


def test_the_form_is_chinese_escaped_and_sets_an_httponly_form_cookie(client: TestClient) -> None:
    page = client.get('/signin?next=/overview"><script>alert(1)</script>')
    assert page.status_code == 200
    assert "就业工作指标看板" in page.text and "用户名" in page.text and "密码" in page.text
    assert "<script>" not in page.text  # the unsafe `next` is refused (→ "/"), never echoed
    cookie = page.headers["set-cookie"]
    assert cookie.startswith("kpi_form=") and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert (
        page.headers["x-frame-options"] == "DENY"
        and "frame-ancestors 'none'" in page.headers["content-security-policy"]
    )
    assert "<script" not in page.text.lower()  # no JavaScript at all


def test_a_correct_password_sets_the_session_cookie_and_goes_to_next(client: TestClient, db: Store) -> None:
    done = post_signin(client)
    assert done.status_code == 303 and done.headers["location"] == "/kpi?kpi=a"
    cookie = done.headers["set-cookie"]
    token = re.match(r"kpi_session=([^;]+);", cookie).group(1)
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie and "Secure" not in cookie
    assert db.execute("SELECT token_hash, client FROM web_sessions") == [(token_hash(token), "testclient")]
    assert client.get("/kpi?kpi=a").text == "the app page"  # the middleware lets the session through
    # a fresh token at every sign-in
    client.cookies.delete("kpi_session")
    again = post_signin(client)
    assert re.match(r"kpi_session=([^;]+);", again.headers["set-cookie"]).group(1) != token


def test_secure_cookie_over_https_and_behind_a_trusted_proxy_only(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = {"csrf": form_token(client), "user_name": "leader", "password": PW}
    proxied = {"Origin": ORIGIN, "X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.5"}
    untrusted = client.post("/signin", data=data, headers=proxied)
    assert "Secure" not in untrusted.headers["set-cookie"]  # the header is ignored unless trusted
    monkeypatch.setenv("KPI_TRUST_PROXY", "1")
    trusted = client.post("/signin", data=data, headers=proxied)
    assert "Secure" in trusted.headers["set-cookie"]


def test_the_client_address_comes_from_the_proxy_only_when_trusted(
    client: TestClient, db: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    post_signin(client, password="wrong-password", **{})
    monkeypatch.setenv("KPI_TRUST_PROXY", "1")
    data = {"csrf": form_token(client), "user_name": "leader", "password": "wrong-password"}
    client.post("/signin", data=data, headers={"Origin": ORIGIN, "X-Forwarded-For": "10.9.9.9, 203.0.113.5"})
    assert [r[0] for r in db.execute("SELECT client FROM login_attempts ORDER BY attempt_id")] == [
        "testclient",
        "203.0.113.5",
    ]


@pytest.mark.parametrize(
    "headers",
    [
        {},  # neither Origin nor Referer
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Referer": "https://evil.example/page"},
        {"Origin": f"http://{HOST}.evil.example"},
    ],
)
def test_a_post_from_another_origin_is_refused(client: TestClient, db: Store, headers: dict[str, str]) -> None:
    data = {"csrf": form_token(client), "user_name": "leader", "password": PW}
    refused = client.post("/signin", data=data, headers=headers)
    assert refused.status_code == 403 and "跨站请求保护" in refused.text
    assert "set-cookie" not in refused.headers
    assert db.execute("SELECT count(*) FROM login_attempts")[0][0] == 0  # not even checked
    ((detail,),) = db.execute("SELECT detail FROM access_log WHERE NOT allowed")
    assert detail.startswith("请求已拒绝：请求来源与本站不符") and "testclient /signin" in detail


def test_a_post_without_or_with_a_wrong_form_token_is_refused(client: TestClient, db: Store) -> None:
    form_token(client)  # the browser has its form cookie
    for data in ({"user_name": "leader", "password": PW}, {"csrf": "0" * 64, "user_name": "leader", "password": PW}):
        refused = client.post("/signin", data=data, headers={"Origin": ORIGIN})
        assert refused.status_code == 403 and "校验码" in refused.text
    # a token from another browser (another form cookie) does not fit this one
    other = TestClient(client.app, base_url=ORIGIN, follow_redirects=False)
    stolen = form_token(other)
    refused = client.post(
        "/signin", data={"csrf": stolen, "user_name": "leader", "password": PW}, headers={"Origin": ORIGIN}
    )
    assert refused.status_code == 403
    # a Referer of this host counts when Origin is absent
    ok = client.post("/signin", data={"csrf": form_token(client), "user_name": "leader", "password": PW},
                     headers={"Referer": f"{ORIGIN}/signin"})  # fmt: skip
    assert ok.status_code == 303
    assert db.execute("SELECT count(*) FROM login_attempts")[0][0] == 1


@pytest.mark.parametrize(
    ("asked", "goes"),
    [
        ("/ledger?task=3", "/ledger?task=3"),
        ("//evil.example/x", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("/signin", "/"),
        ("", "/"),
    ],
)
def test_next_is_a_path_on_this_site_only(client: TestClient, asked: str, goes: str) -> None:
    assert post_signin(client, next=asked).headers["location"] == goes


def test_a_roles_home_page_is_served_at_the_root(client: TestClient) -> None:
    """Streamlit serves a role's first page at "/": /overview would be "page not found" for a leader."""
    assert post_signin(client, next="/overview?x=1").headers["location"] == "/?x=1"
    client.cookies.delete("kpi_session")
    assert post_signin(client, next="/programmes").headers["location"] == "/programmes"
    # typed or bookmarked with a session: sent to "/" too, instead of Streamlit's "page not found" dialog
    typed = client.get("/overview?lang=en")
    assert (typed.status_code, typed.headers["location"]) == (302, "/?lang=en")
    assert client.get("/programmes").status_code == 200  # another page is served where it is


def test_unknown_user_and_wrong_password_get_the_same_answer_and_throttling_says_how_long(client: TestClient) -> None:
    wrong = post_signin(client, password="not-the-password")
    unknown = post_signin(client, user="nobody")
    assert wrong.status_code == unknown.status_code == 401
    for r in (wrong, unknown):
        assert "用户名或密码错误" in r.text and 'value="' in r.text
    for _ in range(3):
        post_signin(client, password="not-the-password")
    throttled = post_signin(client)  # even the right password waits
    assert throttled.status_code == 429 and "登录尝试次数过多，请在" in throttled.text and "秒后再试" in throttled.text


def test_the_typed_user_name_is_echoed_escaped(client: TestClient) -> None:
    r = post_signin(client, user='"><img src=x onerror=alert(1)>')
    assert "<img" not in r.text and "&quot;&gt;&lt;img" in r.text


def test_a_page_without_a_session_goes_to_signin_with_next_and_the_reason(client: TestClient, db: Store) -> None:
    r = client.get("/kpi?kpi=tz-contract-signing-rate")
    assert r.status_code == 302 and r.headers["location"] == "/signin?next=%2Fkpi%3Fkpi%3Dtz-contract-signing-rate"
    client.cookies.set("kpi_session", "forged-0123456789-0123456789-0123456789")
    r = client.get("/")
    assert r.headers["location"] == "/signin?next=%2F&reason=unknown"
    assert "会话无效" in client.get(r.headers["location"]).text
    # assets, Streamlit's machinery, the health check and the SSO steps are not redirected
    for path in ("/static/js/main.js", "/_stcore/stream", "/favicon.png", "/healthz", "/auth/login", "/oauth2callback"):
        assert client.get(path).status_code == 200, path


def test_sign_out_revokes_clears_the_cookie_and_needs_its_token(client: TestClient, db: Store) -> None:
    post_signin(client)
    assert client.get("/").status_code == 200
    page = client.get("/signin?next=/")
    assert "已登录为 leader" in page.text
    csrf = re.search(r'action="/signout".*?name="csrf" value="([0-9a-f]{64})"', page.text).group(1)
    assert client.post("/signout", data={}, headers={"Origin": ORIGIN}).status_code == 403
    assert client.post("/signout", data={"csrf": csrf}, headers={"Origin": "https://evil.example"}).status_code == 403
    done = client.post("/signout", data={"csrf": csrf}, headers={"Origin": ORIGIN})
    assert done.status_code == 303 and done.headers["location"] == "/signin?reason=signed_out"
    assert 'kpi_session=""' in done.headers["set-cookie"] and "Max-Age=0" in done.headers["set-cookie"]
    assert "已退出登录" in client.get(done.headers["location"]).text
    assert db.execute("SELECT revoke_reason FROM web_sessions") == [("退出登录",)]


def test_disabling_the_account_sends_its_browser_to_signin(client: TestClient, db: Store) -> None:
    post_signin(client)
    disable_user(db, None, "leader")
    r = client.get("/overview")
    assert r.status_code == 302 and "reason=revoked" in r.headers["location"]
