"""The session gate — who is using the app: local login (argon2 accounts) or OIDC via st.login, with session expiry.

The principal lives in the session; pages ask for it (components.gate.require) and every service call passes
it on, so the service layer checks permissions again whatever the navigation shows. Reads accounts through
dashboard.service; the cached data below it (dashboard.state) knows nothing of sessions.
"""

from __future__ import annotations

import datetime as dt
import os

import streamlit as st

from dashboard import service
from metrics.auth.access import Principal
from metrics.storage import clock

SESSION_MINUTES = int(os.environ.get("KPI_SESSION_MINUTES", "480"))


def oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except FileNotFoundError:
        return False
    except Exception:  # no secrets file at all
        return False


def sign_in(principal: Principal) -> None:
    st.session_state["principal"] = principal
    st.session_state["seen_at"] = clock.now()


def sign_out() -> None:
    for key in ("principal", "seen_at"):
        st.session_state.pop(key, None)
    if oidc_configured() and getattr(st.user, "is_logged_in", False):
        st.logout()


def current() -> Principal | None:
    """The signed-in principal, or None (also after SESSION_MINUTES without activity)."""
    principal = st.session_state.get("principal")
    if (
        principal is None
        and oidc_configured()
        and getattr(st.user, "is_logged_in", False)
        and service.store_available()
    ):
        principal = service.principal_for_oidc(str(st.user.get("sub", "")), str(st.user.get("email", "")))
        if principal is not None:
            sign_in(principal)
    if principal is None:
        return None
    if service.store_available():  # a disabled account or a changed role ends the session on the next page run
        principal = service.refresh_principal(principal)
        if principal is None:
            sign_out()
            return None
        st.session_state["principal"] = principal
    seen = st.session_state.get("seen_at")
    now = clock.now()
    if seen is not None and now - seen > dt.timedelta(minutes=SESSION_MINUTES):
        sign_out()
        st.session_state["expired"] = True
        return None
    st.session_state["seen_at"] = now
    return principal  # type: ignore[no-any-return]
