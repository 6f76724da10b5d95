"""The sign-in form: local accounts (argon2) or the configured OIDC provider."""

from __future__ import annotations

import streamlit as st

from dashboard import auth, service
from dashboard.i18n import t


def render() -> None:
    st.title(t("login_title"))
    if st.session_state.pop("expired", False):
        st.warning(t("session_expired"))

    if auth.oidc_configured():
        st.button(t("login_oidc"), on_click=st.login, type="primary")
        st.divider()

    with st.form("login", clear_on_submit=False):
        user = st.text_input(t("user_name"), key="login_user")
        password = st.text_input(t("password"), type="password", key="login_password")
        submitted = st.form_submit_button(t("login"), type="primary")
    if submitted:
        principal = service.authenticate(user.strip(), password) if service.store_available() else None
        if principal is None:
            st.error(t("login_failed"))
        else:
            auth.sign_in(principal)
            st.rerun()
