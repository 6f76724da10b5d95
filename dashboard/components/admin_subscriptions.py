"""The admin page's 订阅 tab: weekly-briefing subscriptions per user and failed deliveries (not installed yet)."""

from __future__ import annotations

from dashboard import service
from dashboard.components import admin_common as common
from dashboard.i18n import t


def render(principal: service.Principal) -> None:
    common.not_enabled(t("admin_tab_subscriptions"))
