"""总览 Overview: status counts and every KPI of every programme against its target."""

from __future__ import annotations

import streamlit as st

from dashboard import state
from dashboard.components import tables
from dashboard.i18n import lang, t
from metrics.format import STATUS_LABELS, format_date, status_label

as_of = st.session_state["as_of"]
st.title(t("overview_title"))
st.caption(f"{t('as_of')} {format_date(as_of, lang())}")

df = state.results(as_of)

cols = st.columns(len(STATUS_LABELS))
for col, status in zip(cols, STATUS_LABELS, strict=True):
    col.metric(status_label(status, lang()), int((df["status"] == status).sum()))

f1, f2, f3 = st.columns(3)
titles = dict(zip(df["programme"], df[f"programme_title_{lang()}"], strict=False))
programmes = f1.multiselect(t("programme"), list(titles), format_func=titles.__getitem__)
units = f2.multiselect(t("lead_unit"), sorted(df["lead_unit"].dropna().unique()))
statuses = f3.multiselect(t("status"), list(STATUS_LABELS), format_func=lambda s: status_label(s, lang()))

view = tables.filter_results(df, programmes=programmes, lead_units=units, statuses=statuses)
st.dataframe(
    tables.overview_table(view, lang()),
    hide_index=True,
    width="stretch",
    column_config=tables.overview_column_config(lang()),
)
st.caption(t("caption_progress"))
