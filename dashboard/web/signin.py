"""Sign-in served by Starlette beside Streamlit: `GET/POST /signin`, `POST /signout`, and the middleware that
sends a browser without a session to /signin (docs/server.md, "Sign-in and sessions").

- The form is plain HTML in Chinese (no JavaScript), every echoed value escaped.
- CSRF: a POST must come from this host (Origin, else Referer) and carry a form token, the HMAC of a
  short-lived HttpOnly pre-session cookie (`kpi_form`) with a per-process secret; /signout's token is the
  HMAC of the session's hash.
- Success sets `kpi_session` (a fresh random token; HttpOnly, SameSite=Lax, Path=/, Secure over HTTPS) and
  redirects (303) to `next`, which must be a path on this site.
- Passwords are checked by metrics.auth.signin (argon2, throttled by account and client); sessions are
  metrics.auth.web_sessions. X-Forwarded-For and X-Forwarded-Proto count only with KPI_TRUST_PROXY=1.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import html
import os
import re
import secrets
import tomllib
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from dashboard import navigation, process
from metrics.auth import signin, web_sessions
from metrics.auth.access import Principal
from metrics.auth.access_log import log_access
from metrics.auth.web_sessions import SessionEnd
from metrics.storage.store import Store

__all__ = ["COOKIE", "FORM_COOKIE", "ROUTES", "RequireSession", "safe_next"]

COOKIE = web_sessions.COOKIE
FORM_COOKIE = "kpi_form"
FORM_MAX_AGE = 30 * 60  # a sign-in form is good for half an hour
TITLE = "就业工作指标看板"
MAX_FORM_BYTES = 16 * 1024
_SECRET = secrets.token_bytes(32)  # per process: a restart only makes open forms ask again
_FORM_VALUE = re.compile(r"[A-Za-z0-9_-]{32,64}")

# Paths the middleware lets through without a session: Streamlit's own machinery and assets, its SSO flow,
# this module's routes, the health check, and the in-app page /sso that starts single sign-on.
_OPEN_PREFIXES = (
    "/_stcore/",
    "/static/",
    "/app/static/",
    "/component/",
    "/media/",
    "/auth/",
    "/api/",
)
_OPEN_PATHS = frozenset({"/healthz", "/signin", "/signout", "/oauth2callback", "/sso"})

_REASONS: dict[str, str] = {end.value: end.message_zh for end in SessionEnd if end is not SessionEnd.MISSING}
_REASONS["signed_out"] = "已退出登录。"


# --------------------------------------------------------------------------- request facts


def trust_proxy() -> bool:
    """KPI_TRUST_PROXY=1: the server sits behind a reverse proxy (deploy/nginx) that sets X-Forwarded-For and
    X-Forwarded-Proto. Without it those headers are ignored: anyone could send them."""
    return os.environ.get("KPI_TRUST_PROXY", "").strip().lower() in {"1", "true", "yes"}


def client_address(request: Request) -> str:
    """The client for throttling: the address the proxy saw (last X-Forwarded-For entry) when trusted, else
    the socket's peer."""
    if trust_proxy():
        forwarded = request.headers.get("x-forwarded-for", "")
        last = forwarded.split(",")[-1].strip()
        if last:
            return last[:100]
    return request.client.host if request.client else "unknown"


def over_https(request: Request) -> bool:
    if trust_proxy():
        proto = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
        if proto:
            return proto == "https"
    return request.url.scheme == "https"


def same_origin(request: Request) -> bool:
    """A form post from a page of this host: Origin (every current browser sends it on POST), else Referer;
    neither, or "null", is refused."""
    host = request.headers.get("host", "").lower()
    if not host:
        return False
    origin = request.headers.get("origin")
    source = origin if origin and origin != "null" else request.headers.get("referer")
    if not source:
        return False
    parts = urlsplit(source)
    return parts.scheme in {"http", "https"} and parts.netloc.lower() == host


