"""项目 Programmes: each programme's tasks with lead and cooperating units, KPIs, subsidies, the document."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import service
from dashboard.components import gate, text
from dashboard.i18n import lang, t
from metrics.present.format import format_date, format_value, status_label

principal = gate.require("kpi.read")
as_of = st.session_state["as_of"]
L = lang()
cats = service.catalogues()
st.title(t("programmes_title"))
pid = st.radio(
    t("programme"),
    list(cats),
    format_func=lambda p: getattr(cats[p].programme, f"short_title_{L}"),
    horizontal=True,
    key="programme_page",
)
cat = cats[pid]
p = cat.programme
st.header(p.title)
st.caption(
    f"{t('document_no')} {p.document_no or '—'} · {p.issuer} · {p.district} · {t('valid')} "
    f"{format_date(p.valid_from, L)}～{format_date(p.valid_to, L) if p.valid_to else t('open_ended')}"
)
if p.dates_note:
    st.caption(text.escape_markdown(p.dates_note))

results = service.results(as_of)
results = results[results["programme"] == pid].set_index("kpi_id")

st.subheader(f"{t('tasks')}（{len(cat.tasks)}）")
for task in cat.tasks:
    kpis = [k for k in cat.kpis if k.task == task.id]
    with st.expander(f"{task.clause} {task.title}", expanded=False):
        st.markdown(f"**{t('lead_unit')}**：{text.escape_markdown('、'.join(task.lead_units))}")
        if task.cooperating_units:
            st.markdown(f"**{t('cooperating')}**：{text.escape_markdown('、'.join(task.cooperating_units))}")
        if kpis:
            rows = []
            for k in kpis:
                r: dict = results.loc[k.id].to_dict()
                rows.append(
                    {
                        t("kpi"): getattr(k, f"name_{L}"),
                        t("actual"): format_value(r["actual"], k.unit, L),
                        t("target"): "—"
                        if k.target is None
                        else f"{'≥' if k.target.comparator == '>=' else '≤'} {format_value(k.target.value, k.unit, L)}",
                        t("status"): status_label(r["status"], L),
                        t("clause"): k.quote,
                    }
                )
            st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
        subs = [s for s in cat.subsidies if s.task == task.id]
        for s in subs:
            st.markdown(f"- **{text.escape_markdown(s.name_zh)}**：{text.escape_markdown(service.standard_text(s))}")

st.subheader(f"{t('subsidies')}（{len(cat.subsidies)}）")
st.dataframe(
    pd.DataFrame(
        [
            {
                t("name"): s.name_zh,
                t("recipient"): s.recipient,
                t("standard"): service.standard_text(s),
                t("eligibility"): s.eligibility,
                t("clause"): s.clause,
            }
            for s in cat.subsidies
        ]
    ),
    hide_index=True,
    width="stretch",
)

with st.expander(t("source_text")):
    st.markdown(
        "\n\n".join(text.escape_markdown(line) for line in service.source_text(pid).splitlines() if line.strip())
    )
