"""The admin page's 定时任务 tab: each scheduled job, its last runs and a 立即运行 button (not installed yet)."""

from __future__ import annotations

from dashboard import service
from dashboard.components import admin_common as common
from dashboard.i18n import t


def render(principal: service.Principal) -> None:
    common.not_enabled(t("admin_tab_jobs"))
