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
users, subscriptions, jobs, backups, mail = st.tabs(
    [
        t("admin_tab_users"),
        t("admin_tab_subscriptions"),
        t("admin_tab_jobs"),
        t("admin_tab_backups"),
        t("admin_tab_mail"),
    ]
)
with users:
    admin_users.render(principal)
with subscriptions:
    admin_subscriptions.render(principal)
with jobs:
    admin_jobs.render(principal)
with backups:
    admin_backups.render(principal)
with mail:
    admin_mail.render(principal)