def safe_next(value: object) -> str:
    """Where to go after signing in: a path on this site, else "/". Refuses `//evil`, `https://…`,
    backslashes and control characters (browsers read `/\\evil` as `//evil`)."""
    if not isinstance(value, str) or not value.startswith("/") or len(value) > 2000:
        return "/"
    if value.startswith("//") or any(ch in value for ch in "\\\r\n\t") or any(ord(ch) < 32 for ch in value):
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return "/"
    if parts.path in ("/signin", "/signout"):
        return "/"
    return value


def landing(next_path: str, role: str) -> str:
    """`next` as Streamlit serves it for this role: its home page (its first page) lives at "/", not at its
    own path (/overview would be "page not found" for a leader)."""
    parts = urlsplit(next_path)
    pages = navigation.pages_for(role)
    if pages and parts.path.strip("/") == pages[0].url:
        return "/" + (f"?{parts.query}" if parts.query else "")
    return next_path


def _mac(purpose: str, value: str) -> str:
    return hmac.new(_SECRET, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def _token_matches(purpose: str, value: str | None, given: str | None) -> bool:
    return bool(value) and bool(given) and hmac.compare_digest(_mac(purpose, value or ""), given or "")


async def _read_form(request: Request) -> dict[str, str] | None:
    """The url-encoded form, or None if it is too large or not a form."""
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return None
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return None
    try:
        parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=10)
    except (UnicodeDecodeError, ValueError):
        return None
    return {k: v[0] for k, v in parsed.items()}


def _store() -> Store | None:
    return process.store()


# --------------------------------------------------------------------------- HTML

_STYLE = """
*{box-sizing:border-box}
body{margin:0;font-family:system-ui,-apple-system,"PingFang SC","Noto Sans CJK SC","Microsoft YaHei",sans-serif;
background:#f3f5f8;color:#1f2933;font-size:17px;line-height:1.5}
main{max-width:26rem;margin:0 auto;padding:2.5rem 1.25rem}
h1{font-size:1.45rem;margin:0 0 .25rem}
p.sub{margin:0 0 1.5rem;color:#52606d}
form{background:#fff;border-radius:12px;padding:1.25rem;box-shadow:0 1px 3px rgba(0,0,0,.12)}
label{display:block;font-weight:600;margin:.75rem 0 .3rem}
input[type=text],input[type=password]{width:100%;font-size:1.05rem;padding:.7rem .75rem;border:1px solid #9aa5b1;
border-radius:8px}
button{width:100%;margin-top:1.25rem;font-size:1.1rem;padding:.8rem;border:0;border-radius:8px;background:#1d4ed8;
color:#fff;font-weight:600}
.note{padding:.75rem 1rem;border-radius:8px;margin:0 0 1rem}
.error{background:#fde8e8;color:#8a1c1c}
.info{background:#e6f0ff;color:#1e3a8a}
a.sso,a.go{display:block;text-align:center;margin-top:1rem;padding:.75rem;border:1px solid #1d4ed8;border-radius:8px;
color:#1d4ed8;text-decoration:none;font-weight:600}
"""

_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
}


def _page(body: str) -> str:
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>登录 · {TITLE}</title><style>{_STYLE}</style></head>"
        f"<body><main><h1>{TITLE}</h1>{body}</main></body></html>"
    )


def _note(kind: str, text: str | None) -> str:
    return f'<p class="note {kind}" role="alert">{html.escape(text)}</p>' if text else ""


def _oidc_configured() -> bool:
    """Whether single sign-on is set up ([auth] in .streamlit/secrets.toml, or in the file KPI_SECRETS names,
    which dashboard/server.py gives st.App; st.login reads the same)."""
    named = [Path(os.environ["KPI_SECRETS"])] if os.environ.get("KPI_SECRETS") else []
    try:
        for path in (*named, Path.cwd() / ".streamlit" / "secrets.toml", Path.home() / ".streamlit" / "secrets.toml"):
            if path.exists() and "auth" in tomllib.loads(path.read_text(encoding="utf-8")):
                return True
    except (OSError, ValueError):
        return False
    return False


