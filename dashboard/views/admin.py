"""系统管理 Administration (admins only): accounts, subscriptions, scheduled jobs, backups, the mail test.

Layout only: each tab is a component (dashboard/components/admin_*.py) and every action goes through
dashboard.service, whose metrics functions check the permission again and log refusals (docs/admin.md).
"""

from __future__ import annotations

import streamlit as st

from dashboard.components import (
    admin_backups,
    admin_common,
    admin_jobs,
    admin_mail,
    admin_subscriptions,
    admin_users,
    gate,
)
from dashboard.i18n import t

principal = gate.require("users.manage")
st.title(t("admin_title"))
admin_common.show_done()
# Keyed, so the open tab survives reruns (a button's success message above must not send the admin back to
# the first tab); on_change="rerun" runs only the open tab's section.
sections = {
    t("admin_tab_users"): admin_users.render,
    t("admin_tab_subscriptions"): admin_subscriptions.render,
    t("admin_tab_jobs"): admin_jobs.render,
    t("admin_tab_backups"): admin_backups.render,
    t("admin_tab_mail"): admin_mail.render,
}
for tab, render in zip(st.tabs(list(sections), key="admin_tab", on_change="rerun"), sections.values(), strict=True):
    if tab.open:
        with tab:
            render(principal)
