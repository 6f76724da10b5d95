"""部门考评 Department scorecard: tasks led, status, overdue milestones, open notices, reporting timeliness."""

from __future__ import annotations

import streamlit as st

from dashboard import state
from dashboard.components import workspace as ws
from dashboard.i18n import t
from metrics.auth.access import AccessDenied
from metrics.ledger.scorecard import department_scorecard

principal = state.require("ledger.read")
as_of = st.session_state["as_of"]
store = state.store()
assert store is not None
st.title(t("scorecard_title"))
unit = principal.unit if principal.role == "department" else None
district = principal.district if principal.role == "department" else None
try:
    card = department_scorecard(store, principal, as_of, unit=unit, district=district, catalogues=state.catalogues())
except AccessDenied as exc:  # a department account without a district (refused and logged by the service)
    st.error(str(exc))
    st.stop()
chosen = st.session_state.get("districts") or []
if chosen:
    card = card[card["district"].isin(chosen)]
ws.show(card, ws.scorecard_columns())
