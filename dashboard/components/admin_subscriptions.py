"""The admin page's 订阅 tab: who receives the weekly briefing by e-mail (programmes, weekday, address), adding
or changing one, turning one off, and the deliveries that failed (metrics.reports.subscriptions)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboard import service
from dashboard.components import admin_common as common
from dashboard.components import workspace as ws
from dashboard.i18n import lang, t


def subscriptions_frame(subs: list[Any], titles: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user_name": [s.user_name for s in subs],
            "email": [s.email for s in subs],
            "programmes": ["、".join(titles.get(p, p) for p in s.programmes) or t("all") for s in subs],
            "weekday": [s.weekday_zh if lang() == "zh" else str(s.weekday) for s in subs],
            "state": [t("account_active") if s.active else t("account_disabled") for s in subs],
        }
    )


def _failed(principal: service.Principal) -> None:
    st.subheader(t("deliveries_failed"))
    deliveries = common.attempt(lambda: service.list_deliveries(principal))
    if deliveries is None:
        return
    failed = deliveries[deliveries["status"] != "sent"]
    if failed.empty:
        st.caption(t("deliveries_none_failed"))
        return
    ws.show(
        failed,
        {
            "user_name": ws.text("user_name"),
            "week": ws.day("col_week"),
            "email": ws.text("email"),
            "status_zh": ws.text("status"),
            "attempts": ws.number("col_attempts"),
            "next_attempt_at": ws.when("col_next_attempt"),
            "last_error": ws.text("col_error"),
        },
    )


def _add(principal: service.Principal, users: list[str], titles: dict[str, str]) -> None:
    st.subheader(t("subs_add"))
    c = st.columns([2, 3])
    who = c[0].selectbox(t("user_name"), users, key="adm_sub_user")
    email = c[1].text_input(t("email"), key="adm_sub_email")
    c = st.columns([3, 2])
    programmes = c[0].multiselect(
        t("subs_programmes"),
        list(titles),
        format_func=titles.__getitem__,
        key="adm_sub_programmes",
        placeholder=t("all"),
    )
    weekday = c[1].selectbox(
        t("weekday"), range(1, 8), format_func=lambda d: service.WEEKDAY_ZH[d - 1], key="adm_sub_weekday"
    )
    if st.button(t("subs_add_btn"), key="adm_sub_btn", type="primary"):
        made = common.attempt(lambda: service.subscribe(principal, who, email, programmes, weekday))
        if made is not None:
            common.done(t("admin_done").format(what=f"{t('subs_add_btn')} {who}"))


def render(principal: service.Principal) -> None:
    subs = common.attempt(lambda: service.list_subscriptions(principal))
    if subs is None:
        return
    cats = service.catalogues()
    titles = {p: getattr(c.programme, f"short_title_{lang()}") for p, c in cats.items()}
    st.subheader(t("subs_list"))
    if subs:
        ws.show(
            subscriptions_frame(subs, titles),
            {
                "user_name": ws.text("user_name"),
                "email": ws.text("email"),
                "programmes": ws.text("programme"),
                "weekday": ws.text("weekday"),
                "state": ws.text("status"),
            },
        )
        active = [s.user_name for s in subs if s.active]
        if active:
            c = st.columns([2, 1], vertical_alignment="bottom")
            who = c[0].selectbox(t("choose_user"), active, key="adm_unsub_user")
            if c[1].button(t("subs_remove"), key="adm_unsub_btn", icon=":material/unsubscribe:") and (
                common.attempt(lambda: service.unsubscribe(principal, who)) is not None
            ):
                common.done(t("admin_done").format(what=f"{t('subs_remove')} {who}"))
    else:
        st.caption(t("subs_none"))
    table = common.attempt(lambda: service.account_table(principal))
    if table is not None:
        _add(principal, list(table.loc[table["active"] & (table["role"] != "press"), "user_name"]), titles)
    _failed(principal)