def _form(next_path: str, form_value: str, *, error: str | None = None, info: str | None = None, user: str = "") -> str:
    sso = '<a class="sso" href="/sso">统一身份认证登录</a>' if _oidc_configured() else ""
    return _page(
        '<p class="sub">请使用本系统账号登录</p>'
        + _note("error", error)
        + _note("info", info)
        + '<form method="post" action="/signin" autocomplete="on">'
        + f'<input type="hidden" name="csrf" value="{_mac("signin", form_value)}">'
        + f'<input type="hidden" name="next" value="{html.escape(next_path, quote=True)}">'
        + '<label for="user_name">用户名</label>'
        + f'<input id="user_name" name="user_name" type="text" autocomplete="username" required maxlength="100" '
        f'value="{html.escape(user, quote=True)}" autofocus>'
        + '<label for="password">密码</label>'
        + '<input id="password" name="password" type="password" autocomplete="current-password" required '
        'maxlength="1024">' + '<button type="submit">登录</button></form>' + sso
    )


def _signed_in_page(principal: Principal, next_path: str, token: str) -> str:
    mac = _mac("signout", web_sessions.token_hash(token))
    return _page(
        _note("info", f"已登录为 {principal.display}。")
        + f'<a class="go" href="{html.escape(next_path, quote=True)}">进入看板</a>'
        + '<form method="post" action="/signout" style="margin-top:1rem">'
        + f'<input type="hidden" name="csrf" value="{mac}"><button type="submit">退出登录</button></form>'
    )


