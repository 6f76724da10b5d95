"""指标详情 KPI detail: trend against target and pace, breakdowns, the 'why' panel, the clause in context."""

from __future__ import annotations

import streamlit as st

from dashboard import service
from dashboard.components import charts, gate, text, tiles
from dashboard.i18n import lang, t
from metrics.present.export import safe_csv
from metrics.present.format import format_date, format_value, status_label

principal = gate.require("kpi.read")
as_of = st.session_state["as_of"]
L = lang()
tiles.stylesheet()
meta = service.kpi_meta()
ids = list(meta["kpi_id"])
labels = {r.kpi_id: f"{getattr(r, f'programme_title_{L}')} · {getattr(r, f'name_{L}')}" for r in meta.itertuples()}
requested = st.query_params.get("kpi")
if (
    requested in labels
    and st.session_state.get("detail_kpi") != requested
    and not st.session_state.get("_detail_chosen")
):
    st.session_state["detail_kpi"] = requested


def _chosen() -> None:
    st.session_state["_detail_chosen"] = True
    st.query_params["kpi"] = st.session_state["detail_kpi"]


kpi_id = st.selectbox(t("choose_kpi"), ids, format_func=labels.__getitem__, key="detail_kpi", on_change=_chosen)
row = service.result(kpi_id, as_of)
cat, kpi = service.engine_kpi(kpi_id)
unit = row["unit"]

st.title(row[f"name_{L}"])
st.badge(status_label(row["status"], L), color=tiles.BADGE_COLORS.get(row["status"], "gray"))
st.caption(
    f"{row[f'programme_title_{L}']} · {t('clause')} {row['clause']} · {t('lead_unit')} {row['lead_unit']} · "
    f"{t('window')} {format_date(row['window_start'], L)}～{format_date(row['window_end'], L)}"
)

with st.container(key=tiles.FIGURES_KEY):  # two to a line on a phone, six on a desktop
    st.metric(t("actual"), format_value(row["actual"], unit, L))
    st.metric(
        t("target"),
        "—"
        if row["target"] != row["target"]
        else f"{'≥' if row['comparator'] == '>=' else '≤'} {format_value(row['target'], unit, L)}",
    )
    st.metric(t("expected"), format_value(row["expected"], unit, L))
    st.metric(t("pace"), "—" if row["pace"] != row["pace"] else f"{row['pace']:.2f}")
    st.metric(t("projection"), format_value(row["projection"], unit, L))
    st.metric(t("required_weekly"), format_value(row["required_weekly"], unit, L))

grain = (
    st.segmented_control(t("grain"), ["week", "month"], default="month", format_func=t, key="detail_grain") or "month"
)
series = service.series(kpi_id, as_of, grain)
fig = charts.trend_figure(
    series,
    title=t("trend_title").format(name=row[f"name_{L}"]),
    unit=unit,
    target=None if row["target"] != row["target"] else float(row["target"]),
    labels={"actual": t("actual"), "expected": t("expected_line"), "target": t("target_line"), "value": t("value")},
    lang=L,
)
st.plotly_chart(fig, width="stretch", config={"displaylogo": False})

st.subheader(t("breakdowns"))
frames = {"trend": series}
if not kpi.dimensions:
    st.caption(t("no_breakdown"))
else:
    tabs = st.tabs([service.dimension_label(kpi, d, L) for d in kpi.dimensions[:6]])
    for tab, dim in zip(tabs, kpi.dimensions[:6], strict=False):
        with tab:
            df = service.breakdown(kpi_id, dim, as_of)
            frames[dim] = df
            st.plotly_chart(
                charts.breakdown_figure(
                    df,
                    dim,
                    title=t("breakdown_title").format(name=row[f"name_{L}"], dim=service.dimension_label(kpi, dim, L)),
                    unit=unit,
                    dim_label=service.dimension_label(kpi, dim, L),
                ),
                width="stretch",
                config={"displaylogo": False},
            )

with st.expander(t("why"), expanded=True):
    st.markdown(f"**{t('formula')}**：{text.escape_markdown(str(row[f'formula_{L}']))}")
    st.markdown(f"**{t('inputs')}**")
    st.json(row["inputs"], expanded=True)
    st.markdown(f"**{t('rule')}**：{text.escape_markdown(str(row[f'rule_{L}']))}")

st.subheader(t("source_text"))
document = service.source_text(cat.programme.id)
span = text.locate(document, kpi.quote)
if span is not None:
    before, hit, after = text.paragraph_around(document, span)
    st.markdown(
        f"{text.escape_markdown(before[-200:])}:orange-background[**{text.escape_markdown(hit)}**]"
        f"{text.escape_markdown(after[:200])}"
    )
with st.expander(t("full_document")):
    st.markdown(text.highlighted_markdown(document, kpi.quote))

st.download_button(
    t("download_table"),
    data=safe_csv(series.assign(kpi_id=kpi_id)),
    file_name=f"{kpi_id}_{as_of.isoformat()}.csv",
    mime="text/csv",
)
