"""The session gate — who is using the app, decided afresh on every script run (docs/server.md, "Sign-in and
sessions").

A browser signs in at the Starlette route /signin (dashboard.web.signin), which sets the HttpOnly cookie
kpi_session; every script run resolves that cookie through dashboard.service (metrics.auth.web_sessions), so
a reload or a new tab stays signed in and a session signed out elsewhere, expired or disabled ends on the
next run. Single sign-on (st.login, st.user) is the second way in. Nothing else is trusted: the principal is
never kept in st.session_state between runs. Only AppTest, which has no browser and so no cookies, may put a
principal in st.session_state["principal"] (`_test_principal`).

app.py resolves the session once per run and hands the principal to the page it runs (`resolved`), so the
page gate does not look the cookie up a second time in the same run (docs/page-speed.md).
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from urllib.parse import urlencode

import streamlit as st
from streamlit import runtime
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

from dashboard import service
from metrics.auth.access import Principal

COOKIE = service.SESSION_COOKIE


def oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except FileNotFoundError:
        return False
    except Exception:  # no secrets file at all
        return False


def _served() -> bool:
    """Whether this run is served by Streamlit's own Runtime (a browser or another client of the server).
    AppTest runs the script on a stand-in Runtime (a mock) with no client and so no cookies."""
    return runtime.exists() and type(runtime.get_instance()) is runtime.Runtime


def _test_principal() -> Principal | None:
    """AppTest only (no client, so no cookies): the principal the test put in session state, as the users
    table has it now."""
    if _served():
        return None
    principal = st.session_state.get("principal")
    if not isinstance(principal, Principal):
        return None
    return service.refresh_principal(principal) if service.store_available() else principal


def _oidc_principal() -> Principal | None:
    """The account a single sign-on identity maps to (docs/server.md, "Single sign-on"). The mapping is made,
    and logged, once per browser session, not on every run: afterwards each run only re-reads that account,
    so a disabled account or a changed role still applies at once. An unknown identity is logged once too."""
    if not (oidc_configured() and getattr(st.user, "is_logged_in", False) and service.store_available()):
        return None
    subject = str(st.user.get("sub", ""))
    mapped = st.session_state.get("_oidc")  # (subject, principal) while Streamlit's signed cookie says so
    if isinstance(mapped, tuple) and mapped[0] == subject:
        if mapped[1] is None:
            return None  # refused (and logged) earlier in this session
        principal = service.refresh_principal(mapped[1])
        if principal is not None:
            return principal
    principal = service.principal_for_oidc(subject, str(st.user.get("email", "")))
    st.session_state["_oidc"] = (subject, principal)
    return principal


def current() -> Principal | None:
    """The signed-in principal for this run, or None; when a session cookie no longer counts, why not is in
    `session_end()` (for the page's message)."""
    st.session_state.pop("_session_end", None)
    token = st.context.cookies.get(COOKIE)
    if token and service.store_available():
        found = service.resolve_session(token)
        if isinstance(found, Principal):
            return found
        st.session_state["_session_end"] = found
    principal = _oidc_principal()
    if principal is not None:
        return principal
    return _test_principal()


# The principal app.py resolved for the page it is running now, in a one-element tuple (None inside means
# "resolved: nobody"). A context variable, not session state: each session's script thread has its own, and
# it is set only while app.py runs the page, so a later run, a fragment rerun or a widget callback (which run
# outside `resolved`) never sees it and resolves the session afresh.
_THIS_RUN: contextvars.ContextVar[tuple[Principal | None] | None] = contextvars.ContextVar(
    "kpi_principal_this_run", default=None
)


@contextlib.contextmanager
def resolved(principal: Principal | None) -> Iterator[None]:
    """Run the page with the principal this run's `current()` returned: `for_page()` hands it back instead of
    resolving the session again. Ends with the block, whether the page returns, stops or reruns."""
    token = _THIS_RUN.set((principal,))
    try:
        yield
    finally:
        _THIS_RUN.reset(token)


def for_page() -> Principal | None:
    """The principal of this run for a page: the one app.py resolved for it (`resolved`), or, when the page
    runs any other way, `current()`."""
    held = _THIS_RUN.get()
    return held[0] if held is not None else current()


def session_end() -> service.SessionEnd | None:
    """Why this run's session cookie did not sign anyone in (expired, idle, revoked …), if it did not."""
    found = st.session_state.get("_session_end")
    return found if isinstance(found, service.SessionEnd) else None


def sign_out() -> None:
    """End the session server-side (every tab of this browser is signed out on its next run), and the SSO
    login if there is one. The cookie stays in the browser but no longer resolves; /signin replaces it."""
    token = st.context.cookies.get(COOKIE)
    if token and service.store_available():
        found = service.resolve_session(token)
        service.revoke_session(token, found.user if isinstance(found, Principal) else "?", "退出登录")
    st.session_state.pop("principal", None)  # AppTest's
    if oidc_configured() and getattr(st.user, "is_logged_in", False):
        st.logout()


def signin_url(url_path: str, query: dict[str, str] | None = None) -> str:
    """/signin?next=<this page>: where the sign-in link goes (never a token in it)."""
    target = "/" + url_path.strip("/")
    if query:
        target += "?" + urlencode(query)
    return "/signin?" + urlencode({"next": target})


def requested_page() -> str:
    """The url path of the page the browser asked for on this run, even one that is not in the role's
    navigation (st.navigation then runs the default page): so the app can say the page is refused."""
    ctx = get_script_run_ctx()
    name = ctx.pages_manager.intended_page_name if ctx is not None else None
    return str(name or "")
