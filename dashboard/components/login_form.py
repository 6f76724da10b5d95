"""What a visitor without a valid session sees inside the app: why (expired, signed out …) and the way to
the sign-in page, /signin (dashboard.web.signin: the one password form), or single sign-on when configured.

The browser reaches the app signed out only when its session ends while a page is open (the server sends
every other signed-out request to /signin first); nothing of the page it was on is shown.
"""

from __future__ import annotations

import html

import streamlit as st

from dashboard import auth
from dashboard.components.text import escape_markdown
from dashboard.i18n import t


def render(signin_url: str = "/signin") -> None:
    st.title(t("login_title"))
    end = auth.session_end()
    if end is not None:
        st.warning(t(f"session_{end.value}"))
    # A plain link, opened in this tab (Streamlit's link widgets open a new one). Fixed text; the address
    # is built by auth.signin_url from the page path, URL-encoded, and escaped here.
    st.html(
        f'<p><a href="{html.escape(signin_url, quote=True)}" target="_self" '
        f'style="font-size:1.1rem;font-weight:600">{html.escape(t("signin_link"))}</a></p>'
    )
    if not auth.oidc_configured():
        return
    if getattr(st.user, "is_logged_in", False):  # signed in at the provider, but no account here (logged)
        who = str(st.user.get("email") or st.user.get("sub") or "")
        st.error(t("oidc_unknown").format(who=escape_markdown(who)))
        st.button(t("logout"), on_click=st.logout)
    else:
        st.button(t("login_oidc"), on_click=st.login)


def start_sso() -> None:
    """The page /sso (the /signin page's link 统一身份认证登录): straight on to the provider (st.login); an
    identity without an account here sees the refusal instead."""
    if auth.oidc_configured() and not getattr(st.user, "is_logged_in", False):
        st.login()
    render()
