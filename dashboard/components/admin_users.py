"""The admin page's 账号 tab: the account list (role, unit, district, state, sign-in methods, last sign-in),
adding an account, changing its role or unit, disabling, resetting a password, and signing it out everywhere.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboard import service
from dashboard.components import admin_common as common
from dashboard.components import workspace as ws
from dashboard.i18n import t


def _methods(row: pd.Series) -> str:
    found = [t("login_password")] * bool(row["has_password"]) + [t("login_sso")] * bool(row["oidc"])
    return "、".join(found) or t("login_none")


def accounts_frame(table: pd.DataFrame) -> pd.DataFrame:
    """The account list in the page's words: role names, 启用/已停用, how each signs in."""
    return table.assign(
        role_label=[t(f"role_{r}") for r in table["role"]],
        state=[t("account_active") if a else t("account_disabled") for a in table["active"]],
        methods=[_methods(r) for _, r in table.iterrows()] if not table.empty else [],
    )


def _columns() -> dict[str, Any]:
    """Widths so that every cell fits at 1440 px: names and units in full, times to the minute (the creation
    time and the lock-out column stay in the data: the audit page has the history)."""

    def text(key: str, width: int) -> Any:
        return st.column_config.TextColumn(t(key), width=width)

    def when(key: str) -> Any:
        return st.column_config.DatetimeColumn(t(key), format=ws.DATETIME, width=135)

    return {
        "user_name": text("user_name", 100),
        "display_name": text("display_name", 180),
        "role_label": text("role", 90),
        "unit": text("unit", 120),
        "district": text("district", 70),
        "state": text("status", 60),
        "methods": text("col_login_methods", 130),
        "last_sign_in": when("col_last_sign_in"),
    }


def _placement(prefix: str, role: str, unit: str | None = None, district: str | None = None) -> tuple[str, str]:
    """Unit and district inputs, shown for a department role only (other roles have neither)."""
    if role != "department":
        return "", ""
    c = st.columns(2)
    unit_in = c[0].text_input(t("unit"), value=unit or "", key=f"{prefix}_unit")
    districts = list(service.DISTRICTS)
    index = districts.index(district) if district in districts else None
    chosen = c[1].selectbox(t("district"), districts, index=index, key=f"{prefix}_district")
    return unit_in, chosen or ""


def _add_form(principal: service.Principal) -> None:
    st.subheader(t("add_user"))
    st.caption(t("password_hint"))
    c = st.columns(3)
    name = c[0].text_input(t("user_name"), key="adm_add_name")
    display = c[1].text_input(t("display_name"), key="adm_add_display")
    role = c[2].selectbox(t("role"), service.ROLES, format_func=lambda r: t(f"role_{r}"), key="adm_add_role")
    unit, district = _placement("adm_add", role)
    pw = st.columns(2)
    password = pw[0].text_input(t("password"), type="password", key="adm_add_pw")
    again = pw[1].text_input(t("password_again"), type="password", key="adm_add_pw2")
    if st.button(t("add_user_btn"), key="adm_add_btn", type="primary"):
        if password != again:
            st.error(t("password_mismatch"))
            return
        made = common.attempt(
            lambda: service.add_user(
                principal,
                name,
                role,
                unit=unit or None,
                password=password or None,
                display_name=display or None,
                district=district or None,
            )
        )
        if made is not None:
            common.done(t("admin_done").format(what=f"{t('add_user')} {made.user_name}"))


def _edit(principal: service.Principal, table: pd.DataFrame) -> None:
    st.subheader(t("edit_user"))
    if table.empty:
        return
    names = list(table["user_name"])
    who = st.selectbox(t("choose_user"), names, key="adm_edit_user")
    row = table[table["user_name"] == who].iloc[0]
    current_unit = None if pd.isna(row["unit"]) else str(row["unit"])
    current_district = None if pd.isna(row["district"]) else str(row["district"])
    left, right = st.columns(2)
    with left, st.container(border=True):
        role = st.selectbox(
            t("role"),
            service.ROLES,
            index=list(service.ROLES).index(row["role"]),
            format_func=lambda r: t(f"role_{r}"),
            key=f"adm_role_{who}",
        )
        unit, district = _placement(f"adm_edit_{who}", role, current_unit, current_district)
        if st.button(t("save_role"), key=f"adm_role_btn_{who}"):
            changed = common.attempt(
                lambda: service.set_role(principal, who, role, unit=unit or None, district=district or None)
            )
            if changed is not None:
                common.done(t("admin_done").format(what=f"{t('save_role')} {who}"))
    with right, st.container(border=True):
        active = bool(row["active"])
        toggle = (
            (service.disable_user, "disable_user", ":material/block:")
            if active
            else (service.enable_user, "enable_user", ":material/check:")
        )
        if st.button(t(toggle[1]), key=f"adm_{toggle[1]}_{who}", icon=toggle[2]) and (
            common.attempt(lambda: toggle[0](principal, who)) is not None
        ):
            common.done(t("admin_done").format(what=f"{t(toggle[1])} {who}"))
        _sessions(principal, who)
        new = st.text_input(t("new_password"), type="password", key=f"adm_pw_{who}")
        again = st.text_input(t("password_again"), type="password", key=f"adm_pw2_{who}")
        if st.button(t("reset_password_btn"), key=f"adm_pw_btn_{who}"):
            if new != again:
                st.error(t("password_mismatch"))
            elif common.attempt(lambda: service.reset_password(principal, who, new)) is not None:
                common.done(t("admin_done").format(what=f"{t('reset_password_btn')} {who}"))


def _sessions(principal: service.Principal, who: str) -> None:
    """Sign the account out of every browser at once (server-side sessions)."""
    if st.button(t("revoke_sessions_btn"), key=f"adm_revoke_{who}", icon=":material/logout:"):
        n = common.attempt(lambda: service.revoke_sessions(principal, who))
        if n is not None:
            common.done(t("revoked_sessions").format(n=n))


def _under_attack(principal: service.Principal) -> None:
    st.subheader(t("under_attack"))
    attacked = common.attempt(lambda: service.accounts_under_attack(principal))
    if attacked is None:
        return
    if not attacked:
        st.caption(t("under_attack_none"))
        return
    frame = pd.DataFrame(attacked).assign(
        known=lambda f: [t("yes") if v else t("no") for v in f["account_exists"]],
        last_failure=lambda f: pd.to_datetime(f["last_failure"]),
    )
    ws.show(
        frame,
        {
            "user_name": ws.text("user_name"),
            "known": ws.text("col_account_exists"),
            "failures": ws.number("col_failed_attempts"),
            "clients": ws.number("col_clients"),
            "last_failure": ws.when("col_last_attempt"),
        },
    )


def render(principal: service.Principal) -> None:
    table = common.attempt(lambda: service.account_table(principal))
    if table is None:
        return
    ws.show(accounts_frame(table), _columns())
    _under_attack(principal)
    _edit(principal, table)
    _add_form(principal)
