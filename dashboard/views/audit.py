"""变更记录 Audit trail: who changed what, when, old → new. Read only: no path alters change-log rows."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from dashboard.components import gate
from dashboard.components import workspace as ws
from dashboard.i18n import lang, t
from dashboard.service import ACTIONS_ZH, change_history, entity_label
from metrics.present.export import safe_csv

principal = gate.require("audit.read")
as_of = st.session_state["as_of"]
st.title(t("audit_title"))
c = st.columns(4)
entity = c[0].text_input(t("entity")) or None
user = c[1].text_input(t("user_name")) or None
since = c[2].date_input(t("since"), as_of - dt.timedelta(days=30))
until = c[3].date_input(t("until"), as_of)
history = change_history(principal, entity=entity, user=user, since=since, until=until)
shown = (
    history.assign(
        action=history["action"].map(ACTIONS_ZH).fillna(history["action"]),
        entity=history["entity"].map(entity_label),
    )
    if lang() == "zh"
    else history
)
ws.show(
    shown,
    {
        "change_id": ws.number("col_change_id"),
        "changed_at": ws.when("col_changed_at"),
        "user_name": ws.text("user_name"),
        "entity": ws.text("entity"),
        "entity_key": ws.text("col_entity_key"),
        "action": ws.text("col_action"),
        "upload_id": ws.number("col_upload_id"),
        "changes": ws.text("col_changes"),
    },
)
st.download_button(t("download"), safe_csv(history), file_name=f"audit_{since}_{until}.csv", mime="text/csv")
