"""The admin page's 备份 tab: the backups folder's files, a backup now, a download, and a restore behind a
typed confirmation, run with the service paused (dashboard.process.replace_database, docs/admin.md).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboard import service
from dashboard.components import admin_common as common
from dashboard.components import workspace as ws
from dashboard.components.text import escape_markdown
from dashboard.i18n import t


def backups_frame(backups: list[service.BackupFile]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "name": [b.name for b in backups],
            "size_mb": [round(b.size_bytes / 1_048_576, 2) for b in backups],
            "modified_at": pd.to_datetime([b.modified_at for b in backups]),
        }
    )


def _columns() -> dict[str, Any]:
    return {
        "name": ws.text("col_backup_name"),
        "modified_at": ws.when("col_modified_at"),
        "size_mb": ws.number("col_size_mb", "%.2f"),
    }


def render(principal: service.Principal) -> None:
    backups = common.attempt(lambda: service.list_backups(principal))
    if backups is None:
        return
    st.caption(escape_markdown(t("backups_folder").format(folder=service.backups_folder())))
    if st.button(t("backup_now"), key="adm_backup_now", icon=":material/save:", type="primary"):
        made = common.attempt(lambda: service.backup_now(principal))
        if made is not None:
            common.done(t("admin_done").format(what=f"{t('backup_now')} {made.name}"))
    if not backups:
        st.info(t("backups_none"))
        return
    ws.show(backups_frame(backups), _columns())
    names = [b.name for b in backups]
    name = st.selectbox(t("choose_backup"), names, key="adm_backup_pick")
    st.download_button(
        t("download_backup"),
        data=lambda: service.backup_content(principal, name),
        file_name=name,
        mime="application/octet-stream",
        icon=":material/download:",
        key="adm_backup_download",
    )
    st.subheader(t("restore_title"))
    st.warning(t("restore_warning"), icon=":material/warning:")
    confirmation = st.text_input(t("restore_confirm"), key="adm_restore_confirm", placeholder=service.CONFIRM_RESTORE)
    if st.button(t("restore_btn"), key="adm_restore_btn", icon=":material/settings_backup_restore:"):
        restored = common.attempt(lambda: service.restore_backup(principal, name, confirmation))
        if restored is not None:
            common.done(
                t("restored").format(
                    name=name,
                    tables=len(restored.counts),
                    rows=f"{sum(restored.counts.values()):,}",
                    kept=restored.previous.name if restored.previous else "—",
                )
            )
