"""The admin page's 备份 tab: the backups folder's files, a backup now, a download, and a restore behind a
typed confirmation, run with the service paused (dashboard.process.replace_database, docs/admin.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import service
from dashboard.components import admin_common as common
from dashboard.components import workspace as ws
from dashboard.components.text import escape_markdown
from dashboard.i18n import t


def backups_frame(backups: list[dict[str, Any]]) -> pd.DataFrame:
    """The backups as listed by the scheduler's module (metrics.ops.jobs.list_backups), in the page's words."""
    frame = pd.DataFrame(backups, columns=["name", "size", "made_at", "kind", "verified", "counts"])
    return frame.assign(
        size_mb=(frame["size"] / 1_048_576).round(2),
        made_at=pd.to_datetime(frame["made_at"]),
        kind_label=[t(f"backup_kind_{k}") for k in frame["kind"]],
        checked=[t("yes") if v else t("no") for v in frame["verified"]],
        rows=pd.array([sum(c.values()) if isinstance(c, dict) else None for c in frame["counts"]], dtype="Int64"),
    )


def _columns() -> dict[str, Any]:
    return {
        "name": ws.text("col_backup_name"),
        "made_at": ws.when("col_modified_at"),
        "kind_label": ws.text("col_backup_kind"),
        "size_mb": ws.number("col_size_mb", "%.2f"),
        "checked": ws.text("col_verified"),
        "rows": ws.number("col_rows"),
    }


def render(principal: service.Principal) -> None:
    backups = common.attempt(lambda: service.list_backups(principal))
    if backups is None:
        return
    st.caption(escape_markdown(t("backups_folder").format(folder=service.backups_folder())))
    if st.button(t("backup_now"), key="adm_backup_now", icon=":material/save:", type="primary"):
        with st.spinner(t("backup_now")):
            run = common.attempt(lambda: service.backup_now(principal))
        if run is not None and run["outcome"] == "ok":
            detail = run["detail"]
            common.done(
                t("backup_made").format(
                    name=Path(detail["file"]).name, tables=detail["tables"], rows=f"{detail['rows']:,}"
                )
            )
        elif run is not None:
            st.error(escape_markdown(t("backup_failed").format(error=run["error"])))
    if not backups:
        st.info(t("backups_none"))
        return
    ws.show(backups_frame(backups), _columns())
    names = [str(b["name"]) for b in backups]
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
    # a new input after each restore, so the next one is confirmed anew (a single sign-on session survives it)
    rounds = st.session_state.setdefault("adm_restore_round", 0)
    confirmation = st.text_input(
        t("restore_confirm"), key=f"adm_restore_confirm_{rounds}", placeholder=service.CONFIRM_RESTORE
    )
    if st.button(t("restore_btn"), key="adm_restore_btn", icon=":material/settings_backup_restore:"):
        restored = common.attempt(lambda: service.restore_backup(principal, name, confirmation))
        if restored is not None:
            # every session was ended by the restore (docs/admin.md): say so here, in this run; the next
            # action of this browser goes to the sign-in page
            st.session_state["adm_restore_round"] = rounds + 1
            st.success(
                escape_markdown(
                    t("restored").format(
                        name=name,
                        tables=len(restored.counts),
                        rows=f"{sum(restored.counts.values()):,}",
                        kept=restored.previous.name if restored.previous else "—",
                    )
                ),
                icon=":material/check_circle:",
            )
