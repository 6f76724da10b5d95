"""总览 Overview: status counts, a tile per KPI with a target, monitoring KPIs, stale data, overdue tasks."""

from __future__ import annotations

import streamlit as st

from dashboard import service
from dashboard.components import gate, tiles
from dashboard.i18n import lang, t
from metrics.present.format import STATUS_LABELS, format_date, status_label

principal = gate.require("kpi.read")
as_of = st.session_state["as_of"]
L = lang()
tiles.stylesheet()
st.title(t("overview_title"))
st.caption(f"{t('as_of')} {format_date(as_of, L)}")
st.download_button(
    t("briefing_download"),
    data=lambda: service.briefing(as_of, L, principal),
    file_name=f"weekly-briefing-{as_of.isoformat()}.html",
    mime="text/html",
    icon=":material/download:",
    on_click="ignore",
)

# counts, lead units and tiles, formatted once per data version, date, language and scope (tiles.overview)
ov = tiles.overview(as_of, L, st.session_state.get("programmes", []), st.session_state.get("districts", []))

tiles.status_counts(ov)

f2, f3 = st.columns(2)
units = f2.multiselect(t("lead_unit"), ov.lead_units, placeholder=t("all"))
statuses = f3.multiselect(
    t("status"), list(STATUS_LABELS), format_func=lambda s: status_label(s, L), placeholder=t("all")
)
view = ov.select(units, statuses)

targeted = [v for v in view if v.status != "monitoring"]
st.subheader(f"{t('targets_section')}（{len(targeted)}）")
if not targeted:
    st.info(t("no_match"))
else:
    tiles.tile_grid(targeted)

monitoring = tuple(v.kpi_id for v in view if v.status == "monitoring")
with st.expander(f"{t('monitoring_section')}（{len(monitoring)}）", expanded=False):
    st.dataframe(ov.monitoring_table(as_of, L, monitoring), hide_index=True, width="stretch")

left, right = st.columns(2)
with left:
    st.subheader(t("overdue_title"))
    overdue = service.overdue_tasks(principal, as_of)
    if overdue.empty:
        st.success(t("overdue_none"))
    else:
        st.dataframe(overdue, hide_index=True, width="stretch")
with right:
    st.subheader(t("stale_title"))
    stale = ov.stale
    if stale.empty:
        st.success(t("stale_none"))
    else:
        st.dataframe(stale, hide_index=True, width="stretch")