def _html(content: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(content, status_code=status, headers=_HEADERS)


async def _refused(request: Request, reason: str) -> HTMLResponse:
    """403, and an access_log row (action login, refused) naming the reason and the client."""
    store = _store()
    if store is not None:
        detail = f"请求已拒绝：{reason}（{client_address(request)} {request.url.path}）"
        await asyncio.to_thread(log_access, store, "?", "login", False, None, detail)
    return _html(_page(_note("error", f"请求已拒绝：{reason}") + '<a class="go" href="/signin">返回登录页</a>'), 403)


def _form_cookie(request: Request) -> tuple[str, bool]:
    """The pre-session value for the form token, and whether it is new (to be set)."""
    found = request.cookies.get(FORM_COOKIE, "")
    if _FORM_VALUE.fullmatch(found):
        return found, False
    return secrets.token_urlsafe(32), True


def _with_form_cookie(response: Response, request: Request, value: str) -> Response:
    response.set_cookie(
        FORM_COOKIE,
        value,
        max_age=FORM_MAX_AGE,
        path="/",
        httponly=True,
        samesite="strict",
        secure=over_https(request),
    )
    return response


# --------------------------------------------------------------------------- routes


async def signin_form(request: Request) -> Response:
    """GET /signin?next=/page[&reason=expired]: the form (or, when signed in already, where to go)."""
    next_path = safe_next(request.query_params.get("next"))
    info = _REASONS.get(request.query_params.get("reason", ""))
    store = _store()
    token = request.cookies.get(COOKIE)
    if store is not None and token:
        found = await asyncio.to_thread(web_sessions.resolve, store, token)
        if isinstance(found, Principal):
            return _html(_signed_in_page(found, next_path, token))
    value, new = _form_cookie(request)
    response = _html(_form(next_path, value, info=info))
    return _with_form_cookie(response, request, value) if new else response


def _wait_text(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} 秒"
    return f"{(seconds + 59) // 60} 分钟"


async def signin_post(request: Request) -> Response:
    """POST /signin: Origin, form token, then the throttled argon2 check; a session cookie on success."""
    if not same_origin(request):
        return await _refused(request, "请求来源与本站不符（跨站请求保护）。")
    form = await _read_form(request)
    if form is None:
        return await _refused(request, "表单格式无效。")
    form_value = request.cookies.get(FORM_COOKIE)
    next_path = safe_next(form.get("next"))
    if not _token_matches("signin", form_value, form.get("csrf")):
        return await _refused(request, "表单已过期或缺少校验码，请重新打开登录页。")
    store = _store()
    if store is None:
        return _html(_page(_note("error", "数据库尚未建立，暂时无法登录。")), 503)
    user = form.get("user_name", "")[:100]
    outcome = await asyncio.to_thread(
        signin.sign_in, store, user, form.get("password", ""), client=client_address(request)
    )
    if outcome.principal is None:
        if outcome.wait_seconds:
            message = f"登录尝试次数过多，请在 {_wait_text(outcome.wait_seconds)}后再试。"
            status = 429
        else:
            message = "用户名或密码错误，或账号已停用。"
            status = 401
        return _html(_form(next_path, form_value or "", error=message, user=user), status)
    token = await asyncio.to_thread(
        web_sessions.create,
        store,
        outcome.principal,
        client=client_address(request),
        user_agent=request.headers.get("user-agent"),
    )
    target = landing(next_path, outcome.principal.role)
    response = RedirectResponse(target, status_code=303, headers={"Cache-Control": "no-store"})
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(web_sessions.lifetime().total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=over_https(request),
    )
    return response


async def signout_post(request: Request) -> Response:
    """POST /signout: ends the session server-side, clears the cookie, back to /signin with 已退出登录."""
    if not same_origin(request):
        return await _refused(request, "请求来源与本站不符（跨站请求保护）。")
    form = await _read_form(request)
    token = request.cookies.get(COOKIE)
    if form is None or not token or not _token_matches("signout", web_sessions.token_hash(token), form.get("csrf")):
        return await _refused(request, "缺少或错误的校验码。")
    store = _store()
    if store is not None:
        found = await asyncio.to_thread(web_sessions.resolve, store, token)
        by = found.user if isinstance(found, Principal) else "?"
        await asyncio.to_thread(web_sessions.revoke, store, token, by, "退出登录")
    response = RedirectResponse("/signin?reason=signed_out", status_code=303, headers={"Cache-Control": "no-store"})
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax", secure=over_https(request))
    return response


ROUTES = [
    Route("/signin", signin_form, methods=["GET"]),
    Route("/signin", signin_post, methods=["POST"]),
    Route("/signout", signout_post, methods=["POST"]),
]


# --------------------------------------------------------------------------- middleware

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def needs_session(path: str) -> bool:
    """Whether a GET of `path` is an app page (which needs a session), not an asset, route or SSO step."""
    if path in _OPEN_PATHS or path.startswith(_OPEN_PREFIXES):
        return False
    if "/_stcore/" in path:  # the frontend on /login probes /login/_stcore/health: a 302 there breaks its websocket
        return False
    return "." not in path.rsplit("/", 1)[-1]  # files (favicon.png, manifest.json …) are the frontend's


class RequireSession:
    """ASGI middleware: a GET of an app page without a session that resolves → 302 /signin?next=<path>; with
    one, a GET of the role's home page by its own path (/overview) → 302 / (where Streamlit serves it).

    A browser signed in through single sign-on (Streamlit's `_streamlit_user` cookie) is let through: the
    script checks st.user itself. This is a convenience in front of the script's own check, which runs on
    every script run and shows nothing without a principal.
    """

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in ("GET", "HEAD") or not needs_session(scope["path"]):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        store = _store()
        if store is None or any(name.startswith("_streamlit_user") for name in request.cookies):
            await self.app(scope, receive, send)
            return
        token = request.cookies.get(COOKIE)
        found = await asyncio.to_thread(web_sessions.resolve, store, token) if token else SessionEnd.MISSING
        target = scope["path"] + (f"?{request.url.query}" if request.url.query else "")
        if isinstance(found, Principal):
            home = landing(target, found.role)
            if home != target:  # a typed or bookmarked /overview: Streamlit serves a role's home at "/" only
                await RedirectResponse(home, status_code=302, headers={"Cache-Control": "no-store"})(
                    scope, receive, send
                )
                return
            await self.app(scope, receive, send)
            return
        query = {"next": safe_next(target)}
        if found is not SessionEnd.MISSING:
            query["reason"] = found.value
        response = RedirectResponse(
            "/signin?" + urlencode(query), status_code=302, headers={"Cache-Control": "no-store"}
        )
        if token:
            response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax")
        await response(scope, receive, send)
