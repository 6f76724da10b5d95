"""部门考评 Department scorecard: tasks led, status, overdue milestones, open notices, reporting timeliness."""

from __future__ import annotations

import streamlit as st

from dashboard import service
from dashboard.components import gate
from dashboard.components import workspace as ws
from dashboard.i18n import t
from dashboard.service import AccessDenied, department_scorecard

principal = gate.require("ledger.read")
as_of = st.session_state["as_of"]
st.title(t("scorecard_title"))
unit = principal.unit if principal.role == "department" else None
district = principal.district if principal.role == "department" else None
try:
    card = department_scorecard(principal, as_of, unit=unit, district=district, catalogues=service.catalogues())
except AccessDenied as exc:  # a department account without a district (refused and logged by the service)
    st.error(str(exc))
    st.stop()
chosen = st.session_state.get("districts") or []
if chosen:
    card = card[card["district"].isin(chosen)]
ws.show(card, ws.scorecard_columns())
