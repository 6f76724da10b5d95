"""政策兑现 Policy delivery: applications per subsidy measure, amounts, time to decision and payment,
and approved amounts that differ from the catalogue's standard, listed for review with the rule applied."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from dashboard import service
from dashboard.components import delivery as view
from dashboard.components import gate
from dashboard.i18n import STRINGS, lang, t
from metrics.present.export import safe_csv

principal = gate.require("kpi.read")
as_of = st.session_state["as_of"]
L = lang()
S = {k: v[L] for k, v in STRINGS.items()}
cats = service.catalogues()
st.title(t("delivery_title"))

c1, c2 = st.columns([2, 2])
chosen = st.session_state.get("programmes") or list(cats)
pid = c1.selectbox(
    t("programme"),
    list(cats),
    index=list(cats).index(chosen[0]),
    format_func=lambda p: getattr(cats[p].programme, f"short_title_{L}"),
)
period = c2.date_input(t("period"), (dt.date(as_of.year, 1, 1), as_of), max_value=as_of, format="YYYY-MM-DD")
start, end = period if isinstance(period, tuple) and len(period) == 2 else (dt.date(as_of.year, 1, 1), as_of)

by_measure, review, manual = service.delivery(pid, start, end)
k = st.columns(4)
k[0].metric(t("received"), f"{int(by_measure['received'].sum()):,}")
k[1].metric(t("approved"), f"{int(by_measure['approved'].sum()):,}")
k[2].metric(t("amount_approved"), view.format_number(by_measure["amount_approved"].sum()) + t("yuan"))
k[3].metric(t("amount_paid"), view.format_number(by_measure["amount_paid"].sum()) + t("yuan"))

st.plotly_chart(view.amounts_figure(by_measure, S), width="stretch", config={"displaylogo": False})
st.dataframe(view.measure_table(by_measure, S), hide_index=True, width="stretch")

st.subheader(f"{t('review_title')}（{len(review)}）")
if review.empty:
    st.success(t("review_none"))
else:
    shown = review.rename(
        columns={
            "name_zh": S["name"],
            "amount_approved": S["amount_approved"],
            "expected": S["expected_amount"],
            "difference": S["difference"],
            "rule_zh": S["rule"],
        }
    )
    st.dataframe(shown.drop(columns=["rule_en"]), hide_index=True, width="stretch")
    st.download_button(t("download_review"), safe_csv(review), file_name=f"review_{pid}_{end}.csv", mime="text/csv")

with st.expander(f"{t('manual_title')}（{int(manual['applications'].sum()) if len(manual) else 0}）"):
    st.dataframe(manual, hide_index=True, width="stretch")
